"""The axle process: signals, Unix sockets, the rover example."""

import asyncio
import os
import signal
import subprocess
import sys

from viam.components.base import Base, Vector3
from viam.components.motor import Motor

from conftest import ROOT, connect, run


def test_sigterm_and_sigint_stop_every_actuator_then_exit_zero(start_axle):
    for sig in (signal.SIGTERM, signal.SIGINT):
        axle = start_axle()

        async def drive():
            robot = await connect(axle.address)
            await Motor.from_robot(robot, "left").set_power(0.8)
            await Base.from_robot(robot, "base").set_power(Vector3(x=0, y=1, z=0), Vector3(x=0, y=0, z=0))
            await robot.close()

        run(drive())
        assert axle.signal_and_wait(sig) == 0
        log = axle.log_text()
        assert "stopped all actuators" in log and "actuators=3 failed=0" in log, log


def test_serves_on_a_unix_socket_too(start_axle, tmp_path):
    sock = tmp_path / "axle.sock"
    axle = start_axle(args=["--socket", str(sock)])

    async def go():
        robot = await connect(str(sock))
        m = Motor.from_robot(robot, "left")
        await m.go_for(rpm=1000, revolutions=0.5)
        assert await m.get_position() == 0.5
        await robot.close()

    run(go())
    assert axle.signal_and_wait() == 0
    assert not sock.exists(), "the socket file is removed on exit"


def test_the_example_script_drives_the_rover(rover):
    env = dict(os.environ, AXLE_ADDRESS=rover.address)
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "drive_rover.py")], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "left motor position" in out.stdout
