"""A viam-sdk client that dials as the upstream docs do (WebRTC not
disabled), in its own process, so a test can read its rust-utils log
(stderr) and kill or freeze it.

    webrtc_client.py ADDRESS [--api-key ID SECRET] [--timeout S]
                     [--insecure] [--force-relay] [--reconnect] [--direct]

Without --api-key it dials `DialOptions(insecure=True)`; with it, the docs'
snippet: TLS verified against SSL_CERT_FILE (or h2c with --insecure), and
the key. --force-relay makes ICE use TURN relays only; --reconnect keeps
the SDK's own connection checks and reconnection (off otherwise); --direct
dials plain gRPC, WebRTC disabled.

Prints ">> ready SECONDS" once connected (or ">> failed ERROR"), then runs
one command per stdin line and prints one ">> " line for each (rust-utils
logs to stdout as well):
    drive_all           every motor and base method; "ok"
    callback            an input-controller callback fires; "fired"
    power NAME P        set_power; "ok" or "error STATUS MESSAGE"
    event NAME CONTROL V  an input controller's TriggerEvent (PositionChangeAbs); "ok"
    repower NAME P      set_power through a motor client made now, on the
                        robot's current channel: after the SDK reconnects,
                        its resource clients still hold the old channel
                        ("handles from before the reconnection are no
                        longer valid", say the upstream docs)
    fill NAME N         DoCommand fill N on motor NAME; "LENGTH"
    moving NAME         is_moving of motor NAME; "True" or "False"
    names               the resource names, space-separated
    keep NAME P S       set_power P then is_moving on motor NAME, again and
                        again for S seconds; "calls=N failed=M"
    status              axle's pseudo-resources in GetMachineStatus:
                        "subtype/name=STATE:error;..."
    close               closes the client; "closed"
"""

import asyncio
import sys
import time

from grpclib import GRPCError
from viam.components.base import Base, Vector3
from viam.components.input import Control, Controller, Event, EventType
from viam.components.motor import Motor
from viam.components.motor.client import MotorClient
from viam.robot.client import RobotClient
from viam.rpc.dial import Credentials, DialOptions


def say(answer):
    # rust-utils logs to stdout too: answers carry a mark of their own.
    print(f">> {answer}")


def options(api_key, timeout, flags):
    if api_key and "--insecure" not in flags:
        opts = RobotClient.Options(dial_options=DialOptions(timeout=timeout)).with_api_key(
            api_key=api_key[1], api_key_id=api_key[0]
        )
    else:
        creds = Credentials(type="api-key", payload=api_key[1]) if api_key else None
        dial = DialOptions(insecure=True, timeout=timeout, credentials=creds,
                           auth_entity=api_key[0] if api_key else None)
        opts = RobotClient.Options(dial_options=dial)
    opts.dial_options.force_relay = "--force-relay" in flags
    opts.dial_options.disable_webrtc = "--direct" in flags
    if "--reconnect" not in flags:
        # The default connection checks would mix into what the tests measure.
        opts.check_connection_interval = 0
        opts.attempt_reconnect_interval = 0
    return opts


async def keep(robot, name, power, seconds):
    calls = failed = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            m = Motor.from_robot(robot, name)
            await m.set_power(power)
            assert await m.is_moving()
        except Exception:  # counted, not fatal: the test reads the count
            failed += 1
        calls += 1
        await asyncio.sleep(0.02)
    return f"calls={calls} failed={failed}"


async def drive_all(robot):
    m = Motor.from_robot(robot, "left")
    await m.set_power(0.5)
    assert await m.is_moving()
    powered, power = await m.is_powered()
    assert powered and abs(power - 0.5) < 1e-9
    await m.set_rpm(60)
    await m.go_for(600, 0.5)
    await m.go_to(600, 1)
    await m.reset_zero_position(0)
    await m.get_position()
    assert (await m.get_properties()).position_reporting
    await m.stop()
    assert not await m.is_moving()
    await m.get_geometries()
    assert "get_state" in await m.do_command({"get_state": {}})
    b = Base.from_robot(robot, "base")
    await b.move_straight(30, 300)
    await b.spin(10, 90)
    await b.set_power(Vector3(x=0, y=0.3, z=0), Vector3(x=0, y=0, z=0))
    assert await b.is_moving()
    await b.set_velocity(Vector3(x=0, y=100, z=0), Vector3(x=0, y=0, z=10))
    await b.stop()
    assert not await b.is_moving()
    await b.get_properties()
    await b.get_geometries()
    await b.do_command({"get_pose": {}})


async def callback(robot):
    c = Controller.from_robot(robot, "gamepad")
    fired = asyncio.Event()
    c.register_control_callback(Control.BUTTON_SOUTH, [EventType.BUTTON_PRESS], lambda e: fired.set())
    for _ in range(50):  # the client opens StreamEvents in the background
        await c.trigger_event(Event(time.time(), EventType.BUTTON_PRESS, Control.BUTTON_SOUTH, 1))
        try:
            await asyncio.wait_for(fired.wait(), 0.1)
            return
        except asyncio.TimeoutError:
            pass
    raise AssertionError("the callback never fired")


async def main(address, api_key, timeout, flags):
    started = time.monotonic()
    try:
        robot = await RobotClient.at_address(address, options(api_key, timeout, flags))
    except Exception as e:  # the test reads why
        say(f"failed {type(e).__name__}: {e}")
        return
    say(f"ready {time.monotonic() - started:.4f}")
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        cmd, *args = line.split()
        try:
            if cmd == "drive_all":
                await drive_all(robot)
                say("ok")
            elif cmd == "callback":
                await callback(robot)
                say("fired")
            elif cmd == "power":
                await Motor.from_robot(robot, args[0]).set_power(float(args[1]))
                say("ok")
            elif cmd == "event":
                event = Event(time.time(), EventType.POSITION_CHANGE_ABSOLUTE, Control(args[1]), float(args[2]))
                await Controller.from_robot(robot, args[0]).trigger_event(event)
                say("ok")
            elif cmd == "repower":
                await MotorClient(args[0], robot._channel).set_power(float(args[1]))
                say("ok")
            elif cmd == "fill":
                answer = await Motor.from_robot(robot, args[0]).do_command({"fill": int(args[1])})
                say(len(answer["fill"]))
            elif cmd == "moving":
                say(await Motor.from_robot(robot, args[0]).is_moving())
            elif cmd == "keep":
                say(await keep(robot, args[0], float(args[1]), float(args[2])))
            elif cmd == "status":
                status = await robot.get_machine_status()
                say(";".join(f"{r.name.subtype}/{r.name.name}={r.State.Name(r.state)}:{r.error}"
                             for r in status.resources if r.name.namespace == "axle"))
            elif cmd == "names":
                say(" ".join(sorted(r.name for r in robot.resource_names)))
            elif cmd == "close":
                await robot.close()
                say("closed")
                return
        except GRPCError as e:
            say(f"error {e.status.name} {e.message}")
        except Exception as e:
            say(f"error {type(e).__name__} {e}")


if __name__ == "__main__":
    args = sys.argv[2:]
    key = args[args.index("--api-key") + 1 : args.index("--api-key") + 3] if "--api-key" in args else None
    timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else 10.0
    asyncio.run(main(sys.argv[1], key, timeout, args))
