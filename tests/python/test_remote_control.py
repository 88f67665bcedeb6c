"""Remote control: an input controller drives a base through
`rdk:service:base_remote_control`, and nothing moves without a live owner:
a client's session, a client's connection, or the controller itself.
"""

import asyncio
import signal
import time

import pytest
from grpclib.const import Cardinality
from viam.components.base import Base
from viam.components.input import Control, Controller, Event, EventType
from viam.proto.common import DoCommandRequest, DoCommandResponse
from viam.utils import dict_to_struct, struct_to_dict

from conftest import connect, run
from test_sessions import Client, seconds_until_stopped

WINDOW = 0.5
CONTROLS = ["AbsoluteX", "AbsoluteY", "AbsoluteZ", "AbsoluteRX", "AbsoluteRY", "AbsoluteRZ",
            "AbsoluteHat0X", "AbsoluteHat0Y", "ButtonNorth", "ButtonSouth", "ButtonEast", "ButtonWest"]


def robot_config(mode="joystickControl", **rc):
    return {
        "components": [
            {"name": "base", "api": "rdk:component:base", "model": "fake",
             "attributes": {"max_mm_per_sec": 500, "max_degs_per_sec": 90}},
            {"name": "pad", "api": "rdk:component:input_controller", "model": "fake",
             "attributes": {"controls": CONTROLS}},
        ],
        "services": [{"name": "rc", "api": "rdk:service:base_remote_control", "model": "builtin",
                      "attributes": {"base": "base", "input_controller": "pad", "control_mode": mode, **rc}}],
        "network": {"sessions": {"heartbeat_window": f"{int(WINDOW * 1000)}ms"}},
    }


async def rc_status(robot, name="rc"):
    path = "/viam.service.baseremotecontrol.v1.BaseRemoteControlService/DoCommand"
    async with robot._channel.request(path, Cardinality.UNARY_UNARY, DoCommandRequest, DoCommandResponse) as stream:
        await stream.send_message(DoCommandRequest(name=name, command=dict_to_struct({"status": True})), end=True)
        reply = await stream.recv_message()
    return struct_to_dict(reply.result)["status"]


async def pose(base):
    return (await base.do_command({"get_pose": {}}))["get_pose"]


def event(control, value, kind=EventType.POSITION_CHANGE_ABSOLUTE, at=None):
    return Event(time.time() if at is None else at, kind, Control(control), value)


async def wait_stopped(base, since, bound, what):
    took = await seconds_until_stopped(base, since, limit=bound + 2)
    assert took <= bound, f"{what}: stopped after {took * 1000:.0f} ms, bound {bound * 1000:.0f} ms"
    return took


@pytest.mark.parametrize("mode,events,command", [
    # Stick up drives forward, stick left turns left; values scale up to tenths.
    ("joystickControl", [("AbsoluteY", -0.75), ("AbsoluteX", -0.5)], ([0, 0.8, 0], [0, 0, 0.5])),
    ("droneControl", [("AbsoluteX", 0.5), ("AbsoluteY", -1), ("AbsoluteRX", 0.3), ("AbsoluteRY", -0.9)],
     ([0.3, 0.9, 1.0], [0, 0, -0.5])),
    # Each right trigger event adds 0.05; the stick's X turns unscaled.
    ("triggerSpeedControl", [("AbsoluteRZ", 1)] * 6 + [("AbsoluteZ", 1), ("AbsoluteX", 0.12)],
     ([0, 0.25, 0], [0, 0, 0.12])),
    ("arrowControl", [("AbsoluteHat0Y", -1), ("AbsoluteHat0X", 1)], ([0, 1, 0], [0, 0, -1])),
])
def test_each_mode_maps_events_to_the_right_command(start_axle, mode, events, command):
    axle = start_axle(robot_config(mode))

    async def go():
        robot = await connect(axle.address)
        pad, base = Controller.from_robot(robot, "pad"), Base.from_robot(robot, "base")
        for control, value in events:
            await pad.trigger_event(event(control, value))
        await asyncio.sleep(0.05)
        status = await rc_status(robot)
        assert status["mode"] == mode
        assert status["command"]["linear"] == pytest.approx(command[0])
        assert status["command"]["angular"] == pytest.approx(command[1])
        assert status["command"]["as"] == "SetPower"
        # The base's odometry agrees: forward is +y, a left turn is +theta.
        start = await pose(base)
        await asyncio.sleep(0.3)
        end = await pose(base)
        forward, turn = command[0][1], command[1][2]
        if turn == 0:
            assert (end["y_mm"] - start["y_mm"]) == pytest.approx(500 * forward * 0.3, rel=0.35)
        else:
            swept = (end["theta_deg"] - start["theta_deg"] + 180) % 360 - 180
            assert swept == pytest.approx(90 * turn * 0.3, rel=0.35)
        await robot.close()

    run(go())


