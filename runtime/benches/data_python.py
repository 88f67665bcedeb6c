"""Data capture and sync figures, each against a baseline measured in the
same run (see data.rs). Run through `cargo bench -p axle-runtime --bench data`,
which passes the release axle as AXLE_BIN."""

import asyncio
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "python"))

from conftest import Axle, connect  # noqa: E402
from test_data import Seaweed, robot_config, s3_target, status, sync_now, wait_for  # noqa: E402
from viam.components.motor import Motor  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def captured(address):
    return sum(c["captured"] for c in status(address)["collectors"])


def capture_rate(work):
    print("capture: one collector, motor Position, no sync target")
    rows = []
    for hz in (100, 1000, 10000, 50000):
        cfg = robot_config(work / f"cap-{hz}", components=[{
            "name": "m", "api": "rdk:component:motor", "model": "fake", "service_configs": [
                {"type": "data_manager", "attributes": {"capture_methods": [
                    {"method": "Position", "capture_frequency_hz": hz}]}}]}])
        axle = Axle(work, cfg)
        try:
            time.sleep(2)
            n0, c0, t0 = captured(axle.address), cpu_seconds(axle.proc.pid), time.monotonic()
            time.sleep(10)
            n1, c1, t1 = captured(axle.address), cpu_seconds(axle.proc.pid), time.monotonic()
        finally:
            axle.signal_and_wait()
        rate = (n1 - n0) / (t1 - t0)
        cpu = (c1 - c0) / (t1 - t0)
        rows.append((hz, rate, cpu))
        print(f"  {hz:>5} Hz asked: {rate:8.0f} readings/s, axle {cpu * 100:5.1f} % of a core, "
              f"{cpu / rate * 1000 * 100:5.2f} % of a core per 1000 readings/s")
    # Baseline: the same read made by a client, as fast as it goes.
    axle = Axle(work, {"components": [{"name": "m", "api": "rdk:component:motor", "model": "fake"}]})
    try:
        async def loop():
            robot = await connect(axle.address)
            m = Motor.from_robot(robot, "m")
            n, end = 0, time.monotonic() + 10
            c0, t0 = cpu_seconds(axle.proc.pid), time.monotonic()
            while time.monotonic() < end:
                await asyncio.gather(*(m.get_position() for _ in range(16)))
                n += 16
            c1, t1 = cpu_seconds(axle.proc.pid), time.monotonic()
            await robot.close()
            return n / (t1 - t0), (c1 - c0) / (t1 - t0)
        calls, cpu = asyncio.run(loop())
    finally:
        axle.signal_and_wait()
    per_call = cpu / calls * 1000
    print(f"  baseline: client GetPosition {calls:8.0f} calls/s, axle {cpu * 100:5.1f} % of a core, "
          f"{per_call * 100:5.2f} % of a core per 1000 calls/s")
    best = max(rows, key=lambda r: r[1])
    per_reading = best[2] / best[1] * 1000
    print(f"  => sustained {best[1]:.0f} readings/s from one collector; a reading costs "
          f"{per_reading / per_call:.2f}x a client's GetPosition in axle's CPU")


def sync_throughput(work, seaweed):
    print("sync: 200 files of 256 KiB to SeaweedFS, 2 at a time")
    src = work / "files"
    blobs = [os.urandom(256 * 1024) for _ in range(200)]
    for rnd in range(2):
        capture_dir = work / f"sync-{rnd}"
        d = capture_dir / "rdk_component_motor" / "m" / "Position"
        d.mkdir(parents=True)
        for i, b in enumerate(blobs):
            (d / f"2026-01-01T00_00_{i:03d}.000000Z.capture").write_bytes(b)
        bucket = seaweed.bucket(f"bench-{rnd}")
        cfg = robot_config(capture_dir, s3_target(bucket), components=[], sync_disabled=True,
                           maximum_num_sync_threads=2, minimum_free_disk_bytes=0)
        axle = Axle(work, cfg)
        try:
            t0 = time.monotonic()
            sync_now(axle.address)
            axle_s = time.monotonic() - t0
        finally:
            axle.signal_and_wait()
        left = list(capture_dir.rglob("*.capture"))
        assert not left, f"{len(left)} files were not synced"
        client = seaweed.client()
        bucket2 = seaweed.bucket(f"bench-boto-{rnd}")
        t0 = time.monotonic()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda ib: client.put_object(Bucket=bucket2, Key=f"f/{ib[0]}.capture", Body=ib[1]),
                          enumerate(blobs)))
        boto_s = time.monotonic() - t0
        mb = len(blobs) * 256 * 1024 / 1e6
        print(f"  round {rnd + 1}: axle {mb / axle_s:6.1f} MB/s (pass incl. hashing and deletes), "
              f"boto3 {mb / boto_s:6.1f} MB/s => {boto_s / axle_s:.2f}x boto3's rate")


def rss_pending(work):
    print("memory: axle's RSS with 10 000 files pending (no target)")
    out = {}
    for n in (0, 10_000):
        capture_dir = work / f"rss-{n}"
        d = capture_dir / "rdk_component_motor" / "m" / "Position"
        d.mkdir(parents=True)
        for i in range(n):
            (d / f"f{i:05d}.capture").write_bytes(b"x" * 1024)
        axle = Axle(work, robot_config(capture_dir, components=[], minimum_free_disk_bytes=0))
        try:
            wait_for("the survey", lambda: status(axle.address)["sync"]["pending_files"] == n, timeout=60)
            time.sleep(3)
            out[n] = rss_mib(axle.proc.pid)
        finally:
            axle.signal_and_wait()
    print(f"  0 pending: {out[0]:.1f} MiB; 10 000 pending: {out[10_000]:.1f} MiB "
          f"=> {out[10_000] / out[0]:.2f}x")


def main():
    work = Path(tempfile.mkdtemp(prefix="axle-data-bench-"))
    try:
        capture_rate(work)
        seaweed = Seaweed(work)
        try:
            sync_throughput(work, seaweed)
        finally:
            seaweed.stop()
        rss_pending(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
