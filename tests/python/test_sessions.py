"""Sessions: a robot moves only while the client driving it is present.

Clients run in their own processes (the Python viam-sdk and our Rust example)
so the tests can kill or freeze them for real. Every timing assertion here is
a safety bound: stopped within the heartbeat window + 100 ms.
"""

import asyncio
import os
import pathlib
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from grpclib import GRPCError, Status
from grpclib.client import Channel
from viam.components.motor import Motor
from viam.proto.component.motor import IsMovingRequest, MotorServiceStub, SetPowerRequest
from viam.proto.robot import (
    GetSessionsRequest,
    RobotServiceStub,
    SendSessionHeartbeatRequest,
    StartSessionRequest,
)

from conftest import AXLE, connect, run

WINDOW = 0.5
BOUND = WINDOW + 0.1
CLIENT = pathlib.Path(__file__).parent / "clients" / "session_client.py"
DRIVE_MOTOR = str(pathlib.Path(AXLE).parent / "drive_motor")


def motor(name, **attributes):
    return {"name": name, "api": "rdk:component:motor", "model": "fake", "attributes": attributes}


def config(*extra, **sessions):
    return {
        "network": {"sessions": {"heartbeat_window": "500ms", **sessions}},
        "components": [motor("left"), motor("right"), *extra],
    }


class Client:
    """A client process that drives motors until it is killed or frozen."""

    def __init__(self, kind, address, disable_sessions=False, api_key=None):
        self.kind = kind
        if kind == "python":
            cmd = [sys.executable, str(CLIENT), address]
            cmd += ["--disable-sessions"] if disable_sessions else []
            cmd += ["--api-key", *api_key] if api_key else []
        else:
            cmd = [DRIVE_MOTOR, "--address", address, "--motor", "left", "--power", "0.5"]
            cmd += ["--disable-sessions"] if disable_sessions else []
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        if kind == "python":
            assert self.line() == "ready"

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def line(self, timeout=20.0):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{self.kind} client said nothing for {timeout} s") from None

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line()

    def drive_left(self):
        """Sets the left motor to power 0.5 under this client's session."""
        if self.kind == "python":
            assert self.send("power left 0.5") == "ok"
        else:
            assert self.line().startswith("driving motor=left")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def clients():
    started = []

    def start(kind, address, **kwargs):
        c = Client(kind, address, **kwargs)
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()


async def sessions(robot):
    return (await RobotServiceStub(robot._channel).GetSessions(GetSessionsRequest())).sessions


async def seconds_until_stopped(m, since, limit=5.0):
    while await m.is_moving():
        assert time.monotonic() - since < limit, "the motor never stopped"
        await asyncio.sleep(0.005)
    return time.monotonic() - since


