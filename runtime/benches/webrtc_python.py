"""The Python viam-sdk's side of the WebRTC bench: dial time and
GetPosition round trips, over WebRTC and direct, in the same run.

    webrtc_python.py ADDRESS
"""

import asyncio
import statistics
import sys
import time

from viam.proto.component.motor import GetPositionRequest, MotorServiceStub
from viam.robot.client import RobotClient
from viam.rpc.dial import DialOptions

DIALS, CALLS = 30, 1000


def options(webrtc):
    return RobotClient.Options(
        dial_options=DialOptions(insecure=True, disable_webrtc=not webrtc),
        check_connection_interval=0, attempt_reconnect_interval=0, disable_sessions=True)


async def main(address):
    dials = {False: [], True: []}
    for _ in range(DIALS):
        for webrtc in (False, True):
            started = time.perf_counter()
            robot = await RobotClient.at_address(address, options(webrtc))
            dials[webrtc].append((time.perf_counter() - started) * 1e3)
            await robot.close()
            await asyncio.sleep(0.02)
    calls = {}
    for webrtc in (False, True):
        robot = await RobotClient.at_address(address, options(webrtc))
        stub = MotorServiceStub(robot._channel)
        samples = []
        for i in range(CALLS + 100):
            started = time.perf_counter()
            await stub.GetPosition(GetPositionRequest(name="left"))
            if i >= 100:
                samples.append((time.perf_counter() - started) * 1e6)
        calls[webrtc] = samples
        await robot.close()

    def p(v, q):
        return sorted(v)[min(len(v) - 1, int(q / 100 * len(v)))]

    print(f"\nPython viam-sdk 0.85.1 ({DIALS} dials, {CALLS} calls each):")
    print("| route | dial p50 ms | p90 ms | dial / direct | GetPosition p50 µs | p99 µs | p50 / direct |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    d0, c0 = statistics.median(dials[False]), statistics.median(calls[False])
    for webrtc, name in ((False, "direct (grpclib, h2c; baseline)"), (True, "WebRTC (rust-utils)")):
        d, c = statistics.median(dials[webrtc]), statistics.median(calls[webrtc])
        print(f"| {name} | {d:.1f} | {p(dials[webrtc], 90):.1f} | {d / d0:.2f}× | {c:.0f} | "
              f"{p(calls[webrtc], 99):.0f} | {c / c0:.2f}× |")


asyncio.run(main(sys.argv[1]))
