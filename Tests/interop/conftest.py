"""Runs the `socketio-echo` fixture (built on the SocketIO library only) for interop tests with
the python-socketio client. SOCKETIO_ECHO_BIN overrides the binary path."""
import os
import socket
import subprocess
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SOCKETIO_ECHO_BIN", os.path.join(ROOT, ".build", "debug", "socketio-echo"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
