"""Strict config: a key axle does not know is refused with its path and the
key meant, at start (exit 2, every problem listed) and as a live edit (the
edit is refused, the robot keeps running, GetMachineStatus says why).

Upstream's viam-server ignores unknown keys: `"max_rmp": 500` leaves the
motor at its default speed, and `"heartbeat_windw": "500ms"` leaves a robot
running 2 s after its driver vanished while the user believes 500 ms."""

import asyncio
import json
import subprocess
import time

from viam.components.motor import Motor

from conftest import AXLE, connect, run
from test_reconfigure import config_refusal, status, wait_revision, write

MOTOR = {"name": "left", "api": "rdk:component:motor", "model": "fake", "attributes": {"max_rpm": 100}}

# One typo per section, each with what axle must say about it.
TYPOS = [
    ({"components": [{**MOTOR, "attributes": {"max_rmp": 500}}]},
     'components[0].attributes: unknown key "max_rmp"; did you mean "max_rpm"?'),
    ({"components": [{**{k: v for k, v in MOTOR.items() if k != "attributes"}, "atributes": {"max_rpm": 5}}]},
     'components[0]: unknown key "atributes"; did you mean "attributes"?'),
    ({"componets": [MOTOR]},
     '(top level): unknown key "componets"; did you mean "components"?'),
    ({"network": {"bind_adress": "127.0.0.1:0"}},
     'network: unknown key "bind_adress"; did you mean "bind_address"?'),
    ({"network": {"sessions": {"heartbeat_windw": "500ms"}}},
     'network.sessions: unknown key "heartbeat_windw"; did you mean "heartbeat_window"?'),
    ({"auth": {"handlers": [{"type": "api-key", "confg": {"k": "secret"}}]}},
     'auth.handlers[0]: unknown key "confg"; did you mean "config"?'),
    ({"modules": [{"name": "m", "executable_path": "/bin/true", "startup_timout": "5s"}]},
     'modules[0]: unknown key "startup_timout"; did you mean "startup_timeout"?'),
    ({"remotes": [{"name": "r", "address": "127.0.0.1:1", "conection_check_interval": "1s"}]},
     'remotes[0]: unknown key "conection_check_interval"; did you mean "connection_check_interval"?'),
    ({"services": [{"name": "g", "api": "rdk:service:generic", "model": "fake", "dependson": []}]},
     'services[0]: unknown key "dependson"; did you mean "depends_on"?'),
    ({"services": [{"name": "data", "api": "rdk:service:data_manager", "model": "builtin",
                    "attributes": {"sync_intervl_mins": 1}}]},
     'services[0].attributes: unknown key "sync_intervl_mins"; did you mean "sync_interval_mins"?'),
    ({"services": [{"name": "rc", "api": "rdk:service:base_remote_control", "model": "builtin",
                    "attributes": {"base": "b", "input_controller": "i", "control_mod": "arrowControl"}}]},
     'services[0].attributes: unknown key "control_mod"; did you mean "control_mode"?'),
]


def test_every_typo_stops_axle_at_start_with_every_problem_listed(tmp_path):
    merged = {}
    for config, _ in TYPOS[2:]:
        for key, value in config.items():
            merged[key] = merged.get(key, [] if isinstance(value, list) else {})
            if isinstance(value, list):
                merged[key] += value
            else:
                merged[key].update(value)
    merged["components"] = [{**MOTOR, "attributes": {"max_rmp": 500}}]
    path = tmp_path / "robot.json"
    path.write_text(json.dumps(merged))
    out = subprocess.run([AXLE, "--config", str(path), "--bind", "127.0.0.1:0"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 2, out
    said = out.stdout + out.stderr
    # Index paths shift in the merged file; the messages do not.
    for _, expected in TYPOS[2:]:
        assert expected.split("]", 1)[-1].split(": ", 1)[-1] in said, f"{expected}\n{said}"
    assert 'unknown key "max_rmp"; did you mean "max_rpm"?' in said
    assert "has 10 unknown keys" in said, said
    assert said.count('unknown key "componets"') == 1, "said once, not once per log sink"


def test_each_typo_is_refused_at_start_with_its_path(tmp_path):
    for i, (config, expected) in enumerate(TYPOS):
        path = tmp_path / f"robot-{i}.json"
        path.write_text(json.dumps(config))
        out = subprocess.run([AXLE, "--config", str(path), "--bind", "127.0.0.1:0"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 2, (config, out)
        assert expected in out.stderr, f"{expected}\n{out.stderr}"


def test_a_live_edit_with_a_typo_is_refused_and_the_robot_keeps_running(start_axle):
    config = {"components": [MOTOR]}
    axle = start_axle(config)

    async def scenario():
        robot = await connect(axle.address)
        left = Motor.from_robot(robot, "left")
        await left.set_power(0.5)
        good = (await status(robot)).config.revision
        for typo, expected in TYPOS:
            write(axle.config_path, typo)
            deadline = time.monotonic() + 5
            while expected not in (refusal := await config_refusal(robot)):
                assert time.monotonic() < deadline, f"{expected!r} not in GetMachineStatus: {refusal!r}"
                await asyncio.sleep(0.02)
            assert (await status(robot)).config.revision == good, "the edit was not applied"
            assert await left.is_powered() == (True, 0.5), "the running motor was touched"
        # The fix applies, and the refusal clears.
        fixed = {"components": [{**MOTOR, "attributes": {"max_rpm": 500}}]}
        await wait_revision(robot, write(axle.config_path, fixed))
        assert await config_refusal(robot) == ""
        await robot.close()

    run(scenario())
    assert 'did you mean "heartbeat_window"?' in axle.log_text()


def test_upstream_keys_are_accepted_and_named_once_in_the_log(start_axle):
    config = {"components": [{**MOTOR, "frame": {"parent": "world"},
                              "attributes": {"max_rpm": 100, "board": "pi", "pins": {"pwm": "12"}}}],
              "packages": []}
    axle = start_axle(config)
    log = axle.log_text()
    assert log.count("accepted and not acted on") == 1, log
    for path in ["components[0].frame", "components[0].attributes.board", "packages"]:
        assert path in log, log


def test_the_rendezvous_refuses_typos_too(tmp_path):
    path = tmp_path / "signal.json"
    path.write_text(json.dumps({
        "auth": {"handlers": [{"type": "api-key", "config": {"k": "secret"}}]},
        "hosts": {"rover.axle": {"secret": "s", "api_key": ["k"]}},
        "turn": {"urls": ["turn:127.0.0.1:3478"], "secret": "t", "tll": "1h"},
    }))
    out = subprocess.run([AXLE, "signal", "--config", str(path)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 2, out
    assert 'hosts.rover.axle: unknown key "api_key"; did you mean "api_keys"?' in out.stderr, out.stderr
    assert 'turn: unknown key "tll"; did you mean "ttl"?' in out.stderr, out.stderr
