"""The control page's committed bundle is what its committed source builds:
a fresh `npm ci && npm run build` (the test command ran `npm ci` in
target/web-check) reproduces runtime/web/dist/app.js byte for byte."""

import shutil
import subprocess

import pytest

from conftest import ROOT

WEB = ROOT / "runtime" / "web"
CHECK = ROOT / "target" / "web-check"


def test_a_fresh_build_reproduces_the_committed_bundle():
    if not (CHECK / "node_modules").exists():
        pytest.fail(f"{CHECK}/node_modules is missing: the test command runs npm ci there")
    for f in ("package.json", "package-lock.json"):
        assert (CHECK / f).read_bytes() == (WEB / f).read_bytes(), f"{f} changed since npm ci ran"
    shutil.rmtree(CHECK / "src", ignore_errors=True)
    shutil.copytree(WEB / "src", CHECK / "src")
    shutil.rmtree(CHECK / "dist", ignore_errors=True)
    subprocess.run(["npm", "run", "build"], cwd=CHECK, check=True, capture_output=True, timeout=120)
    built = (CHECK / "dist" / "app.js").read_bytes()
    committed = (WEB / "dist" / "app.js").read_bytes()
    assert built == committed, "runtime/web/dist/app.js is stale: run `npm ci && npm run build` in runtime/web"
    assert len(committed) < 512 * 1024, f"the bundle grew to {len(committed)} bytes"
