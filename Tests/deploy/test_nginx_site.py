"""The shipped nginx site (deploy/nginx/chatr.conf), run for real in front of real `chatr` binaries.

The site file is copied with exactly three kinds of change — listen ports, certificate paths and
the upstream `server` lines — each made by a regex that must match the expected number of times,
so this test fails if the shipped file changes shape (the machinery is Tests/support/nginx_site.py,
shared with Tests/cluster). nginx runs from a temporary folder (its own main nginx.conf, pid, logs
and temp paths) on free high ports with a throwaway certificate; two
chatr instances on SQLite sit behind it (the cluster itself is tested elsewhere; with ip_hash
every request from 127.0.0.1 goes to the same one). Needs `nginx` and `openssl` on PATH and the
built `.build/debug/chatr` (CHATR_BIN overrides); Debian: `apt-get install nginx` (the packaged
service need not run; this test starts its own nginx).

Run: pytest Tests/deploy -q
"""
import os
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests
import socketio

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "support"))
from chatr_process import Server, base_env, free_port  # noqa: E402
from nginx_site import NginxSite  # noqa: E402

PASSWORD = "Nginx-test1!"
MAX_UPLOAD_BYTES = 10_485_760  # the server's default, which the site's client_max_body_size follows
TIMEOUT = 10  # seconds, for every ordinary request and wait


# --- the stack: chatr instances and nginx with the site copy (Tests/support/nginx_site.py) -----

@pytest.fixture(scope="module")
def stack():
    folder = tempfile.mkdtemp(prefix="chatr-nginx-")
    instances, site = [], None
    try:
        outside = outside_address()
        http_port, https_port = free_port(), free_port()
        origin = f"https://127.0.0.1:{https_port}"
        for n in (1, 2):
            workdir = os.path.join(folder, f"chatr{n}")
            os.mkdir(workdir)
            # Public/ both ways: PUBLIC_DIR for builds that read it, ./Public for older ones.
            os.symlink(os.path.join(ROOT, "Public"), os.path.join(workdir, "Public"))
            env = base_env(PUBLIC_DIR=os.path.join(ROOT, "Public"), BACKEND_URL=origin, FRONTEND_URL=origin)
            instances.append(Server(env, workdir))
        site = NginxSite(folder, [i.port for i in instances], addresses=["127.0.0.1"] + ([outside] if outside else []),
                         http_port=http_port, https_port=https_port)
        yield site
    finally:
        if site:
            site.stop()
        for instance in instances:
            try:
                instance.stop()
            except Exception as error:  # keep stopping the others
                print(f"chatr on {instance.port} did not stop cleanly: {error!r}")
        shutil.rmtree(folder, ignore_errors=True)


# --- helpers ----------------------------------------------------------------------------------

def code_for(stack, session, to):
    r = session.get(stack.url + "/api/dev/outbox", params={"to": to}, timeout=TIMEOUT)
    assert r.status_code == 200, f"dev outbox through nginx: {r.status_code} {r.text[:200]}"
    entries = [e for e in r.json() if e["to"] == to]
    assert entries, f"no code sent to {to}"
    return entries[-1]["code"]


def register(stack, session, name):
    """A verified user, registered and verified through nginx: (user id, email, token)."""
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
    r = session.post(stack.url + "/api/auth/register", timeout=TIMEOUT,
                     json={"email": email, "username": name + uuid.uuid4().hex[:4], "password": PASSWORD})
    assert r.status_code == 201, r.text
    user_id = r.json()["userId"]
    r = session.post(stack.url + "/api/auth/verify-email", json={"userId": user_id, "code": code_for(stack, session, email)}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return user_id, email, r.json()["token"]


class Inbox:
    """Socket.IO events by name, with bounded waits."""

    def __init__(self):
        self.events, self.cond = {}, threading.Condition()

    def add(self, name, args):
        with self.cond:
            self.events.setdefault(name, []).append(args)
            self.cond.notify_all()

    def wait(self, name, count=1, timeout=TIMEOUT):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.events.get(name, [])) >= count, timeout), f"no {name}: {self.events}"
            return self.events[name][count - 1]


def connect(stack, token, transports):
    inbox = Inbox()
    # The throwaway certificate as CA, for the polling requests and the WebSocket alike.
    sio = socketio.Client(reconnection=False, http_session=stack.session())
    for event in ("presence:update", "message:received", "message:sent"):
        sio.on(event, (lambda name: lambda *args: inbox.add(name, args))(event))
    sio.connect(stack.url, auth={"token": token}, transports=transports, wait_timeout=TIMEOUT)
    inbox.wait("presence:update")
    return sio, inbox


