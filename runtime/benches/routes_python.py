"""The Python client through a rendezvous, in the namespace internet of the
routes tests: connect time per ICE pair type against direct h2c on the LAN,
and the time from an uplink drop to the remote client's motor stopping.

Run by `cargo bench -p axle-runtime --bench routes` (inside its network
namespace), with AXLE_BIN set.
"""

import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "python"))
os.environ["AXLE_NETNS"] = "1"

import test_routes as routes  # noqa: E402
from internet import LAN  # noqa: E402
from test_webrtc import WebRtcClient  # noqa: E402

DIALS = 5
DROPS = 3


def dial(world, workdir, ns, address, flags, isolate=False):
    if isolate:
        world.net.isolate(ns, True)
    try:
        key = None if "--direct" in flags else routes.KEY
        c = WebRtcClient(workdir, address, api_key=key, wrap=world.net.wrap(ns), flags=flags)
    finally:
        if isolate:
            world.net.isolate(ns, False)
    try:
        assert c.ready.startswith("ready"), c.ready + c.log()[-2000:]
        took, pair = float(c.ready.split()[1]), routes.selected_pair(c)
        c.send("close")
        return took, pair
    finally:
        c.close()


def main():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="axle-bench-routes-"))
    world = routes.World(workdir)
    try:
        cases = [
            # The SDK's direct dial cannot carry an API key without TLS
            # (it hands a server name to a plaintext socket), so the
            # baseline dials the second part, an axle without auth.
            ("direct h2c to an axle on the LAN (baseline)", "client", f"{LAN}.4:8080", ["--direct"], False),
            ("rendezvous, LAN host pair", "client", "rover.axle:80", ["--insecure"], False),
            ("rendezvous, server-reflexive pair (two NATs)", "remote", "rover.axle:80", ["--insecure"], False),
            ("rendezvous, relayed by TURN", "client", "rover.axle:80", ["--insecure"], True),
        ]
        results = []
        for name, ns, address, flags, isolate in cases:
            samples, pairs = [], set()
            for _ in range(DIALS):
                took, pair = dial(world, workdir, ns, address, flags, isolate)
                samples.append(took * 1000)
                kind = next((k for k in ("relay", "srflx", "prflx", "host") if f"(remote) udp {k}" in pair), "-")
                pairs.add(kind)
            results.append((name, samples, ",".join(sorted(pairs))))
        print(f"\nPython client connect (RobotClient.at_address), {DIALS} dials each, in the namespace internet:")
        print("| route | robot's side of the pair | median ms | max ms | median / direct |")
        print("| --- | --- | ---: | ---: | ---: |")
        base = statistics.median(results[0][1])
        for name, s, pair in results:
            print(f"| {name} | {pair} | {statistics.median(s):.0f} | {max(s):.0f} | {statistics.median(s) / base:.2f}× |")

        stops = []
        for _ in range(DROPS):
            before = world.registrations()
            remote = WebRtcClient(workdir, "rover.axle:80", api_key=routes.KEY, wrap=world.net.wrap("remote"),
                                  flags=["--insecure"])
            assert remote.ready.startswith("ready"), remote.ready
            assert remote.send("power left 0.4") == "ok"
            since = time.time()
            world.net.uplink(False)
            stops.append(world.seconds_to_stop("left", since) * 1000)
            remote.close()
            # Wait for the robot to see the link lost, then bring it back.
            deadline = time.monotonic() + routes.NOTICE + 5
            while "link to the rendezvous lost" not in world.robot.log_text().split("registered with the rendezvous")[-1]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            world.net.uplink(True)
            world.wait_registered(before, routes.BACKOFF + 3)
        print(f"\nuplink drop to the remote client's motor stopped ({DROPS} drops; heartbeat window 500 ms):")
        print(f"median {statistics.median(stops):.0f} ms, max {max(stops):.0f} ms "
              f"(median / window {statistics.median(stops) / 500:.2f}×)")
    finally:
        world.close()


if __name__ == "__main__":
    main()
