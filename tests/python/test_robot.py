"""RobotService, driven by the real Python client."""

import asyncio
from datetime import datetime

from grpclib import GRPCError, Status
from viam.components.base import Base, Vector3
from viam.components.motor import Motor
from viam.proto.robot import ResourceStatus
from viam.proto.robot import ResourceRPCSubtypesRequest, RobotServiceStub

from conftest import connect, run


def test_resource_names_version_operations(rover):
    async def go():
        robot = await connect(rover.address)
        names = sorted(f"{n.namespace}:{n.type}:{n.subtype}/{n.name}" for n in robot.resource_names)
        assert names == [
            "rdk:component:base/base",
            "rdk:component:input_controller/gamepad",
            "rdk:component:motor/left",
            "rdk:component:motor/right",
        ]
        v = await robot.get_version()
        assert (v.platform, v.api_version) == ("axle", "v0.1.601")
        assert await robot.get_operations() == []
        await robot.log("test", "info", datetime.now(), "hello from the test", "")
        stub = RobotServiceStub(robot._channel)
        subtypes = await stub.ResourceRPCSubtypes(ResourceRPCSubtypesRequest())
        services = {s.subtype.subtype: s.proto_service for s in subtypes.resource_rpc_subtypes}
        assert services["input_controller"] == "viam.component.inputcontroller.v1.InputControllerService"
        await robot.close()

    run(go())
    assert "hello from the test" in rover.log_text()


def test_stop_all_stops_every_actuator_even_mid_motion(rover):
    async def go():
        robot = await connect(rover.address)
        left, right = Motor.from_robot(robot, "left"), Motor.from_robot(robot, "right")
        base = Base.from_robot(robot, "base")
        await left.set_power(0.3)
        long_motion = asyncio.create_task(right.go_for(rpm=60, revolutions=60))
        await base.set_velocity(Vector3(x=0, y=100, z=0), Vector3(x=0, y=0, z=0))
        await asyncio.sleep(0.2)
        assert await right.is_moving()
        await robot.stop_all()
        assert not any([await left.is_moving(), await right.is_moving(), await base.is_moving()])
        (outcome,) = await asyncio.gather(long_motion, return_exceptions=True)
        assert isinstance(outcome, GRPCError) and outcome.status == Status.ABORTED
        assert "interrupted by StopAll" in outcome.message
        await robot.close()

    run(go())


def test_machine_status_lists_every_resource_ready(rover):
    async def go():
        robot = await connect(rover.address)
        status = await robot.get_machine_status()
        assert {r.name.name: r.state for r in status.resources} == {
            n: ResourceStatus.State.STATE_READY for n in ["left", "right", "base", "gamepad"]
        }
        await robot.close()

    run(go())
