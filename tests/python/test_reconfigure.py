"""Live reconfiguration: edit the config file of a running axle, and the robot
follows without a restart. Real processes, real files, the real viam-sdk client.
"""

import asyncio
import json
import os
import pathlib
import random
import re
import signal
import time

from viam.components.motor import Motor

from conftest import connect, run
from test_modules import FAKE_MOTOR, alive, module, module_pids, motor, wait_for
from test_sessions import Client


def revision_of(text: str) -> str:
    """axle's config revision: FNV-1a 64 of the file's bytes."""
    h = 0xCBF29CE484222325
    for b in text.encode():
        h = ((h ^ b) * 0x100000001B3) % 2**64
    return f"{h:016x}"


def write(path: pathlib.Path, config, atomic=True) -> str:
    """Writes `config` the way editors do: a new file renamed over the old one
    (atomic), or the old file truncated and rewritten. Returns its revision."""
    text = config if isinstance(config, str) else json.dumps(config, indent=1)
    if atomic:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    else:
        path.write_text(text)
    return revision_of(text)


async def status(robot):
    return await robot.get_machine_status()


async def wait_revision(robot, revision, timeout=5.0):
    deadline = time.monotonic() + timeout
    while (await status(robot)).config.revision != revision:
        assert time.monotonic() < deadline, f"revision {revision} not applied in {timeout} s"
        await asyncio.sleep(0.01)


async def names(robot):
    """ResourceNames, asked afresh (the client caches it until a refresh)."""
    await robot.refresh()
    return sorted(n.name for n in robot.resource_names)


async def config_refusal(robot):
    """The error of the refused-config status, or ""."""
    refused = [s.error for s in (await status(robot)).resources if s.name.type == "config"]
    return refused[0] if refused else ""


def children(pid):
    """The live (non-zombie) child processes of `pid`."""
    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError, ProcessLookupError):
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def socket_dir(axle):
    dirs = list(pathlib.Path("/tmp").glob(f"axle-{axle.proc.pid}-*"))
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_an_added_motor_appears_and_the_running_one_keeps_running_under_its_session(start_axle):
    config = {
        "network": {"sessions": {"heartbeat_window": "500ms"}},
        "components": [motor("left"), motor("right")],
    }
    axle = start_axle(config)
    client = Client("python", axle.address)
    client.drive_left()

    async def scenario():
        robot = await connect(axle.address)
        left = Motor.from_robot(robot, "left")
        config["components"].append(motor("extra"))
        written = time.monotonic()
        write(axle.config_path, config)
        while "extra" not in await names(robot):
            assert time.monotonic() - written < 1.0, "the new motor did not appear within 1 s"
            await asyncio.sleep(0.005)
        print(f"new motor served {1000 * (time.monotonic() - written):.0f} ms after the write")
        assert await left.is_powered() == (True, 0.5), "the running motor was not touched"
        await Motor.from_robot(robot, "extra").set_power(0.2)

        killed = time.monotonic()
        client.proc.kill()
        client.proc.wait()
        while await left.is_moving():
            assert time.monotonic() - killed < 0.5 + 0.25, "not stopped within window + 250 ms"
            await asyncio.sleep(0.005)
        await robot.close()

    run(scenario())
    expired = r"session expired; stopped what it drove.*"
    assert wait_for(lambda: re.search(expired, axle.log_text()), timeout=2)
    assert "motor/left" in re.search(expired, axle.log_text()).group(0)


def test_changing_one_motor_rebuilds_only_that_motor(start_axle):
    config = {"components": [motor("a", max_rpm=100), motor("b", max_rpm=100)]}
    axle = start_axle(config)

    async def scenario():
        robot = await connect(axle.address)
        a, b = Motor.from_robot(robot, "a"), Motor.from_robot(robot, "b")
        await a.set_power(0.5)
        await b.set_power(0.5)
        first = (await status(robot)).config.revision
        config["components"][0]["attributes"]["max_rpm"] = 50
        second = write(axle.config_path, config, atomic=False)
        await wait_revision(robot, second)
        assert await a.is_powered() == (False, 0.0), "the changed motor is a new one, stopped"
        assert await b.is_powered() == (True, 0.5), "the other motor kept its state"
        built = {s.name.name: s.revision for s in (await status(robot)).resources}
        assert built == {"a": second, "b": first}, built
        # The new max_rpm is in force: 25 rpm is half power at 50 max.
        await a.set_rpm(25)
        assert await a.is_powered() == (True, 0.5)
        await robot.close()

    run(scenario())
    assert re.search(r'resource taken down resource=a cause="reconfigured"', axle.log_text())
    assert "resource=b cause" not in axle.log_text()


