"""Parts: a main part serves the resources of its sub-parts, with safety
across the link. Every part is a real axle process; sub-parts serve on Unix
sockets; clients are the real viam-sdk, in this process or in their own (to
be killed).
"""

import asyncio
import re
import signal
import time

import pytest
from grpclib import GRPCError, Status
from grpclib.client import Channel
from viam.components.base import Base
from viam.components.input import Control, Controller, Event, EventType
from viam.components.motor import Motor
from viam.proto.component.motor import MotorServiceStub, SetPowerRequest
from viam.proto.robot import RobotServiceStub, StartSessionRequest

from conftest import connect, run
from test_sessions import Client

WINDOW = 0.5
BOUND = WINDOW + 0.1


def motor(name):
    return {"name": name, "api": "rdk:component:motor", "model": "fake"}


def part(tmp_path, start_axle, name, remotes=(), components=None, window="500ms"):
    """An axle serving `components` (default: a motor `left`) on a Unix
    socket named after it, with these remotes: names (reached on their Unix
    sockets) or (name, address) pairs."""
    sock = tmp_path / f"{name}.sock"
    remotes = [(r, str(tmp_path / f"{r}.sock")) if isinstance(r, str) else r for r in remotes]
    config = {
        "network": {"sessions": {"heartbeat_window": window}},
        "components": components if components is not None else [motor("left")],
        "remotes": [{"name": r, "address": a, "connection_check_interval": "200ms"} for r, a in remotes],
    }
    axle = start_axle(config, args=["--socket", str(sock)])
    axle.sock = sock
    return axle


async def is_moving(address, name="left"):
    robot = await connect(address)
    try:
        return await Motor.from_robot(robot, name).is_moving()
    finally:
        await robot.close()


def wait_stopped(address, since, bound, name="left"):
    """Polls the motor until it stops; returns how long after `since`."""
    async def poll():
        robot = await connect(address)
        m = Motor.from_robot(robot, name)
        while await m.is_moving():
            assert time.monotonic() - since < bound + 1.0, f"{name} still moving"
            await asyncio.sleep(0.005)
        await robot.close()
        return time.monotonic() - since

    return run(poll())


@pytest.mark.parametrize("link", ["unix", "tcp"])
def test_a_client_of_the_main_part_drives_the_sub_parts_motor(start_axle, tmp_path, link):
    sub = part(tmp_path, start_axle, "sub", components=[motor("left"), {"name": "base", "api": "rdk:component:base", "model": "fake"}])
    remote = "sub" if link == "unix" else ("sub", sub.address)
    main = part(tmp_path, start_axle, "main", remotes=[remote], components=[motor("m")])

    async def go():
        robot = await connect(main.address)
        assert {"m", "sub:left", "sub:base"} <= {n.name for n in robot.resource_names}
        left = Motor.from_robot(robot, "sub:left")
        await left.set_power(0.5)
        assert await is_moving(sub.address)
        assert await left.is_powered() == (True, 0.5)
        await Base.from_robot(robot, "sub:base").move_straight(10, 100)
        await left.stop()
        assert not await is_moving(sub.address)
        with pytest.raises(GRPCError) as e:
            await Motor.from_robot(robot, "sub:left").go_for(0, 1)
        assert e.value.status == Status.INVALID_ARGUMENT
        # StopAll on the main part reaches the sub-part's actuators.
        await left.set_power(0.3)
        await robot.stop_all()
        assert not await is_moving(sub.address)
        await robot.close()
        # The smrn header names the resource as the main part serves it.
        host, port = main.address.rsplit(":", 1)
        channel = Channel(host, int(port))
        sid = (await RobotServiceStub(channel).StartSession(StartSessionRequest())).id
        async with MotorServiceStub(channel).SetPower.open(metadata={"viam-sid": sid}) as call:
            await call.send_message(SetPowerRequest(name="sub:left", power_pct=0.2), end=True)
            await call.recv_message()
            assert call.initial_metadata["viam-smrn"] == "rdk:component:motor/sub:left"
        channel.close()

    run(go())


def test_a_dead_client_of_the_main_part_stops_the_sub_parts_motor(start_axle, tmp_path):
    sub = part(tmp_path, start_axle, "sub")
    main = part(tmp_path, start_axle, "main", remotes=["sub"], components=[])
    client = Client("python", main.address)
    assert client.send("power sub:left 0.5") == "ok"
    assert run(is_moving(sub.address))
    killed = time.monotonic()
    client.proc.kill()
    client.proc.wait()
    took = wait_stopped(sub.address, killed, BOUND)
    print(f"sub-part's motor stopped {took * 1000:.0f} ms after the client died")
    assert took < BOUND
    deadline = time.monotonic() + 2
    while "stopped=rdk:component:motor/sub:left" not in main.log_text():
        assert time.monotonic() < deadline, main.log_text()
        time.sleep(0.01)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGSTOP"])
