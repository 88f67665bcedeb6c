"""A viam-sdk client in its own process, for session tests to kill or freeze.

    session_client.py ADDRESS [--disable-sessions] [--api-key ID SECRET]

With --api-key it dials with TLS (verified against SSL_CERT_FILE) and the key.

Prints "ready" once connected, then runs one command per stdin line:
    power NAME P          set_power; prints "ok" or "error STATUS MESSAGE"
    go_for NAME RPM REVS  starts go_for and prints "started" while it runs
    base_power NAME Y Z   a base's set_power (forward Y, spin Z); prints "ok"
    arm NAME              an arm's move_to_joint_positions; prints "ok"
    grab NAME             a gripper's grab; prints "ok"
    servo NAME DEG        starts a servo's move and prints "started" while it runs
    event NAME CONTROL V  an input controller's TriggerEvent (PositionChangeAbs); prints "ok"
"""

import asyncio
import sys
import time

from grpclib import GRPCError
from grpclib.exceptions import StreamTerminatedError
# Imported before connecting: the SDK makes clients at connect time only
# for the APIs registered (imported) by then.
from viam.components.arm import Arm, JointPositions
from viam.components.base import Base, Vector3
from viam.components.gripper import Gripper
from viam.components.input import Control, Controller, Event, EventType
from viam.components.motor import Motor
from viam.components.servo import Servo
from viam.robot.client import RobotClient
from viam.rpc.dial import DialOptions


async def main(address: str, disable_sessions: bool, api_key=None):
    if api_key:
        options = RobotClient.Options.with_api_key(api_key=api_key[1], api_key_id=api_key[0])
        options.dial_options.disable_webrtc = True
        options.check_connection_interval = 0
        options.attempt_reconnect_interval = 0
        options.disable_sessions = disable_sessions
    else:
        options = RobotClient.Options(
            dial_options=DialOptions(disable_webrtc=True, insecure=True),
            check_connection_interval=0,
            attempt_reconnect_interval=0,
            disable_sessions=disable_sessions,
        )
    robot = await RobotClient.at_address(address, options)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    background = set()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        cmd, name, *args = line.split()
        motor = Motor.from_robot(robot, name) if cmd in ("power", "go_for") else None
        if cmd == "arm":
            await Arm.from_robot(robot, name).move_to_joint_positions(JointPositions(values=[10, 20, 30, 0, 0, 0]))
            print("ok", flush=True)
        elif cmd == "grab":
            await Gripper.from_robot(robot, name).grab()
            print("ok", flush=True)
        elif cmd == "base_power":
            base = Base.from_robot(robot, name)
            await base.set_power(Vector3(x=0, y=float(args[0]), z=0), Vector3(x=0, y=0, z=float(args[1])))
            print("ok", flush=True)
        elif cmd == "power":
            try:
                try:
                    await motor.set_power(float(args[0]))
                except StreamTerminatedError:
                    # Frozen past its keepalive, this client's connection was
                    # closed by the robot; the write never reached it, and
                    # grpclib connects again for the next call.
                    await motor.set_power(float(args[0]))
                print("ok", flush=True)
            except GRPCError as e:
                print(f"error {e.status.name} {e.message}", flush=True)
        elif cmd == "event":
            event = Event(time.time(), EventType.POSITION_CHANGE_ABSOLUTE, Control(args[0]), float(args[1]))
            await Controller.from_robot(robot, name).trigger_event(event)
            print("ok", flush=True)
        elif cmd == "servo":
            background.add(asyncio.create_task(Servo.from_robot(robot, name).move(int(args[0]))))
            await asyncio.sleep(0.05)
            print("started", flush=True)
        elif cmd == "go_for":
            task = asyncio.create_task(motor.go_for(float(args[0]), float(args[1])))
            background.add(task)
            await asyncio.sleep(0.05)
            print("started", flush=True)


if __name__ == "__main__":
    args = sys.argv[2:]
    key = args[args.index("--api-key") + 1 : args.index("--api-key") + 3] if "--api-key" in args else None
    asyncio.run(main(sys.argv[1], "--disable-sessions" in args, key))
