#!/usr/bin/env bash
# Chatr side by side with the python-socketio relay of bench/peers (with and without SQLite),
# driven by the same chatr-bench in one session (issue 18): ratios, not absolute figures.
# Needs a release build of both (swift build -c release --product chatr, then --product chatr-bench) and
# `pip install python-socketio aiohttp`. Usage: bash scripts/bench-peer.sh [rates...] (default 2000 4000)
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CHATR_BUILD:-$root/.build/release}"
rates=("${@:-2000}"); [ $# -eq 0 ] && rates=(2000 4000)
work="$(mktemp -d)"; cd "$work"
CHATR_ENV=testing "$bin/chatr" bench-seed --users 500 --out tokens.tsv > seed.log 2>&1
bench() { # name url pid rate
  "$bin/chatr-bench" direct --url "$2" --tokens tokens.tsv --pairs 250 --rate "$4" --duration 10 --server-pid "$3" > "$1-$4.txt" 2>&1
  echo "== $1 @ $4 msg/s"; grep -E "delivered / stored|achieved|latency|CPU|RSS" "$1-$4.txt"
}
up() { for _ in $(seq 1 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" "$1" 2>/dev/null && return; sleep 0.1; done; }
measure() { # name port pid
  up "$2"
  "$bin/chatr-bench" direct --url "http://127.0.0.1:$2" --tokens tokens.tsv --pairs 250 --rate 500 --duration 5 > /dev/null 2>&1   # warm-up
  for rate in "${rates[@]}"; do bench "$1" "http://127.0.0.1:$2" "$3" "$rate"; done
  kill "$3"; wait "$3" 2>/dev/null
}
CHATR_ENV=testing "$bin/chatr" serve --hostname 127.0.0.1 --port 3400 > chatr.log 2>&1 &
measure chatr 3400 $!
python3 "$root/bench/peers/socketio_relay.py" --tokens tokens.tsv --port 3500 --sqlite relay.sqlite > relay.log 2>&1 &
measure relay-sqlite 3500 $!
python3 "$root/bench/peers/socketio_relay.py" --tokens tokens.tsv --port 3501 > relay-memory.log 2>&1 &
measure relay-memory 3501 $!
rm -rf "$work"
