"""Hostile input: malformed protobuf, numeric extremes, deep and huge
Structs, thousands of bad requests. axle answers each with a clean error,
keeps serving, keeps its memory flat, and every motor can still be stopped.
"""

import asyncio
import pathlib
import random
import struct

from grpclib import GRPCError, Status
from grpclib.client import Channel
from grpclib.const import Cardinality
from viam.proto.component.motor import GoForRequest, IsMovingRequest, MotorServiceStub, SetPowerRequest, StopRequest

from conftest import run

MOTOR = "/viam.component.motor.v1.MotorService/"
BASE = "/viam.component.base.v1.BaseService/"
METHODS = [MOTOR + m for m in ("SetPower", "GoFor", "GoTo", "SetRPM", "ResetZeroPosition", "GetPosition",
                               "Stop", "IsPowered", "IsMoving", "DoCommand", "GetProperties")] + [
    BASE + m for m in ("MoveStraight", "Spin", "SetPower", "SetVelocity", "Stop", "IsMoving", "DoCommand")
] + ["/viam.robot.v1.RobotService/" + m for m in ("StartSession", "SendSessionHeartbeat", "StopAll", "GetMachineStatus")]
# Answers that mean "your request was wrong", never "axle broke".
CLEAN = {Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.OUT_OF_RANGE, Status.RESOURCE_EXHAUSTED,
         Status.FAILED_PRECONDITION, Status.UNIMPLEMENTED}


class Raw:
    """Sends bytes as they are: the request need not be a valid message."""
    __content_subtype__ = "proto"

    def encode(self, message, message_type):
        return message

    def decode(self, data, message_type):
        return data


async def send(ch, path, payload):
    try:
        async with ch.request(path, Cardinality.UNARY_UNARY, None, None) as stream:
            await stream.send_message(payload, end=True)
            await stream.recv_message()
            return None
    except GRPCError as e:
        return e


def rss_kb(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def garbage(rng):
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 64))
    if kind == 1:  # a valid name, then a field with a wild number
        value = rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 5e-324, 1e10])
        return b"\x0a\x04left" + bytes([0x10 | 1 + 8 * rng.randrange(1, 4)]) + struct.pack("<d", value)
    if kind == 2:  # a length that runs past the end
        return b"\x0a\xff\xff\xff\x0f" + rng.randbytes(8)
    if kind == 3:  # unknown fields only: tolerated
        return b"\xf8\x07\x01\x0a\x04left"
    return b"\x0a\x04left\x12" + bytes([rng.randrange(128)]) + rng.randbytes(rng.randrange(8))


def test_thousands_of_malformed_requests_leave_axle_serving_flat_and_stoppable(rover):
    async def scenario():
        host, port = rover.address.rsplit(":", 1)
        ch, raw = Channel(host, int(port)), Channel(host, int(port), codec=Raw())
        left = MotorServiceStub(ch)
        await left.SetPower(SetPowerRequest(name="left", power_pct=0.5))
        rng = random.Random(7)

        async def barrage(n):
            for _ in range(n):
                e = await send(raw, rng.choice(METHODS), garbage(rng))
                assert e is None or e.status in CLEAN, f"{e.status}: {e.message}"

        await barrage(500)
        before = rss_kb(rover.proc.pid)
        await barrage(5000)
        after = rss_kb(rover.proc.pid)
        print(f"RSS {before} kB after 500 malformed requests, {after} kB after 5500")
        assert after - before < 8 * 1024, f"memory grew {after - before} kB"

        # (The barrage may have stopped it: Stop with a valid name is a valid Stop.)
        await left.Stop(StopRequest(name="left"))
        assert not (await left.IsMoving(IsMovingRequest(name="left"))).is_moving
        await left.SetPower(SetPowerRequest(name="left", power_pct=0.5))
        assert (await left.IsMoving(IsMovingRequest(name="left"))).is_moving
        await left.Stop(StopRequest(name="left"))
        assert not (await left.IsMoving(IsMovingRequest(name="left"))).is_moving
        ch.close()
        raw.close()

    run(scenario())
    assert "panicked" not in rover.log_text()


def test_numeric_extremes_are_invalid_arguments(rover):
    async def scenario():
        host, port = rover.address.rsplit(":", 1)
        ch = Channel(host, int(port))
        left = MotorServiceStub(ch)
        for rpm, revs in [(1e308, 1.0), (1.0, 1e308), (1e-300, 1e9), (float("inf"), 1.0), (float("nan"), 1.0)]:
            try:
                await asyncio.wait_for(left.GoFor(GoForRequest(name="left", rpm=rpm, revolutions=revs)), 0.5)
                moving = (await left.IsMoving(IsMovingRequest(name="left"))).is_moving
                assert moving, f"GoFor({rpm}, {revs}) neither refused nor running"
            except asyncio.TimeoutError:
                pass  # a legal but long motion (1e-300 rpm): it runs, and Stop must end it
            except GRPCError as e:
                assert e.status == Status.INVALID_ARGUMENT, (rpm, revs, e)
            await left.Stop(StopRequest(name="left"))
            assert not (await left.IsMoving(IsMovingRequest(name="left"))).is_moving
        ch.close()

    run(scenario())


def length_delimited(tag, payload):
    n, varint = len(payload), b""
    while True:
        low, n = n & 0x7F, n >> 7
        varint += bytes([low | (0x80 if n else 0)])
        if not n:
            return bytes([tag]) + varint + payload


def do_command(struct_bytes):
    """A DoCommandRequest for `left` whose command is these Struct bytes."""
    return length_delimited(0x0A, b"left") + length_delimited(0x12, struct_bytes)


def nested(depth):
    """Struct{"a": Struct{"a": ...}}, `depth` levels, as bytes (the Python
    protobuf library refuses to build what it could not parse back)."""
    inner = b""
    for _ in range(depth):
        value = length_delimited(0x2A, inner)  # Value.struct_value
        entry = length_delimited(0x0A, b"a") + length_delimited(0x12, value)
        inner = length_delimited(0x0A, entry)  # Struct.fields
    return inner


def test_deep_and_huge_do_command_structs_get_clean_errors(rover):
    async def scenario():
        host, port = rover.address.rsplit(":", 1)
        raw = Channel(host, int(port), codec=Raw())
        huge_value = length_delimited(0x1A, b"x" * (5 * 1024 * 1024))  # Value.string_value
        huge = length_delimited(0x0A, length_delimited(0x0A, b"blob") + length_delimited(0x12, huge_value))
        for command in (nested(200), nested(20000), huge):
            e = await send(raw, MOTOR + "DoCommand", do_command(command))
            assert e is not None and e.status in CLEAN, e
        # A shallow one is decoded and reaches the driver, which names what it knows.
        e = await send(raw, MOTOR + "DoCommand", do_command(nested(3)))
        assert 'unknown command "a"' in e.message, e
        raw.close()

    run(scenario())
