"""Configs: broken components fail alone, broken files stop axle with a clear error."""

import subprocess

import pytest
from grpclib import GRPCError, Status

from viam.components.motor import Motor
from viam.proto.robot import ResourceStatus

from conftest import AXLE, connect, run


def motor(name, **extra):
    return {"name": name, "api": "rdk:component:motor", "model": "fake", **extra}


def test_a_broken_component_fails_alone_and_shows_in_machine_status(start_axle):
    axle = start_axle(
        {
            "components": [
                motor("good"),
                motor("bad", attributes={"max_rpm": "fast"}),
                motor("orphan", depends_on=["ghost"]),
                motor("a", depends_on=["b"]),
                motor("b", depends_on=["a"]),
                {"name": "legacy", "type": "motor", "namespace": "rdk", "model": "fake"},
                {"name": "mystery", "api": "rdk:component:motor", "model": "acme:motors:warp"},
                motor("after", depends_on=["good", "legacy"]),
            ]
        }
    )

    async def go():
        robot = await connect(axle.address)
        status = {r.name.name: r for r in (await robot.get_machine_status()).resources}
        ready = {n for n, r in status.items() if r.state == ResourceStatus.State.STATE_READY}
        assert ready == {"good", "legacy", "after"}
        assert status["bad"].state == ResourceStatus.State.STATE_UNHEALTHY
        assert 'component "bad": attributes.max_rpm: expected a number, got "fast"' == status["bad"].error
        assert 'depends_on: no component named "ghost"' in status["orphan"].error
        assert "dependency cycle: a -> b -> a" in status["a"].error
        assert "model: unknown model acme:motors:warp" in status["mystery"].error
        assert sorted(n.name for n in robot.resource_names) == ["after", "good", "legacy"]
        await Motor.from_robot(robot, "good").go_for(rpm=6000, revolutions=1)
        broken = Motor.from_robot(robot, "good")
        broken.name = "bad"
        with pytest.raises(GRPCError) as e:
            await broken.get_position()
        assert e.value.status == Status.NOT_FOUND
        assert e.value.message.startswith('motor "bad" is configured but not running: ')
        await robot.close()

    run(go())


def test_invalid_json_exits_nonzero_with_line_and_column(tmp_path):
    cfg = tmp_path / "broken.json"
    cfg.write_text('{\n  "components": [\n    {"name": "x",}\n  ]\n}\n')
    out = subprocess.run([AXLE, "--config", str(cfg)], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0
    assert "line 3, column 18" in out.stderr, out.stderr


def test_missing_config_file_exits_nonzero(tmp_path):
    out = subprocess.run([AXLE, "--config", str(tmp_path / "nope.json")], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0 and "cannot read config" in out.stderr


def test_network_bind_address_sets_the_listener(start_axle):
    axle = start_axle({"network": {"bind_address": "127.0.0.1:0"}, "components": [motor("m")]}, bind=None)
    assert axle.address.startswith("127.0.0.1:") and axle.address != "127.0.0.1:8080"

    async def go():
        robot = await connect(axle.address)
        assert [n.name for n in robot.resource_names] == ["m"]
        await robot.close()

    run(go())


@pytest.mark.parametrize(
    "window, needle",
    [("10ms", "outside the allowed range 30ms to 1m"), ("5m", "outside the allowed range"), ("soon", "is not a duration")],
)
def test_a_heartbeat_window_out_of_range_stops_axle_with_a_clear_error(tmp_path, window, needle):
    path = tmp_path / "robot.json"
    path.write_text('{"network": {"sessions": {"heartbeat_window": "%s"}}}' % window)
    out = subprocess.run([AXLE, "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "network.sessions.heartbeat_window" in out.stderr and needle in out.stderr, out.stderr
