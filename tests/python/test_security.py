"""Security: API keys, tokens, TLS and session ownership, against the real
axle binary. Raw gRPC calls show exactly what a caller without the right
credentials gets; the unmodified viam-sdk client shows the documented
`with_api_key` pattern over TLS.
"""

import asyncio
import os
import socket
import subprocess
import time

import pytest
from grpclib import GRPCError, Status
from grpclib.client import Channel
from viam.components.motor import Motor
from viam.proto.component.motor import IsPoweredRequest, MotorServiceStub, SetPowerRequest
from viam.proto.robot import (
    GetSessionsRequest,
    ResourceNamesRequest,
    RobotServiceStub,
    SendSessionHeartbeatRequest,
    StartSessionRequest,
)
from viam.proto.rpc.auth import AuthenticateRequest, AuthServiceStub, Credentials
from viam.robot.client import RobotClient

from conftest import run
from test_modules import motor

# Key ids are UUIDs, as the Python SDK insists.
X, Y = "6f1c2a4e-8a4b-4c4e-9d7a-0a1b2c3d4e5f", "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
KEYS = {X: "secret-of-x-0123456789", Y: "secret-of-y-9876543210"}


def secured(lifetime="1h", window="500ms", **network):
    return {
        "network": {"sessions": {"heartbeat_window": window}, **network},
        "auth": {"handlers": [{"type": "api-key", "config": KEYS}], "token_lifetime": lifetime},
        "components": [motor("left"), motor("right")],
    }


def channel(address):
    host, port = address.rsplit(":", 1)
    return Channel(host, int(port))


async def token(ch, entity, secret):
    reply = await AuthServiceStub(ch).Authenticate(
        AuthenticateRequest(entity=entity, credentials=Credentials(type="api-key", payload=secret))
    )
    return reply.access_token


def bearer(t, sid=None):
    md = {"authorization": f"Bearer {t}"}
    if sid:
        md["viam-sid"] = sid
    return md


async def refused(call, says):
    with pytest.raises(GRPCError) as e:
        await call
    assert e.value.status == Status.UNAUTHENTICATED, e.value
    assert says in e.value.message, e.value.message


def test_without_a_valid_token_every_call_is_unauthenticated(start_axle):
    axle = start_axle(secured(lifetime="1s"))
    assert "listener requires API keys but is not encrypted" in axle.log_text()

    async def scenario():
        ch = channel(axle.address)
        robot = RobotServiceStub(ch)
        await refused(robot.ResourceNames(ResourceNamesRequest()), "requires authentication")
        await refused(robot.ResourceNames(ResourceNamesRequest(), metadata=bearer("made.up.token")), "invalid access token")
        await refused(token(ch, X, "wrong secret"), "invalid credentials")
        await refused(token(ch, "nobody", KEYS[X]), "invalid credentials")
        good = await token(ch, X, KEYS[X])
        names = await robot.ResourceNames(ResourceNamesRequest(), metadata=bearer(good))
        assert sorted(n.name for n in names.resources) == ["left", "right"]
        await asyncio.sleep(1.1)
        await refused(robot.ResourceNames(ResourceNamesRequest(), metadata=bearer(good)), "expired")
        ch.close()

    run(scenario())
    log = axle.log_text()
    assert "authentication refused" in log
    assert KEYS[X] not in log and "wrong secret" not in log, "a secret reached the log"


def test_a_client_cannot_use_or_see_another_clients_session(start_axle):
    axle = start_axle(secured(window="500ms"))

    async def scenario():
        ch = channel(axle.address)
        tx, ty = await token(ch, X, KEYS[X]), await token(ch, Y, KEYS[Y])
        robot, left = RobotServiceStub(ch), MotorServiceStub(ch)
        sy = (await robot.StartSession(StartSessionRequest(), metadata=bearer(ty))).id
        sx = (await robot.StartSession(StartSessionRequest(), metadata=bearer(tx))).id
        await left.SetPower(SetPowerRequest(name="left", power_pct=0.5), metadata=bearer(ty, sy))

        async def expired(call):
            with pytest.raises(GRPCError) as e:
                await call
            assert e.value.message == "SESSION_EXPIRED", e.value

        # X cannot heartbeat Y's session, resume it, drive under it, or see it.
        await expired(robot.SendSessionHeartbeat(SendSessionHeartbeatRequest(id=sy), metadata=bearer(tx)))
        await expired(robot.StartSession(StartSessionRequest(resume=sy), metadata=bearer(tx)))
        await expired(left.SetPower(SetPowerRequest(name="left", power_pct=0.1), metadata=bearer(tx, sy)))
        seen = await robot.GetSessions(GetSessionsRequest(), metadata=bearer(tx))
        assert [s.id for s in seen.sessions] == [sx]

        # Y goes silent while X keeps trying: Y's motor stops at Y's window.
        silent = time.monotonic()
        while (await left.IsPowered(IsPoweredRequest(name="left"), metadata=bearer(tx))).is_on:
            assert time.monotonic() - silent < 0.5 + 0.1, "Y's motor not stopped within window + 100 ms"
            try:
                await robot.SendSessionHeartbeat(SendSessionHeartbeatRequest(id=sy), metadata=bearer(tx))
            except GRPCError:
                pass
            await robot.SendSessionHeartbeat(SendSessionHeartbeatRequest(id=sx), metadata=bearer(tx))
            await asyncio.sleep(0.01)
        ch.close()

    run(scenario())


