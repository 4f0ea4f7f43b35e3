#!/usr/bin/env bash
# docs/man/swiftmate.1 from the CLI's own definitions, with swift-argument-parser's GenerateManual plugin,
# plus the sections kept in docs/man/sections.mdoc.
# scripts/man.sh writes it; scripts/man.sh --check fails when the committed page differs (scripts/test.sh runs that).
set -euo pipefail
cd "$(dirname "$0")/.."
# A fixed date keeps the page reproducible; change it with the version.
date=2026-11-26
swift package generate-manual --configuration debug --date "$date" --authors "SwiftMate developers" >/dev/null
plugin_page=.build/plugins/GenerateManual/outputs/swiftmate/swiftmate.1
# The CLI's own page, with CONFIGURATION, ENVIRONMENT, FILES and EXAMPLES (kept in docs/man/sections.mdoc)
# before EXIT STATUS.
generated=.build/swiftmate.1
awk -v sections=docs/man/sections.mdoc '
  /^\.Sh "EXIT STATUS"/ && !done { while ((getline line < sections) > 0) print line; done = 1 }
  { print }
  END { if (!done) { print "man.sh: the generated page has no EXIT STATUS section" > "/dev/stderr"; exit 1 } }
' "$plugin_page" > "$generated"
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