def wait_for_log(axle, pattern, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if m := re.search(pattern, axle.log_text()):
            return m.group(0)
        time.sleep(0.02)
    raise AssertionError(f"no log line matches {pattern!r}:\n{axle.log_text()}")


@pytest.mark.parametrize("kind", ["python", "rust"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_a_client_that_dies_or_freezes_leaves_nothing_running(start_axle, clients, kind, sig):
    axle = start_axle(config())
    client = clients(kind, axle.address)
    client.drive_left()

    async def go():
        observer = await connect(axle.address)
        left = Motor.from_robot(observer, "left")
        assert await left.is_moving()
        (session,) = await sessions(observer)
        client.signal(sig)
        took = await seconds_until_stopped(left, time.monotonic())
        assert took <= BOUND, f"stopped {took:.3f} s after the client went silent"
        await observer.close()
        return session.id

    session_id = run(go())
    line = wait_for_log(axle, rf"session expired.*session={session_id}.*")
    assert "rdk:component:motor/left" in line and "peer=127.0.0.1:" in line, line


@pytest.mark.parametrize("kind", ["python", "rust"])
def test_a_frozen_robot_keeps_the_sessions_whose_heartbeats_waited(start_axle, clients, kind):
    """axle is stopped (SIGSTOP) for three windows while a client heartbeats:
    its heartbeats wait in the socket, arrived in time, and renew the
    session once axle runs again. Nothing it drove stops."""
    axle = start_axle(config())
    client = clients(kind, axle.address)
    client.drive_left()

    async def go():
        observer = await connect(axle.address)
        (before,) = await sessions(observer)
        axle.proc.send_signal(signal.SIGSTOP)
        await asyncio.sleep(3 * WINDOW)
        axle.proc.send_signal(signal.SIGCONT)
        await asyncio.sleep(WINDOW / 2)
        assert await Motor.from_robot(observer, "left").is_moving(), axle.log_text()
        (after,) = await sessions(observer)
        assert after.id == before.id, "the client's session was replaced"
        await observer.close()

    run(go())
    assert "session expired" not in axle.log_text()


def test_the_last_user_wins(start_axle, clients):
    axle = start_axle(config())
    a = clients("python", axle.address)
    a.drive_left()
    b = clients("rust", axle.address)
    b.drive_left()

    async def go():
        observer = await connect(axle.address)
        left = Motor.from_robot(observer, "left")
        a.signal(signal.SIGKILL)
        await asyncio.sleep(WINDOW + 0.3)
        assert await left.is_moving(), "A's expiry must not stop what B drives"
        b.signal(signal.SIGKILL)
        took = await seconds_until_stopped(left, time.monotonic())
        assert took <= BOUND
        await observer.close()

    run(go())


@pytest.mark.parametrize("kind", ["python", "rust"])
def test_disable_sessions_is_the_documented_opt_out(start_axle, clients, kind):
    axle = start_axle(config())
    client = clients(kind, axle.address, disable_sessions=True)
    client.drive_left()

    async def go():
        observer = await connect(axle.address)
        assert await sessions(observer) == []
        client.signal(signal.SIGKILL)
        await asyncio.sleep(WINDOW + 0.4)
        assert await Motor.from_robot(observer, "left").is_moving()
        await observer.close()

    run(go())


def test_unknown_and_expired_sessions_get_session_expired(start_axle):
    axle = start_axle(config())
    host, port = axle.address.rsplit(":", 1)

    async def go():
        channel = Channel(host, int(port))
        robot, motors = RobotServiceStub(channel), MotorServiceStub(channel)

        async def refused(call):
            with pytest.raises(GRPCError) as e:
                await call
            assert (e.value.status, e.value.message) == (Status.INVALID_ARGUMENT, "SESSION_EXPIRED")

        await refused(robot.SendSessionHeartbeat(SendSessionHeartbeatRequest(id=str(uuid.uuid4()))))
        await refused(robot.SendSessionHeartbeat(SendSessionHeartbeatRequest(id="not a session")))
        started = await robot.StartSession(StartSessionRequest())
        assert started.heartbeat_window.ToTimedelta().total_seconds() == WINDOW
        await robot.SendSessionHeartbeat(SendSessionHeartbeatRequest(id=started.id))
        await asyncio.sleep(WINDOW + 0.1)
        await refused(robot.SendSessionHeartbeat(SendSessionHeartbeatRequest(id=started.id)))
        expired = {"viam-sid": started.id}
        await refused(motors.SetPower(SetPowerRequest(name="left", power_pct=0.5), metadata=expired))
        # The refused call never reached the motor; unmonitored calls ignore the sid.
        moving = await motors.IsMoving(IsMovingRequest(name="left"), metadata=expired)
        assert not moving.is_moving
        # An expired session stays expired: resuming it starts a new one.
        resumed = await robot.StartSession(StartSessionRequest(resume=started.id))
        assert resumed.id != started.id
        channel.close()

    run(go())


def test_the_python_client_starts_a_new_session_after_expiry(start_axle, clients):
    axle = start_axle(config())
    client = clients("python", axle.address)
    client.drive_left()

    async def go():
        observer = await connect(axle.address)
        (first,) = await sessions(observer)
        client.signal(signal.SIGSTOP)
        await asyncio.sleep(WINDOW + 0.3)
        assert not await Motor.from_robot(observer, "left").is_moving()
        client.signal(signal.SIGCONT)
        # Whichever the client hears first (its heartbeat or this call answered
        # SESSION_EXPIRED) drops the old session; then a call succeeds under a new one.
        answers = [client.send("power left 0.3")]
        if answers[0] != "ok":
            answers.append(client.send("power left 0.3"))
        assert answers[-1] == "ok" and answers[:-1] in ([], ["error INVALID_ARGUMENT SESSION_EXPIRED"]), answers
        (second,) = await sessions(observer)
        assert second.id != first.id
        assert await Motor.from_robot(observer, "left").is_moving()
        await observer.close()

    run(go())


def test_a_hung_stop_delays_no_other_stop_and_no_heartbeat(start_axle, clients):
    axle = start_axle(config(motor("stuck", stop_delay_ms=3000)))
    a = clients("python", axle.address)
    assert a.send("power stuck 0.5") == "ok"
    a.drive_left()
    b = clients("python", axle.address)
    assert b.send("power right 0.5") == "ok"

    async def go():
        observer = await connect(axle.address)
        a.signal(signal.SIGKILL)
        took = await seconds_until_stopped(Motor.from_robot(observer, "left"), time.monotonic())
        assert took <= BOUND, f"left stopped {took:.3f} s after its client died"
        # B heartbeats through the whole hang: its session must live on.
        await asyncio.sleep(2 * WINDOW)
        assert await Motor.from_robot(observer, "right").is_moving()
        await observer.close()

    run(go())
    line = wait_for_log(axle, r"session expired; some resources did not confirm Stop.*")
    assert "stopped=rdk:component:motor/left" in line and "motor/stuck" in line, line


def test_a_motion_in_flight_is_cancelled_when_its_session_expires(start_axle, clients):
    axle = start_axle(config())
    client = clients("python", axle.address)
    assert client.send("go_for left 60 1000") == "started"

    async def go():
        observer = await connect(axle.address)
        left = Motor.from_robot(observer, "left")
        assert await left.is_moving()
        # Frozen, not killed: the call's connection stays open, so only the
        # session can stop the motion.
        client.signal(signal.SIGSTOP)
        took = await seconds_until_stopped(left, time.monotonic())
        assert took <= BOUND
        await observer.close()

    run(go())
    wait_for_log(axle, r"GoFor.*interrupted|motion interrupted.*GoFor|command=GoFor.*session expired")


def test_resume_get_sessions_and_the_smrn_header(start_axle, tmp_path):
    sock = tmp_path / "axle.sock"
    axle = start_axle(config(), args=["--socket", str(sock)])
    host, port = axle.address.rsplit(":", 1)

    async def go():
        channel = Channel(host, int(port))
        robot = RobotServiceStub(channel)
        first = await robot.StartSession(StartSessionRequest())
        again = await robot.StartSession(StartSessionRequest(resume=first.id))
        assert again.id == first.id
        other = await robot.StartSession(StartSessionRequest(resume=str(uuid.uuid4())))
        assert other.id != first.id
        listed = {s.id: s.peer_connection_info.remote_address for s in (await robot.GetSessions(GetSessionsRequest())).sessions}
        assert set(listed) == {first.id, other.id}
        assert all(addr.startswith("127.0.0.1:") for addr in listed.values())
        async with MotorServiceStub(channel).SetPower.open(metadata={"viam-sid": first.id}) as call:
            await call.send_message(SetPowerRequest(name="left", power_pct=0.2), end=True)
            await call.recv_message()
            assert call.initial_metadata["viam-smrn"] == "rdk:component:motor/left"
        channel.close()
        # Over the Unix socket, the peer is the client's pid.
        uds = Channel(path=str(sock))
        mine = await RobotServiceStub(uds).StartSession(StartSessionRequest())
        listed = {s.id: s.peer_connection_info.remote_address for s in (await RobotServiceStub(uds).GetSessions(GetSessionsRequest())).sessions}
        assert listed[mine.id] == f"unix:pid={os.getpid()}"
        uds.close()

    run(go())


def test_a_full_session_table_refuses_with_resource_exhausted(start_axle):
    axle = start_axle(config(max_sessions=2))
    host, port = axle.address.rsplit(":", 1)

    async def go():
        channel = Channel(host, int(port))
        robot = RobotServiceStub(channel)
        await robot.StartSession(StartSessionRequest())
        await robot.StartSession(StartSessionRequest())
        with pytest.raises(GRPCError) as e:
            await robot.StartSession(StartSessionRequest())
        assert e.value.status == Status.RESOURCE_EXHAUSTED and "max_sessions" in e.value.message
        channel.close()

    run(go())
