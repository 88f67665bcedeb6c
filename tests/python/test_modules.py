"""Modules: third-party resources in child processes, driven by the real
viam-sdk client. The Rust modules come from `modules/`; the Python module is
an unmodified viam-sdk EasyResource motor (`modules/py_motor.py`).
"""

import asyncio
import os
import pathlib
import re
import signal
import stat
import sys
import time

import pytest
from grpclib import GRPCError, Status
from viam.components.base import Base, Vector3
from viam.components.motor import Motor
from viam.proto.robot import ModuleStatus

from conftest import AXLE, connect, run
from test_sessions import Client

BIN = pathlib.Path(AXLE).parent
DIFF_DRIVE = str(BIN / "diff-drive")
FAKE_MOTOR = str(BIN / "fakes")
PY_MOTOR = pathlib.Path(__file__).parent / "modules" / "py_motor.py"


def motor(name, model="fake", **attributes):
    return {"name": name, "api": "rdk:component:motor", "model": model, "attributes": attributes}


def base(name="base", **attributes):
    attrs = {"left": "left", "right": "right", "wheel_circumference_mm": 220, "width_mm": 300, **attributes}
    return {"name": name, "api": "rdk:component:base", "model": "axle:base:diff-drive", "attributes": attrs}


def module(name, path, **extra):
    return {"name": name, "executable_path": str(path), "type": "local", **extra}


def script(tmp_path, name, body):
    """An executable file in the test's dir."""
    path = tmp_path / name
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def py_module(tmp_path):
    """The Python module, started with this interpreter (which has viam-sdk)."""
    return script(tmp_path, "py-motor", f'#!/bin/sh\nexec {sys.executable} {PY_MOTOR} "$@"\n')


def rover(tmp_path, window="2s", with_python=False):
    modules = [module("diff-drive", DIFF_DRIVE)]
    components = [motor("left", max_rpm=200), motor("right", max_rpm=200), base()]
    if with_python:
        modules.append(module("py-motor", py_module(tmp_path)))
        components.append(motor("pymotor", model="acme:test:pymotor"))
    return {"network": {"sessions": {"heartbeat_window": window}}, "modules": modules, "components": components}


def module_pids(axle):
    """Module name -> pid of its latest process, from axle's log."""
    return {m: int(p) for m, p in re.findall(r"module started module=(\S+) pid=(\d+)", axle.log_text())}