def outside_address():
    """A non-loopback IPv4 address of this host (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else address


def plain_text(size):
    return (b"The quick brown fox jumps over the lazy dog.\n" * (size // 45 + 1))[:size]


HSTS = "max-age=63072000"


# --- tests ------------------------------------------------------------------------------------

def test_tls_and_http2(stack):
    context = ssl.create_default_context(cafile=stack.cert)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=TIMEOUT) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "h2"
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_http_redirects_to_https(stack):
    r = requests.get(stack.http + "/some/page?x=1", allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code in (301, 308), r.status_code
    assert r.headers["Location"] == "https://127.0.0.1/some/page?x=1"


def test_web_client_and_its_cache_headers(stack):
    s = stack.session()
    with open(os.path.join(ROOT, "Public", "index.html"), "rb") as f:
        index = f.read()
    for path in ("/", "/index.html"):
        r = s.get(stack.url + path, timeout=TIMEOUT)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), (path, r.status_code, r.headers)
        assert r.content == index, path
        assert r.headers["Cache-Control"] == "no-cache", path
        assert r.headers["Strict-Transport-Security"] == HSTS, path
    for path, kind in (("/lib/api.js", "javascript"), ("/app.js", "javascript"), ("/components/auth/auth.js", "javascript"),
                       ("/styles/app.css", "text/css")):
        r = s.get(stack.url + path, timeout=TIMEOUT)
        assert r.status_code == 200 and kind in r.headers["Content-Type"], (path, r.status_code, r.headers)
        assert r.headers["Cache-Control"] == "no-cache", path
        assert r.headers["Strict-Transport-Security"] == HSTS, path
        # Revalidated, not fetched again: the ETag through the proxy gives a bodiless 304.
        again = s.get(stack.url + path, headers={"If-None-Match": r.headers["ETag"]}, timeout=TIMEOUT)
        assert again.status_code == 304 and again.content == b"", (path, again.status_code)
        # Compressed on the way (requests asks for gzip or deflate and unpacks either).
        assert r.headers.get("Content-Encoding") in ("gzip", "deflate"), (path, r.headers)


def test_health_through_nginx(stack):
    r = stack.session().get(stack.url + "/api/health", timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["database"] == "ok", r.text
    assert r.headers["Strict-Transport-Security"] == HSTS


def test_readiness_through_nginx(stack):
    r = stack.session().get(stack.url + "/api/ready", timeout=TIMEOUT)
    assert r.status_code == 200, f"GET /api/ready: {r.status_code} {r.text[:200]}"


def test_every_response_carries_a_request_id(stack):
    s = stack.session()
    missing = [path for path in ("/", "/lib/api.js", "/api/health", "/api/no-such-route")
               if not s.get(stack.url + path, timeout=TIMEOUT).headers.get("X-Request-Id")]
    assert missing == [], f"no X-Request-Id on {missing}"


def test_the_request_id_is_the_one_nginx_logged(stack):
    """nginx passes X-Request-Id: $request_id upstream; the app's id must be that one, so the
    nginx access log and the app's log of one request can be matched."""
    probe = uuid.uuid4().hex
    r = stack.session().get(stack.url + f"/api/health?probe={probe}", timeout=TIMEOUT)
    deadline = time.time() + TIMEOUT
    while probe not in stack.log("access.log") and time.time() < deadline:
        time.sleep(0.1)
    line = next(line for line in stack.log("access.log").splitlines() if probe in line)
    assert r.headers.get("X-Request-Id") == line.split()[-1], (r.headers.get("X-Request-Id"), line)


