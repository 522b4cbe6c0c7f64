"""Web Push through the real `chatr` binary (the contract: subscription routes, when a push is
sent, its RFC 8291 encryption and RFC 8292 VAPID signature, and what the server does with each
push-service answer). The "push service" is a small HTTP server in this process that records
every request and answers as each test scripts it; every "device" has its own P-256 key pair and
auth secret, so the tests decrypt with the subscriber's keys (http_ece) and check the VAPID
signature with `cryptography`, independently of the server's code."""
import base64
import json
import os
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from py_vapid import Vapid02
import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from test_chatr_messaging import device as socket_device

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from chatr_process import wait_until  # noqa: E402

PASSWORD = "Interop-pass1!"  # what Chatr.register gives everyone
ANN = "Ann Archer"  # a display name distinct from the username, so a leak of either is visible
PUSH_WAIT = 10  # seconds for a push to reach the push service (it is sent in the background)
GRACE = 1.0  # after a barrier: pushes to different subscriptions may run in parallel
FOREVER = "9999-12-31T00:00:00.000Z"  # how the contract shows "muted until turned off"


# ---------------------------------------------------------------------------------------------
# The push service


@dataclass
class Push:
    """One request the push service got, and when (monotonic) it arrived and was answered."""
    method: str
    path: str
    headers: dict  # lower-cased names
    body: bytes
    at: float
    status: int = 0
    answered: float = field(default=None)


class PushService:
    """A stand-in for a browser vendor's push service on 127.0.0.1. Each path answers 201 unless
    scripted: `script(path, (429, {"Retry-After": "2"}), 500)` answers those once each, in order,
    then `always(path, status)` (default 201) from then on."""

    def __init__(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real push service allows

            def do_POST(self):
                service._handle(self)

            do_GET = do_PUT = do_DELETE = do_POST  # never expected; recorded so a test sees them

            def log_message(self, *args):
                pass

        self.pushes = []
        self.scripts = {}
        self.defaults = {}
        self.cond = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def script(self, path, *answers):
        with self.cond:
            self.scripts.setdefault(path, []).extend(a if isinstance(a, tuple) else (a, {}) for a in answers)

    def always(self, path, status):
        with self.cond:
            self.defaults[path] = status

    def received(self, path):
        with self.cond:
            return [p for p in self.pushes if p.path == path]

    def wait(self, path, count=1, timeout=PUSH_WAIT, answered=False):
        """The first `count` requests to `path`, once they have arrived (and, with `answered`,
        once the last has had its answer written)."""
        def ready():
            got = [p for p in self.pushes if p.path == path]
            return len(got) >= count and (not answered or got[count - 1].answered is not None)
        with self.cond:
            got = self.cond.wait_for(ready, timeout)
            pushes = [p for p in self.pushes if p.path == path]
            assert got, f"{path}: {len(pushes)} request(s), wanted {count} within {timeout} s"
            return pushes[:count]

    def _handle(self, handler):
        body = self._read_body(handler)
        with self.cond:
            queue = self.scripts.get(handler.path) or []
            status, extra = queue.pop(0) if queue else (self.defaults.get(handler.path, 201), {})
            push = Push(handler.command, handler.path, {k.lower(): v for k, v in handler.headers.items()}, body,
                        time.monotonic(), status)
            self.pushes.append(push)
            self.cond.notify_all()
        handler.send_response(status)
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        handler.wfile.flush()
        with self.cond:
            push.answered = time.monotonic()
            self.cond.notify_all()

    @staticmethod
    def _read_body(handler):
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
                chunk = handler.rfile.read(size + 2)[:size]
                if size == 0:
                    return body
                body += chunk
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.stop()


# ---------------------------------------------------------------------------------------------
# A browser's push subscription


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """One browser: its own P-256 key pair and 16-byte auth secret, subscribed with the endpoint
    `<push service>/push/<name>`; decrypts what the push service got for it."""

    def __init__(self, service, name):
        self.service = service
        self.path = f"/push/{name}"
        self.endpoint = service.url + self.path
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.p256dh = b64url(self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                                serialization.PublicFormat.UncompressedPoint))

    def subscription(self, previews=None):
        body = {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}
        if previews is not None:
            body["previews"] = previews
        return body

    def subscribe(self, chatr, token, previews=None, expect=201):
        r = api(chatr, token, "POST", "/api/push/subscriptions", json=self.subscription(previews))
        assert r.status_code == expect, r.text
        return r.json()

    def pushes(self):
        return self.service.received(self.path)

    def wait(self, count=1, **kwargs):
        return self.service.wait(self.path, count, **kwargs)

    def decrypt(self, body):
        """The payload as JSON, after checking the aes128gcm header: one record of rs 4096 whose
        key id is the server's ephemeral public key (RFC 8291 §4)."""
        rs, id_len = int.from_bytes(body[16:20], "big"), body[20]
        assert rs == 4096 and id_len == 65 and body[21] == 4, (rs, id_len)
        assert len(body) <= 21 + id_len + rs, "one record"
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


