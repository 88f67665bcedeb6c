"""Drives axle's simulated rover with the unmodified Python viam-sdk.

    cargo build --release && target/release/axle   # in one terminal
    python examples/drive_rover.py                # in another (pip install viam-sdk==0.85.1)

AXLE_ADDRESS overrides the address (default 127.0.0.1:8080). It connects as
the upstream docs do, peer to peer over WebRTC; AXLE_DIRECT=1 uses direct gRPC.
"""

import asyncio
import os
import time

from viam.components.base import Base, Vector3
from viam.components.input import Control, Controller, Event, EventType
from viam.components.motor import Motor
from viam.robot.client import RobotClient
from viam.rpc.dial import DialOptions


async def main():
    address = os.environ.get("AXLE_ADDRESS", "127.0.0.1:8080")
    direct = os.environ.get("AXLE_DIRECT") == "1"
    options = RobotClient.Options(dial_options=DialOptions(disable_webrtc=direct, insecure=True))
    robot = await RobotClient.at_address(address, options)
    print("resources:", ", ".join(f"{n.subtype}/{n.name}" for n in robot.resource_names))

    base = Base.from_robot(robot, "base")
    await base.move_straight(distance=300, velocity=600)  # 0.5 s
    await base.spin(angle=90, velocity=180)  # 0.5 s
    await base.set_power(Vector3(x=0, y=0.4, z=0), Vector3(x=0, y=0, z=0))
    print("base moving:", await base.is_moving())
    await base.stop()
    print("base pose:", (await base.do_command({"get_pose": {}}))["get_pose"])

    left, right = Motor.from_robot(robot, "left"), Motor.from_robot(robot, "right")
    await asyncio.gather(left.go_for(rpm=300, revolutions=2), right.go_for(rpm=-300, revolutions=2))
    print("left motor position:", await left.get_position(), "right:", await right.get_position())

    gamepad = Controller.from_robot(robot, "gamepad")
    pressed = asyncio.Event()
    gamepad.register_control_callback(Control.BUTTON_SOUTH, [EventType.BUTTON_PRESS], lambda e: pressed.set())
    await asyncio.sleep(0.2)
    await gamepad.trigger_event(Event(time.time(), EventType.BUTTON_PRESS, Control.BUTTON_SOUTH, 1.0))
    await asyncio.wait_for(pressed.wait(), 2)
    print("gamepad controls:", [c.value for c in await gamepad.get_controls()], "- ButtonSouth press seen")

    await robot.stop_all()
    await robot.close()


if __name__ == "__main__":
    asyncio.run(main())
