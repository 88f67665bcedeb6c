"""Browser figures (see browser.rs): page load to the first resource list,
and grpc-web GetPosition p50 against h2c, both from this machine."""

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "python"))

from conftest import Axle  # noqa: E402
from grpclib.client import Channel  # noqa: E402
from test_browser import Browser, page_url, rover  # noqa: E402
from viam.proto.component.motor import GetPositionRequest, GetPositionResponse, MotorServiceStub  # noqa: E402

CALLS = 500


def page_loads(axle, n=10):
    b = Browser()
    try:
        times = []
        for _ in range(n):
            t0 = time.monotonic()
            tab = b.do("open", url=page_url(axle))["tab"]
            b.do("wait", tab=tab, selector='.card[data-name="m1"]')
            times.append((time.monotonic() - t0) * 1000)
            b.do("close", tab=tab)
        return times
    finally:
        b.close()


def grpc_web_calls(address):
    """Over one kept-alive HTTP/1.1 connection, as a browser does."""
    import http.client
    import struct
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body = GetPositionRequest(name="m1").SerializeToString()
    frame = struct.pack(">BI", 0, len(body)) + body
    headers = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1",
               "origin": f"http://localhost:{port}", "host": f"localhost:{port}"}
    times = []
    for i in range(CALLS + 1):
        t0 = time.perf_counter()
        conn.request("POST", "/viam.component.motor.v1.MotorService/GetPosition", frame, headers)
        r = conn.getresponse()
        r.read()
        if i:
            times.append((time.perf_counter() - t0) * 1000)
        assert r.status == 200
    conn.close()
    return times


async def h2c_calls(address):
    host, port = address.rsplit(":", 1)
    ch = Channel(host, int(port))
    stub = MotorServiceStub(ch)
    await stub.GetPosition(GetPositionRequest(name="m1"))
    times = []
    for _ in range(CALLS):
        t0 = time.perf_counter()
        r = await stub.GetPosition(GetPositionRequest(name="m1"))
        times.append((time.perf_counter() - t0) * 1000)
        assert isinstance(r, GetPositionResponse)
    ch.close()
    return times


def main():
    work = Path(tempfile.mkdtemp(prefix="axle-browser-bench-"))
    axle = Axle(work, rover())
    try:
        loads = page_loads(axle)
        print(f"page load to the first resource list: median {statistics.median(loads):.0f} ms, "
              f"max {max(loads):.0f} ms ({len(loads)} loads, fresh tab each)")
        web = grpc_web_calls(axle.address)
        h2c = asyncio.run(h2c_calls(axle.address))
        pw, ph = statistics.median(web), statistics.median(h2c)
        print(f"GetPosition p50: grpc-web (HTTP/1.1, kept alive) {pw:.2f} ms, "
              f"h2c {ph:.2f} ms => {pw / ph:.2f}x")
    finally:
        axle.signal_and_wait()


if __name__ == "__main__":
    main()