def test_buttons_and_velocities(start_axle):
    axle = start_axle(robot_config("buttonControl", max_linear_mm_per_sec=200, max_angular_deg_per_sec=45))

    async def go():
        robot = await connect(axle.address)
        pad, base = Controller.from_robot(robot, "pad"), Base.from_robot(robot, "base")
        await pad.trigger_event(event("ButtonNorth", 1, EventType.BUTTON_PRESS))
        await pad.trigger_event(event("ButtonWest", 1, EventType.BUTTON_PRESS))
        status = await rc_status(robot)
        assert (status["command"]["linear"][1], status["command"]["angular"][2]) == (1, 1)
        assert status["command"]["as"] == "SetVelocity"
        assert status["owner"].startswith("connection")
        await pad.trigger_event(event("ButtonNorth", 0, EventType.BUTTON_RELEASE))
        await pad.trigger_event(event("ButtonWest", 0, EventType.BUTTON_RELEASE))
        await asyncio.sleep(0.05)
        assert not await base.is_moving()
        await robot.close()

    run(go())


def test_a_killed_or_frozen_gamepad_client_stops_the_base(start_axle):
    axle = start_axle(robot_config())

    async def scenario(sig, bound):
        gamepad = Client("python", axle.address)
        try:
            assert gamepad.send("event pad AbsoluteY -1") == "ok"
            robot = await connect(axle.address)
            base = Base.from_robot(robot, "base")
            assert await base.is_moving()
            assert (await rc_status(robot))["owner"].startswith("connection")
            gamepad.signal(sig)
            took = await wait_stopped(base, time.monotonic(), bound, signal.Signals(sig).name)
            assert "closed" in (await rc_status(robot))["last_stop"]
            await robot.close()
            return took
        finally:
            gamepad.close()

    killed = run(scenario(signal.SIGKILL, 0.1))
    frozen = run(scenario(signal.SIGSTOP, 2 * WINDOW + 0.1))
    print(f"\ngamepad client killed: base stopped in {killed * 1000:.0f} ms; "
          f"frozen: {frozen * 1000:.0f} ms (window {WINDOW * 1000:.0f} ms)")
    assert "remote control stopped the base" in axle.log_text()


def test_a_client_with_a_session_owns_the_motion(start_axle):
    from viam.proto.component.inputcontroller import InputControllerServiceStub, TriggerEventRequest
    from viam.proto.component.inputcontroller import Event as PBEvent
    from viam.proto.robot import RobotServiceStub, StartSessionRequest
    from google.protobuf.timestamp_pb2 import Timestamp

    axle = start_axle(robot_config())

    async def go():
        robot = await connect(axle.address)
        sid = (await RobotServiceStub(robot._channel).StartSession(StartSessionRequest())).id
        at = Timestamp()
        at.GetCurrentTime()
        request = TriggerEventRequest(controller="pad", event=PBEvent(
            time=at, event="PositionChangeAbs", control="AbsoluteY", value=-1))
        # As the TypeScript SDK will: the session rides with the event. No
        # heartbeats follow, while the connection stays open.
        await InputControllerServiceStub(robot._channel).TriggerEvent(request, metadata={"viam-sid": sid})
        sent = time.monotonic()
        assert (await rc_status(robot))["owner"] == f"session {sid}"
        base = Base.from_robot(robot, "base")
        took = await wait_stopped(base, sent, WINDOW + 0.1, "session expiry")
        await robot.close()
        return took

    took = run(go())
    print(f"\nsession owner: base stopped {took * 1000:.0f} ms after its last event (window 500 ms)")