def test_a_dead_or_frozen_main_part_leaves_nothing_moving_on_the_sub_part(start_axle, tmp_path, how):
    sub = part(tmp_path, start_axle, "sub")
    # A main part with a long window: its own clients would not expire it.
    main = part(tmp_path, start_axle, "main", remotes=["sub"], components=[], window="5s")
    client = Client("python", main.address)
    try:
        assert client.send("power sub:left 0.5") == "ok"
        assert run(is_moving(sub.address))
        cut = time.monotonic()
        main.proc.send_signal(getattr(signal, how))
        took = wait_stopped(sub.address, cut, BOUND)
        print(f"{how}: sub-part's motor stopped {took * 1000:.0f} ms after the main part was cut off")
        assert took < BOUND
        assert re.search(r"session expired; stopped what it drove .*stopped=rdk:component:motor/left", sub.log_text())
    finally:
        main.proc.send_signal(signal.SIGCONT)
        client.close()


def test_the_main_part_serves_a_restarted_sub_part_again(start_axle, tmp_path):
    sub = part(tmp_path, start_axle, "sub")
    main = part(tmp_path, start_axle, "main", remotes=["sub"], components=[])

    async def go():
        robot = await connect(main.address)
        left = Motor.from_robot(robot, "sub:left")
        await left.get_position()
        sub.signal_and_wait(signal.SIGTERM)
        # While the sub-part is away its resources answer UNAVAILABLE.
        with pytest.raises(GRPCError) as e:
            await left.get_position()
        assert e.value.status == Status.UNAVAILABLE
        restarted = time.monotonic()
        part(tmp_path, start_axle, "sub")
        while True:
            try:
                await left.get_position()
                break
            except GRPCError as e:
                assert e.status == Status.UNAVAILABLE, e
                assert time.monotonic() - restarted < 10, "not served again within 10 s"
                await asyncio.sleep(0.01)
        print(f"served again {1000 * (time.monotonic() - restarted):.0f} ms after the sub-part listened again")
        await left.set_power(0.4)
        await robot.close()

    run(go())


def test_a_three_level_chain_works_end_to_end(start_axle, tmp_path):
    leaf = part(tmp_path, start_axle, "leaf")
    part(tmp_path, start_axle, "mid", remotes=["leaf"], components=[])
    top = part(tmp_path, start_axle, "top", remotes=["mid"], components=[])

    async def go():
        robot = await connect(top.address)
        assert "mid:leaf:left" in {n.name for n in robot.resource_names}
        await Motor.from_robot(robot, "mid:leaf:left").set_power(0.5)
        assert await is_moving(leaf.address)
        await robot.close()

    run(go())
    # The client is gone: its session on the top part expires, and the stop
    # travels down the chain.
    took = wait_stopped(leaf.address, time.monotonic(), BOUND)
    assert took < BOUND


def test_a_lost_link_is_seen_in_bounded_time_and_its_resources_answer_unavailable(start_axle, tmp_path):
    sub = part(tmp_path, start_axle, "sub")
    main = part(tmp_path, start_axle, "main", remotes=["sub"], components=[])

    async def go():
        robot = await connect(main.address)
        left = Motor.from_robot(robot, "sub:left")
        await left.get_position()
        sub.proc.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        try:
            # Checks run every 200 ms, each bounded by 200 ms.
            while "lost the link to the remote part" not in main.log_text():
                assert time.monotonic() - frozen < 2, "the lost link was not seen within 2 s"
                await asyncio.sleep(0.01)
            print(f"lost link seen {1000 * (time.monotonic() - frozen):.0f} ms after the sub-part froze")
            started = time.monotonic()
            with pytest.raises(GRPCError) as e:
                await left.get_position()
            assert e.value.status == Status.UNAVAILABLE
            assert 'part "sub"' in e.value.message and "unreachable" in e.value.message
            assert time.monotonic() - started < 0.5, "a call to an unreachable part must not hang"
        finally:
            sub.proc.send_signal(signal.SIGCONT)
        thawed = time.monotonic()
        while True:
            try:
                await left.get_position()
                break
            except GRPCError:
                assert time.monotonic() - thawed < 10, "not served again within 10 s"
                await asyncio.sleep(0.02)
        status = await robot.get_machine_status()
        assert all(r.error == "" for r in status.resources if r.name.name == "sub:left")
        await robot.close()

    run(go())


def test_stream_events_of_a_sub_parts_input_controller_reach_a_client_of_the_main_part(start_axle, tmp_path):
    gamepad = {"name": "gamepad", "api": "rdk:component:input_controller", "model": "fake",
               "attributes": {"controls": ["ButtonSouth"]}}
    part(tmp_path, start_axle, "sub", components=[gamepad])
    main = part(tmp_path, start_axle, "main", remotes=["sub"], components=[])

    async def go():
        robot = await connect(main.address)
        c = Controller.from_robot(robot, "sub:gamepad")
        presses = []
        c.register_control_callback(Control.BUTTON_SOUTH, [EventType.BUTTON_PRESS], presses.append)
        await asyncio.sleep(0.3)  # the client opens StreamEvents in the background
        await c.trigger_event(Event(time.time(), EventType.BUTTON_PRESS, Control.BUTTON_SOUTH, 1))
        for _ in range(100):
            if presses:
                break
            await asyncio.sleep(0.02)
        assert [(e.event, e.value) for e in presses] == [(EventType.BUTTON_PRESS, 1)]
        await robot.close()

    run(go())
