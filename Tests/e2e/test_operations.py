"""What an operator does with the real binary: it finds its web client wherever it starts,
answers readiness and metrics, is administered from the shell (`chatr user …`, `chatr backup`),
and trusts forwarded addresses only from a configured proxy."""
import os
import sqlite3
import subprocess
import tempfile
import uuid

import requests

from chatr_process import BIN, Server, base_env

PASSWORD = "Operate-test1!"


def register(server, name):
    email = f"{name}@example.com"
    r = requests.post(server.url + "/api/auth/register", json={"email": email, "username": name, "password": PASSWORD}, timeout=10)
    assert r.status_code == 201, r.text
    code = requests.get(server.url + "/api/dev/outbox", params={"to": email}, timeout=5).json()[-1]["code"]
    r = requests.post(server.url + "/api/auth/verify-email", json={"userId": r.json()["userId"], "code": code}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def login_status(server, name, password=PASSWORD):
    return requests.post(server.url + "/api/auth/login", json={"email": name, "password": password}, timeout=10).status_code


def chatr(server, *args):
    """Runs `chatr <args>` beside the server: same folder, same environment (same database)."""
    return subprocess.run([BIN, *args], cwd=server.workdir, env=server.env, capture_output=True, text=True, timeout=120)


def test_started_outside_the_repository_it_serves_the_web_client(server):
    assert server.workdir.startswith(tempfile.gettempdir()) and not os.path.exists(os.path.join(server.workdir, "Public"))
    page = requests.get(server.url + "/", timeout=5)
    assert page.status_code == 200 and "<script type=\"module\" src=\"/app.js\">" in page.text
    assert requests.get(server.url + "/app.js", timeout=5).status_code == 200


def test_a_wrong_public_dir_stops_the_start_with_a_clear_message():
    with tempfile.TemporaryDirectory() as workdir:
        result = subprocess.run([BIN, "serve"], cwd=workdir, env=base_env(PUBLIC_DIR=workdir), capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert "has no index.html" in result.stderr


def test_help_touches_nothing():
    """`chatr bench-seed --help` used to migrate and create ./data/chatr.sqlite before printing help."""
    with tempfile.TemporaryDirectory() as workdir:
        env = {k: v for k, v in base_env().items() if k != "DATABASE_URL"}
        for args in (["bench-seed", "--help"], ["user", "--help"], ["migrate", "-h"]):
            result = subprocess.run([BIN, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            assert "Usage:" in result.stdout or "Usage:" in result.stderr, (args, result.stdout, result.stderr)
            assert "Migrator" not in result.stdout + result.stderr, args
            assert os.listdir(workdir) == [], (args, os.listdir(workdir))


def test_cluster_mode_is_refused_on_sqlite():
    if os.environ.get("CHATR_E2E_DATABASE_URL"):
        return  # this run is on PostgreSQL: the refusal is about SQLite
    with tempfile.TemporaryDirectory() as workdir:
        result = subprocess.run([BIN, "serve"], cwd=workdir, env=base_env(CLUSTER="postgres"), capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert "CLUSTER=postgres needs DATABASE_URL=postgres" in result.stderr


def test_readiness_metrics_and_request_ids(server):
    ready = requests.get(server.url + "/api/ready", timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["cluster"] == "off"
    r = requests.get(server.url + "/api/health", headers={"X-Request-Id": "abc-123"}, timeout=5)
    assert r.headers["X-Request-Id"] == "abc-123"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    metrics = requests.get(server.url + "/metrics", timeout=5)
    assert metrics.status_code == 200 and metrics.headers["Content-Type"].startswith("text/plain")
    assert 'http_requests_total{method="GET",path="/api/health",status="200"}' in metrics.text
    assert "chatr_sockets_connected 0" in metrics.text


def test_user_commands_disable_enable_reset_and_delete(server):
    token = register(server, "carol" + uuid.uuid4().hex[:4])
    name = requests.get(server.url + "/api/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=5).json()["username"]
    listed = chatr(server, "user", "list")
    assert listed.returncode == 0, listed.stderr
    assert name in listed.stdout and " account(s)" in listed.stdout

    disabled = chatr(server, "user", "disable", name)
    assert disabled.returncode == 0 and "is disabled" in disabled.stdout, disabled.stdout + disabled.stderr
    assert requests.get(server.url + "/api/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 401
    r = requests.post(server.url + "/api/auth/login", json={"email": name, "password": PASSWORD}, timeout=10)
    assert r.status_code == 403 and r.json()["code"] == "account_disabled"

    assert chatr(server, "user", "enable", name).returncode == 0
    assert login_status(server, name) == 200

    reset = chatr(server, "user", "reset-password", name, "--password", "Brand-new-pass9")
    assert reset.returncode == 0, reset.stderr
    assert login_status(server, name) == 401
    assert login_status(server, name, "Brand-new-pass9") == 200
    generated = chatr(server, "user", "reset-password", name)
    new_password = generated.stdout.split("New password for " + name + ": ")[1].split()[0]
    assert login_status(server, name, new_password) == 200

    refused = chatr(server, "user", "delete", name)
    assert refused.returncode != 0 and "--confirm" in refused.stdout + refused.stderr
    assert chatr(server, "user", "delete", name, "--confirm").returncode == 0
    assert login_status(server, name, new_password) == 401
    missing = chatr(server, "user", "disable", "@nobody_here")
    assert missing.returncode != 0 and "no account named" in missing.stdout + missing.stderr


def test_backup_is_a_consistent_copy_of_the_live_database(server):
    for i in range(3):
        register(server, f"dave{i}" + uuid.uuid4().hex[:4])
    target = os.path.join(server.workdir, "backup.sqlite")
    result = chatr(server, "backup", target)
    if os.environ.get("CHATR_E2E_DATABASE_URL"):
        assert result.returncode != 0 and "pg_dump" in result.stdout + result.stderr
        return
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM users").fetchone()[0] == 3
    again = chatr(server, "backup", target)
    assert again.returncode != 0 and "exists" in again.stdout + again.stderr


def test_forwarded_addresses_count_only_from_a_trusted_proxy():
    with tempfile.TemporaryDirectory() as workdir:
        plain = Server(base_env(), workdir)
        try:
            # Anyone can send the header; with no trusted proxy it is ignored: still loopback.
            r = requests.get(plain.url + "/api/dev/outbox", headers={"X-Real-IP": "203.0.113.9"}, timeout=5)
            assert r.status_code == 200
        finally:
            plain.stop()
    with tempfile.TemporaryDirectory() as workdir:
        proxied = Server(base_env(TRUSTED_PROXIES="127.0.0.1"), workdir)
        try:
            r = requests.get(proxied.url + "/api/dev/outbox", headers={"X-Real-IP": "203.0.113.9"}, timeout=5)
            assert r.status_code == 403, r.text
            assert requests.get(proxied.url + "/api/dev/outbox", headers={"X-Real-IP": "127.0.0.1"}, timeout=5).status_code == 200
        finally:
            proxied.stop()