def test_deadman_stops_silence_and_a_steady_hold_drives_on(start_axle):
    deadman = start_axle(robot_config(deadman_ms=300))
    steady = start_axle(robot_config())

    async def silence():
        robot = await connect(deadman.address)
        pad, base = Controller.from_robot(robot, "pad"), Base.from_robot(robot, "base")
        await pad.trigger_event(event("AbsoluteY", -1))
        sent = time.monotonic()
        took = await wait_stopped(base, sent, 0.3 + 0.1, "deadman")
        assert took >= 0.25
        assert "deadman" in (await rc_status(robot))["last_stop"]
        await robot.close()
        return took

    async def hold():
        robot = await connect(steady.address)
        pad, base = Controller.from_robot(robot, "pad"), Base.from_robot(robot, "base")
        await pad.do_command({"hold": {"control": "AbsoluteY", "value": -1, "for_ms": 10_500, "hz": 20}})
        await asyncio.sleep(0.2)
        assert (await rc_status(robot))["owner"] == "the controller"
        for _ in range(10):
            assert await base.is_moving()
            await asyncio.sleep(1)
        await asyncio.sleep(0.8)
        assert not await base.is_moving(), "the hold released the stick"
        await robot.close()

    took = run(silence())
    print(f"\ndeadman 300 ms: stopped {took * 1000:.0f} ms after the last event")
    run(hold())


def test_a_burst_ending_at_zero_leaves_the_base_stopped_every_time(start_axle):
    axle = start_axle(robot_config())

    async def go():
        robot = await connect(axle.address)
        pad, base = Controller.from_robot(robot, "pad"), Base.from_robot(robot, "base")
        for _ in range(100):
            t0 = time.time()
            values = [-1 + (i % 7) / 10 for i in range(999)] + [0]
            # Sent at once: they arrive in any order, but carry their times.
            await asyncio.gather(*[pad.trigger_event(event("AbsoluteY", v, at=t0 + i * 1e-6))
                                   for i, v in enumerate(values)])
            await asyncio.sleep(0.01)
            assert not await base.is_moving()
            assert (await rc_status(robot))["command"]["linear"][1] == 0
        await robot.close()

    run(go())


def test_bad_configs_are_refused_by_field(start_axle):
    config = robot_config()
    config["components"].append({"name": "m", "api": "rdk:component:motor", "model": "fake"})
    config["services"] = [
        {"name": "bad_mode", "api": "rdk:service:base_remote_control", "model": "builtin",
         "attributes": {"base": "base", "input_controller": "pad", "control_mode": "mindControl"}},
        {"name": "no_base", "api": "rdk:service:base_remote_control", "model": "builtin",
         "attributes": {"base": "ghost", "input_controller": "pad"}},
        {"name": "not_a_pad", "api": "rdk:service:base_remote_control", "model": "builtin",
         "attributes": {"base": "base", "input_controller": "m"}},
        {"name": "good", "api": "rdk:service:base_remote_control", "model": "builtin",
         "attributes": {"base": "base", "input_controller": "pad"}},
    ]
    axle = start_axle(config)

    async def go():
        robot = await connect(axle.address)
        errors = {r.name.name: r.error for r in (await robot.get_machine_status()).resources}
        assert "attributes.control_mode" in errors["bad_mode"] and "mindControl" in errors["bad_mode"]
        assert "attributes.base" in errors["no_base"] and "ghost" in errors["no_base"]
        assert "attributes.input_controller" in errors["not_a_pad"]
        assert errors["good"] == ""
        assert (await rc_status(robot, "good"))["mode"] == "arrowControl"
        await robot.close()

    run(go())


