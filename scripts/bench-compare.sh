#!/usr/bin/env bash
# Usage: scripts/bench-compare.sh BIN_DIR LABEL — the direct, group and history figures of one
# release build (BIN_DIR holds its chatr and chatr-bench), written under $BENCH_OUT/LABEL
# (/tmp/bench-results by default). Run it for two builds, alternately, to compare them in one
# session (docs/PERFORMANCE.md): absolute figures drift on this machine, ratios do not.
set -uo pipefail
bin="$1"; label="$2"; out="${BENCH_OUT:-/tmp/bench-results}/$label"; mkdir -p "$out"
port=3400
pid=""
start_server() {
  CHATR_ENV=testing "$bin/chatr" serve --hostname 127.0.0.1 --port $port >server.log 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$port/api/health" >/dev/null || { echo "server did not start"; exit 1; }
}
stop_server() { kill "$pid"; wait "$pid" 2>/dev/null; sleep 1; }
if curl -sf "http://127.0.0.1:$port/api/health" >/dev/null; then echo "port $port busy"; exit 1; fi

work=$(mktemp -d); cd "$work"
CHATR_ENV=testing "$bin/chatr" bench-seed --users 1000 --out tokens.tsv >/dev/null
start_server
common=(--url "http://127.0.0.1:$port" --tokens "$work/tokens.tsv" --server-pid "$pid")
"$bin/chatr-bench" direct "${common[@]}" --pairs 250 --rate 500 --duration 5 --json "$out/warmup.json" >/dev/null
"$bin/chatr-bench" direct "${common[@]}" --pairs 250 --rate 2000 --duration 10 --json "$out/direct2000.json" > "$out/direct2000.txt"
"$bin/chatr-bench" direct "${common[@]}" --pairs 250 --rate 5000 --duration 20 --json "$out/direct5000.json" > "$out/direct5000.txt"
"$bin/chatr-bench" group "${common[@]}" --members 1000 --rate 70 --duration 10 --json "$out/group70.json" > "$out/group70.txt"
stop_server; cd /; rm -rf "$work"

work=$(mktemp -d); cd "$work"
CHATR_ENV=testing "$bin/chatr" bench-seed --users 200 --messages 1000000 --out tokens.tsv >/dev/null
start_server
common=(--url "http://127.0.0.1:$port" --tokens "$work/tokens.tsv" --server-pid "$pid")
"$bin/chatr-bench" history "${common[@]}" --rate 100 --duration 5 --json "$out/history100.json" > "$out/history100.txt"
stop_server; cd /; rm -rf "$work"
echo "done $label"
