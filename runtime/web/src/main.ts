// axle's control page. It talks only to the robot that served it, through
// the official Viam TypeScript SDK over grpc-web, under a session of its own:
// when this tab dies, its heartbeats stop and the robot stops what it drove.
//
// Drive controls send motion only while held: pointerup, pointerleave,
// pointercancel, window blur and a hidden tab all stop what this page drove.

import * as VIAM from '@viamrobotics/sdk';

type Name = { name: string; subtype: string; type: string; namespace: string };

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const el = (tag: string, attrs: Record<string, string> = {}, ...kids: (Node | string)[]) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};

// axle.v1.SessionService (proto/axle/v1/sessions.proto): which session
// last drove each actuator. Not in the Viam API, so not in the SDK: its
// messages are made with the protobuf runtime the SDK bundles (importing
// @bufbuild/protobuf again would ship a second copy).
const proto3 = VIAM.robotApi.GetSessionsRequest.runtime;
const UNARY = 0; // MethodKind.Unary
const LastUser = proto3.makeMessageType('axle.v1.LastUser', [
  { no: 1, name: 'resource', kind: 'scalar', T: 9 },
  { no: 2, name: 'session', kind: 'scalar', T: 9 },
  { no: 3, name: 'peer', kind: 'scalar', T: 9 },
]);
const SessionService = {
  typeName: 'axle.v1.SessionService',
  methods: {
    getLastUsers: {
      name: 'GetLastUsers',
      I: proto3.makeMessageType('axle.v1.GetLastUsersRequest', []),
      O: proto3.makeMessageType('axle.v1.GetLastUsersResponse', [
        { no: 1, name: 'last_users', kind: 'message', T: LastUser, repeated: true },
      ]),
      kind: UNARY,
    },
  },
} as const;

let client: VIAM.RobotClient | undefined;
let sessionID: string | undefined;
let connected = false;
/** What this page set moving: stopped together on release, blur, hide. */
const driving = new Map<string, () => Promise<void>>();
const pollers: number[] = [];

function say(text: string, kind: 'ok' | 'bad' = 'ok') {
  const s = $('#state');
  s.textContent = text;
  s.className = kind;
}

async function stopDriven(why: string) {
  const stops = [...driving.values()];
  driving.clear();
  await Promise.allSettled(stops.map((s) => s()));
  if (stops.length) console.debug(`stopped ${stops.length} for ${why}`);
}

async function dial(credentials?: VIAM.Credential) {
  const c = new VIAM.RobotClient();
  // A direct grpc-web dial: createRobotClient succeeds only over WebRTC.
  await c.dial({ host: location.origin, credentials, noReconnect: false, dialTimeout: 5000 });
  return c;
}

/** The SDK starts a session only for a monitored call; start it now, so a
 * dead tab stops what it drove, and send it with TriggerEvent too. */
async function startSession(c: VIAM.RobotClient) {
  const manager = (c as any).sessionManager;
  const cls = manager?.constructor;
  if (cls?.heartbeatMonitoredMethods) {
    cls.heartbeatMonitoredMethods['/viam.component.inputcontroller.v1.InputControllerService/TriggerEvent'] = true;
  }
  await manager?.getSessionMetadata();
  return manager?.sessionID as string | undefined;
}

async function connect(credentials?: VIAM.Credential) {
  say('connecting…');
  try {
    client = await dial(credentials);
    // grpc-web has no connection to refuse: the first call tells.
    await client.resourceNames();
  } catch (e) {
    client = undefined;
    const text = String((e as Error)?.message ?? e);
    // The SDK wraps the robot's answer ("unauthenticated") in its own
    // "Failed to connect via all methods": offer the form either way.
    $('#login').hidden = false;
    if (credentials) {
      say(`login refused: the robot did not accept this key (${text})`, 'bad');
    } else {
      say(`cannot connect (${text}); if this robot needs an API key, enter it`, 'bad');
    }
    return;
  }
  $('#login').hidden = true;
  connected = true;
  client.on('disconnected', () => {
    connected = false;
    driving.clear();
    document.body.classList.add('lost');
    say('connection lost: controls are off until it is back', 'bad');
  });
  client.on('connected', () => {
    connected = true;
    document.body.classList.remove('lost');
    say('connected');
  });
  const sid = await startSession(client).catch(() => undefined);
  sessionID = sid;
  $('#session').textContent = sid ? `session ${sid}` : 'no session';
  say('connected');
  await render(client);
}