def test_a_removed_module_exits_and_comes_back_when_added_again(start_axle):
    config = {
        "modules": [module("fm", FAKE_MOTOR)],
        "components": [motor("left"), motor("mm", model="axle:fake:motor")],
    }
    axle = start_axle(config)
    first_pid = module_pids(axle)["fm"]

    async def scenario():
        robot = await connect(axle.address)
        await Motor.from_robot(robot, "mm").set_power(0.4)
        await Motor.from_robot(robot, "left").set_power(0.3)

        # The module goes; its motor stays in the file and fails, clearly.
        gone = dict(config, modules=[])
        await wait_revision(robot, write(axle.config_path, gone))
        assert wait_for(lambda: not alive(first_pid), timeout=5), "the module's process still runs"
        assert await names(robot) == ["left"]
        errors = {s.name.name: s.error for s in (await status(robot)).resources}
        assert "unknown model axle:fake:motor for rdk:component:motor: no module serves it" in errors["mm"], errors
        assert not (await status(robot)).modules
        assert await Motor.from_robot(robot, "left").is_powered() == (True, 0.3)

        # Back again: a new process serves the motor.
        await wait_revision(robot, write(axle.config_path, config))
        assert await names(robot) == ["left", "mm"]
        await Motor.from_robot(robot, "mm").set_power(0.6)
        assert await Motor.from_robot(robot, "mm").is_powered() == (True, 0.6)
        await robot.close()

    run(scenario())
    assert module_pids(axle)["fm"] != first_pid
    assert axle.signal_and_wait() == 0


def test_invalid_json_is_refused_the_robot_keeps_serving_and_a_fix_applies(start_axle):
    config = {"components": [motor("left")]}
    axle = start_axle(config)

    async def scenario():
        robot = await connect(axle.address)
        left = Motor.from_robot(robot, "left")
        await left.set_power(0.5)
        good = (await status(robot)).config.revision
        assert good == revision_of(axle.config_path.read_text())

        for bad, says in [('{"components": [', "is not valid JSON"), ('{"components": {}}', "expected a list")]:
            write(axle.config_path, bad)
            deadline = time.monotonic() + 5
            while says not in (refusal := await config_refusal(robot)):
                assert time.monotonic() < deadline, f"no refusal saying {says!r} in GetMachineStatus: {refusal!r}"
                await asyncio.sleep(0.01)
            assert good in refusal, "the refusal names the revision still running"
            assert (await status(robot)).config.revision == good
            assert await left.is_powered() == (True, 0.5), "the running robot was touched"

        # A good file applies. A component in it that cannot be built fails
        # alone; the rest applies.
        config["components"] += [motor("right"), motor("broken", max_rpm="fast")]
        await wait_revision(robot, write(axle.config_path, config))
        assert await config_refusal(robot) == ""
        assert await names(robot) == ["left", "right"]
        errors = {s.name.name: s.error for s in (await status(robot)).resources}
        assert "attributes.max_rpm" in errors["broken"], errors
        assert await left.is_powered() == (True, 0.5)
        await robot.close()

    run(scenario())
    assert "config refused, still running revision" in axle.log_text()


def test_a_hundred_rapid_edits_leave_axle_consistent(start_axle):
    def config(i):
        motors = [motor(f"m{k}", max_rpm=100 + i) for k in range(i % 4)]
        modules = [module("fm", FAKE_MOTOR, env={"EDIT": str(i)})] if i % 3 else []
        modular = [motor("mm", model="axle:fake:motor")] if i % 3 else []
        return {"modules": modules, "components": [motor("left"), *motors, *modular]}

    axle = start_axle(config(0))
    rng = random.Random(6)
    for i in range(1, 101):
        last = write(axle.config_path, config(i), atomic=rng.random() < 0.5)
        # Mostly a burst; now and then a pause long enough for a reload to
        # start, so edits also land while one is being applied.
        time.sleep(rng.random() * 0.01 if i % 10 else rng.uniform(0.05, 0.2))
    final = config(100)  # 100 % 4 == 0 motors, 100 % 3 == 1: the module and its motor.

    async def check():
        robot = await connect(axle.address)
        await wait_revision(robot, last, timeout=20)
        assert await names(robot) == ["left", "mm"]
        machine = await status(robot)
        assert all(s.state == s.STATE_READY for s in machine.resources), machine.resources
        assert [m.module_name for m in machine.modules] == ["fm"]
        await Motor.from_robot(robot, "mm").set_power(0.5)
        await robot.close()

    run(check())
    assert len(children(axle.proc.pid)) == 1, "exactly one module process"
    sockets = sorted(p.name for p in socket_dir(axle).iterdir())
    assert len(sockets) == 2 and "parent.sock" in sockets, sockets
    applied = len(re.findall(r"config applied", axle.log_text()))
    print(f"100 edits applied as {applied - 1} reloads")
    pid, directory = axle.proc.pid, socket_dir(axle)
    assert axle.signal_and_wait() == 0
    assert not children(pid) and not directory.exists()
    assert final["modules"]


