"""The control page in a real browser: Debian's Chromium driven by
playwright-core (tests/browser/driver.mjs), against the real axle, checked
by the real Python client. Runs inside tests/netns.sh: nothing leaves.

Stop bounds are safety bounds: releasing a drive control stops within
100 ms; a killed tab's motion stops within window + 100 ms."""

import asyncio
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from viam.components.base import Base
from viam.components.input import Controller
from viam.components.motor import Motor

from viam.robot.client import RobotClient

from conftest import ROOT, connect

DRIVER = ROOT / "target" / "browser" / "driver.mjs"
SHOTS = ROOT / "target" / "screenshots"
WINDOW_S = 0.5


class Browser:
    """One Chromium, driven by line commands."""

    def __init__(self):
        if not DRIVER.exists():
            pytest.fail(f"{DRIVER} is missing: the test command installs playwright-core there")
        self.proc = subprocess.Popen(["node", str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=DRIVER.parent)
        self.pid = json.loads(self.proc.stdout.readline())["pid"]

    def do(self, op, **kw):
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the browser driver exited")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise RuntimeError(f"{op}: {answer.get('error')}")
        return answer

    def close(self):
        try:
            if self.proc.poll() is None:
                self.do("quit")
        except (RuntimeError, BrokenPipeError, OSError):
            pass
        for pid in (self.pid,):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, TypeError):
                pass
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def rover(**network):
    return {
        "network": {"sessions": {"heartbeat_window": "500ms"}, **network},
        "components": [
            {"name": "base", "api": "rdk:component:base", "model": "fake"},
            {"name": "m1", "api": "rdk:component:motor", "model": "fake"},
            {"name": "m2", "api": "rdk:component:motor", "model": "fake"},
            {"name": "temp", "api": "rdk:component:sensor", "model": "fake"},
            {"name": "cam", "api": "rdk:component:camera", "model": "fake",
             "attributes": {"width_px": 160, "height_px": 120}},
            {"name": "pad", "api": "rdk:component:input_controller", "model": "fake"},
        ],
    }


def page_url(axle):
    # The SDK dials directly only to a host containing "local".
    return f"http://localhost:{axle.address.rsplit(':', 1)[1]}/"


