"""Fixtures that run the real `axle` binary and connect the real viam-sdk client.

Every test starts its own axle on a free port (`--bind 127.0.0.1:0`) and reads
the address from axle's "listening" log line, so tests never collide.
"""

import asyncio
import json
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest
from viam.robot.client import RobotClient
from viam.rpc.dial import DialOptions

ROOT = pathlib.Path(__file__).resolve().parents[2]
AXLE = os.environ.get("AXLE_BIN", str(ROOT / "target" / "debug" / "axle"))


class Axle:
    """One running axle process; its log goes to a file in the test's tmp dir."""

    def __init__(self, workdir: pathlib.Path, config=None, args=(), bind="127.0.0.1:0", wrap=()):
        self.workdir = workdir
        self.log_path = workdir / f"axle-{time.monotonic_ns()}.log"
        # `wrap` runs axle inside something, e.g. `ip netns exec NAME`.
        cmd = [*wrap, AXLE, *(["--bind", bind] if bind else []), *args]
        self.config_path = None
        if config is not None:
            path = workdir / f"config-{time.monotonic_ns()}.json"
            path.write_text(config if isinstance(config, str) else json.dumps(config))
            cmd += ["--config", str(path)]
            self.config_path = path
        self.log = open(self.log_path, "w")
        # Modules get their data dirs under VIAM_HOME: keep them in the test's dir.
        env = {**os.environ, "VIAM_HOME": str(workdir / "viam-home")}
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.address = self._wait_listening()

    def _wait_listening(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(r"listening address=(\S+)", self.log_text())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"axle exited with {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.01)
        raise TimeoutError(f"axle did not start listening:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text()

    def signal_and_wait(self, sig=signal.SIGTERM, timeout=10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()


@pytest.fixture
def start_axle(tmp_path):
    """Starts axle processes; every one is stopped and reaped after the test."""
    started = []

    def start(config=None, args=(), bind="127.0.0.1:0", wrap=()):
        a = Axle(tmp_path, config, args, bind, wrap)
        started.append(a)
        return a

    yield start
    for a in started:
        a.signal_and_wait()


@pytest.fixture
def rover(start_axle):
    """axle serving its built-in rover."""
    return start_axle()


def options(**kwargs):
    return RobotClient.Options(
        dial_options=DialOptions(disable_webrtc=True, insecure=True),
        # The default connection checks would outlive short tests.
        check_connection_interval=0,
        attempt_reconnect_interval=0,
        **kwargs,
    )


async def connect(address: str) -> RobotClient:
    return await RobotClient.at_address(address, options())


def run(coro):
    """Tests are plain functions; each drives the async client to completion."""
    return asyncio.run(coro)
