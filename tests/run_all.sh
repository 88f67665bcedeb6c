#!/usr/bin/env bash
# The whole test suite, from a fresh clone: Rust unit tests, then the
# acceptance tests that drive the real `axle` binary with the real Python
# viam-sdk client (installed into a venv under target/).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/venv
PY_DEPS=(viam-sdk==0.85.1 pytest==8.3.4)

# The WebRTC tests make network namespaces: `unshare` (util-linux) and `ip`
# (iproute2). Debian images have both; install them where they are missing.
if ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
  echo "== apt-get install iproute2 util-linux"
  apt-get update -qq && apt-get install -y -qq iproute2 util-linux
fi

echo "== cargo build"
cargo build --workspace --all-targets

echo "== cargo test"
cargo test --workspace

echo "== python venv ($VENV)"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qx "viam-sdk==0.85.1"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_DEPS[@]}"
fi

echo "== acceptance tests (real axle, real viam-sdk)"
AXLE_BIN="$PWD/target/debug/axle" "$VENV/bin/python" -m pytest -q tests/python \
  --ignore=tests/python/test_webrtc.py "$@"

# WebRTC clients look up public STUN hosts and multicast mDNS queries: these
# tests run in a network namespace of their own, where nothing leaves.
echo "== WebRTC tests (in a network namespace)"
tests/netns.sh cargo test -p axle-runtime --test webrtc
AXLE_BIN="$PWD/target/debug/axle" tests/netns.sh "$VENV/bin/python" -m pytest -q tests/python/test_webrtc.py "$@"
