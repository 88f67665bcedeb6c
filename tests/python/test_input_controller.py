"""Every InputControllerService method, driven by the real Python client."""

import asyncio
import time

import pytest
from grpclib import GRPCError, Status
from viam.components.input import Control, Controller, Event, EventType
from viam.proto.component.inputcontroller import Event as PBEvent
from viam.proto.component.inputcontroller import TriggerEventRequest

from conftest import connect, run


def test_controls_events_and_trigger(rover):
    async def go():
        robot = await connect(rover.address)
        c = Controller.from_robot(robot, "gamepad")
        controls = await c.get_controls()
        assert controls == [Control.ABSOLUTE_X, Control.ABSOLUTE_Y, Control.BUTTON_SOUTH, Control.BUTTON_START]
        events = await c.get_events()
        assert events[Control.BUTTON_START].event == EventType.CONNECT
        await c.trigger_event(Event(time.time(), EventType.POSITION_CHANGE_ABSOLUTE, Control.ABSOLUTE_X, -0.25))
        events = await c.get_events()
        assert events[Control.ABSOLUTE_X].event == EventType.POSITION_CHANGE_ABSOLUTE
        assert events[Control.ABSOLUTE_X].value == -0.25
        state = await c.do_command({"get_state": {}})
        assert state["get_state"]["events"]["AbsoluteX"]["value"] == -0.25
        assert await c.get_geometries() == []
        assert (await c.get_status())["events"]["AbsoluteX"]["event"] == "PositionChangeAbs"
        await robot.close()

    run(go())


def test_registered_callbacks_fire_for_matching_events_only(rover):
    async def go():
        robot = await connect(rover.address)
        c = Controller.from_robot(robot, "gamepad")
        presses, moves = [], []
        c.register_control_callback(Control.BUTTON_SOUTH, [EventType.BUTTON_PRESS], presses.append)
        c.register_control_callback(Control.ABSOLUTE_Y, [EventType.ALL_EVENTS], moves.append)
        await asyncio.sleep(0.3)  # the client opens StreamEvents in the background
        trigger = lambda kind, control, v: c.trigger_event(Event(time.time(), kind, control, v))
        await trigger(EventType.BUTTON_PRESS, Control.BUTTON_SOUTH, 1)
        await trigger(EventType.BUTTON_RELEASE, Control.BUTTON_SOUTH, 0)  # not registered
        await trigger(EventType.POSITION_CHANGE_ABSOLUTE, Control.ABSOLUTE_Y, 0.5)
        await trigger(EventType.BUTTON_PRESS, Control.BUTTON_START, 1)  # not registered
        for _ in range(100):
            if presses and len(moves) >= 2:
                break
            await asyncio.sleep(0.02)
        assert [(e.event, e.value) for e in presses] == [(EventType.BUTTON_PRESS, 1)]
        # The client itself injects a Connect event when the stream opens.
        assert [e.event for e in moves if e.event != EventType.CONNECT] == [EventType.POSITION_CHANGE_ABSOLUTE]
        await robot.close()

    run(go())


def test_trigger_event_refuses_what_clients_cannot_decode(rover):
    async def go():
        robot = await connect(rover.address)
        c = Controller.from_robot(robot, "gamepad")
        # The SDK's own types cannot express an unknown event; its raw stub can.
        raw = TriggerEventRequest(controller="gamepad", event=PBEvent(event="Explode", control="ButtonSouth", value=1))
        with pytest.raises(GRPCError) as e:
            await c.client.TriggerEvent(raw)
        assert e.value.status == Status.INVALID_ARGUMENT and "Explode" in e.value.message
        # A control this controller does not have.
        with pytest.raises(GRPCError) as e:
            await c.trigger_event(Event(time.time(), EventType.BUTTON_PRESS, Control.BUTTON_EAST, 1))
        assert e.value.status == Status.INVALID_ARGUMENT and "ButtonEast" in e.value.message
        ev = Event(time.time(), EventType.POSITION_CHANGE_ABSOLUTE, Control.ABSOLUTE_X, float("nan"))
        with pytest.raises(GRPCError) as e:
            await c.trigger_event(ev)
        assert e.value.status == Status.INVALID_ARGUMENT
        await robot.close()

    run(go())
