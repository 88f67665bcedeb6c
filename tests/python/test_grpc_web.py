"""grpc-web and HTTP/1.1 on the robot's own port, beside h2c gRPC, and the
origin check: a call from a web page of another origin is refused before it
reaches a service, so nothing moves."""

import http.client
import struct
import time

from viam.components.motor import Motor
from viam.proto.component.motor import GetPositionRequest, GetPositionResponse, SetPowerRequest

from conftest import connect, run

MOTOR = {"components": [{"name": "m", "api": "rdk:component:motor", "model": "fake"}]}


def grpc_web(address, path, message, origin=None, host=None):
    """One grpc-web call over HTTP/1.1: (HTTP status, headers, body)."""
    h, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(h, int(port), timeout=10)
    body = message.SerializeToString()
    headers = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}
    if origin:
        headers["origin"] = origin
    if host:
        headers["host"] = host
    conn.request("POST", path, struct.pack(">BI", 0, len(body)) + body, headers)
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return out


def frames(body):
    """grpc-web frames: (flag, payload)."""
    out = []
    while body:
        flag, n = struct.unpack(">BI", body[:5])
        out.append((flag, body[5:5 + n]))
        body = body[5 + n:]
    return out


def test_grpc_web_calls_work_from_the_page_origin(start_axle):
    axle = start_axle(MOTOR)
    port = axle.address.rsplit(":", 1)[1]
    status, headers, body = grpc_web(axle.address, "/viam.component.motor.v1.MotorService/GetPosition",
                                     GetPositionRequest(name="m"), origin=f"http://localhost:{port}",
                                     host=f"localhost:{port}")
    assert status == 200, (status, body)
    assert headers["access-control-allow-origin"] == f"http://localhost:{port}"
    data, trailers = frames(body)
    assert data[0] == 0 and GetPositionResponse.FromString(data[1]).position == 0
    assert trailers[0] == 0x80 and b"grpc-status:0" in trailers[1]


def test_a_foreign_origin_is_refused_and_nothing_moves(start_axle):
    axle = start_axle(MOTOR)
    port = axle.address.rsplit(":", 1)[1]
    status, headers, body = grpc_web(axle.address, "/viam.component.motor.v1.MotorService/SetPower",
                                     SetPowerRequest(name="m", power_pct=0.8), origin="http://localhost:9",
                                     host=f"localhost:{port}")
    assert status == 403 and headers["grpc-status"] == "7", (status, headers)
    assert b"network.cors_origins" in body
    assert "refused a call from a web page of another origin" in axle.log_text()

    async def moving():
        robot = await connect(axle.address)
        try:
            return await Motor.from_robot(robot, "m").is_moving()
        finally:
            await robot.close()
    time.sleep(0.2)
    assert run(moving()) is False


def test_listed_origins_may_call(start_axle):
    config = {**MOTOR, "network": {"cors_origins": ["https://dash.example.com"]}}
    axle = start_axle(config)
    status, headers, _ = grpc_web(axle.address, "/viam.component.motor.v1.MotorService/GetPosition",
                                  GetPositionRequest(name="m"), origin="https://dash.example.com")
    assert status == 200 and headers["access-control-allow-origin"] == "https://dash.example.com"


def test_bad_cors_origins_refuse_the_config(start_axle, tmp_path):
    import subprocess
    from conftest import AXLE
    cfg = tmp_path / "c.json"
    cfg.write_text('{"network": {"cors_origins": ["*"]}}')
    r = subprocess.run([AXLE, "--bind", "127.0.0.1:0", "--config", str(cfg)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0 and "network.cors_origins" in r.stderr, r.stderr


def test_the_page_is_served_at_the_root(start_axle):
    axle = start_axle(MOTOR)
    h, port = axle.address.rsplit(":", 1)
    conn = http.client.HTTPConnection(h, int(port), timeout=10)
    conn.request("GET", "/")
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("content-type").startswith("text/html")
    assert b"<" in r.read()
    conn.request("GET", "/nothing-here")
    r = conn.getresponse()
    assert r.status == 404
    r.read()