def test_login_through_nginx(stack):
    s = stack.session()
    user_id, email, _ = register(stack, s, "ann")
    r = s.post(stack.url + "/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json().get("requiresLoginVerification") is True, r.text
    r = s.post(stack.url + "/api/auth/login/verify", json={"userId": user_id, "code": code_for(stack, s, email)}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["token"], r.text
    me = s.get(stack.url + "/api/users/me", headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=TIMEOUT)
    assert me.status_code == 200 and me.json()["id"] == user_id, me.text


def test_socketio_through_nginx(stack):
    s = stack.session()
    ann_id, _, ann_token = register(stack, s, "ann")
    bob_id, _, bob_token = register(stack, s, "bob")
    sockets = []
    try:
        # Ann: long-polling first, then the upgrade to WebSocket (what browsers do).
        ann, ann_inbox = connect(stack, ann_token, ["polling", "websocket"])
        sockets.append(ann)
        # Bob: WebSocket only on his phone, long-polling only on his laptop (every poll must
        # reach the instance that holds the session: ip_hash).
        bob, bob_inbox = connect(stack, bob_token, ["websocket"])
        sockets.append(bob)
        laptop, laptop_inbox = connect(stack, bob_token, ["polling"])
        sockets.append(laptop)
        deadline = time.time() + TIMEOUT
        while ann.transport() != "websocket" and time.time() < deadline:
            time.sleep(0.1)
        assert ann.transport() == "websocket", "Ann's client upgraded from polling to WebSocket"
        assert bob.transport() == "websocket" and laptop.transport() == "polling"

        ack = ann.call("message:send", {"recipientId": bob_id, "content": "Hi Bob, via nginx", "clientMessageId": str(uuid.uuid4())},
                       timeout=TIMEOUT)
        assert ack["ok"] is True, ack
        assert bob_inbox.wait("message:received")[0]["id"] == ack["message"]["id"]
        assert laptop_inbox.wait("message:received")[0]["id"] == ack["message"]["id"]

        ack = laptop.call("message:send", {"recipientId": ann_id, "content": "Hi Ann, from polling", "clientMessageId": str(uuid.uuid4())},
                          timeout=TIMEOUT)
        assert ack["ok"] is True, ack
        assert ann_inbox.wait("message:received")[0]["content"] == "Hi Ann, from polling"
        assert bob_inbox.wait("message:sent")[0]["id"] == ack["message"]["id"], "Bob's other device hears his message"
    finally:
        for sio in sockets:
            sio.disconnect()


def test_uploads_through_nginx(stack):
    s = stack.session()
    bob_id, _, _ = register(stack, s, "bob")
    _, _, ann_token = register(stack, s, "ann")
    auth = {"Authorization": f"Bearer {ann_token}"}

    def upload(size, name):
        return s.post(stack.url + "/api/messages/upload", headers=auth, timeout=120,
                      files={"file": (name, plain_text(size), "text/plain")}, data={"recipientId": bob_id})

    # Just under MAX_UPLOAD_BYTES: passes nginx, stored by the app.
    body = plain_text(MAX_UPLOAD_BYTES - 1000)
    r = upload(len(body), "notes.txt")
    assert r.status_code == 201, f"{r.status_code} {r.headers.get('Server')} {r.text[:300]}"
    # Streamed to the app, not spooled to disk first (nginx warns when it spools a request body).
    assert "client request body is buffered" not in stack.log("error.log")
    path = urlparse(r.json()["message"]["fileUrl"]).path
    assert path.startswith("/uploads/"), path
    got = s.get(stack.url + path, timeout=60)
    assert got.status_code == 200 and got.content == body
    assert got.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Strict-Transport-Security"] == HSTS

    # Over the app's limit but under nginx's: the app's own JSON 413.
    r = upload(MAX_UPLOAD_BYTES + 200_000, "big.txt")
    assert r.status_code == 413 and "error" in r.json(), f"{r.status_code} {r.text[:300]}"

    # Over client_max_body_size (11m): nginx refuses it without bothering the app.
    r = upload(12 * 1024 * 1024, "huge.txt")
    assert r.status_code == 413 and r.headers["Server"].startswith("nginx") and "Request Entity Too Large" in r.text, \
        f"{r.status_code} {r.headers} {r.text[:300]}"


def test_metrics_and_dev_routes_only_from_this_host(stack):
    """/metrics and development mode's /api/dev/ answer loopback clients only. Behind nginx the
    app sees 127.0.0.1 for everyone, so nginx applies the rule to the real client address."""
    address = outside_address()
    if address is not None:
        for path in ("/metrics", "/metrics/", "/api/dev/outbox", "/api/email-preview"):
            r = stack.session().get(f"https://{address}:{stack.https_port}{path}", timeout=TIMEOUT)
            assert r.status_code == 403, (path, r.status_code)
    r = stack.session().get(stack.url + "/metrics", timeout=TIMEOUT)
    assert r.status_code != 403, "nginx lets 127.0.0.1 scrape /metrics"
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), f"the app's /metrics: {r.status_code}"
    if address is None:
        pytest.skip("no non-loopback address to check that other hosts get 403")


def test_a_request_head_dripped_a_byte_at_a_time_is_cut_off(stack):
    """Slowloris: the app closes connections that go idle (HTTP_IDLE_TIMEOUT_SECONDS), not a head
    that trickles in; the site gives a whole request head 10 s (client_header_timeout; nginx's
    default, 60 s, would hold it six times longer)."""
    port = urlparse(stack.url).port
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conn = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT), server_hostname="127.0.0.1")
    conn.settimeout(0.5)
    started, closed, line = time.monotonic(), False, b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    while not closed and time.monotonic() - started < 16:
        try:
            conn.send(line[:1] if line else b"a")
            line = line[1:]
            if conn.recv(4096) == b"":
                closed = True
        except socket.timeout:
            continue
        except (ConnectionError, ssl.SSLError, OSError):
            closed = True
    elapsed = time.monotonic() - started
    conn.close()
    assert closed, "a request head dripped for 16 s is still being read"
    assert 8 <= elapsed <= 14, f"cut off after {elapsed:.1f} s"