# ---------------------------------------------------------------------------------------------
# Helpers


def api(chatr, token, method, path, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, chatr.url + path, headers=headers, timeout=10, **kwargs)


def send(chatr, token, content, recipient=None, group=None):
    """A message over REST; returns it (with its `conversationId`)."""
    body = {"content": content, "clientMessageId": str(uuid.uuid4())}
    body.update({"recipientId": recipient} if recipient else {"groupId": group})
    r = api(chatr, token, "POST", "/api/messages", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def push_key(chatr, token):
    r = api(chatr, token, "GET", "/api/push/key")
    assert r.status_code == 200, r.text
    return r.json()["publicKey"]


def endpoints(chatr, token):
    r = api(chatr, token, "GET", "/api/push/subscriptions")
    assert r.status_code == 200, r.text
    return [s["endpoint"] for s in r.json()["subscriptions"]]


def conversation(chatr, token, conversation_id):
    r = api(chatr, token, "GET", "/api/messages/conversations")
    assert r.status_code == 200, r.text
    return next(c for c in r.json()["conversations"] if c["conversationId"] == conversation_id)


def mute(chatr, token, conversation_id, **body):
    return api(chatr, token, "PUT", f"/api/messages/conversations/{conversation_id}/mute", json=body)


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def login(chatr, name):
    """A second session for `name`: password, then the emailed code from the dev outbox."""
    email = f"{name}@example.com"
    r = requests.post(chatr.url + "/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200 and r.json().get("requiresLoginVerification"), r.text
    code = requests.get(chatr.url + "/api/dev/outbox", params={"to": email}, timeout=5).json()[-1]["code"]
    r = requests.post(chatr.url + "/api/auth/login/verify", json={"userId": r.json()["userId"], "code": code}, timeout=10)
    assert r.status_code == 200 and r.json().get("token"), r.text
    return r.json()["token"]


def barrier(chatr, sender_token, witness_id, witness):
    """Before asserting that something was NOT pushed: a message to an offline, subscribed witness
    whose push does arrive shows the server has got past what was sent before it; GRACE more
    covers pushes to other subscriptions that run in parallel."""
    before = len(witness.pushes())
    send(chatr, sender_token, "barrier", recipient=witness_id)
    witness.wait(before + 1)
    time.sleep(GRACE)


def check_headers(push, conversation_id, urgency):
    h = push.headers
    assert push.method == "POST"
    assert h.get("content-encoding") == "aes128gcm"
    assert h.get("content-type") == "application/octet-stream"
    assert h.get("ttl") == "86400"
    assert h.get("urgency") == urgency
    # Topic collapses pushes per conversation and device at the push service: 32 base64url
    # characters that do not give the conversation away.
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", h.get("topic", "")), h.get("topic")
    assert conversation_id.replace("-", "").lower()[:8] not in h["topic"].lower()


def check_vapid(push, public_key, audience):
    """RFC 8292: `vapid t=<JWT>, k=<key>`; the ES256 signature checked here with the key from
    GET /api/push/key, not with anything the server computed. Returns the claims."""
    scheme, _, params = push.headers["authorization"].partition(" ")
    assert scheme.lower() == "vapid", push.headers["authorization"]
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key
    header_part, claims_part, signature_part = fields["t"].split(".")
    assert json.loads(b64url_decode(header_part)) == {"typ": "JWT", "alg": "ES256"}
    signature = b64url_decode(signature_part)
    assert len(signature) == 64, "JWS ES256 is r || s, 32 bytes each (not DER)"
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(public_key))
    try:
        key.verify(der, f"{header_part}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID JWT's signature does not verify with the published key")
    # A second opinion from py_vapid, the reference Python implementation (it reads the header
    # without the space RFC 8292's example puts after the comma).
    assert Vapid02.verify(push.headers["authorization"].replace(", ", ",")), "py_vapid does not accept the VAPID header"
    claims = json.loads(b64url_decode(claims_part))
    assert claims["aud"] == audience
    now = time.time()
    assert now < claims["exp"] <= now + 24 * 3600, claims  # RFC 8292 §2: at most 24 h ahead
    assert isinstance(claims.get("sub"), str) and claims["sub"].startswith(("mailto:", "https://")), claims
    return claims


def check_sent_at(payload):
    sent = datetime.fromisoformat(payload["sentAt"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - sent).total_seconds()) < 120, payload["sentAt"]


# ---------------------------------------------------------------------------------------------
# Routes


def test_key_and_subscription_routes(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    phone = Device(push_service, "ann-phone")

    for method, path in (("GET", "/api/push/key"), ("GET", "/api/push/subscriptions"),
                         ("POST", "/api/push/subscriptions"), ("DELETE", "/api/push/subscriptions")):
        for token in (None, "not-a-token"):
            r = api(chatr, token, method, path, json=phone.subscription())
            assert r.status_code == 401, (method, path, token, r.status_code, r.text)
    assert api(chatr, None, "PUT", f"/api/messages/conversations/{uuid.uuid4()}/mute", json={"muted": True}).status_code == 401

    key = push_key(chatr, ann)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", key), "base64url without padding"
    raw = b64url_decode(key)
    assert len(raw) == 65 and raw[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # a point on P-256
    assert push_key(chatr, bob) == key, "one server key for everyone"

    created = phone.subscribe(chatr, ann)
    assert created["endpoint"] == phone.endpoint and created["previews"] is True and created["id"]
    datetime.fromisoformat(created["createdAt"].replace("Z", "+00:00"))
    # The same endpoint again (a browser re-subscribing) updates it: 200, same record.
    again = phone.subscribe(chatr, ann, previews=False, expect=200)
    assert again["id"] == created["id"] and again["endpoint"] == phone.endpoint and again["previews"] is False
    listed = api(chatr, ann, "GET", "/api/push/subscriptions").json()["subscriptions"]
    assert [(s["id"], s["endpoint"], s["previews"]) for s in listed] == [(created["id"], phone.endpoint, False)]
    assert {"id", "endpoint", "previews", "createdAt"} <= set(listed[0])
    assert endpoints(chatr, bob) == [], "a user sees only their own devices"

    # Somebody else cannot remove my device, nor learn that it exists (404, as for none at all).
    r = api(chatr, bob, "DELETE", "/api/push/subscriptions", json={"endpoint": phone.endpoint})
    assert r.status_code == 404, r.text
    assert endpoints(chatr, ann) == [phone.endpoint]
    r = api(chatr, ann, "DELETE", "/api/push/subscriptions", json={"endpoint": phone.endpoint})
    assert r.status_code == 204, r.text
    r = api(chatr, ann, "DELETE", "/api/push/subscriptions", json={"endpoint": phone.endpoint})
    assert r.status_code == 404, r.text
    assert endpoints(chatr, ann) == []

    good = phone.subscription()
    bad = {
        "p256dh of 64 bytes": {**good, "keys": {**good["keys"], "p256dh": b64url(b"\x04" + os.urandom(63))}},
        "p256dh not on the curve": {**good, "keys": {**good["keys"], "p256dh": b64url(b"\x04" + bytes(64))}},
        "p256dh compressed": {**good, "keys": {**good["keys"], "p256dh": b64url(b"\x02" + os.urandom(32))}},
        "p256dh not base64": {**good, "keys": {**good["keys"], "p256dh": "!!not base64!!"}},
        "auth of 15 bytes": {**good, "keys": {**good["keys"], "auth": b64url(os.urandom(15))}},
        "auth of 17 bytes": {**good, "keys": {**good["keys"], "auth": b64url(os.urandom(17))}},
        "no keys": {"endpoint": phone.endpoint},
        "no endpoint": {"keys": good["keys"]},
        "ftp endpoint": {**good, "endpoint": "ftp://127.0.0.1/push/x"},
        "not a url": {**good, "endpoint": "not a url"},
        "3000-char endpoint": {**good, "endpoint": push_service.url + "/push/" + "a" * 3000},
    }
    for what, body in bad.items():
        r = api(chatr, ann, "POST", "/api/push/subscriptions", json=body)
        assert r.status_code == 400, (what, r.status_code, r.text)
        assert r.json().get("error"), (what, r.text)
    r = api(chatr, ann, "POST", "/api/push/subscriptions", data='{"endpoint": "http://127.0.0.1/',
            headers={"Content-Type": "application/json"})
    assert r.status_code == 400, ("malformed JSON", r.status_code, r.text)
    assert endpoints(chatr, ann) == [], "no bad body was stored"

    # Base64url with padding is accepted too (some browsers' toJSON pads).
    padded = {"endpoint": phone.endpoint, "keys": {"p256dh": phone.p256dh + "=" * (-len(phone.p256dh) % 4),
                                                   "auth": b64url(phone.auth) + "=="}}
    r = api(chatr, ann, "POST", "/api/push/subscriptions", json=padded)
    assert r.status_code == 201, r.text
    # A browser that signs in as someone else moves to them.
    r = api(chatr, bob, "POST", "/api/push/subscriptions", json=phone.subscription())
    assert r.status_code == 200, r.text
    assert endpoints(chatr, bob) == [phone.endpoint] and endpoints(chatr, ann) == []


def test_at_most_20_devices_each_the_oldest_is_dropped(chatr, push_service):
    bob_id, bob = chatr.register("bob")
    devices = [Device(push_service, f"bob-{n}") for n in range(21)]
    for d in devices:
        d.subscribe(chatr, bob)
    listed = endpoints(chatr, bob)
    assert len(listed) == 20 and devices[0].endpoint not in listed
    assert set(listed) == {d.endpoint for d in devices[1:]}


# ---------------------------------------------------------------------------------------------
# When a push is sent, and what it is


def test_an_offline_recipient_gets_an_encrypted_signed_push(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    phone = Device(push_service, "bob-phone")
    phone.subscribe(chatr, bob)
    key = push_key(chatr, bob)

    message = send(chatr, ann, "Lunch at one?", recipient=bob_id)
    cid = message["conversationId"]
    [push] = phone.wait()
    check_headers(push, cid, "high")
    check_vapid(push, key, push_service.url)
    payload = phone.decrypt(push.body)
    assert payload == {"type": "message", "conversationId": cid, "messageId": message["id"], "kind": "direct",
                       "title": ANN, "body": "Lunch at one?", "count": 1, "url": f"/#/c/{cid}",
                       "sentAt": payload.get("sentAt")}, payload
    check_sent_at(payload)

    # A long text is cut to 200 characters; the first push was answered, so this one stands
    # for one message again.
    long_text = "".join(f"word{n} " for n in range(100))
    message = send(chatr, ann, long_text, recipient=bob_id)
    second = phone.wait(2)[1]
    payload = phone.decrypt(second.body)
    assert payload["messageId"] == message["id"] and payload["count"] == 1
    assert len(payload["body"]) <= 200 and payload["body"][:150] == long_text[:150], payload["body"]
    check_vapid(second, key, push_service.url)
    time.sleep(GRACE)
    assert len(phone.pushes()) == 2, "exactly one request per push"


def test_no_push_while_connected_nor_to_the_sender(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    cat_id, cat = chatr.register("cat")
    ann_phone, bob_phone, cat_phone = (Device(push_service, n) for n in ("ann-phone", "bob-phone", "cat-phone"))
    for d, token in ((ann_phone, ann), (bob_phone, bob), (cat_phone, cat)):
        d.subscribe(chatr, token)

    bob_sio, bob_inbox = socket_device(chatr, bob)
    first = send(chatr, ann, "you are here", recipient=bob_id)  # REST, to a connected Bob
    assert bob_inbox.wait("message:received")[0]["id"] == first["id"]
    # Ann connects after the conversation exists, so her socket is in its room (user:status below).
    ann_sio, ann_inbox = socket_device(chatr, ann)
    ack = ann_sio.call("message:send", {"recipientId": cat_id, "content": "you are away"}, timeout=5)
    assert ack["ok"] is True, ack
    [push] = cat_phone.wait()  # a socket send pushes as a REST send does
    assert cat_phone.decrypt(push.body)["messageId"] == ack["message"]["id"]
    time.sleep(GRACE)
    assert bob_phone.pushes() == [], "Bob had a socket connected"
    assert ann_phone.pushes() == [], "never to the sender"

    # Once Bob's socket is gone, he is pushed to again.
    bob_sio.disconnect()
    wait_until(lambda: any(e[0].get("userId") == bob_id and e[0].get("status") == "offline"
                           for e in ann_inbox.events.get("user:status", [])), 5, "Bob offline")
    ack = ann_sio.call("message:send", {"recipientId": bob_id, "content": "now you are away"}, timeout=5)
    assert ack["ok"] is True, ack
    [push] = bob_phone.wait()
    assert bob_phone.decrypt(push.body)["body"] == "now you are away"
    ann_sio.disconnect()


@pytest.mark.parametrize("status", [410, 404])
def test_gone_removes_the_subscription(chatr, push_service, status):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    cat_id, cat = chatr.register("cat")
    bob_phone, cat_phone = Device(push_service, "bob-phone"), Device(push_service, "cat-phone")
    bob_phone.subscribe(chatr, bob)
    cat_phone.subscribe(chatr, cat)
    push_service.always(bob_phone.path, status)

    send(chatr, ann, "one", recipient=bob_id)
    bob_phone.wait()
    wait_until(lambda: bob_phone.endpoint not in endpoints(chatr, bob), 5, f"{status}: subscription deleted")
    send(chatr, ann, "two", recipient=bob_id)
    barrier(chatr, ann, cat_id, cat_phone)
    assert len(bob_phone.pushes()) == 1, f"no request after the {status}"
    assert endpoints(chatr, cat) == [cat_phone.endpoint], "only Bob's subscription went"


@pytest.mark.parametrize("answers, gaps", [
    ([(429, {"Retry-After": "2"})], [1.9]),  # 2, not 1: a delay the default backoff (1 s) would not give
    ([500, 500], [0.9, 1.9]),  # no Retry-After: 1 s, then 2 s
], ids=["429-retry-after", "500-backoff"])
def test_429_and_5xx_are_retried(chatr, push_service, answers, gaps):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    phone = Device(push_service, "bob-phone")
    phone.subscribe(chatr, bob)
    push_service.script(phone.path, *answers)

    message = send(chatr, ann, "try again", recipient=bob_id)
    tries = phone.wait(len(answers) + 1, timeout=PUSH_WAIT + sum(gaps))
    payloads = [phone.decrypt(p.body) for p in tries]
    for before, after, gap in zip(tries, tries[1:], gaps):
        assert after.at - before.at >= gap, f"retried after {after.at - before.at:.2f} s, wanted ≥ {gap}"
    assert all(p == payloads[0] for p in payloads), payloads
    assert payloads[0]["messageId"] == message["id"] and payloads[0]["count"] == 1
    time.sleep(GRACE + 1)  # a further retry would come 1 s (or more) after the last answer
    assert len(phone.pushes()) == len(tries), "a 201 ends it"
    assert endpoints(chatr, bob) == [phone.endpoint], "a retried push keeps the subscription"


def test_newer_messages_fold_into_a_waiting_push(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    phone = Device(push_service, "bob-phone")
    phone.subscribe(chatr, bob)
    push_service.script(phone.path, (429, {"Retry-After": "2"}))

    send(chatr, ann, "first", recipient=bob_id)
    phone.wait(answered=True)  # the 429 is written: the push is now backing off
    second = send(chatr, ann, "second", recipient=bob_id)
    first_try, retry = phone.wait(2, timeout=PUSH_WAIT + 2)
    assert retry.at - first_try.at >= 1.9, "the replacement still waits out Retry-After"
    payload = phone.decrypt(retry.body)
    assert payload["messageId"] == second["id"] and payload["body"] == "second" and payload["count"] == 2, payload
    time.sleep(GRACE)
    assert len(phone.pushes()) == 2, "the first message was not pushed again on its own"


def test_retries_stop_after_5_attempts(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    phone = Device(push_service, "bob-phone")
    phone.subscribe(chatr, bob)
    # Retry-After 1 on every answer keeps the 5 attempts within a few seconds.
    push_service.script(phone.path, *[(503, {"Retry-After": "1"})] * 10)

    send(chatr, ann, "are you there", recipient=bob_id)
    phone.wait(5, timeout=PUSH_WAIT + 5)
    time.sleep(2.5)  # a 6th attempt would come 1 s after the 5th answer
    assert len(phone.pushes()) == 5


def test_other_4xx_drops_the_push_not_the_subscription(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    phone = Device(push_service, "bob-phone")
    phone.subscribe(chatr, bob)
    push_service.script(phone.path, 400)

    send(chatr, ann, "one", recipient=bob_id)
    phone.wait()
    time.sleep(GRACE + 0.5)  # a retry would come after 1 s
    assert len(phone.pushes()) == 1, "a 400 is not retried"
    assert endpoints(chatr, bob) == [phone.endpoint]
    message = send(chatr, ann, "two", recipient=bob_id)
    assert phone.decrypt(phone.wait(2)[1].body)["messageId"] == message["id"]


def test_a_redirect_is_not_followed(chatr, push_service):
    """A push service answering 307 to elsewhere (an internal address, say) is not followed: the
    push is dropped, nothing reaches the other address, the subscription stays."""
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    phone = Device(push_service, "bob-phone")
    phone.subscribe(chatr, bob)
    push_service.script(phone.path, (307, {"Location": push_service.url + "/internal"}))

    send(chatr, ann, "one", recipient=bob_id)
    phone.wait()
    time.sleep(GRACE + 0.5)  # a followed redirect would come at once, a retry after 1 s
    assert push_service.received("/internal") == [], "the redirect was followed"
    assert len(phone.pushes()) == 1, "a redirect is not retried"
    assert endpoints(chatr, bob) == [phone.endpoint]


def test_the_topic_is_the_same_for_one_conversation_and_device(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    cat_id, cat = chatr.register("cat")
    phone, laptop = Device(push_service, "bob-phone"), Device(push_service, "bob-laptop")
    phone.subscribe(chatr, bob)
    laptop.subscribe(chatr, bob)
    send(chatr, ann, "one", recipient=bob_id)
    first_phone, first_laptop = phone.wait()[0], laptop.wait()[0]
    send(chatr, ann, "two", recipient=bob_id)
    send(chatr, cat, "three", recipient=bob_id)
    phone_pushes = phone.wait(3)
    topics = {phone.decrypt(p.body)["body"]: p.headers["topic"] for p in phone_pushes}
    assert topics["one"] == topics["two"], "one conversation, one device: one topic (a newer push replaces the older)"
    assert topics["three"] != topics["one"], "another conversation: another topic"
    assert first_laptop.headers["topic"] != first_phone.headers["topic"], "two devices cannot be linked by their topics"


def test_previews_off_hides_the_text_per_device(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    private, open_ = Device(push_service, "bob-work"), Device(push_service, "bob-home")
    assert private.subscribe(chatr, bob, previews=False)["previews"] is False
    open_.subscribe(chatr, bob)

    message = send(chatr, ann, "the secret plans for Friday", recipient=bob_id)
    cid = message["conversationId"]
    [push] = private.wait()
    check_headers(push, cid, "high")
    raw = http_ece.decrypt(push.body, private_key=private.key, auth_secret=private.auth, version="aes128gcm").decode()
    for leak in ("secret", "Friday", "Ann", "Archer", "ann", message["id"]):
        assert leak not in raw, f"{leak!r} in {raw}"
    assert json.loads(raw) == {"type": "message", "conversationId": cid, "kind": "direct", "title": "Chatr",
                               "body": "New message", "count": 1, "url": f"/#/c/{cid}"}
    # Previews are per subscription: Bob's other device shows the text.
    [push] = open_.wait()
    assert open_.decrypt(push.body)["body"] == "the secret plans for Friday"


def test_a_muted_chat_is_not_pushed(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    cat_id, cat = chatr.register("cat")
    bob_phone, cat_phone = Device(push_service, "bob-phone"), Device(push_service, "cat-phone")
    bob_phone.subscribe(chatr, bob)
    cat_phone.subscribe(chatr, cat)

    cid = send(chatr, ann, "before", recipient=bob_id)["conversationId"]
    bob_phone.wait()

    r = mute(chatr, bob, cid, muted=True)
    assert r.status_code == 200, r.text
    assert r.json() == {"conversationId": cid, "mutedUntil": FOREVER}
    assert conversation(chatr, bob, cid)["mutedUntil"] == FOREVER
    assert conversation(chatr, ann, cid)["mutedUntil"] is None, "muting is Bob's, not the conversation's"
    assert mute(chatr, cat, cid, muted=True).status_code == 403, "not a member"
    assert mute(chatr, bob, str(uuid.uuid4()), muted=True).status_code == 404
    send(chatr, ann, "while muted", recipient=bob_id)
    barrier(chatr, ann, cat_id, cat_phone)
    assert len(bob_phone.pushes()) == 1, "muted"

    r = mute(chatr, bob, cid, muted=False)
    assert r.status_code == 200 and r.json() == {"conversationId": cid, "mutedUntil": None}, r.text
    assert conversation(chatr, bob, cid)["mutedUntil"] is None
    message = send(chatr, ann, "after", recipient=bob_id)
    payload = bob_phone.decrypt(bob_phone.wait(2)[1].body)
    assert payload["messageId"] == message["id"] and payload["count"] == 1, "the muted message was not held back"

    # Muted for an hour: no push.
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    r = mute(chatr, bob, cid, muted=True, until=iso(later))
    assert r.status_code == 200, r.text
    assert abs((datetime.fromisoformat(r.json()["mutedUntil"].replace("Z", "+00:00")) - later).total_seconds()) < 1
    assert conversation(chatr, bob, cid)["mutedUntil"] == r.json()["mutedUntil"]
    send(chatr, ann, "within the hour", recipient=bob_id)
    barrier(chatr, ann, cat_id, cat_phone)
    assert len(bob_phone.pushes()) == 2, "muted for an hour"
    # A mute that has run out ("mutedUntil" past) no longer holds pushes back. (A `until` already
    # past when sent is refused with 400, so the mute is set a moment ahead and left to expire.)
    soon = datetime.now(timezone.utc) + timedelta(seconds=2)
    r = mute(chatr, bob, cid, muted=True, until=iso(soon))
    assert r.status_code == 200, r.text
    wait_until(lambda: datetime.now(timezone.utc) > soon + timedelta(milliseconds=200), 5, "the mute ran out")
    message = send(chatr, ann, "mute is over", recipient=bob_id)
    assert bob_phone.decrypt(bob_phone.wait(3)[2].body)["messageId"] == message["id"]


def test_a_group_message_is_pushed_to_offline_members(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, bob = chatr.register("bob")
    cat_id, cat = chatr.register("cat")
    ann_phone, bob_phone, cat_phone = (Device(push_service, n) for n in ("ann-phone", "bob-phone", "cat-phone"))
    for d, token in ((ann_phone, ann), (bob_phone, bob), (cat_phone, cat)):
        d.subscribe(chatr, token)
    r = api(chatr, ann, "POST", "/api/groups", json={"name": "Hikers", "memberIds": [bob_id, cat_id]})
    assert r.status_code == 201, r.text
    group_id = r.json()["id"]
    cat_sio, cat_inbox = socket_device(chatr, cat)  # Cat is connected: no push for her

    message = send(chatr, ann, "Summit at dawn", group=group_id)
    cid = message["conversationId"]
    assert cat_inbox.wait("group:message:received")[0]["id"] == message["id"]
    [push] = bob_phone.wait()
    check_headers(push, cid, "normal")
    check_vapid(push, push_key(chatr, bob), push_service.url)
    payload = bob_phone.decrypt(push.body)
    assert payload == {"type": "message", "conversationId": cid, "messageId": message["id"], "kind": "group",
                       "title": f"{ANN} · Hikers", "body": "Summit at dawn", "count": 1, "url": f"/#/c/{cid}",
                       "sentAt": payload.get("sentAt")}, payload
    check_sent_at(payload)
    time.sleep(GRACE)
    assert cat_phone.pushes() == [] and ann_phone.pushes() == []
    cat_sio.disconnect()


def test_signing_out_removes_that_sessions_device(chatr, push_service):
    ann_id, ann = chatr.register("ann", ANN)
    bob_id, first_session = chatr.register("bob")
    second_session = login(chatr, "bob")
    old_phone, laptop = Device(push_service, "bob-old-phone"), Device(push_service, "bob-laptop")
    old_phone.subscribe(chatr, first_session)
    laptop.subscribe(chatr, second_session)

    r = api(chatr, first_session, "POST", "/api/auth/logout")
    assert r.status_code == 200, r.text
    assert api(chatr, first_session, "GET", "/api/push/subscriptions").status_code == 401
    message = send(chatr, ann, "still there?", recipient=bob_id)
    # The laptop's push is the barrier: the other session's device still gets pushes.
    assert laptop.decrypt(laptop.wait()[0].body)["messageId"] == message["id"]
    time.sleep(GRACE)
    assert old_phone.pushes() == [], "the signed-out session's device"
    assert endpoints(chatr, second_session) == [laptop.endpoint]
    assert endpoints(chatr, login(chatr, "bob")) == [laptop.endpoint]
