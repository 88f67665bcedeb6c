"""The one stop path: whatever asks for a stop (a module crash, a session
expiry, StopAll, shutdown), every actuator is told at once, so a driver
that hangs in Stop delays no other.

The robot: a motor whose Stop hangs, in a module of its own; two healthy
motors, each in another module; a built-in motor; and a driver in a fourth
module that uses all four. Every module is the unmodified Python SDK
(`modules/py_probe.py`); its motors write down when each Stop arrived, so a
test sees the time of each stop, even after axle has exited.
"""

import asyncio
import os
import pathlib
import signal
import sys
import time

from grpclib import GRPCError
from viam.components.motor import Motor

from conftest import connect, run
from test_modules import module, module_pids, script, wait_for
from test_sessions import Client

PROBE = pathlib.Path(__file__).parent / "modules" / "py_probe.py"
WINDOW = 0.5
# Far below the 2 s that the hung stop is waited for: one stop after another
# would put every stop queued behind the hung one past it.
TOGETHER = 0.5
HEALTHY = ("ma", "mb")
DRIVEN = ("hung", "ma", "mb", "builtin")


def probe(tmp_path, name, model, stops, **env):
    path = script(tmp_path, "py-probe", f'#!/bin/sh\nexec {sys.executable} {PROBE} "$@"\n')
    return module(name, path, env={"VIAM_TEST_MODEL": model, "VIAM_TEST_STOP_LOG": str(stops), **env})


def robot(tmp_path):
    stops = tmp_path / "stops.log"
    stops.touch()
    modules = [
        probe(tmp_path, "hung", "acme:test:hung", stops, VIAM_TEST_HANG_STOP="1"),
        probe(tmp_path, "a", "acme:test:a", stops),
        probe(tmp_path, "b", "acme:test:b", stops),
        probe(tmp_path, "driver", "acme:test:unused", stops, VIAM_TEST_DRIVER="1"),
    ]
    motor = lambda name, model: {"name": name, "api": "rdk:component:motor", "model": model}
    components = [
        # The hung motor first: a one-at-a-time stop would wait for it.
        motor("hung", "acme:test:hung"),
        motor("ma", "acme:test:a"),
        motor("mb", "acme:test:b"),
        motor("builtin", "fake"),
        {"name": "driver", "api": "rdk:component:generic", "model": "acme:test:driver",
         "attributes": {"drives": list(DRIVEN)}},
    ]
    config = {"network": {"sessions": {"heartbeat_window": f"{int(WINDOW * 1000)}ms"}},
              "modules": modules, "components": components}
    return config, stops


def stop_times(stops):
    """Motor name -> when its first Stop arrived (time.monotonic())."""
    first = {}
    for line in stops.read_text().splitlines():
        name, at = line.split()
        first.setdefault(name, float(at))
    return first


def healthy_stopped_within(stops, since, bound):
    """Waits for both healthy modular motors' stops; each came within `bound` of `since`."""
    assert wait_for(lambda: set(HEALTHY) <= set(stop_times(stops)), timeout=bound + 3), stops.read_text()
    took = {n: stop_times(stops)[n] - since for n in HEALTHY}
    print("stops after the trigger:", {n: f"{1000 * t:.0f} ms" for n, t in took.items()})
    for name, t in took.items():
        assert 0 <= t <= bound, f"{name} stopped {t:.3f} s after the trigger, not within {bound} s"


async def drive_all(robot_client):
    for name in DRIVEN:
        await Motor.from_robot(robot_client, name).set_power(0.5)


async def builtin_stopped_within(robot_client, since, bound):
    builtin = Motor.from_robot(robot_client, "builtin")
    while await builtin.is_moving():
        assert time.monotonic() - since <= bound, f"the built-in motor still moves {bound} s after the trigger"
        await asyncio.sleep(0.005)


def test_a_module_crash_stops_what_it_drove_together(start_axle, tmp_path):
    config, stops = robot(tmp_path)
    axle = start_axle(config)
    pid = module_pids(axle)["driver"]

    async def go():
        client = await connect(axle.address)
        await drive_all(client)
        crashed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        await builtin_stopped_within(client, crashed, TOGETHER)
        healthy_stopped_within(stops, crashed, TOGETHER)
        await client.close()

    run(go())
    line = wait_for_line(axle, "could not stop all that the crashed module drove")
    assert "rdk:component:motor/hung" in line.split("failed=")[1], line


def test_a_session_expiry_stops_what_it_drove_together(start_axle, tmp_path):
    config, stops = robot(tmp_path)
    axle = start_axle(config)
    client = Client("python", axle.address)
    try:
        for name in DRIVEN:
            assert client.send(f"power {name} 0.5") == "ok"

        async def go():
            observer = await connect(axle.address)
            killed = time.monotonic()
            client.proc.kill()
            client.proc.wait()
            await builtin_stopped_within(observer, killed, WINDOW + 0.1)
            healthy_stopped_within(stops, killed, WINDOW + 0.1 + TOGETHER / 2)
            await observer.close()

        run(go())
    finally:
        client.close()
    line = wait_for_line(axle, "session expired; some resources did not confirm Stop")
    assert "rdk:component:motor/hung" in line.split("failed=")[1], line


def test_stop_all_stops_the_healthy_at_once_and_names_the_hung(start_axle, tmp_path):
    config, stops = robot(tmp_path)
    axle = start_axle(config)

    async def go():
        client = await connect(axle.address)
        await drive_all(client)
        asked = time.monotonic()
        stop_all = asyncio.ensure_future(client.stop_all())
        await builtin_stopped_within(client, asked, TOGETHER)
        healthy_stopped_within(stops, asked, TOGETHER)
        try:
            await stop_all
            raise AssertionError("StopAll succeeded though a motor never confirmed")
        except GRPCError as e:
            assert "hung" in e.message and "ma" not in e.message, e.message
        await client.close()

    run(go())


def test_shutdown_stops_the_healthy_at_once(start_axle, tmp_path):
    config, stops = robot(tmp_path)
    axle = start_axle(config)

    async def go():
        # Still connected at SIGTERM: no session expiry stops anything first.
        client = await connect(axle.address)
        await drive_all(client)
        terminated = time.monotonic()
        axle.proc.send_signal(signal.SIGTERM)
        healthy_stopped_within(stops, terminated, TOGETHER)
        try:
            await client.close()
        except Exception:
            pass  # axle is gone

    run(go())
    assert axle.signal_and_wait(signal.SIGTERM, timeout=15) == 0
    line = wait_for_line(axle, "stopped all actuators; some did not confirm Stop")
    stopped, unconfirmed = line.split(" stopped=")[1].split(" unconfirmed=")
    assert "cause=\"shutdown\"" in line and "motor/builtin" in stopped and "motor/hung" in unconfirmed, line


def wait_for_line(axle, needle, timeout=5.0):
    found = lambda: next((l for l in axle.log_text().splitlines() if needle in l), None)
    assert wait_for(found, timeout=timeout), axle.log_text()[-4000:]
    return found()
