#!/usr/bin/env bash
# A few seconds of every chatr-bench subcommand against a build of chatr (debug by default):
# checks that the load generator works end to end and that nothing is lost — not the speed
# (the figures are in docs/PERFORMANCE.md, from release builds). Used by .ci/run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${CHATR_BUILD:-$root/.build/debug}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
cd "$work"

CHATR_ENV=testing "$bin/chatr" bench-seed --users 40 --messages 400 --out tokens.tsv
CHATR_ENV=testing "$bin/chatr" serve --hostname 127.0.0.1 --port "$port" >server.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
up() { python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/api/health" 2>/dev/null; }
for _ in $(seq 1 100); do up && break; sleep 0.2; done

common=(--url "$url" --tokens tokens.tsv --server-pid "$pid")
"$bin/chatr-bench" connections "${common[@]}" --count 200 --hold 2 --json connections.json
"$bin/chatr-bench" direct "${common[@]}" --pairs 10 --rate 50 --duration 3 --json direct.json
"$bin/chatr-bench" group "${common[@]}" --members 20 --rate 10 --duration 3 --json group.json
"$bin/chatr-bench" history "${common[@]}" --rate 20 --duration 2 --json history.json
"$bin/chatr-bench" search "${common[@]}" --words words.txt --rate 20 --duration 1 --json search.json
"$bin/chatr-bench" catchup "${common[@]}" --conversations 10 --messages 300 --limit 100 --json catchup.json
for f in connections direct group history search catchup; do python3 -c "import json,sys; json.load(open('$f.json'))"; done
echo "bench smoke: every subcommand ran, nothing lost"
