#!/usr/bin/env bash
# The relay under a handshake flood (issue: bounded memory before the handshake): builds in release, then
# `swiftmate-bench flood`: 1,000 connections from 127.0.0.2 each holding 90% of a frame just under the hello
# limit, the relay's RSS idle / during / peak / 10 s after the close, and a fresh viewer's join time during the
# flood beside the same join on the idle relay. Extra arguments go to the bench (--connections N, --declared BYTES).
# Goal: peak < 300 MB, under 100 MB within 10 s of the close, join during the flood <= 2x idle.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 8192 2>/dev/null || true
swift build -c release >/dev/null
exec .build/release/swiftmate-bench flood "$@"