def alive(pid):
    """Whether `pid` exists and is not a zombie."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_for(predicate, timeout=10.0, step=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


async def module_states(robot):
    status = await robot.get_machine_status()
    return {m.module_name: m for m in status.modules}


def test_a_rust_module_base_drives_builtin_motors_through_the_parent(start_axle, tmp_path):
    axle = start_axle(rover(tmp_path))

    async def drive():
        robot = await connect(axle.address)
        names = {n.name for n in robot.resource_names}
        assert {"left", "right", "base"} <= names
        b, left, right = Base.from_robot(robot, "base"), Motor.from_robot(robot, "left"), Motor.from_robot(robot, "right")
        await b.set_power(Vector3(x=0, y=0.5, z=0), Vector3(x=0, y=0, z=0.2))
        assert await left.is_powered() == (True, pytest.approx(0.3))
        assert await right.is_powered() == (True, pytest.approx(0.7))
        assert await b.is_moving()
        await b.stop()
        assert not await left.is_moving() and not await right.is_moving()
        # 100 mm at 500 mm/s on 220 mm wheels: 0.45 turns of each wheel.
        start = await left.get_position()
        await b.move_straight(100, 500)
        assert await left.get_position() - start == pytest.approx(100 / 220, abs=0.1)
        assert not await left.is_moving()
        props = await b.get_properties()
        assert props.width_meters == pytest.approx(0.3)
        states = await module_states(robot)
        assert states["diff-drive"].state == ModuleStatus.State.STATE_READY
        await robot.close()

    run(drive())
    # The module's logs reach axle's log through the Log RPC, tagged.
    assert re.search(r"resource added .*module=diff-drive", axle.log_text())


def test_an_unmodified_python_module_serves_a_motor(start_axle, tmp_path):
    axle = start_axle(rover(tmp_path, with_python=True))

    async def drive():
        robot = await connect(axle.address)
        m = Motor.from_robot(robot, "pymotor")
        await m.set_power(0.5)
        assert await m.is_powered() == (True, 0.5)
        p0 = await m.get_position()
        await asyncio.sleep(0.2)
        assert await m.get_position() > p0
        await m.stop()
        assert not await m.is_moving()
        await robot.close()

    run(drive())


def test_a_killed_module_comes_back_and_axle_keeps_serving(start_axle, tmp_path):
    axle = start_axle(rover(tmp_path))
    pid = module_pids(axle)["diff-drive"]

    async def scenario():
        robot = await connect(axle.address)
        b, left = Base.from_robot(robot, "base"), Motor.from_robot(robot, "left")
        await b.set_power(Vector3(x=0, y=0.5, z=0), Vector3())
        assert await left.is_moving()
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        # While it is down, its resources answer UNAVAILABLE; the rest serve.
        saw_unavailable = False
        while True:
            try:
                await b.is_moving()
                break
            except GRPCError as e:
                assert e.status == Status.UNAVAILABLE, e
                assert "diff-drive" in e.message
                saw_unavailable = True
                await left.get_position()
                await asyncio.sleep(0.002)
            assert time.monotonic() - killed < 5, "the module did not come back within 5 s"
        back = time.monotonic() - killed
        print(f"module serving again {back * 1000:.0f} ms after kill -9")
        assert saw_unavailable
        # Whatever the crashed base drove was stopped.
        assert not await left.is_moving()
        # And the re-added base drives again.
        await b.set_power(Vector3(x=0, y=0.3, z=0), Vector3())
        assert await left.is_powered() == (True, pytest.approx(0.3))
        await b.stop()
        await robot.close()

    run(scenario())
    new_pid = module_pids(axle)["diff-drive"]
    assert new_pid != pid and alive(new_pid)
    assert "module crashed" in axle.log_text()
    assert "module serving again" in axle.log_text()


def test_sigkill_of_axle_leaves_no_module_running(start_axle, tmp_path):
    axle = start_axle(rover(tmp_path, with_python=True))
    pids = module_pids(axle)
    assert set(pids) == {"diff-drive", "py-motor"}
    sockets = pathlib.Path(re.search(r"module serving socket=(\S+)", axle.log_text()).group(1)).parent
    axle.signal_and_wait(signal.SIGKILL)
    assert wait_for(lambda: not any(alive(p) for p in pids.values()), timeout=1.0), pids
    # The killed axle could not remove its socket directory; the next one does.
    assert sockets.exists()
    start_axle(rover(tmp_path))
    assert not sockets.exists()


def test_sigterm_removes_modules_reaps_them_and_unlinks_sockets(start_axle, tmp_path):
    axle = start_axle(rover(tmp_path, with_python=True))
    pids = module_pids(axle)
    socket = pathlib.Path(re.search(r"module serving socket=(\S+)", axle.log_text()).group(1))
    assert socket.exists()
    assert stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
    assert axle.signal_and_wait(signal.SIGTERM) == 0
    log = axle.log_text()
    assert re.search(r"resource removed resource=rdk:component:base/base", log)
    assert log.count("module exited") == 2, log
    assert not any(alive(p) for p in pids.values())
    assert not socket.parent.exists()


def test_session_expiry_stops_a_modular_motor_and_what_a_modular_base_drove(start_axle, tmp_path):
    axle = start_axle(rover(tmp_path, window="500ms", with_python=True))
    client = Client("python", axle.address)
    assert client.send("power pymotor 0.5") == "ok"
    assert client.send("base_power base 0.5 0") == "ok"

    async def observe():
        robot = await connect(axle.address)
        motors = [Motor.from_robot(robot, n) for n in ("pymotor", "left", "right")]
        assert all([await m.is_moving() for m in motors])
        killed = time.monotonic()
        client.proc.kill()
        client.proc.wait()
        while any([await m.is_moving() for m in motors]):
            assert time.monotonic() - killed < 0.5 + 0.25, "not stopped within window + 250 ms"
            await asyncio.sleep(0.005)
        print(f"stopped {1000 * (time.monotonic() - killed):.0f} ms after the client died")
        await robot.close()

    run(observe())
    expired = r"session expired; stopped what it drove.*"
    assert wait_for(lambda: re.search(expired, axle.log_text()), timeout=2)
    line = re.search(expired, axle.log_text()).group(0)
    for name in ("motor/pymotor", "base/base", "motor/left", "motor/right"):
        assert name in line, line


def test_bad_modules_are_reported_and_axle_keeps_running(start_axle, tmp_path):
    not_exec = tmp_path / "not-executable"
    not_exec.write_text("#!/bin/sh\n")
    config = {
        "modules": [
            module("missing", tmp_path / "no-such-program"),
            module("not-exec", not_exec),
            module("silent", script(tmp_path, "silent", "#!/bin/sh\nexec sleep 60\n"), startup_timeout="500ms"),
            module("quitter", script(tmp_path, "quitter", "#!/bin/sh\necho 'no hardware here' >&2\nexit 3\n")),
        ],
        "components": [motor("left"), motor("ghost", model="acme:test:ghost")],
    }
    axle = start_axle(config)

    async def check():
        robot = await connect(axle.address)
        left = Motor.from_robot(robot, "left")
        await left.set_power(0.2)
        assert await left.is_powered() == (True, 0.2)
        states = await module_states(robot)
        expected = {
            "missing": "does not exist",
            "not-exec": "is not executable",
            "silent": "did not become ready within 500ms",
            "quitter": "no hardware here",
        }
        for name, needle in expected.items():
            assert states[name].state == ModuleStatus.State.STATE_UNHEALTHY, name
            assert needle in states[name].error, (name, states[name].error)
            assert states[name].consecutive_failures >= 1
        status = await robot.get_machine_status()
        ghost = next(r for r in status.resources if r.name.name == "ghost")
        assert "acme:test:ghost" in ghost.error
        await robot.close()

    run(check())
    log = axle.log_text()
    for needle in ("does not exist", "is not executable", "did not become ready", "exited during startup"):
        assert needle in log, needle


def test_a_hung_module_times_out_and_stop_still_reaches_the_rest(start_axle, tmp_path):
    config = rover(tmp_path, with_python=True)
    config["modules"][1]["call_timeout"] = "300ms"
    axle = start_axle(config)
    pid = module_pids(axle)["py-motor"]

    async def scenario():
        robot = await connect(axle.address)
        left, pymotor = Motor.from_robot(robot, "left"), Motor.from_robot(robot, "pymotor")
        await left.set_power(0.5)
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(GRPCError) as e:
                await pymotor.get_position()
            assert e.value.status == Status.DEADLINE_EXCEEDED
            assert "py-motor" in e.value.message
            started = time.monotonic()
            with pytest.raises(GRPCError):
                await robot.stop_all()
            assert not await left.is_moving()
            # The hung module is bounded by its call timeout, not left to hang StopAll.
            assert time.monotonic() - started < 2.5
        finally:
            os.kill(pid, signal.SIGCONT)
        await robot.close()

    run(scenario())
