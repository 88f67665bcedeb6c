"""The README, followed as a new user would: the run command serves the
rover and prints the page's URL; the Python and Rust examples drive it; the
Python module of the modules guide (examples/python-module) loads from its
config, reads its attributes, takes a live edit, and a bad value shows."""

import asyncio
import json
import shutil
import subprocess
import sys
import time

from viam.components.sensor import Sensor

from conftest import ROOT, connect, run

DRIVE_MOTOR = ROOT / "target" / "debug" / "drive_motor"


def test_the_run_command_prints_the_page_url_and_the_rust_example_drives_the_rover(rover):
    assert f"control page: http://{rover.address}/" in rover.log_text()
    out = subprocess.run([str(DRIVE_MOTOR), "--address", rover.address, "--motor", "left", "--power", "0.5",
                          "--seconds", "1"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_python_module_of_the_guide_loads_from_its_config(start_axle, tmp_path, monkeypatch):
    guide = tmp_path / "python-module"
    shutil.copytree(ROOT / "examples" / "python-module", guide)
    monkeypatch.setenv("PYTHON", sys.executable)
    config = guide / "robot.json"
    axle = start_axle(args=("--config", str(config)))

    async def readings(robot):
        return await Sensor.from_robot(robot, "cpu").get_readings()

    async def scenario():
        robot = await connect(axle.address)
        first = await readings(robot)
        assert set(first) == {"temperature_c", "source"}, first
        # A live edit of the attribute reaches the module's reconfigure.
        edited = json.loads(config.read_text())
        edited["components"][0]["attributes"]["offset_c"] = 100.5
        config.write_text(json.dumps(edited))
        deadline = time.monotonic() + 10
        while (await readings(robot))["temperature_c"] < first["temperature_c"] + 50:
            assert time.monotonic() < deadline, "the edit did not reach the module"
            await asyncio.sleep(0.1)
        # A bad value is refused by the module's validate_config, named for the sensor.
        edited["components"][0]["attributes"]["offset_c"] = "warm"
        config.write_text(json.dumps(edited))
        deadline = time.monotonic() + 10
        while True:
            errors = {s.name.name: s.error for s in (await robot.get_machine_status()).resources}
            if "offset_c" in errors.get("cpu", ""):
                break
            assert time.monotonic() < deadline, errors
            await asyncio.sleep(0.1)
        await robot.close()

    run(scenario())
