#!/usr/bin/env bash
# Runs a command in a network namespace of its own, with only loopback up:
# nothing it sends can leave the machine (the Python client looks up a
# public STUN host on every WebRTC dial). Needs root. The namespace, and
# every interface in it, goes when the command exits.
set -euo pipefail
exec unshare --net -- bash -c 'ip link set lo up && AXLE_NETNS=1 exec "$@"' netns "$@"
