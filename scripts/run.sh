#!/usr/bin/env bash
# The run command of the README: install what is missing, build, share a shell on an embedded relay.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product swiftmate
exec .build/release/swiftmate "$@"
