"""WebRTC: the unmodified viam-sdk dials axle as the upstream docs do, with
WebRTC on, and connects peer to peer (its log says "Connected via WebRTC").

These tests run only inside a network namespace of their own
(`tests/netns.sh`, which `tests/run_all.sh` uses): the Python client looks
up a public STUN host on every WebRTC dial, and nothing may leave the
machine.
"""

import asyncio
import json
import os
import pathlib
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from grpclib import GRPCError, Status
from grpclib.client import Channel
from viam.components.base import Base
from viam.components.motor import Motor

from viam.robot.client import RobotClient

from conftest import connect, options, run
from test_security import KEYS, X, Y, make_tls

if os.environ.get("AXLE_NETNS") != "1":
    pytest.fail("WebRTC tests run in a network namespace: bash tests/netns.sh <pytest ...>", pytrace=False)

from viam.proto.rpc.webrtc.signaling import (  # noqa: E402
    CallRequest,
    CallUpdateRequest,
    ICECandidate,
    OptionalWebRTCConfigRequest,
    SignalingServiceStub,
)

WINDOW = 0.5
BOUND = WINDOW + 0.1
CLIENT = pathlib.Path(__file__).parent / "clients" / "webrtc_client.py"


def motor(name):
    return {"name": name, "api": "rdk:component:motor", "model": "fake"}


def rover(**network):
    return {
        "network": {"sessions": {"heartbeat_window": "500ms"}, **network},
        "components": [
            motor("left"),
            motor("right"),
            {"name": "base", "api": "rdk:component:base", "model": "fake", "depends_on": ["left", "right"]},
            {"name": "gamepad", "api": "rdk:component:input_controller", "model": "fake",
             "attributes": {"controls": ["ButtonSouth"]}},
        ],
    }


class WebRtcClient:
    """A client process dialing with WebRTC on; its rust-utils log is kept."""

    def __init__(self, workdir, address, api_key=None, env=None, wrap=(), timeout=10, flags=()):
        self.log_path = workdir / f"client-{time.monotonic_ns()}.log"
        cmd = [*wrap, sys.executable, str(CLIENT), address, "--timeout", str(timeout), *flags]
        cmd += ["--api-key", *api_key] if api_key else []
        env = {**os.environ, "RUST_LOG": "viam_rust_utils=debug", **(env or {})}
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         text=True, env=env)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self.line(3 * timeout + 15)

    def _read(self):
        with open(self.log_path, "a") as log:
            for line in self.proc.stdout:
                if line.startswith(">> "):
                    self.lines.put(line[3:].strip())
                else:
                    log.write(line)
                    log.flush()

    def line(self, timeout=20.0):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the client said nothing for {timeout} s:\n{self.log()[-3000:]}") from None

    def send(self, command, timeout=20.0):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line(timeout)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def via_webrtc(self):
        return "Connected via WebRTC" in self.log()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def clients(tmp_path):
    started = []

    def start(address, **kwargs):
        c = WebRtcClient(tmp_path, address, **kwargs)
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()
    # rust-utils leaves its proxy socket behind when its process is killed.
    for sock in pathlib.Path("/tmp").glob("proxy-*.sock"):
        sock.unlink(missing_ok=True)