def test_session_and_bind_settings_changes_are_applied_or_reported(start_axle):
    config = {"network": {"bind_address": "127.0.0.1:0"}, "components": [motor("left")]}
    axle = start_axle(config, bind=None)
    assert "session settings changed" not in axle.log_text()
    config["network"] = {"bind_address": "127.0.0.1:1", "sessions": {"heartbeat_window": "700ms"}}
    write(axle.config_path, config)
    assert wait_for(lambda: "session settings changed" in axle.log_text(), timeout=5)
    log = axle.log_text()
    assert re.search(r"session settings changed; the window applies to new sessions heartbeat_window=700ms", log)
    assert re.search(r"network.bind_address changed; restart axle to listen there bind_address=127.0.0.1:1", log), log

    async def still_serving_where_it_was():
        robot = await connect(axle.address)
        await Motor.from_robot(robot, "left").set_power(0.2)
        await robot.close()

    run(still_serving_where_it_was())
    axle.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "SIGHUP: reading the config file again" in axle.log_text(), timeout=5)
    run(still_serving_where_it_was())


def test_a_remote_pointed_elsewhere_stops_what_it_drove_and_serves_the_new_part(start_axle, tmp_path):
    from test_parts import part

    first = part(tmp_path, start_axle, "first", components=[motor("left")])
    second = part(tmp_path, start_axle, "second", components=[motor("right")])
    main = part(tmp_path, start_axle, "main", remotes=["first"], components=[motor("own")])
    config = json.loads(main.config_path.read_text())

    async def scenario():
        robot = await connect(main.address)
        await Motor.from_robot(robot, "first:left").set_power(0.5)
        config["remotes"][0]["address"] = str(second.sock)
        await wait_revision(robot, write(main.config_path, config))
        assert await names(robot) == ["first:right", "own"]
        await Motor.from_robot(robot, "first:right").set_power(0.3)
        sub = await connect(first.address)
        assert not await Motor.from_robot(sub, "left").is_moving(), "the old part's motor was left running"
        await sub.close()

        config["remotes"] = []
        await wait_revision(robot, write(main.config_path, config))
        assert await names(robot) == ["own"]
        sub = await connect(second.address)
        assert not await Motor.from_robot(sub, "right").is_moving(), "the removed part's motor was left running"
        await sub.close()
        await robot.close()

    run(scenario())


def test_a_modular_attribute_change_is_made_in_place_by_the_same_module(start_axle):
    config = {
        "modules": [module("fm", FAKE_MOTOR)],
        "components": [motor("mm", model="axle:fake:motor", max_rpm=60)],
    }
    axle = start_axle(config)
    pid = module_pids(axle)["fm"]

    async def scenario():
        robot = await connect(axle.address)
        mm = Motor.from_robot(robot, "mm")
        assert (await mm.do_command({"get_state": None}))["get_state"]["max_rpm"] == 60
        config["components"][0]["attributes"]["max_rpm"] = 120
        await wait_revision(robot, write(axle.config_path, config))
        assert (await mm.do_command({"get_state": None}))["get_state"]["max_rpm"] == 120
        assert module_pids(axle)["fm"] == pid and alive(pid), "the module was not restarted"

        # A change to the module itself restarts it, and its motor is added again.
        config["modules"][0]["env"] = {"SOMETHING": "new"}
        await wait_revision(robot, write(axle.config_path, config))
        assert module_pids(axle)["fm"] != pid
        assert wait_for(lambda: not alive(pid), timeout=5), "the old module process still runs"
        assert (await mm.do_command({"get_state": None}))["get_state"]["max_rpm"] == 120
        await robot.close()

    run(scenario())
    assert "resource reconfigured in place resource=mm" in axle.log_text()


def test_a_module_that_comes_up_late_gets_its_components_built_without_an_edit(start_axle, tmp_path):
    from test_modules import script

    flaky = script(
        tmp_path,
        "flaky",
        f'#!/bin/sh\nif [ ! -e "$MARK" ]; then touch "$MARK"; echo "not today" >&2; exit 3; fi\nexec {FAKE_MOTOR} "$@"\n',
    )
    config = {
        "modules": [module("flaky", flaky, env={"MARK": str(tmp_path / "mark")})],
        "components": [motor("mm", model="axle:fake:motor")],
    }
    axle = start_axle(config)

    async def scenario():
        robot = await connect(axle.address)
        deadline = time.monotonic() + 5
        while "mm" not in await names(robot):
            assert time.monotonic() < deadline, "the module's motor was not built once it came up"
            await asyncio.sleep(0.01)
        await Motor.from_robot(robot, "mm").set_power(0.5)
        await robot.close()

    run(scenario())
    log = axle.log_text()
    assert "module failed to start" in log and "not today" in log
    assert "module ready after failing to start" in log