def test_a_controller_on_a_sub_part_or_in_a_module_stops_the_base_when_it_goes(start_axle, tmp_path):
    import os
    from test_modules import FAKE_MOTOR, module, module_pids

    sub = start_axle({"components": [{"name": "pad", "api": "rdk:component:input_controller", "model": "fake",
                                      "attributes": {"controls": CONTROLS}}]})
    config = robot_config()
    config["remotes"] = [{"name": "sub", "address": sub.address}]
    config["modules"] = [module("fakes", FAKE_MOTOR)]
    config["components"].append({"name": "modpad", "api": "rdk:component:input_controller",
                                 "model": "axle:fake:input_controller", "attributes": {"controls": CONTROLS}})
    config["services"] = [
        {"name": "rc", "api": "rdk:service:base_remote_control", "model": "builtin",
         "attributes": {"base": "base", "input_controller": "sub:pad", "control_mode": "joystickControl"}},
    ]
    main = start_axle(config)

    async def drive(pad_name):
        robot = await connect(main.address)
        pad, base = Controller.from_robot(robot, pad_name), Base.from_robot(robot, "base")
        for _ in range(100):  # the service opens the controller's stream in the background
            await pad.trigger_event(event("AbsoluteY", -1))
            if await base.is_moving():
                break
            await asyncio.sleep(0.02)
        assert await base.is_moving()
        return robot, base

    async def through_a_part():
        robot, base = await drive("sub:pad")
        sub.proc.kill()
        took = await wait_stopped(base, time.monotonic(), 0.1 + 0.1, "sub-part killed")
        assert "stream from part" in (await rc_status(robot))["last_stop"]
        await robot.close()
        return took

    part = run(through_a_part())

    # The same service on the module's controller.
    config["services"][0]["attributes"]["input_controller"] = "modpad"
    from test_reconfigure import wait_revision, write

    async def through_a_module():
        robot = await connect(main.address)
        await wait_revision(robot, write(main.config_path, config))
        await robot.close()
        robot, base = await drive("modpad")
        os.kill(module_pids(main)["fakes"], signal.SIGKILL)
        took = await wait_stopped(base, time.monotonic(), 0.2, "module crashed")
        assert "module" in (await rc_status(robot))["last_stop"]
        await robot.close()
        return took

    crashed = run(through_a_module())
    print(f"\ncontroller's part killed: base stopped in {part * 1000:.0f} ms; "
          f"controller's module crashed: {crashed * 1000:.0f} ms")


def test_a_frozen_main_part_has_its_sub_parts_base_stopped(start_axle):
    """The other way round: the controller and the service on the main part,
    the base on a sub-part. The main part drives it under its own session
    there, so freezing the main part stops the base."""
    sub = start_axle({
        "components": [{"name": "base", "api": "rdk:component:base", "model": "fake"}],
        "network": {"sessions": {"heartbeat_window": f"{int(WINDOW * 1000)}ms"}},
    })
    config = robot_config()
    config["components"] = [c for c in config["components"] if c["name"] != "base"]
    config["remotes"] = [{"name": "sub", "address": sub.address}]
    config["services"][0]["attributes"]["base"] = "sub:base"
    main = start_axle(config)

    async def go():
        robot = await connect(main.address)
        await Controller.from_robot(robot, "pad").trigger_event(event("AbsoluteY", -1))
        observer = await connect(sub.address)
        base = Base.from_robot(observer, "base")
        for _ in range(100):
            if await base.is_moving():
                break
            await asyncio.sleep(0.01)
        assert await base.is_moving(), "the sub-part's base moves on the main part's pad"
        await robot.close()
        main.proc.send_signal(signal.SIGSTOP)
        try:
            took = await wait_stopped(base, time.monotonic(), WINDOW + 0.1, "main part frozen")
        finally:
            main.proc.send_signal(signal.SIGCONT)
        await observer.close()
        return took

    took = run(go())
    print(f"\nmain part frozen: the sub-part's base stopped in {took * 1000:.0f} ms (window 500 ms)")


def test_disconnect_and_removing_the_service_stop_the_base(start_axle):
    from test_reconfigure import wait_revision, write

    config = robot_config()
    axle = start_axle(config)

    async def go():
        robot = await connect(axle.address)
        pad, base = Controller.from_robot(robot, "pad"), Base.from_robot(robot, "base")
        await pad.trigger_event(event("AbsoluteY", -1))
        assert await base.is_moving()
        await pad.trigger_event(event("AbsoluteY", 0, EventType.DISCONNECT))
        await wait_stopped(base, time.monotonic(), 0.1, "Disconnect")
        assert "Disconnect" in (await rc_status(robot))["last_stop"]
        await pad.trigger_event(event("AbsoluteY", -1))
        assert await base.is_moving()
        config["services"] = []
        removed = time.monotonic()
        await wait_revision(robot, write(axle.config_path, config))
        await wait_stopped(base, removed, 1.0, "service removed")
        await robot.close()

    run(go())
    assert "the service was removed or reconfigured" in axle.log_text()
