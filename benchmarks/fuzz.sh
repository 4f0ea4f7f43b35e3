#!/usr/bin/env bash
# Runs SwiftMate's libFuzzer targets: benchmarks/fuzz.sh [--seconds N] [--grow] [--jobs J] [TARGET...]
#
# Builds swiftmate-fuzz with -sanitize=fuzzer,address (in .build-fuzz), then runs each target (all by default;
# `swift run swiftmate-fuzz --list` names them) for N seconds (default 60) starting from its committed
# corpus, Tests/Fuzz/corpus/TARGET, and the inputs that once failed, Tests/Fuzz/regressions/TARGET.
# Without --grow the committed corpus is only read (CI); with --grow what was found is merged into it
# (libFuzzer -merge=1 keeps only inputs that add coverage, so it stays small). A crash stops that target:
# the input is saved to Tests/Fuzz/regressions/TARGET/ and the script fails, naming it; `swift run
# swiftmate-fuzz TARGET FILE` replays it in a plain build, and FuzzTests replays it in every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60 grow=false jobs=1 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --grow) grow=true; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
scratch=.build-fuzz
swift build -c release --product swiftmate-fuzz --scratch-path "$scratch" \
  -Xswiftc -DSWIFTMATE_FUZZING -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >/dev/null
bin="$scratch/release/swiftmate-fuzz"
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(SWIFTMATE_FUZZ_LIST=1 "$bin" | cut -f1)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
  corpus="Tests/Fuzz/corpus/$t" regressions="Tests/Fuzz/regressions/$t"
  mkdir -p "$corpus" "$regressions" "$work/$t" "$work/$t-crash"
  echo "== $t: ${seconds}s"
  status=0
  # Inputs stay small (what a scenario needs), so that the committed corpora stay small too.
  case "$t" in
    message) max_len=512 ;; frame|yaml) max_len=1024 ;; asciicast|relay) max_len=2048 ;; *) max_len=4096 ;;
  esac
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
  SWIFTMATE_FUZZ_TARGET="$t" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$bin" "$work/$t" "$corpus" "$regressions" \
    -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len="$max_len" "${parallel[@]}" \
    -artifact_prefix="$work/$t-crash/" -print_final_stats=1 >"$work/$t.log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|new_units_added)|^#[0-9]+ *DONE" "$work/$t.log" | tr '\n' ' ' || true
  echo
  if [ "$status" -ne 0 ]; then
    for f in "$work/$t-crash"/*; do
      [ -e "$f" ] || continue
      cp "$f" "$regressions/$(basename "$f")"
      echo "   saved $regressions/$(basename "$f")"
    done
    grep -E "ERROR|Fatal error|precondition|deadly signal|SUMMARY" "$work/$t.log" | head -5 | sed 's/^/   /'
    failed+=("$t")
  elif $grow; then
    mkdir -p "$work/$t-merged"
    # Only inputs within the length limit are kept; -merge=1 keeps the fewest that reach the same edges
    # (comparison operands and hit counts would keep thousands of near-copies).
    find "$corpus" "$work/$t" -type f -size +"$max_len"c -delete
    SWIFTMATE_FUZZ_TARGET="$t" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 "$bin" -merge=1 -use_cmp=0 -use_counters=0 \
      "$work/$t-merged" "$corpus" "$work/$t" >/dev/null 2>&1
    rm -f "$corpus"/*
    cp "$work/$t-merged"/* "$corpus"/ 2>/dev/null || true
    echo "   corpus: $(ls "$corpus" | wc -l) inputs, $(du -sk "$corpus" | cut -f1) KiB"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]} (inputs saved under Tests/Fuzz/regressions/)" >&2
  exit 1
fi
echo "fuzzing: no failures in ${targets[*]}"
