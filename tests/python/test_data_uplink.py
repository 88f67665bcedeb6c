"""Data sync when the robot's uplink is cut: the store (SeaweedFS) lives in a
network namespace of its own, reachable only over one veth link, which the
test takes down for 20 s. A cut link answers nothing (no refusal, no reset),
the hardest kind of offline. Needs root; runs inside `tests/netns.sh`, so
nothing leaves the machine.

    this namespace 10.78.0.1 ── veth ── 10.78.0.2 store (weed mini)
"""

import os
import subprocess
import time

import pytest

from test_data import (Seaweed, check_exactly_once, local_files, robot_config, s3_target, status,
                       stop_capturing, wait_for)

STORE_IP = "10.78.0.2"


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@pytest.fixture
def store(tmp_path):
    if not os.environ.get("AXLE_NETNS"):
        pytest.skip("runs inside tests/netns.sh (a network namespace of its own)")
    tag = f"dsu{os.getpid() % 100000}"
    ns, link = f"{tag}-store", f"{tag}-up"
    ip("netns", "add", ns)
    seaweed = None
    try:
        ip("link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns)
        ip("addr", "add", "10.78.0.1/24", "dev", link)
        ip("link", "set", link, "up")
        ip("netns", "exec", ns, "ip", "addr", "add", f"{STORE_IP}/24", "dev", "eth0")
        ip("netns", "exec", ns, "ip", "link", "set", "eth0", "up")
        ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        seaweed = Seaweed(tmp_path, ip=STORE_IP, wrap=["ip", "netns", "exec", ns])
        yield seaweed, link
    finally:
        if seaweed:
            seaweed.stop()
            seaweed.log.close()
        subprocess.run(["ip", "link", "del", link], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_a_cut_uplink_pauses_sync_and_every_record_arrives_once_after(store, start_axle, tmp_path):
    seaweed, link = store
    bucket = seaweed.bucket("uplink")
    capture_dir = tmp_path / "capture"
    config = robot_config(capture_dir, s3_target(bucket, endpoint=seaweed.endpoint))
    axle = start_axle(config)
    wait_for("a first upload", lambda: seaweed.objects(bucket), timeout=30)
    ip("link", "set", link, "down")
    try:
        wait_for("sync to say offline", lambda: status(axle.address)["sync"]["state"] == "offline", timeout=60)
        time.sleep(10)
        s = status(axle.address)
        assert s["sync"]["state"] == "offline", s["sync"]
        assert all(c["errors"] == 0 for c in s["collectors"]), "capture goes on"
    finally:
        ip("link", "set", link, "up")
    assert axle.log_text().count("sync paused: offline") == 1, "said once, not every tick"
    wait_for("sync to resume", lambda: status(axle.address)["sync"]["state"] == "running", timeout=90)
    captured = stop_capturing(axle, config)
    wait_for("the capture directory to drain", lambda: not local_files(capture_dir), timeout=90)
    check_exactly_once(tmp_path, seaweed.objects(bucket), captured)
