"""The control page as a new user meets it: at the address the robot prints
(127.0.0.1), at its LAN address and host name from another machine (here a
network namespace), with an API key; a card for every built-in API whose
state shows and whose main action works; and a robot restart that the page
notices, starting a new session by itself.

Runs inside tests/netns.sh, with Chromium: nothing leaves the machine."""

import json
import os
import signal
import socket
import subprocess
import time

import pytest
from viam.components.arm import Arm
from viam.components.gantry import Gantry
from viam.components.servo import Servo
from viam.components.switch import Switch

from test_browser import SHOTS, Browser, Watcher, rover, watch  # noqa: F401 (a fixture)

KEY_ID, KEY = "9c7d4e1a-2b3c-4d5e-8f90-a1b2c3d4e5f6", "s" * 32


def card_ready(browser, tab, name="m1"):
    browser.do("wait", tab=tab, selector=f'.card[data-name="{name}"] .state:not(:empty)')
    browser.do("wait", tab=tab, selector="#session:not(:empty)")


def drive_motor(browser, tab, w, name="m1"):
    """The page's "go for 1 rev" moves the motor, as the Python client sees
    (or, on a robot that needs a key, as the page's own card shows: the
    Python client cannot send a key without TLS)."""
    browser.do("click", tab=tab, selector=f'.card[data-name="{name}"] button[data-action="go-for"]')
    if w:
        w.wait("motor", name, True, timeout=5)
    else:
        browser.do("wait", tab=tab, selector=f'.card[data-name="{name}"] .state[data-moving="true"]')


def login(browser, tab):
    browser.do("wait", tab=tab, selector="#login:not([hidden])")
    browser.do("fill", tab=tab, selector="#key-id", text=KEY_ID)
    browser.do("fill", tab=tab, selector="#key", text=KEY)
    browser.do("click", tab=tab, selector="#login button")


def with_key(config):
    return {**config, "auth": {"handlers": [{"type": "api-key", "config": {KEY_ID: KEY}}]}}


@pytest.fixture
def browser_for():
    made = []

    def make(*extra_args):
        os.environ["CHROMIUM_EXTRA_ARGS"] = json.dumps(list(extra_args))
        try:
            b = Browser()
        finally:
            os.environ.pop("CHROMIUM_EXTRA_ARGS", None)
        made.append(b)
        return b
    yield make
    for b in made:
        b.close()


def test_the_page_works_at_127_0_0_1_the_address_axle_prints(browser_for, start_axle, watch):
    browser = browser_for()
    for config in (rover(), with_key(rover())):
        axle = start_axle(config)
        assert f"control page: http://{axle.address}/" in axle.log_text()
        w = None if "auth" in config else watch(axle.address)
        tab = browser.do("open", url=f"http://{axle.address}/")["tab"]
        if "auth" in config:
            login(browser, tab)
        card_ready(browser, tab)
        drive_motor(browser, tab, w)


