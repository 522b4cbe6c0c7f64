"""`chatr-bench` (the Swift Socket.IO client) against a python-socketio server: the peer relay of
bench/peers. The client once asked for `/socket.io?EIO=4…` (the path's trailing slash dropped),
which python-socketio and the reference server answer with 404, so chatr-bench could measure
nothing but Chatr."""
import os
import sqlite3
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from chatr_process import BIN, free_port  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(os.path.dirname(BIN), "chatr-bench")
RELAY = os.path.join(ROOT, "bench", "peers", "socketio_relay.py")


def test_chatr_bench_measures_the_python_socketio_peer_and_every_message_is_stored(tmp_path):
    tokens = tmp_path / "tokens.tsv"
    tokens.write_text("".join(f"user-{i}\ttoken-{i}\n" for i in range(6)))
    store = tmp_path / "relay.sqlite"
    port = free_port()
    relay = subprocess.Popen([sys.executable, RELAY, "--tokens", str(tokens), "--port", str(port), "--sqlite", str(store)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert relay.poll() is None and time.monotonic() < deadline, "the relay did not start"
            time.sleep(0.1)
        result = subprocess.run([BENCH, "direct", "--url", f"http://127.0.0.1:{port}", "--tokens", str(tokens),
                                 "--pairs", "3", "--rate", "60", "--duration", "1", "--server-pid", str(relay.pid)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "60 / 60 / 60" in result.stdout, result.stdout
        rows = sqlite3.connect(store).execute("SELECT COUNT(*), COUNT(DISTINCT client_message_id) FROM messages").fetchone()
        assert rows == (60, 60)
    finally:
        relay.terminate()
        relay.wait(timeout=10)
