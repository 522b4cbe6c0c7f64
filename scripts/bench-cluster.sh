#!/usr/bin/env bash
# Usage: scripts/bench-cluster.sh BIN_DIR [RATE] [DURATION] — direct messages on PostgreSQL with
# 1, 2 and 3 instances (CLUSTER=postgres), every pair's sender and receiver on different
# instances when there are several: throughput, p99 and the servers' summed CPU, so the cost of
# the adapter shows next to one instance in the same run (docs/PERFORMANCE.md). BIN_DIR holds a
# release build's chatr and chatr-bench; results go under $BENCH_OUT (/tmp/bench-cluster).
set -uo pipefail
bin="$1"; rate="${2:-2000}"; duration="${3:-15}"
out="${BENCH_OUT:-/tmp/bench-cluster}"; mkdir -p "$out"
cd "$(dirname "$0")/.."
url=$(bash scripts/start-postgres.sh chatr_bench_cluster) || exit 1
secret=$(openssl rand -hex 32)
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done; pids=(); }
trap stop_all EXIT

run() { # instances
  local n=$1 urls=() work
  stop_all
  psql "$url" -q -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null
  work=$(mktemp -d)
  (cd "$work" && CHATR_ENV=testing DATABASE_URL="$url" JWT_SECRET="$secret" "$bin/chatr" bench-seed --users 1000 --out tokens.tsv >/dev/null)
  for i in $(seq 1 "$n"); do
    local port=$((3500 + i)) cluster=off
    [ "$n" -gt 1 ] && cluster=postgres
    (cd "$work" && CHATR_ENV=testing DATABASE_URL="$url" JWT_SECRET="$secret" CLUSTER=$cluster \
       exec "$bin/chatr" serve --hostname 127.0.0.1 --port $port >"$work/node$i.log" 2>&1) &
    pids+=($!)
    urls+=("http://127.0.0.1:$port")
  done
  for u in "${urls[@]}"; do
    for _ in $(seq 1 100); do curl -sf "$u/api/ready" >/dev/null && break; sleep 0.2; done
  done
  local list pidlist
  list=$(IFS=,; echo "${urls[*]}"); pidlist=$(IFS=,; echo "${pids[*]}")
  local common=(--url "$list" --tokens "$work/tokens.tsv" --server-pid "$pidlist")
  "$bin/chatr-bench" direct "${common[@]}" --pairs 250 --rate 500 --duration 5 >/dev/null  # warm-up: conversations exist
  echo "== $n instance(s), $rate msg/s"
  "$bin/chatr-bench" direct "${common[@]}" --pairs 250 --rate "$rate" --duration "$duration" --json "$out/direct-$n.json" | tee "$out/direct-$n.txt"
  grep -h "cluster:\|error" "$work"/node*.log | grep -v "^$" | tail -5
  rm -rf "$work"
}

for n in 1 2 3; do run "$n"; done
