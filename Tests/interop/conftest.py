"""Runs the `socketio-echo` fixture (built on the SocketIO library only) for interop tests with
the python-socketio client. SOCKETIO_ECHO_BIN overrides the binary path."""
import os
import sys
import subprocess
import time

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from chatr_process import ROOT, free_port, register_user, reset_postgres_if_used  # noqa: E402

BIN = os.environ.get("SOCKETIO_ECHO_BIN", os.path.join(ROOT, ".build", "debug", "socketio-echo"))


class Echo:
    def __init__(self, port=None, ping_interval=300, ping_timeout=200, connect_timeout=1000):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [BIN, "--port", str(self.port), "--path", "/socket.io", "--ping-interval", str(ping_interval),
                     "--ping-timeout", str(ping_timeout), "--connect-timeout", str(connect_timeout)]
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                r = requests.get(self.url + "/socket.io/?EIO=4&transport=polling", timeout=1)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("socketio-echo did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)


@pytest.fixture
def echo():
    server = Echo()
    yield server
    server.stop()


CHATR_BIN = os.environ.get("CHATR_BIN", os.path.join(ROOT, ".build", "debug", "chatr"))


class Chatr:
    """The real `chatr` binary in a temporary folder (SQLite, or CHATR_E2E_DATABASE_URL); `env` adds
    settings of the test's own (RECOVERY_WINDOW_SECONDS, say)."""

    def __init__(self, workdir, env=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extra, env = env or {}, {k: v for k, v in os.environ.items() if not k.startswith(("CHATR_", "DATABASE_URL", "JWT_"))}
        env["CHATR_ENV"] = "testing"
        if os.environ.get("CHATR_E2E_DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["CHATR_E2E_DATABASE_URL"]
            reset_postgres_if_used()  # each test starts from an empty database, as on SQLite
        env.update(extra)
        self.log = open(os.path.join(workdir, "chatr.log"), "w+")
        self.proc = subprocess.Popen([CHATR_BIN, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                                     cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, "chatr exited early"
            try:
                if requests.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("chatr did not start")

    def register(self, name, display=None):
        """A verified user: returns (user id, token)."""
        return register_user(self.url, name, "Interop-pass1!", display or name.title())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)
        self.log.close()


@pytest.fixture
def chatr(tmp_path):
    server = Chatr(str(tmp_path))
    yield server
    server.stop()