async function render(c: VIAM.RobotClient) {
  const names = ((await c.resourceNames()) as Name[]).filter((n) => n.namespace === 'rdk');
  names.sort((a, b) => a.subtype.localeCompare(b.subtype) || a.name.localeCompare(b.name));
  const list = $('#resources');
  list.replaceChildren();
  for (const n of names) {
    const full = `${n.namespace}:${n.type}:${n.subtype}/${n.name}`;
    const card = el('section', { class: 'card', 'data-name': n.name, 'data-kind': n.subtype, 'data-full': full },
      el('h2', {}, n.name, el('small', {}, ` ${n.type}:${n.subtype}`)));
    const body = el('div', { class: 'body' });
    card.append(body);
    list.append(card);
    const builder = BUILDERS[n.subtype];
    if (builder) builder(c, n.name, body);
    // Here from the start: a line appearing later would shift the layout
    // under a held button, and the pointer leaving it stops the motion.
    if (ACTUATORS.has(n.subtype)) card.append(el('div', { class: 'driver' }, '…'));
  }
  $('#count').textContent = `${names.length} resources`;
  showDrivers(c);
}

/** Every actuator card says which session drives it: the one whose end
 * stops it. */
function showDrivers(c: VIAM.RobotClient) {
  const sessions = c.createServiceClient(SessionService as any) as any;
  poll(500, async () => {
    const { lastUsers } = await sessions.getLastUsers({});
    const by = new Map<string, { session: string; peer: string }>(
      lastUsers.map((u: any) => [u.resource, u]));
    for (const card of document.querySelectorAll<HTMLElement>('.card')) {
      const line = card.querySelector<HTMLElement>('.driver');
      if (!line) continue;
      const u = by.get(card.dataset.full ?? '');
      line.dataset.session = u?.session ?? '';
      line.textContent = !u ? 'no session drives it'
        : u.session === sessionID ? 'driven by this page\'s session'
        : `driven by session ${u.session.slice(0, 8)}… from ${u.peer}`;
    }
  });
}

/** The kinds a session can drive, and so stop. */
const ACTUATORS = new Set(['arm', 'base', 'gantry', 'gripper', 'motor', 'servo', 'switch', 'button']);

const BUILDERS: Record<string, (c: VIAM.RobotClient, name: string, body: HTMLElement) => void> = {
  motor: motorCard,
  base: baseCard,
  sensor: readingsCard,
  movement_sensor: readingsCard,
  power_sensor: readingsCard,
  camera: cameraCard,
  input_controller: controllerCard,
};

function poll(every: number, f: () => Promise<void>) {
  let busy = false;
  pollers.push(window.setInterval(async () => {
    if (busy || !connected || document.hidden) return;
    busy = true;
    try { await f(); } catch { /* shown by the connection state */ } finally { busy = false; }
  }, every));
}

function button(label: string, attrs: Record<string, string> = {}) {
  return el('button', { type: 'button', ...attrs }, label) as HTMLButtonElement;
}

/** A control that drives while held and stops on every way of letting go. */
function hold(b: HTMLElement, key: string, start: () => Promise<void>, stop: () => Promise<void>) {
  const release = () => {
    if (!driving.has(key)) return;
    driving.delete(key);
    b.classList.remove('held');
    void stop();
  };
  // No pointer capture: moving off the button must count as letting go.
  b.addEventListener('pointerdown', () => {
    if (!connected) return;
    b.classList.add('held');
    driving.set(key, stop);
    void start();
  });
  for (const ev of ['pointerup', 'pointerleave', 'pointercancel']) {
    b.addEventListener(ev, release);
  }
}

function motorCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const m = new VIAM.MotorClient(c, name);
  const state = el('div', { class: 'state' }, '…');
  const power = el('input', { type: 'range', min: '-100', max: '100', value: '50', 'aria-label': 'power %' }) as HTMLInputElement;
  const hold_ = button('hold to run', { class: 'drive', 'data-action': 'hold' });
  hold(hold_, `motor/${name}`, () => m.setPower(Number(power.value) / 100), () => m.stop());
  const goFor = button('go for 1 rev', { 'data-action': 'go-for' });
  goFor.onclick = () => { driving.set(`motor/${name}`, () => m.stop()); void m.goFor(60, 1); };
  const stop = button('stop', { class: 'stop', 'data-action': 'stop' });
  stop.onclick = () => { driving.delete(`motor/${name}`); void m.stop(); };
  body.append(el('label', {}, 'power ', power), hold_, goFor, stop, state);
  poll(500, async () => {
    const [pos, moving] = await Promise.all([m.getPosition(), m.isMoving()]);
    state.textContent = `position ${pos.toFixed(2)} rev · ${moving ? 'moving' : 'still'}`;
    state.dataset.moving = String(moving);
  });
}

const DIRECTIONS: Record<string, [number, number, string]> = {
  forward: [0.6, 0, '↑'], back: [-0.6, 0, '↓'], left: [0, 0.6, '←'], right: [0, -0.6, '→'],
};
const KEYS: Record<string, string> = {
  w: 'forward', ArrowUp: 'forward', s: 'back', ArrowDown: 'back', a: 'left', ArrowLeft: 'left', d: 'right', ArrowRight: 'right',
};

function baseCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const b = new VIAM.BaseClient(c, name);
  const key = `base/${name}`;
  const drive = (lin: number, ang: number) => b.setPower({ x: 0, y: lin, z: 0 }, { x: 0, y: 0, z: ang });
  const stop = () => b.stop();
  const pad = el('div', { class: 'pad' });
  for (const [dir, [lin, ang, arrow]] of Object.entries(DIRECTIONS)) {
    const btn = button(arrow, { class: `drive ${dir}`, 'data-action': dir, 'aria-label': dir });
    hold(btn, key, () => drive(lin, ang), stop);
    pad.append(btn);
  }
  const halt = button('stop', { class: 'stop', 'data-action': 'stop' });
  halt.onclick = () => { driving.delete(key); void stop(); };
  body.append(pad, joystick(key, drive, stop), halt, el('p', { class: 'hint' }, 'hold, or WASD / arrow keys'));
  const down = new Set<string>();
  window.addEventListener('keydown', (e) => {
    const dir = KEYS[e.key];
    if (!dir || !connected || down.has(dir)) return;
    down.add(dir);
    driving.set(key, stop);
    const [lin, ang] = DIRECTIONS[dir];
    void drive(lin, ang);
  });
  window.addEventListener('keyup', (e) => {
    const dir = KEYS[e.key];
    if (!dir) return;
    down.delete(dir);
    if (down.size === 0 && driving.delete(key)) void stop();
  });
}

/** An on-screen stick: drag to drive, let go to stop. */
function joystick(key: string, drive: (l: number, a: number) => Promise<void>, stop: () => Promise<void>) {
  const area = el('div', { class: 'stick', 'aria-label': 'joystick' });
  const knob = el('div', { class: 'knob' });
  area.append(knob);
  let last = 0;
  const move = (e: PointerEvent) => {
    if (!driving.has(key)) return;
    const r = area.getBoundingClientRect();
    const x = Math.max(-1, Math.min(1, ((e.clientX - r.left) / r.width) * 2 - 1));
    const y = Math.max(-1, Math.min(1, ((e.clientY - r.top) / r.height) * 2 - 1));
    knob.style.transform = `translate(${x * 40}px, ${y * 40}px)`;
    const now = performance.now();
    if (now - last > 50) { last = now; void drive(-y, -x); }
  };
  area.addEventListener('pointerdown', (e) => {
    if (!connected) return;
    area.setPointerCapture(e.pointerId);
    driving.set(key, stop);
    move(e);
  });
  area.addEventListener('pointermove', move);
  const release = () => {
    knob.style.transform = '';
    if (driving.delete(key)) void stop();
  };
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) area.addEventListener(ev, release);
  return area;
}

function readingsCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const s = new VIAM.SensorClient(c, name);
  const out = el('pre', { class: 'readings' }, '…');
  body.append(out);
  poll(1000, async () => { out.textContent = JSON.stringify(await s.getReadings(), null, 1); });
}

function cameraCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const cam = new VIAM.CameraClient(c, name);
  const img = el('img', { alt: `${name} image` }) as HTMLImageElement;
  body.append(img);
  poll(500, async () => {
    const { images } = await cam.getImages();
    const first = images[0];
    if (!first) return;
    const url = URL.createObjectURL(new Blob([first.image as BlobPart], { type: first.mimeType || 'image/jpeg' }));
    const old = img.src;
    img.src = url;
    if (old.startsWith('blob:')) URL.revokeObjectURL(old);
  });
}

// StreamEvents and GetControls are not in the SDK's InputControllerClient: call them with the
// SDK's generated messages through the client's own transport.
const InputControllerService = {
  typeName: 'viam.component.inputcontroller.v1.InputControllerService',
  methods: {
    streamEvents: {
      name: 'StreamEvents',
      I: VIAM.inputControllerApi.StreamEventsRequest,
      O: VIAM.inputControllerApi.StreamEventsResponse,
      kind: 1, // MethodKind.ServerStreaming
    },
    getControls: {
      name: 'GetControls',
      I: VIAM.inputControllerApi.GetControlsRequest,
      O: VIAM.inputControllerApi.GetControlsResponse,
      kind: UNARY,
    },
  },
} as const;
const EVENT_TYPES = ['ButtonPress', 'ButtonRelease', 'ButtonHold', 'ButtonChange', 'PositionChangeAbs',
  'PositionChangeRel', 'Connect', 'Disconnect'];

/** The controller's events as they happen (StreamEvents over grpc-web),
 * newest first; the stream is re-opened while the page is connected. */
function controllerCard(c: VIAM.RobotClient, name: string, body: HTMLElement) {
  const ic = c.createServiceClient(InputControllerService as any) as any;
  const out = el('ul', { class: 'events' });
  body.append(out);
  const listen = async () => {
    const { controls } = await ic.getControls({ controller: name });
    const request = { controller: name, events: controls.map((control: string) => ({ control, events: EVENT_TYPES })) };
    for await (const { event: e } of ic.streamEvents(request)) {
      if (!e) continue;
      out.prepend(el('li', {}, `${e.control} ${e.event} ${e.value.toFixed(2)}`));
      while (out.children.length > 8) out.lastChild?.remove();
    }
  };
  const keep = async () => {
    for (;;) {
      if (connected) await listen().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void keep();
}

function wire() {
  $('#stop-all').onclick = async () => {
    driving.clear();
    await client?.stopAll();
    say('stopped all');
  };
  ($('#login') as HTMLFormElement).onsubmit = (e) => {
    e.preventDefault();
    const id = ($('#key-id') as HTMLInputElement).value.trim();
    const key = ($('#key') as HTMLInputElement).value;
    void connect({ type: 'api-key', authEntity: id, payload: key } as VIAM.Credential);
  };
  window.addEventListener('blur', () => void stopDriven('window blur'));
  document.addEventListener('visibilitychange', () => { if (document.hidden) void stopDriven('tab hidden'); });
  window.addEventListener('pagehide', () => void stopDriven('page closed'));
}

wire();
void connect();
