"""Runs the real `chatr` binary as a separate process (end-to-end and browser tests).

CHATR_BIN points at the built executable (default .build/debug/chatr); CHATR_E2E_DATABASE_URL,
when set, runs the server on PostgreSQL instead of a fresh SQLite file.
"""
import os
import socket
import subprocess
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("CHATR_BIN", os.path.join(ROOT, ".build", "debug", "chatr"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `chatr serve` in `workdir`, logging to `workdir/server.log`. `kill()` is a kill -9 (a
    crash); `start()` starts it again on the same port, appending to the same log."""

    def __init__(self, env, workdir, port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = env
        self.log_path = os.path.join(workdir, "server.log")
        # Append mode: the server's writes always land at the end, whatever output() reads.
        open(self.log_path, "w").close()
        self.log = open(self.log_path, "a+")
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [BIN, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
            cwd=self.workdir, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("chatr exited early:\n" + self.output())
            try:
                if requests.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.kill()  # never leave a half-started server behind
        raise RuntimeError("chatr did not become healthy:\n" + self.output())

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def kill(self):
        """SIGKILL, as a crash: no goodbye to clients or to the other nodes."""
        self.proc.kill()
        self.proc.wait(timeout=15)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        self.log.close()


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATR_", "DATABASE_URL", "JWT_", "MAILTRAP", "SMS_WORKS"))}
    env["CHATR_ENV"] = "development"
    if os.environ.get("CHATR_E2E_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["CHATR_E2E_DATABASE_URL"]
    env.update(extra)
    return env


def reset_postgres_if_used():
    """On PostgreSQL, start each test from an empty database, as a fresh SQLite file does."""
    url = os.environ.get("CHATR_E2E_DATABASE_URL")
    if url:
        subprocess.run(["psql", url, "-q", "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"],
                       check=True, capture_output=True)


def register_user(url, name, password, display=None, headers=None):
    """A verified user on the server at `url`, by email and the dev outbox: (user id, token)."""
    email = f"{name}@example.com"
    body = {"email": email, "username": name, "password": password}
    if display:
        body["displayName"] = display
    r = requests.post(url + "/api/auth/register", json=body, headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    user_id = r.json()["userId"]
    code = requests.get(url + "/api/dev/outbox", params={"to": email}, timeout=5).json()[-1]["code"]
    r = requests.post(url + "/api/auth/verify-email", json={"userId": user_id, "code": code}, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return user_id, r.json()["token"]


def wait_until(condition, timeout, what, interval=0.05):
    """Polls `condition` until it returns something truthy (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)
