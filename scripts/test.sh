#!/usr/bin/env bash
# The test command of the README (and of CI): install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
# The embedding examples are their own package (depending on this one by path): build them and run their
# tests; the end-to-end tests below run their executables.
swift build --package-path examples/embedding --build-tests
swift test --package-path examples/embedding --skip-build
swift test
