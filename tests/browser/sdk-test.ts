// The official TypeScript SDK, driven from a test page (tests/python/
// test_browser.py builds this with esbuild and serves it from another
// origin that the robot's network.cors_origins allows).

import * as VIAM from '@viamrobotics/sdk';
import { MethodKind } from '@bufbuild/protobuf';

let client: VIAM.RobotClient;

// StreamEvents is not in the SDK's InputControllerClient: call it with the
// generated messages through the client's own transport.
const InputControllerService = {
  typeName: 'viam.component.inputcontroller.v1.InputControllerService',
  methods: {
    streamEvents: {
      name: 'StreamEvents',
      I: VIAM.inputControllerApi.StreamEventsRequest,
      O: VIAM.inputControllerApi.StreamEventsResponse,
      kind: MethodKind.ServerStreaming,
    },
  },
} as const;

(window as any).sdk = {
  async dial(host: string, disableSessions: boolean) {
    client = new VIAM.RobotClient();
    await client.dial({ host, disableSessions, noReconnect: true, dialTimeout: 5000 });
    const manager = (client as any).sessionManager;
    if (!disableSessions) await manager.getSessionMetadata();
    return disableSessions ? '' : manager.sessionID;
  },
  async dialWebRTC(signalingAddress: string, host: string) {
    // createRobotClient succeeds only once the peer connection is up.
    client = await VIAM.createRobotClient({ host, signalingAddress, noReconnect: true, dialTimeout: 10000 });
    const manager = (client as any).sessionManager;
    await manager.getSessionMetadata();
    return { sid: manager.sessionID, ice: client.peerConnection?.iceConnectionState ?? 'none' };
  },
  async sessions() {
    return (await client.getSessions()).map((s) => s.id);
  },
  async setPower(name: string, power: number) {
    await new VIAM.MotorClient(client, name).setPower(power);
  },
  async events(controller: string, control: string, n: number) {
    const ic = client.createServiceClient(InputControllerService);
    const got: string[] = [];
    const request = { controller, events: [{ control, events: ['PositionChangeAbs'] }] };
    for await (const r of ic.streamEvents(request as any)) {
      got.push(`${r.event?.control} ${r.event?.event}`);
      if (got.length >= n) break;
    }
    return got;
  },
};
(window as any).ready = true;