class Watcher:
    """A Python client on its own event loop thread, to check the robot."""

    def __init__(self, address, opts=None):
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.robot = self.call(RobotClient.at_address(address, opts) if opts else connect(address))

    def call(self, coro, timeout=20):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def moving(self, kind, name):
        cls = Base if kind == "base" else Motor
        return self.call(cls.from_robot(self.robot, name).is_moving())

    def wait(self, kind, name, moving, timeout):
        """Seconds until `name` is (not) moving, polling fast."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.moving(kind, name) == moving:
                return time.monotonic() - t0
            time.sleep(0.005)
        raise AssertionError(f"{name} still {'not ' if moving else ''}moving after {timeout} s")

    def close(self):
        self.call(self.robot.close())
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def watch():
    made = []

    def make(address, opts=None):
        w = Watcher(address, opts)
        made.append(w)
        return w
    yield make
    for w in made:
        w.close()


def open_page(browser, axle, **size):
    tab = browser.do("open", url=page_url(axle), **size)["tab"]
    browser.do("wait", tab=tab, selector='.card[data-name="base"] button[data-action="forward"]')
    browser.do("wait", tab=tab, selector="#session:not(:empty)")
    return tab


def test_the_page_lists_resources_and_drives_the_base_while_held(browser, start_axle, watch):
    axle = start_axle(rover())
    w = watch(axle.address)
    tab = open_page(browser, axle)
    kinds = browser.do("eval", tab=tab, js="[...document.querySelectorAll('.card')].map(c => c.dataset.kind + '/' + c.dataset.name)")["value"]
    assert {"base/base", "motor/m1", "motor/m2", "sensor/temp", "camera/cam"} <= set(kinds), kinds
    forward = '.card[data-name="base"] button[data-action="forward"]'
    for let_go in ("up", "leave"):
        browser.do("down", tab=tab, selector=forward)
        w.wait("base", "base", True, timeout=5)
        t0 = time.monotonic()
        browser.do(let_go, tab=tab)
        w.wait("base", "base", False, timeout=2)
        stopped = time.monotonic() - t0
        # 100 ms, plus up to 50 ms for the driver's own round trip and the watcher's polls.
        assert stopped < 0.1 + 0.05, f"{let_go}: the base stopped {stopped * 1000:.0f} ms after release"
        if let_go == "up":
            browser.do("leave", tab=tab)


def test_the_page_shows_input_controller_events_as_they_happen(browser, start_axle, watch):
    axle = start_axle(rover())
    w = watch(axle.address)
    tab = open_page(browser, axle)
    pad = Controller.from_robot(w.robot, "pad")
    w.call(pad.do_command({"hold": {"control": "AbsoluteX", "value": 0.5, "for_ms": 3000, "hz": 20}}))
    # Streamed, not polled: many events of one control, not just its latest.
    js = """new Promise(r => { const end = Date.now() + 5000; const t = setInterval(() => {
        const n = [...document.querySelectorAll('.card[data-name="pad"] .events li')]
            .filter(li => li.textContent.startsWith('AbsoluteX PositionChangeAbs 0.50')).length;
        if (n >= 5 || Date.now() > end) { clearInterval(t); r(n); } }, 20); })"""
    assert browser.do("eval", tab=tab, js=js)["value"] >= 5


def test_a_killed_tab_stops_the_base_within_the_window(browser, start_axle, watch):
    axle = start_axle(rover())
    w = watch(axle.address)
    tab = open_page(browser, axle)
    browser.do("down", tab=tab, selector='.card[data-name="base"] button[data-action="forward"]')
    w.wait("base", "base", True, timeout=5)
    t0 = time.monotonic()
    os.kill(browser.pid, signal.SIGKILL)
    stopped = w.wait("base", "base", False, timeout=5)
    assert stopped < WINDOW_S + 0.1, f"stopped {stopped * 1000:.0f} ms after the kill"


def test_two_tabs_drive_two_motors_and_closing_one_stops_only_its_own(browser, start_axle, watch):
    axle = start_axle(rover())
    w = watch(axle.address)
    a, b = open_page(browser, axle), open_page(browser, axle)
    browser.do("down", tab=a, selector='.card[data-name="m1"] button[data-action="hold"]')
    browser.do("down", tab=b, selector='.card[data-name="m2"] button[data-action="hold"]')
    w.wait("motor", "m1", True, timeout=5)
    w.wait("motor", "m2", True, timeout=5)
    # Each page says which session drives each motor.
    assert driver_line(browser, a, "m1", "driven by this page") == "driven by this page's session"
    assert driver_line(browser, b, "m1", "driven by session ").startswith("driven by session ")
    assert driver_line(browser, b, "m2", "driven by this page") == "driven by this page's session"
    browser.do("close", tab=a)
    w.wait("motor", "m1", False, timeout=WINDOW_S + 0.6)
    time.sleep(WINDOW_S * 2)
    assert w.moving("motor", "m2"), "the other tab's motor runs on"
    assert driver_line(browser, b, "m1", "no session") == "no session drives it"


def driver_line(browser, tab, motor, expected, timeout_ms=5000):
    """The "who drives it" line of a motor's card, once it starts with
    `expected` (or whatever it says after `timeout_ms`)."""
    js = f"""new Promise(r => {{
        const line = () => document.querySelector('.card[data-name="{motor}"] .driver')?.textContent ?? '';
        const end = Date.now() + {timeout_ms};
        const t = setInterval(() => {{
            if (line().startsWith({json.dumps(expected)}) || Date.now() > end) {{ clearInterval(t); r(line()); }}
        }}, 50);
    }})"""
    return browser.do("eval", tab=tab, js=js)["value"]


def test_a_page_of_another_origin_is_refused_and_nothing_moves(browser, start_axle, watch, tmp_path):
    axle = start_axle(rover())
    w = watch(axle.address)
    (tmp_path / "index.html").write_text("<!doctype html><title>elsewhere</title>")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tab = browser.do("open", url=f"http://localhost:{server.server_address[1]}/")["tab"]
        # SetPower{name: "m1", power_pct: 0.8}, as grpc-web.
        js = f"""(async () => {{
            const msg = new Uint8Array([0x0a, 0x02, 0x6d, 0x31, 0x11, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xe9, 0x3f]);
            const body = new Uint8Array(5 + msg.length); body[4] = msg.length; body.set(msg, 5);
            try {{
              const r = await fetch('{page_url(axle)}viam.component.motor.v1.MotorService/SetPower', {{
                method: 'POST', body, headers: {{'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1'}}}});
              return 'answered ' + r.status;
            }} catch (e) {{ return 'failed: ' + e.message; }}
        }})()"""
        result = browser.do("eval", tab=tab, js=js)["value"]
    finally:
        server.shutdown()
    assert result.startswith("failed") or result == "answered 403", result
    assert "refused a call from a web page of another origin" in axle.log_text()
    assert not w.moving("motor", "m1")


def test_the_login_form_takes_an_api_key_and_refuses_a_wrong_one(browser, start_axle):
    key_id, key = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "k" * 32
    config = {**rover(), "auth": {"handlers": [{"type": "api-key", "config": {key_id: key}}]}}
    axle = start_axle(config)
    tab = browser.do("open", url=page_url(axle))["tab"]
    browser.do("wait", tab=tab, selector="#login:not([hidden])")
    browser.do("fill", tab=tab, selector="#key-id", text=key_id)
    browser.do("fill", tab=tab, selector="#key", text="wrong")
    browser.do("click", tab=tab, selector="#login button")
    browser.do("wait", tab=tab, selector="#state.bad")
    said = browser.do("eval", tab=tab, js="document.querySelector('#state').textContent")["value"]
    assert "refused" in said, said
    browser.do("fill", tab=tab, selector="#key", text=key)
    browser.do("click", tab=tab, selector="#login button")
    browser.do("wait", tab=tab, selector='.card[data-name="base"]')


def test_screenshots_desktop_and_phone(browser, start_axle):
    axle = start_axle(rover())
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in (("desktop", (1280, 800)), ("phone", (390, 844))):
        tab = open_page(browser, axle, width=size[0], height=size[1])
        browser.do("wait", tab=tab, selector='.card[data-name="cam"] img[src^="blob:"]')
        time.sleep(1.2)
        path = SHOTS / f"page-{name}.png"
        browser.do("screenshot", tab=tab, path=str(path))
        assert path.stat().st_size > 10_000


def sdk_page(tmp_path):
    """Builds tests/browser/sdk-test.ts with the page's own toolchain
    (target/web-check) and serves it from a port of its own."""
    check = ROOT / "target" / "web-check"
    site = tmp_path / "sdk-site"
    site.mkdir()
    shutil.copy(ROOT / "tests" / "browser" / "sdk-test.ts", check / "sdk-test.ts")
    subprocess.run([str(check / "node_modules" / ".bin" / "esbuild"), "sdk-test.ts", "--bundle", "--format=esm",
                    f"--outfile={site / 'sdk.js'}"], cwd=check, check=True, capture_output=True, timeout=60)
    (site / "index.html").write_text('<!doctype html><title>sdk</title><script type="module" src="/sdk.js"></script>')
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(site), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_address[1]}"


def open_sdk_page(browser, origin):
    """A tab on the SDK test page, once its script has loaded."""
    tab = browser.do("open", url=origin + "/")["tab"]
    browser.do("eval", tab=tab, js="new Promise(r => { const t = setInterval(() => { if (window.ready) { clearInterval(t); r(true); } }, 20); })")
    return tab


def sdk(browser, tab, call):
    """Calls the test page's SDK; an SDK error comes back as its message."""
    js = f"window.sdk.{call}.then(v => ({{v}}), e => ({{error: String(e && e.message || e)}}))"
    answer = browser.do("eval", tab=tab, js=js)["value"]
    if "error" in answer:
        raise AssertionError(f"{call}: {answer['error']}")
    return answer.get("v")


