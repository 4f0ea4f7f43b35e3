#!/usr/bin/env bash
# docs/man/swiftmate.1 from the CLI's own definitions, with swift-argument-parser's GenerateManual plugin.
# scripts/man.sh writes it; scripts/man.sh --check fails when the committed page differs (scripts/test.sh runs that).
set -euo pipefail
cd "$(dirname "$0")/.."
# A fixed date keeps the page reproducible; change it with the version.
date=2026-11-26
swift package generate-manual --configuration debug --date "$date" --authors "SwiftMate developers" >/dev/null
generated=.build/plugins/GenerateManual/outputs/swiftmate/swiftmate.1
if [ "${1:-}" = "--check" ]; then
  if ! diff -u docs/man/swiftmate.1 "$generated"; then
    echo "docs/man/swiftmate.1 is out of date with the CLI: run scripts/man.sh and commit it" >&2
    exit 1
  fi
else
  mkdir -p docs/man
  cp "$generated" docs/man/swiftmate.1
  echo "wrote docs/man/swiftmate.1 (read it with: man -l docs/man/swiftmate.1)"
fi
