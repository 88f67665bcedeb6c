"""Every MotorService method, driven by the real Python client."""

import asyncio
import time

import pytest
from grpclib import GRPCError, Status
from viam.components.motor import Motor

from conftest import connect, run


def test_set_power_moves_and_stop_stops(rover):
    async def go():
        robot = await connect(rover.address)
        m = Motor.from_robot(robot, "left")
        await m.set_power(0.5)
        assert await m.is_moving()
        assert await m.is_powered() == (True, 0.5)
        await asyncio.sleep(0.1)
        await m.stop()
        assert not await m.is_moving()
        assert await m.is_powered() == (False, 0.0)
        # 0.5 x 1000 rpm for ~0.1 s is ~0.83 revolutions.
        assert 0.5 < await m.get_position() < 3.0
        await robot.close()

    run(go())


def test_go_for_runs_for_the_right_time_and_ends_at_target(rover):
    async def go():
        robot = await connect(rover.address)
        m = Motor.from_robot(robot, "left")
        start = await m.get_position()
        t0 = time.monotonic()
        await m.go_for(rpm=600, revolutions=1)
        took = time.monotonic() - t0
        assert 0.09 <= took < 0.5, took
        assert await m.get_position() == pytest.approx(start + 1, abs=1e-9)
        assert not await m.is_moving()
        # Negative rpm turns backwards.
        await m.go_for(rpm=-600, revolutions=1)
        assert await m.get_position() == pytest.approx(start, abs=1e-9)
        await robot.close()

    run(go())


def test_go_to_and_reset_zero_position(rover):
    async def go():
        robot = await connect(rover.address)
        m = Motor.from_robot(robot, "right")
        await m.go_to(rpm=1000, position_revolutions=2)
        assert await m.get_position() == pytest.approx(2)
        await m.go_to(rpm=1000, position_revolutions=-1)
        assert await m.get_position() == pytest.approx(-1)
        await m.reset_zero_position(offset=0)
        assert await m.get_position() == 0
        await m.reset_zero_position(offset=1.5)
        assert await m.get_position() == 1.5
        await robot.close()

    run(go())


def test_set_rpm_properties_do_command_geometries_status(rover):
    async def go():
        robot = await connect(rover.address)
        m = Motor.from_robot(robot, "left")
        await m.set_rpm(250)
        assert await m.is_powered() == (True, 0.25)
        await m.stop()
        assert (await m.get_properties()).position_reporting
        state = await m.do_command({"get_state": {}})
        assert state["get_state"]["max_rpm"] == 1000
        assert await m.do_command({"set_max_rpm": 500}) == {"set_max_rpm": 500}
        assert await m.get_geometries() == []
        status = await m.get_status()
        assert status["max_rpm"] == 500 and status["is_moving"] is False
        with pytest.raises(GRPCError) as e:
            await m.do_command({"fly": True})
        assert e.value.status == Status.INVALID_ARGUMENT and "get_state" in e.value.message
        await robot.close()

    run(go())


def test_stop_from_a_second_client_ends_a_long_go_for_within_50ms(rover):
    async def go():
        driver = await connect(rover.address)
        other = await connect(rover.address)
        m = Motor.from_robot(driver, "left")
        ended = asyncio.get_running_loop().create_future()

        async def drive():
            try:
                # 60 revolutions at 60 rpm: a 60-second motion.
                await m.go_for(rpm=60, revolutions=60)
                ended.set_result((time.monotonic(), None))
            except GRPCError as e:
                ended.set_result((time.monotonic(), e))

        task = asyncio.create_task(drive())
        await asyncio.sleep(0.3)
        assert await m.is_moving()
        t0 = time.monotonic()
        await Motor.from_robot(other, "left").stop()
        t_end, err = await asyncio.wait_for(ended, 5)
        assert t_end - t0 < 0.050, f"go_for ended {1000 * (t_end - t0):.1f} ms after Stop"
        assert err is not None and err.status == Status.ABORTED
        assert "interrupted by Stop" in err.message
        assert not await m.is_moving()
        await task
        await driver.close()
        await other.close()

    run(go())


def test_a_motion_whose_caller_goes_away_is_stopped(rover):
    async def go():
        robot = await connect(rover.address)
        m = Motor.from_robot(robot, "left")
        with pytest.raises((asyncio.TimeoutError, GRPCError)):
            await m.go_for(rpm=60, revolutions=60, timeout=0.3)
        await asyncio.sleep(0.2)
        assert not await m.is_moving()
        await robot.close()

    run(go())


@pytest.mark.parametrize(
    "call, expect",
    [
        (lambda m: m.set_power(1.5), "between -1 and 1"),
        (lambda m: m.set_power(float("nan")), "finite"),
        (lambda m: m.set_power(float("-inf")), "finite"),
        (lambda m: m.set_rpm(float("inf")), "finite"),
        (lambda m: m.go_for(rpm=0, revolutions=1), "nearly 0"),
        (lambda m: m.go_for(rpm=float("nan"), revolutions=1), "finite"),
        (lambda m: m.go_to(rpm=0, position_revolutions=1), "nearly 0"),
        (lambda m: m.reset_zero_position(offset=float("nan")), "finite"),
    ],
)
def test_bad_input_is_invalid_argument(rover, call, expect):
    async def go():
        robot = await connect(rover.address)
        m = Motor.from_robot(robot, "left")
        with pytest.raises(GRPCError) as e:
            await call(m)
        assert e.value.status == Status.INVALID_ARGUMENT, e.value
        assert expect in e.value.message
        assert not await m.is_moving()
        await robot.close()

    run(go())


def test_unknown_motor_is_not_found(rover):
    async def go():
        robot = await connect(rover.address)
        ghost = Motor.from_robot(robot, "left")
        ghost.name = "ghost"
        with pytest.raises(GRPCError) as e:
            await ghost.get_position()
        assert e.value.status == Status.NOT_FOUND and "ghost" in e.value.message
        # A base is not a motor.
        ghost.name = "base"
        with pytest.raises(GRPCError) as e:
            await ghost.is_moving()
        assert e.value.status == Status.NOT_FOUND
        await robot.close()

    run(go())