def test_the_typescript_sdk_over_grpc_web_sessions_events_and_a_killed_tab(browser, start_axle, watch, tmp_path):
    server, origin = sdk_page(tmp_path)
    try:
        axle = start_axle(rover(cors_origins=[origin]))
        w = watch(axle.address)
        host = page_url(axle).rstrip("/")
        tab = open_sdk_page(browser, origin)
        sid = sdk(browser, tab, f"dial({json.dumps(host)}, false)")
        assert sid and sid in sdk(browser, tab, "sessions()"), "GetSessions lists the page's session"
        sdk(browser, tab, "setPower('m1', 0.5)")
        w.wait("motor", "m1", True, timeout=5)

        pad = Controller.from_robot(w.robot, "pad")
        w.call(pad.do_command({"hold": {"control": "AbsoluteX", "value": 0.5, "for_ms": 3000, "hz": 20}}))
        events = sdk(browser, tab, "events('pad', 'AbsoluteX', 3)")
        assert events == ["AbsoluteX PositionChangeAbs"] * 3, events

        os.kill(browser.pid, signal.SIGKILL)
        stopped = w.wait("motor", "m1", False, timeout=5)
        assert stopped < WINDOW_S + 0.1, f"stopped {stopped * 1000:.0f} ms after the kill"
    finally:
        server.shutdown()


