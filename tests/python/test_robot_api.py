"""RobotService beyond resources, with the unmodified Python client:
RestartModule, GetModelsFromModules, GetCloudMetadata."""

import asyncio
import time

import pytest
from grpclib import GRPCError, Status
from viam.components.motor import Motor

from conftest import connect, run
from test_modules import alive, module_pids
from test_stop_path import probe, stop_times


def test_restart_module_stops_its_motor_first_and_serves_again_from_a_new_process(start_axle, tmp_path):
    stops = tmp_path / "stops.log"
    stops.touch()
    config = {
        "modules": [probe(tmp_path, "probe", "acme:test:probe", stops)],
        "components": [{"name": "pm", "api": "rdk:component:motor", "model": "acme:test:probe"}],
    }
    axle = start_axle(config)
    old = module_pids(axle)["probe"]

    async def scenario():
        robot = await connect(axle.address)
        pm = Motor.from_robot(robot, "pm")
        await pm.set_power(0.5)
        assert await pm.is_powered() == (True, 0.5)
        began = time.monotonic()
        await robot.restart_module(name="probe")
        took = time.monotonic() - began
        # Stop reached the old process before it was ended.
        assert "pm" in stop_times(stops), stops.read_text()
        new = module_pids(axle)["probe"]
        assert new != old and not alive(old), (old, new)
        assert await pm.is_powered() == (False, 0.0), "the new process serves the motor"
        await pm.set_power(0.2)
        models = await robot.get_models_from_modules()
        assert [(m.module_name, m.api, m.model, m.from_local_module) for m in models] == [
            ("probe", "rdk:component:motor", "acme:test:probe", True)]
        for kwargs, code in (({"name": "nope"}, Status.NOT_FOUND), ({"id": "acme:probe"}, Status.INVALID_ARGUMENT)):
            with pytest.raises(GRPCError) as e:
                await robot.restart_module(**kwargs)
            assert e.value.status == code, e.value
        metadata = await robot.get_cloud_metadata()
        assert (metadata.machine_id, metadata.location_id) == ("", "")
        await robot.close()
        return took

    took = run(scenario())
    print(f"RestartModule answered {took * 1000:.0f} ms after it was asked, serving again")
    assert "restarting the module on request" in axle.log_text()
    assert "module serving again" in axle.log_text()


def test_shutdown_is_refused_without_keys_and_with_the_switch_stops_everything_and_exits_0(start_axle, tmp_path):
    stops = tmp_path / "stops.log"
    stops.touch()
    config = {
        "modules": [probe(tmp_path, "probe", "acme:test:probe", stops)],
        "components": [{"name": "pm", "api": "rdk:component:motor", "model": "acme:test:probe"},
                       {"name": "left", "api": "rdk:component:motor", "model": "fake"}],
    }
    refusing = start_axle(config)

    async def refused():
        robot = await connect(refusing.address)
        with pytest.raises(GRPCError) as e:
            await robot.shutdown()
        assert e.value.status == Status.PERMISSION_DENIED, e.value
        assert "network.shutdown_without_auth" in e.value.message
        await Motor.from_robot(robot, "left").set_power(0.1)
        await robot.close()

    run(refused())
    assert refusing.proc.poll() is None, "a refused Shutdown leaves the robot running"

    axle = start_axle({**config, "network": {"shutdown_without_auth": True}})

    async def shut():
        robot = await connect(axle.address)
        await Motor.from_robot(robot, "pm").set_power(0.5)
        await robot.shutdown()
        robot._channel.close()

    run(shut())
    assert axle.proc.wait(timeout=15) == 0
    assert "pm" in stop_times(stops), "every actuator is stopped before axle exits"
    log = axle.log_text()
    assert "RobotService/Shutdown: shutting down" in log
    assert 'stopped all actuators cause="shutdown"' in log


def test_operations_list_a_goFor_in_flight_cancel_stops_it_and_block_waits(start_axle):
    axle = start_axle({"components": [{"name": "left", "api": "rdk:component:motor", "model": "fake"}]})

    async def scenario():
        driver = await connect(axle.address)
        watcher = await connect(axle.address)
        left = Motor.from_robot(driver, "left")
        going = asyncio.ensure_future(left.go_for(rpm=6, revolutions=10))  # 100 s
        deadline = time.monotonic() + 5
        while not (ops := [o for o in await watcher.get_operations() if o.method.endswith("/GoFor")]):
            assert time.monotonic() < deadline, "the GoFor never showed"
            await asyncio.sleep(0.02)
        op = ops[0]
        assert op.method == "/viam.component.motor.v1.MotorService/GoFor"
        assert op.session_id, "a GoFor runs under the driver's session"
        assert op.arguments["name"] == "left" and op.arguments["rpm"] == 6, op.arguments
        assert await Motor.from_robot(watcher, "left").is_moving()
        blocked = asyncio.ensure_future(watcher.block_for_operation(op.id))
        await asyncio.sleep(0.2)
        assert not blocked.done(), "BlockForOperation waits while the GoFor runs"
        began = time.monotonic()
        await watcher.cancel_operation(op.id)
        await asyncio.wait_for(blocked, 2)
        assert not await Motor.from_robot(watcher, "left").is_moving(), "a cancelled GoFor stops its motor"
        took = time.monotonic() - began
        with pytest.raises(GRPCError) as e:
            await going
        assert e.value.status == Status.CANCELLED, e.value
        assert [o for o in await watcher.get_operations() if o.id == op.id] == []
        with pytest.raises(GRPCError) as e:
            await watcher.cancel_operation(op.id)
        assert e.value.status == Status.NOT_FOUND
        await watcher.block_for_operation(op.id)  # an ended operation: answered at once
        await driver.close()
        await watcher.close()
        return took

    took = run(scenario())
    print(f"cancelled GoFor stopped and BlockForOperation answered within {took * 1000:.0f} ms")
