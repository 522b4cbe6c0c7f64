#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ with AddressSanitizer and runs each for SECONDS
# (default 60) from its seed corpus in Fuzz/Corpus/<target> (copied: the repository's corpus is
# not changed). Exits non-zero if any target finds a crash, a leak or a broken invariant; the
# input is kept in .build-fuzz/artifacts/. For hours: scripts/fuzz.sh 3600 (docs/SECURITY.md).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET…]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzEngineCodec FuzzSocketCodec FuzzJSONCodec FuzzFileSniffer FuzzMultipart)
export CHATR_FUZZ=1
export SWIFT_BACKTRACE=enable=no  # the runtime's backtracer trips AddressSanitizer after a trap
flags=(--scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
artifacts="$PWD/.build-fuzz/artifacts"; mkdir -p "$artifacts"
failed=0
started=$(date +%s)
for target in "${targets[@]}"; do
  swift build "${flags[@]}" --product "$target" 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | grep -v "^\[" | tail -3
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL  $target: build"; failed=1; continue; }
done
echo "fuzz build: $(( $(date +%s) - started )) s"
bin="$(swift build "${flags[@]}" --show-bin-path)"
for target in "${targets[@]}"; do
  [ -x "$bin/$target" ] || continue
  corpus="$(mktemp -d)"; cp Fuzz/Corpus/"$target"/* "$corpus"/
  log="$(mktemp)"
  "$bin/$target" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-" >"$log" 2>&1
  rc=$?
  execs=$(grep -m1 "stat::number_of_executed_units" "$log" | awk '{print $2}')
  coverage=$(grep -E "^#[0-9]+" "$log" | tail -1 | grep -oE "cov: [0-9]+" || true)
  if [ $rc -eq 0 ]; then
    echo "PASS  $target: ${execs:-?} runs in ${seconds} s, ${coverage:-cov: ?}, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "FAIL  $target (exit $rc): ${execs:-?} runs"; grep -E "ERROR|panic|Fatal error|Precondition|SUMMARY|Test unit written|Base64" "$log" | head -12
    failed=1
  fi
  rm -rf "$corpus" "$log"
done
echo "fuzzing: $(( $(date +%s) - started )) s"
exit $failed
