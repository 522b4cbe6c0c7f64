"""The issue's "as a new user would check it", over real HTTP against the real binary."""
import os
import subprocess
import tempfile
import uuid

import requests

from chatr_process import BIN, base_env

PASSWORD = "Walk-through1!"


def outbox_code(server, to):
    entries = requests.get(server.url + "/api/dev/outbox", params={"to": to}, timeout=5).json()
    assert entries, f"no message to {to}"
    return entries[-1]["code"]


def test_register_verify_login_logout(server):
    name = "walker" + uuid.uuid4().hex[:6]
    email = f"{name}@example.com"
    r = requests.post(server.url + "/api/auth/register", json={"email": email, "username": name, "password": PASSWORD}, timeout=10)
    assert r.status_code == 201, r.text
    user_id = r.json()["userId"]

    r = requests.post(server.url + "/api/auth/verify-email", json={"userId": user_id, "code": outbox_code(server, email)}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["emailVerified"] is True

    r = requests.post(server.url + "/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["requiresLoginVerification"] is True

    r = requests.post(server.url + "/api/auth/login/verify", json={"userId": user_id, "code": outbox_code(server, email)}, timeout=10)
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}

    me = requests.get(server.url + "/api/users/me", headers=auth, timeout=5)
    assert me.status_code == 200
    assert me.json()["username"] == "@" + name

    assert requests.post(server.url + "/api/auth/logout", headers=auth, timeout=5).status_code == 200
    after = requests.get(server.url + "/api/users/me", headers=auth, timeout=5)
    assert after.status_code == 401
    assert after.json() == {"error": "Invalid or expired token"}


def test_errors_are_json_over_the_wire(server):
    r = requests.get(server.url + "/api/does-not-exist", timeout=5)
    assert r.status_code == 404 and r.json() == {"error": "Not found"}
    r = requests.post(server.url + "/api/auth/login", data="{oops", headers={"Content-Type": "application/json"}, timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "Malformed JSON"
    r = requests.post(server.url + "/api/auth/login", data="x" * 2_000_000, headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413 and "error" in r.json()
    assert requests.get(server.url + "/api/health", timeout=5).json()["status"] == "ok"


def test_sigterm_stops_the_server_promptly(server):
    server.proc.terminate()
    assert server.proc.wait(timeout=10) == 0


def test_production_without_a_secret_exits_with_a_clear_error():
    with tempfile.TemporaryDirectory() as workdir:
        result = subprocess.run([BIN, "serve"], cwd=workdir, env=base_env(CHATR_ENV="production"),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert "JWT_SECRET is required" in result.stderr
        result = subprocess.run([BIN, "serve"], cwd=workdir, env=base_env(CHATR_ENV="production", JWT_SECRET="short"),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert "at least 32 bytes" in result.stderr


def test_migrate_applies_and_exits():
    with tempfile.TemporaryDirectory() as workdir:
        result = subprocess.run([BIN, "migrate"], cwd=workdir, env=base_env(), capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Migrations are up to date" in result.stdout
        if not os.environ.get("CHATR_E2E_DATABASE_URL"):
            assert os.path.exists(os.path.join(workdir, "data", "chatr.sqlite"))
            assert os.path.exists(os.path.join(workdir, "data", "jwt-secret"))


def test_dotenv_file_is_read():
    from chatr_process import Server
    with tempfile.TemporaryDirectory() as workdir:
        with open(os.path.join(workdir, ".env"), "w") as f:
            f.write("PRODUCT_NAME=Natter\nJWT_EXPIRES_IN=1h\n")
        server = Server(base_env(), workdir)
        try:
            html = requests.get(server.url + "/api/email-preview", params={"template": "login"}, timeout=5).text
            assert "Natter" in html
            spec = requests.get(server.url + "/api/openapi.json", timeout=5).json()
            assert spec["info"]["title"] == "Natter API"
        finally:
            server.stop()


def test_bench_seed_creates_signed_in_users_and_is_refused_in_production():
    from chatr_process import Server
    with tempfile.TemporaryDirectory() as workdir:
        refused = subprocess.run([BIN, "bench-seed", "--users", "4"], cwd=workdir, capture_output=True, text=True, timeout=120,
                                 env=base_env(CHATR_ENV="production", JWT_SECRET="x" * 40))
        assert refused.returncode != 0
        assert not os.path.exists(os.path.join(workdir, "tokens.tsv"))
        seeded = subprocess.run([BIN, "bench-seed", "--users", "4", "--messages", "10", "--out", "t.tsv"], cwd=workdir,
                                capture_output=True, text=True, timeout=120, env=base_env())
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        lines = open(os.path.join(workdir, "t.tsv")).read().split()
        assert len(lines) == 8  # 4 × (userId, token)
        server = Server(base_env(), workdir)
        try:
            me = requests.get(server.url + "/api/users/me", headers={"Authorization": f"Bearer {lines[1]}"}, timeout=5)
            assert me.status_code == 200 and me.json()["id"] == lines[0]
            history = requests.get(server.url + "/api/messages/history", params={"otherUserId": lines[2], "limit": 200},
                                   headers={"Authorization": f"Bearer {lines[1]}"}, timeout=5).json()
            assert len(history["messages"]) == 5, "10 messages over 2 pairs"
        finally:
            server.stop()