def test_the_typescript_sdk_without_sessions_leaves_its_motor_running(start_axle, watch, tmp_path):
    server, origin = sdk_page(tmp_path)
    b = Browser()
    try:
        axle = start_axle(rover(cors_origins=[origin]))
        w = watch(axle.address)
        tab = open_sdk_page(b, origin)
        assert b.do("eval", tab=tab, js=f"window.sdk.dial({json.dumps(page_url(axle).rstrip('/'))}, true)")["value"] == ""
        b.do("eval", tab=tab, js="window.sdk.setPower('m2', 0.5)")
        w.wait("motor", "m2", True, timeout=5)
        os.kill(b.pid, signal.SIGKILL)
        time.sleep(WINDOW_S * 3)
        assert w.moving("motor", "m2"), "disableSessions: nothing owns the motion, as asked"
    finally:
        b.close()
        server.shutdown()



def test_the_typescript_sdk_over_webrtc_with_axle_as_its_signaling_server(browser, start_axle, watch, tmp_path):
    server, origin = sdk_page(tmp_path)
    try:
        axle = start_axle(rover(cors_origins=[origin]))
        w = watch(axle.address)
        url = page_url(axle).rstrip("/")
        port = url.rsplit(":", 1)[1]
        tab = open_sdk_page(browser, origin)
        got = sdk(browser, tab, f"dialWebRTC({json.dumps(url)}, {json.dumps('localhost:' + port)})")
        assert got["ice"] in ("connected", "completed"), got
        assert "WebRTC peer connected" in axle.log_text()
        assert got["sid"], "the SDK started its session over the peer connection"
        assert got["sid"] in sdk(browser, tab, "sessions()"), "GetSessions over WebRTC lists it"
        sdk(browser, tab, "setPower('m1', 0.5)")
        w.wait("motor", "m1", True, timeout=5)
        pad = Controller.from_robot(w.robot, "pad")
        w.call(pad.do_command({"hold": {"control": "AbsoluteX", "value": 0.5, "for_ms": 3000, "hz": 20}}))
        assert sdk(browser, tab, "events('pad', 'AbsoluteX', 3)") == ["AbsoluteX PositionChangeAbs"] * 3
        os.kill(browser.pid, signal.SIGKILL)
        stopped = w.wait("motor", "m1", False, timeout=5)
        assert stopped < WINDOW_S + 0.1, f"stopped {stopped * 1000:.0f} ms after the kill"
    finally:
        server.shutdown()
