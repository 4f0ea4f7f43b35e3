#!/usr/bin/env bash
# The run command of the README: install what is missing, build, put swiftmate on PATH, share a shell on an
# embedded relay.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product swiftmate
# A link to this build (with the man page and completions), so the printed `swiftmate join …` lines and the
# README's commands work as typed: /usr/local/bin when writable (root), else ~/.local/bin.
scripts/install.sh --link --binary "$(swift build -c release --show-bin-path)/swiftmate"
exec "$(swift build -c release --show-bin-path)/swiftmate" "$@"