def wait_for(predicate, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def seconds_until_stopped(m, since, limit=5.0):
    while await m.is_moving():
        assert time.monotonic() - since < limit, "the motor never stopped"
        await asyncio.sleep(0.005)
    return time.monotonic() - since


def seconds_to_stop(address, act):
    """Watches motor `left` at `address` (running) from a direct client,
    does `act`, and answers how long the motor took to stop."""

    async def go():
        observer = await connect(address)
        left = Motor.from_robot(observer, "left")
        assert await left.is_moving()
        act()
        took = await seconds_until_stopped(left, time.monotonic())
        await observer.close()
        return took

    return run(go())


def test_the_python_client_connects_over_webrtc_and_drives_everything(start_axle, clients):
    axle = start_axle(rover())
    c = clients(axle.address)
    assert c.ready.startswith("ready"), c.ready
    assert c.via_webrtc(), c.log()[-3000:]
    assert "Attempting to connect directly" not in c.log()
    assert c.send("drive_all") == "ok"
    assert c.send("callback") == "fired"
    assert c.send("names") == "base gamepad left right"
    assert "WebRTC peer connected" in axle.log_text()
    assert c.send("close") == "closed"
    wait_for(lambda: "WebRTC peer closed" in axle.log_text(), "the peer to close")
    assert 'reason="data channel closed"' in axle.log_text()


def test_a_webrtc_client_adds_at_most_three_lines_to_the_log(start_axle, clients):
    """The WebRTC stack's own chatter (candidates it cannot use, interfaces
    it cannot listen on) stays out of axle's log at the default level."""
    axle = start_axle(rover())
    before = len(axle.log_text().splitlines())
    c = clients(axle.address)
    assert c.via_webrtc(), c.log()[-3000:]
    assert c.send("names") == "base gamepad left right"
    assert c.send("close") == "closed"
    wait_for(lambda: "WebRTC peer closed" in axle.log_text(), "the peer to close")
    time.sleep(1)
    added = axle.log_text().splitlines()[before:]
    assert len(added) <= 3, "\n".join(added)


def test_the_docs_snippet_connects_over_webrtc_with_tls_and_an_api_key(start_axle, clients, tmp_path):
    host = socket.gethostname()
    ca, cert, key = make_tls(tmp_path, host)
    config = rover(tls_cert_file=str(cert), tls_key_file=str(key))
    config["auth"] = {"handlers": [{"type": "api-key", "config": KEYS}]}
    axle = start_axle(config, bind="0.0.0.0:0")
    address = f"{host}:{axle.address.rsplit(':', 1)[1]}"
    env = {"SSL_CERT_FILE": str(ca)}
    # Without the key: refused at signaling and directly.
    wrong = clients(address, api_key=(X, "not-the-key"), env=env)
    assert wrong.ready.startswith("failed"), wrong.ready
    assert not wrong.via_webrtc()
    assert "authentication refused" in axle.log_text()
    assert "WebRTC peer connected" not in axle.log_text()

    c = clients(address, api_key=(X, KEYS[X]), env=env)
    assert c.ready.startswith("ready"), c.ready + c.log()[-3000:]
    assert c.via_webrtc(), c.log()[-3000:]
    assert c.send("moving left") == "False", "a refused client moved the motor"
    assert c.send("power left 0.5") == "ok"
    assert c.send("moving left") == "True"

    # The key is removed from the config: the peer it opened loses access
    # at once, as a token would.
    config["auth"] = {"handlers": [{"type": "api-key", "config": {Y: KEYS[Y]}}]}
    applied = axle.log_text().count("config applied")
    axle.config_path.write_text(json.dumps(config))
    wait_for(lambda: axle.log_text().count("config applied") > applied, "the edit to apply")
    answer = c.send("power left 0.1")
    assert answer.startswith("error UNAUTHENTICATED") and "revoked" in answer, answer
    assert c.send("close") == "closed"
    assert axle.log_text().count("WebRTC peer connected") == 1


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_a_webrtc_client_that_dies_or_freezes_has_its_motor_stopped(start_axle, clients, sig):
    axle = start_axle(rover())
    c = clients(axle.address)
    assert c.via_webrtc()
    assert c.send("power left 0.5") == "ok"
    took = seconds_to_stop(axle.address, lambda: c.proc.send_signal(sig))
    assert took <= BOUND, f"stopped {took:.3f} s after the client went silent"
    print(f"\nstopped {took * 1000:.0f} ms after the client went silent (window 500 ms)")
    assert re.search(r"session expired.*peer=webrtc:127\.0\.0\.1:\d+.*motor/left", axle.log_text())


def test_a_client_that_closes_cleanly_has_its_motor_stopped_at_once(start_axle, clients):
    # Upstream would leave the motor running for a whole window after the
    # client left. Every heartbeat of this session came over the one peer
    # connection the client just closed: nothing can renew it, so it ends now.
    config = rover()
    config["network"]["sessions"]["heartbeat_window"] = "5s"
    axle = start_axle(config)
    c = clients(axle.address)
    assert c.via_webrtc()
    assert c.send("power left 0.5") == "ok"
    took = seconds_to_stop(axle.address, lambda: c.send("close"))
    assert took < 1.0, f"stopped {took:.3f} s after the client closed (window 5 s)"
    print(f"\nstopped {took * 1000:.0f} ms after the client closed (window 5 s)")
    assert re.search(r'session expired.*cause="its only connection closed".*motor/left', axle.log_text())


def test_a_webrtc_gamepad_without_a_session_owns_its_motion_by_its_peer_connection(start_axle, clients):
    # The Python SDK sends no session with TriggerEvent: the peer connection
    # the events came over owns the base's motion; closing it stops the base.
    config = rover()
    config["components"][3]["attributes"]["controls"] = ["AbsoluteX", "AbsoluteY", "ButtonSouth"]
    config["services"] = [{"name": "drive", "api": "rdk:service:base_remote_control", "model": "builtin",
                           "attributes": {"base": "base", "input_controller": "gamepad",
                                          "control_mode": "joystickControl"}}]
    axle = start_axle(config)
    c = clients(axle.address)
    assert c.via_webrtc()
    assert c.send("event gamepad AbsoluteY -1") == "ok"

    async def go():
        observer = await connect(axle.address)
        base = Base.from_robot(observer, "base")
        assert await base.is_moving()
        assert c.send("close") == "closed"
        took = await seconds_until_stopped(base, time.monotonic())
        await observer.close()
        return took

    took = run(go())
    assert took < 0.5, f"stopped {took:.3f} s after the client closed"
    print(f"\nthe base stopped {took * 1000:.0f} ms after the WebRTC gamepad closed")
    assert re.search(r"remote control stopped the base.*reason=connection conn-\d+ closed", axle.log_text())


def test_a_one_mib_do_command_answer_arrives_intact(start_axle, clients):
    axle = start_axle(rover())
    c = clients(axle.address)
    assert c.via_webrtc()
    for n in [0, 65_000, 65_536, 1 << 20, 3 << 20]:
        assert c.send(f"fill left {n}") == str(n)


def test_connect_close_cycles_leave_nothing_behind(start_axle):
    axle = start_axle(rover())
    proc = pathlib.Path(f"/proc/{axle.proc.pid}")

    def fds():
        return len(list((proc / "fd").iterdir()))

    def rss_kib():
        return int(re.search(r"VmRSS:\s+(\d+)", (proc / "status").read_text()).group(1))

    def threads():
        return len(list((proc / "task").iterdir()))

    async def cycles(n):
        opts = options()
        opts.dial_options.disable_webrtc = False
        for _ in range(n):
            robot = await asyncio.wait_for(RobotClient.at_address(axle.address, opts), 10)
            await robot.close()

    run(cycles(1))
    wait_for(lambda: axle.log_text().count("WebRTC peer closed") == 1, "the first peer to close")
    base = (fds(), rss_kib(), threads())
    run(cycles(200))
    wait_for(lambda: axle.log_text().count("WebRTC peer closed") == 201, "every peer to close", 15)
    wait_for(lambda: fds() <= base[0], f"fds back to {base[0]} (now {fds()})", 10)
    # tokio's blocking-pool threads (DNS, files) end after 10 s idle.
    wait_for(lambda: threads() <= base[2], f"threads back to {base[2]} (now {threads()})", 15)
    after = (fds(), rss_kib(), threads())
    assert axle.log_text().count("WebRTC peer connected") == 201
    assert after[0] <= base[0], (base, after)
    assert after[2] <= base[2], (base, after)
    assert after[1] <= base[1] * 1.10, f"RSS grew from {base[1]} KiB to {after[1]} KiB"
    print(f"\nafter 1 and 201 cycles: fds {base[0]} -> {after[0]}, RSS {base[1]} -> {after[1]} KiB, "
          f"threads {base[2]} -> {after[2]}")


def test_bad_signaling_gets_a_clean_error_and_axle_keeps_serving(start_axle, clients):
    axle = start_axle(rover())
    host, port = axle.address.rsplit(":", 1)

    async def bad_calls():
        ch = Channel(host, int(port))
        stub = SignalingServiceStub(ch)
        md = {"rpc-host": axle.address}
        for sdp, says in [("not base64!", "malformed offer"), ("e30=", "malformed offer"),
                          ("eyJ0eXBlIjoib2ZmZXIiLCJzZHAiOiJnYXJiYWdlIn0=", "malformed offer")]:
            with pytest.raises(GRPCError) as e:
                async with stub.Call.open(metadata=md) as call:
                    await call.send_message(CallRequest(sdp=sdp), end=True)
                    await call.recv_message()
            assert e.value.status == Status.INVALID_ARGUMENT and says in e.value.message, e.value
        with pytest.raises(GRPCError) as e:
            await stub.OptionalWebRTCConfig(OptionalWebRTCConfigRequest(), metadata={"rpc-host": "elsewhere:1"})
        assert e.value.status == Status.INVALID_ARGUMENT and "host not preconfigured" in e.value.message
        config = await stub.OptionalWebRTCConfig(OptionalWebRTCConfigRequest(), metadata=md)
        assert list(config.config.additional_ice_servers) == []
        # Clients treat a failed update as a failed dial: an unknown call is fine.
        await stub.CallUpdate(CallUpdateRequest(uuid="no-such-call", candidate=ICECandidate(candidate="x")),
                              metadata=md)
        ch.close()

    run(bad_calls())
    c = clients(axle.address)
    assert c.via_webrtc()
    assert c.send("power left 0.2") == "ok"


def test_ice_servers_are_handed_to_clients(start_axle):
    servers = [{"urls": ["turn:10.99.0.1:3478?transport=udp"], "username": "u", "credential": "c"}]
    axle = start_axle(rover(webrtc={"ice_servers": servers}))
    host, port = axle.address.rsplit(":", 1)

    async def go():
        ch = Channel(host, int(port))
        reply = await SignalingServiceStub(ch).OptionalWebRTCConfig(
            OptionalWebRTCConfigRequest(), metadata={"rpc-host": axle.address})
        (server,) = reply.config.additional_ice_servers
        assert (list(server.urls), server.username, server.credential) == (servers[0]["urls"], "u", "c")
        ch.close()

    run(go())


def test_a_main_part_drives_a_sub_part_over_a_webrtc_link(start_axle):
    sub = start_axle(rover())
    main = start_axle({"network": {"sessions": {"heartbeat_window": "500ms"}},
                       "remotes": [{"name": "sub", "address": sub.address, "webrtc": True}]})

    async def drive():
        # The user needs no session of its own here: what is tested is the
        # main part's session on the sub-part, carried over WebRTC.
        user = await RobotClient.at_address(main.address, options(disable_sessions=True))
        await Motor.from_robot(user, "sub:left").set_power(0.5)
        await user.close()

    run(drive())
    took = seconds_to_stop(sub.address, lambda: main.proc.send_signal(signal.SIGKILL))
    assert took <= BOUND, f"stopped {took:.3f} s after the main part died"
    print(f"\nstopped {took * 1000:.0f} ms after the main part died (window 500 ms)")
    assert "WebRTC peer connected" in sub.log_text()


@pytest.fixture
def lan():
    """A LAN of our own: two network namespaces on a bridge, inside this
    test's namespace. Addresses are in 10.201.13.0/24, which exists only
    here. Torn down by name."""
    tag = f"ax{os.getpid() % 100000}"
    names = [f"{tag}-robot", f"{tag}-client"]

    def ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True)

    try:
        ip("link", "add", f"{tag}-br", "type", "bridge")
        ip("link", "set", f"{tag}-br", "up")
        for i, ns in enumerate(names):
            ip("netns", "add", ns)
            ip("link", "add", f"{tag}-v{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            ip("link", "set", f"{tag}-v{i}", "master", f"{tag}-br", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "addr", "add", f"10.201.13.{i + 2}/24", "dev", "eth0")
            # As on a real LAN: multicast (mDNS) goes out on the LAN interface.
            ip("-n", ns, "route", "add", "default", "dev", "eth0")
        yield [["ip", "netns", "exec", ns] for ns in names]
    finally:
        for ns in names:
            subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", f"{tag}-br"], capture_output=True)


def test_a_client_on_the_lan_finds_the_robot_by_its_mdns_name(start_axle, clients, lan):
    in_robot, in_client = lan
    config = rover(fqdn="rover.axle.test")
    axle = start_axle(config, bind="0.0.0.0:0", wrap=in_robot)
    assert "mDNS: advertising _rpc._tcp" in axle.log_text()
    # The name alone, no port: only mDNS can say where the robot is.
    c = clients("rover.axle.test", wrap=in_client)
    assert c.ready.startswith("ready"), c.ready + c.log()[-3000:]
    assert "Connected via mDNS" in c.log()
    assert "mDNS resolved address: 10.201.13.2:" in c.log()
    # The client tried TLS first; the plaintext listener survived it.
    assert "downgrading to plaintext h2c" in c.log()
    assert c.send("power left 0.3") == "ok"
    assert c.send("close") == "closed"

    # network.mdns: false withdraws the advertisement.
    quiet = start_axle(rover(fqdn="quiet.axle.test", mdns=False), bind="0.0.0.0:0", wrap=in_robot)
    assert "mDNS" not in quiet.log_text()
    c = clients("quiet.axle.test", wrap=in_client, timeout=2)
    assert c.ready.startswith("failed"), c.ready
    assert "Connected via mDNS" not in c.log()
