"""Every BaseService method, driven by the real Python client."""

import asyncio
import time

import pytest
from grpclib import GRPCError, Status
from viam.components.base import Base, Vector3

from conftest import connect, run


def test_move_straight_and_spin_take_their_time_and_move_the_pose(rover):
    async def go():
        robot = await connect(rover.address)
        b = Base.from_robot(robot, "base")
        t0 = time.monotonic()
        task = asyncio.create_task(b.move_straight(distance=200, velocity=1000))
        await asyncio.sleep(0.05)
        assert await b.is_moving()
        await task
        assert 0.19 <= time.monotonic() - t0 < 0.6
        assert not await b.is_moving()
        await b.spin(angle=90, velocity=900)
        pose = (await b.do_command({"get_pose": {}}))["get_pose"]
        assert pose["y_mm"] == pytest.approx(200) and pose["theta_deg"] == pytest.approx(90)
        await robot.close()

    run(go())


def test_set_power_and_set_velocity_move_until_stopped(rover):
    async def go():
        robot = await connect(rover.address)
        b = Base.from_robot(robot, "base")
        await b.set_power(Vector3(x=0, y=0.5, z=0), Vector3(x=0, y=0, z=0))
        assert await b.is_moving()
        await b.stop()
        assert not await b.is_moving()
        await b.set_velocity(Vector3(x=0, y=100, z=0), Vector3(x=0, y=0, z=30))
        assert await b.is_moving()
        await b.set_velocity(Vector3(x=0, y=0, z=0), Vector3(x=0, y=0, z=0))
        assert not await b.is_moving()
        await robot.close()

    run(go())


def test_properties_geometries_status_do_command(rover):
    async def go():
        robot = await connect(rover.address)
        b = Base.from_robot(robot, "base")
        p = await b.get_properties()
        assert (p.width_meters, p.wheel_circumference_meters) == (0.4, 0.22)
        assert await b.get_geometries() == []
        assert "theta_deg" in await b.get_status()
        assert (await b.do_command({"reset_pose": {}}))["reset_pose"]["x_mm"] == 0
        await robot.close()

    run(go())


def test_stop_ends_a_long_move_straight(rover):
    async def go():
        robot = await connect(rover.address)
        b = Base.from_robot(robot, "base")
        task = asyncio.create_task(b.move_straight(distance=60_000, velocity=1000))
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        await b.stop()
        with pytest.raises(GRPCError) as e:
            await asyncio.wait_for(task, 1)
        assert time.monotonic() - t0 < 0.05
        assert e.value.status == Status.ABORTED
        assert not await b.is_moving()
        await robot.close()

    run(go())


@pytest.mark.parametrize(
    "call, expect",
    [
        (lambda b: b.set_power(Vector3(x=0, y=1.01, z=0), Vector3(x=0, y=0, z=0)), "linear.y"),
        (lambda b: b.set_power(Vector3(x=0, y=0, z=0), Vector3(x=0, y=0, z=float("nan"))), "angular.z"),
        (lambda b: b.set_velocity(Vector3(x=0, y=float("inf"), z=0), Vector3(x=0, y=0, z=0)), "finite"),
        (lambda b: b.move_straight(distance=100, velocity=0), "must not be 0"),
        (lambda b: b.move_straight(distance=100, velocity=float("nan")), "finite"),
        (lambda b: b.spin(angle=90, velocity=0), "must not be 0"),
        (lambda b: b.spin(angle=float("inf"), velocity=10), "finite"),
    ],
)
def test_bad_input_is_invalid_argument(rover, call, expect):
    async def go():
        robot = await connect(rover.address)
        b = Base.from_robot(robot, "base")
        with pytest.raises(GRPCError) as e:
            await call(b)
        assert e.value.status == Status.INVALID_ARGUMENT
        assert expect in e.value.message
        assert not await b.is_moving()
        await robot.close()

    run(go())
