#!/usr/bin/env bash
# Builds in release mode and runs every benchmark suite. The latency floor needs sshd (openssh-server),
# installed here when missing without starting the system's sshd service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x /usr/sbin/sshd ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod +x /usr/sbin/policy-rc.d
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openssh-server
  $sudo rm -f /usr/sbin/policy-rc.d
fi
swift build -c release
bench=.build/release/swiftmate-bench
$bench share --codecs lz4,zlib,none --runs "${RUNS:-3}"
$bench share --viewer ssh --codecs lz4 --runs "${RUNS:-3}"
$bench latency --keystrokes 300
$bench latency --keystrokes 300 --relay separate
$bench sessions --sessions 2000
$bench capacity --sessions 2000 --keystrokes 200
$bench resume
$bench record --runs "${RUNS:-3}"
$bench recorder --runs "${RUNS:-3}"