def make_tls(tmp_path, host):
    """A throwaway CA and a server certificate for `host`, with openssl."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=axle test CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={host}")
    (tmp_path / "ext.cnf").write_text(
        f"subjectAltName=DNS:{host}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"


def api_key_options(key_id, secret):
    """The documented pattern, direct (no WebRTC), without background checks."""
    opts = RobotClient.Options.with_api_key(api_key=secret, api_key_id=key_id)
    opts.dial_options.disable_webrtc = True
    opts.check_connection_interval = 0
    opts.attempt_reconnect_interval = 0
    return opts


def test_the_python_client_with_an_api_key_over_tls_drives_a_motor(start_axle, tmp_path, monkeypatch):
    # Not "localhost" or 127.x: for those the SDK skips verifying the certificate.
    host = socket.gethostname()
    ca, cert, key = make_tls(tmp_path, host)
    axle = start_axle(secured(tls_cert_file=str(cert), tls_key_file=str(key)), bind="0.0.0.0:0")
    port = axle.address.rsplit(":", 1)[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))

    async def drive():
        robot = await RobotClient.at_address(f"{host}:{port}", api_key_options(X, KEYS[X]))
        left = Motor.from_robot(robot, "left")
        await left.set_power(0.4)
        assert await left.is_powered() == (True, 0.4)
        await robot.close()

        # The same client with a wrong key is refused.
        with pytest.raises(Exception):
            await RobotClient.at_address(f"{host}:{port}", api_key_options(X, "not-the-key"))

    run(drive())
    assert "listener requires API keys" in axle.log_text()
    assert f"authenticated entity={X}" in axle.log_text()


def test_with_auth_a_module_passes_on_the_clients_session_and_its_death_stops_everything(
    start_axle, tmp_path, monkeypatch
):
    from test_modules import base, module, DIFF_DRIVE
    from test_sessions import Client

    host = socket.gethostname()
    ca, cert, key = make_tls(tmp_path, host)
    config = secured(tls_cert_file=str(cert), tls_key_file=str(key))
    config["modules"] = [module("diff-drive", DIFF_DRIVE)]
    config["components"].append(base())
    axle = start_axle(config, bind="0.0.0.0:0")
    port = axle.address.rsplit(":", 1)[1]
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    client = Client("python", f"{host}:{port}", api_key=(X, KEYS[X]))
    assert client.send("base_power base 0.5 0") == "ok"

    async def watch():
        ch = Channel(host, int(port), ssl=True)
        t = await token(ch, Y, KEYS[Y])
        motors = MotorServiceStub(ch)

        async def powered():
            return [(await motors.IsPowered(IsPoweredRequest(name=n), metadata=bearer(t))).is_on for n in ("left", "right")]

        assert await powered() == [True, True], "the module drove the motors under the client's session"
        killed = time.monotonic()
        client.proc.kill()
        client.proc.wait()
        while any(await powered()):
            assert time.monotonic() - killed < 0.5 + 0.25, "not stopped within window + 250 ms"
            await asyncio.sleep(0.01)
        ch.close()

    run(watch())


def test_an_unauthenticated_listener_says_so(start_axle):
    axle = start_axle({"components": [motor("left")]})
    assert "listener is unauthenticated" in axle.log_text()


def test_a_main_part_authenticates_to_its_sub_part_and_wrong_keys_are_reported(start_axle, tmp_path):
    from conftest import connect

    sock = tmp_path / "sub.sock"
    sub = start_axle(secured(), args=["--socket", str(sock)])

    def main_part(secret):
        remote = {
            "name": "sub",
            "address": str(sock),
            "connection_check_interval": "200ms",
            "auth": {"entity": X, "credentials": {"type": "api-key", "payload": secret}},
        }
        return start_axle({"components": [motor("own")], "remotes": [remote]})

    main = main_part(KEYS[X])

    async def drive():
        robot = await connect(main.address)
        await Motor.from_robot(robot, "sub:left").set_power(0.5)
        await robot.close()
        ch = channel(sub.address)
        t = await token(ch, Y, KEYS[Y])
        on = (await MotorServiceStub(ch).IsPowered(IsPoweredRequest(name="left"), metadata=bearer(t))).is_on
        assert on, "the sub-part's motor did not move"
        ch.close()

    run(drive())
    assert f"authenticated entity={X}" in sub.log_text()

    wrong = main_part("not-the-secret")
    log = wrong.log_text()
    assert "cannot reach the remote part" in log and "authentication failed: invalid credentials" in log, log

    async def not_served():
        robot = await connect(wrong.address)
        assert [n.name for n in robot.resource_names] == ["own"]
        await robot.close()

    run(not_served())
