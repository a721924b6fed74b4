#!/usr/bin/env bash
# A short libFuzzer run of every harness in Fuzz/ (CI): build them with the fuzzer and address
# sanitizers, replay the committed reproducers, then fuzz each harness for FUZZ_SECONDS (default
# 20) from its seed corpus. Exits non-zero when a harness crashes, leaks or hangs; the input that
# did it is left in $FUZZ_WORK (default: a temporary folder, printed) as crash-*/leak-*/timeout-*.
#
# The random seed is fixed (FUZZ_SEED, default 1): runs follow the same sequence of inputs on
# every machine, so what a 20 s run in CI could hit, a longer local run with that seed hits first.
#
#   scripts/fuzz-smoke.sh            # build + 3 x 20 s
#   FUZZ_SECONDS=60 scripts/fuzz-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-20}"
seed="${FUZZ_SEED:-1}"
work="${FUZZ_WORK:-$(mktemp -d -t metapool-fuzz.XXXXXX)}"
harnesses=(FuzzCSV FuzzJSON FuzzPooling)
# The Swift runtime's crash handler reads memory that ASan flags; libFuzzer reports crashes itself.
export SWIFT_BACKTRACE=enable=no

start=$(date +%s)
swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address
bin="$(swift build -c release --package-path Fuzz --show-bin-path -Xswiftc -sanitize=fuzzer,address)"
built=$(date +%s)
echo "fuzz-smoke: harnesses built in $((built - start)) s; work folder $work"

status=0
for h in "${harnesses[@]}"; do
  mkdir -p "$work/$h"
  reproducers=(Fuzz/Reproducers/"$h"-*)
  if [ -e "${reproducers[0]}" ]; then
    # Every committed reproducer must now run cleanly.
    if ! "$bin/$h" -artifact_prefix="$work/$h-" "${reproducers[@]}" >"$work/$h-reproducers.log" 2>&1; then
      echo "fuzz-smoke: $h fails on a committed reproducer:" >&2
      tail -n 30 "$work/$h-reproducers.log" >&2
      status=1
      continue
    fi
  fi
  if "$bin/$h" "$work/$h" "Fuzz/Corpus/$h" -max_total_time="$seconds" -seed="$seed" -timeout=25 \
       -artifact_prefix="$work/$h-" -print_final_stats=1 >"$work/$h.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$h.log" | grep -o '[0-9]*$' || echo "?")
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$work/$h.log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz-smoke: $h ok: $runs executions in ${seconds} s ($rate exec/s)"
  else
    echo "fuzz-smoke: $h FAILED; input and log in $work:" >&2
    grep -E 'Fatal error|ERROR|SUMMARY|Test unit written' "$work/$h.log" >&2 || tail -n 30 "$work/$h.log" >&2
    status=1
  fi
done
echo "fuzz-smoke: done in $(( $(date +%s) - start )) s"
exit $status