class Lan:
    """A robot in a network namespace of its own, behind a veth pair: the
    test's namespace is the laptop at .1, the robot is at .2. Torn down by
    name."""

    def __init__(self):
        self.ns = f"axle-page-{os.getpid() % 100000}"
        self.outer = f"ap{os.getpid() % 100000}"
        self.robot_ip, self.laptop_ip = "10.203.7.2", "10.203.7.1"
        ip = lambda *a: subprocess.run(["ip", *a], check=True, capture_output=True)  # noqa: E731
        ip("netns", "add", self.ns)
        try:
            ip("-n", self.ns, "link", "set", "lo", "up")
            ip("link", "add", self.outer, "type", "veth", "peer", "name", "eth0", "netns", self.ns)
            ip("addr", "add", f"{self.laptop_ip}/24", "dev", self.outer)
            ip("link", "set", self.outer, "up")
            ip("-n", self.ns, "addr", "add", f"{self.robot_ip}/24", "dev", "eth0")
            ip("-n", self.ns, "link", "set", "eth0", "up")
        except subprocess.CalledProcessError:
            self.close()
            raise

    def wrap(self):
        return ["ip", "netns", "exec", self.ns]

    def close(self):
        subprocess.run(["ip", "link", "del", self.outer], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


@pytest.fixture
def lan():
    if os.geteuid() != 0:
        pytest.skip("needs root to make a network namespace")
    net = Lan()
    yield net
    net.close()


def test_the_page_works_at_a_lan_address_and_a_host_name_with_and_without_a_key(browser_for, start_axle, watch, lan):
    browser = browser_for(f"--host-resolver-rules=MAP rover.lan {lan.robot_ip}")
    for config in (rover(), with_key(rover())):
        axle = start_axle(config, bind="0.0.0.0:0", wrap=lan.wrap())
        port = axle.address.rsplit(":", 1)[1]
        assert f"control page: http://localhost:{port}/ (or this machine's address" in axle.log_text()
        w = None if "auth" in config else watch(f"{lan.robot_ip}:{port}")
        for host in (lan.robot_ip, "rover.lan"):
            tab = browser.do("open", url=f"http://{host}:{port}/")["tab"]
            if "auth" in config:
                login(browser, tab)
            card_ready(browser, tab)
            drive_motor(browser, tab, w)
            browser.do("click", tab=tab, selector="#stop-all")
            browser.do("close", tab=tab)


def every_api(capture_dir, usb):
    def c(api, name, **attributes):
        kind = "service" if api in ("generic_service", "base_remote_control", "data_manager") else "component"
        api = api.removesuffix("_service")
        model = "builtin" if api in ("base_remote_control", "data_manager") else "fake"
        return {"name": name, "api": f"rdk:{kind}:{api}", "model": model, "attributes": attributes}
    return {
        "network": {"sessions": {"heartbeat_window": "500ms"}},
        "components": [
            c("motor", "m1"), c("base", "base"), c("input_controller", "pad"), c("servo", "servo"),
            c("gripper", "gripper"), c("arm", "arm"), c("gantry", "gantry"), c("sensor", "temp"),
            c("movement_sensor", "gps"), c("power_sensor", "battery"),
            c("camera", "cam", width_px=160, height_px=120), c("button", "bell"),
            c("switch", "lights", position_count=3), c("generic", "thing"),
            c("encoder", "ticks", ticks_per_second=10),
        ],
        "services": [
            c("generic_service", "helper"),
            c("base_remote_control", "rc", base="base", input_controller="pad"),
            c("data_manager", "data", capture_dir=str(capture_dir), sync_interval_mins=10,
              sync_target={"url": f"file://{usb}"}),
        ],
    }


def card_text(browser, tab, name):
    js = f"document.querySelector('.card[data-name=\"{name}\"]').innerText"
    return browser.do("eval", tab=tab, js=js)["value"]


def until(what, check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        time.sleep(0.05)


def test_every_built_in_api_has_a_card_whose_state_shows_and_whose_action_works(browser_for, start_axle, watch, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    axle = start_axle(every_api(tmp_path / "capture", usb))
    w = watch(axle.address)
    browser = browser_for()
    tab = browser.do("open", url=f"http://{axle.address}/")["tab"]
    card_ready(browser, tab)
    time.sleep(2)
    cards = browser.do("eval", tab=tab, js="""[...document.querySelectorAll('.card')].map(c => ({
        name: c.dataset.name, kind: c.dataset.kind,
        waiting: [...c.querySelectorAll('.state, .readings')].some(s => s.textContent.trim() === '…'),
        errors: [...c.querySelectorAll('.error')].map(e => e.textContent)}))""")["value"]
    assert len(cards) == 18, [c["name"] for c in cards]
    assert not [c for c in cards if c["waiting"]], [c["name"] for c in cards if c["waiting"]]
    assert not [c for c in cards if c["errors"]], [c for c in cards if c["errors"]]

    def click(name, action):
        browser.do("click", tab=tab, selector=f'.card[data-name="{name}"] button[data-action="{action}"]')

    def robot(cls, name):
        return cls.from_robot(w.robot, name)

    browser.do("fill", tab=tab, selector='.card[data-name="arm"] input', text="30, 45, 10")
    click("arm", "move")
    until(lambda: f"the arm at 30°, 45°, 10°: {card_text(browser, tab, 'arm')}",
          lambda: [round(j) for j in w.call(robot(Arm, "arm").get_joint_positions()).values] == [30, 45, 10])
    click("servo", "move")
    until("the servo at 90°", lambda: w.call(robot(Servo, "servo").get_position()) == 90)
    click("gantry", "move")
    until(lambda: f"the gantry at 100, 200, 50: {card_text(browser, tab, 'gantry')}", lambda: [round(p) for p in w.call(robot(Gantry, "gantry").get_position())] == [100, 200, 50])
    click("lights", "set-2")
    until("the switch at 2", lambda: w.call(robot(Switch, "lights").get_position()) == 2)
    click("bell", "push")
    until("the push to show", lambda: "pushed 1×" in card_text(browser, tab, "bell"))
    for action in ("open", "grab"):
        click("gripper", action)
    click("ticks", "reset")
    for name in ("thing", "helper"):
        click(name, "send")
        until(f"{name}'s answer", lambda: "answered" in card_text(browser, tab, name))
    browser.do("fill", tab=tab, selector='.card[data-name="rc"] input', text='{"status": true}')
    click("rc", "send")
    until(lambda: f"remote control's status: {card_text(browser, tab, 'rc')}", lambda: "arrowControl" in card_text(browser, tab, "rc"))
    click("data", "sync")
    until("the sync", lambda: "synced at" in card_text(browser, tab, "data"))
    assert "lat " in card_text(browser, tab, "gps") and "velocity" in card_text(browser, tab, "gps")
    assert " V DC" in card_text(browser, tab, "battery")
    assert "sync running" in card_text(browser, tab, "data")
    errors = browser.do("eval", tab=tab, js="[...document.querySelectorAll('.card .error')].map(e => e.closest('.card').dataset.name + ': ' + e.textContent)")["value"]
    assert not errors, errors
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.do("screenshot", tab=tab, path=str(SHOTS / "page-every-api.png"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_after_the_robot_restarts_the_page_starts_a_new_session_and_drives_again(browser_for, start_axle, tmp_path):
    port = free_port()
    config = rover()
    axle = start_axle(config, bind=f"127.0.0.1:{port}")
    browser = browser_for()
    tab = browser.do("open", url=f"http://127.0.0.1:{port}/")["tab"]
    card_ready(browser, tab)
    session = lambda: browser.do("eval", tab=tab, js="document.querySelector('#session').textContent")["value"]  # noqa: E731
    state = lambda: browser.do("eval", tab=tab, js="document.querySelector('#state').textContent")["value"]  # noqa: E731
    first = session()
    axle.proc.send_signal(signal.SIGKILL)
    axle.proc.wait()
    until("the page to say the connection is lost", lambda: "connection lost" in state(), timeout=2)
    time.sleep(1)
    again = start_axle(config, bind=f"127.0.0.1:{port}")
    served = time.monotonic()
    until("a new session", lambda: session() not in ("", first) and "restarted" in state(), timeout=2)
    took = time.monotonic() - served
    w = Watcher(again.address)
    try:
        drive_motor(browser, tab, w)
        assert w.call(w.robot.get_machine_status()).resources
    finally:
        w.close()
    print(f"new session {took * 1000:.0f} ms after the robot served again")
