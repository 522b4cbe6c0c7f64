"""Web Push and per-chat mute in the web client: the Settings switch registers the service worker
and this browser's subscription with the server (and removes it), a message to someone with no
open tab reaches their push service encrypted (RFC 8291) with a VAPID signature, the service
worker turns it into a notification whose click opens the chat, a chat can be muted from its
header, and #/c/<conversationId> opens a conversation.

Headless Chromium cannot reach a real push service, so the browser is stubbed at its edge only:
before the app loads, PushManager.subscribe/getSubscription return a subscription whose endpoint
is a recording HTTP server in this test and whose keys are made here (so what the server sends can
be decrypted here), and the notification permission is granted through DevTools as if the person
had said yes to the prompt. Everything else — the service worker, the server — is real.
"""
import base64
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
import requests
import websocket
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from selenium.common.exceptions import StaleElementReferenceException

from conftest import PASSWORD, latest_code, register_via_api, sign_in_as


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the push service and the device's keys -------------------------------------------------

class PushService:
    """A stand-in for the browser vendor's push service on loopback: records every request."""

    def __init__(self):
        self.received = []
        self.changed = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with service.changed:
                    service.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    service.changed.notify_all()
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, timeout=20):
        """The first `count` requests, once that many have come."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"the push service got {len(self.received)} requests, not {count}, within {timeout} s")
            return list(self.received[:count])

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.stop()


class Device:
    """What a browser's push subscription holds: the endpoint at the push service and the keys
    (P-256 key pair and 16-byte auth secret) the server encrypts with."""

    def __init__(self, push_service, name):
        self.endpoint = f"{push_service.origin}/push/{name}"
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.p256dh = b64url(point)
        self.auth_secret = os.urandom(16)
        self.auth = b64url(self.auth_secret)

    def decrypt(self, body):
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm")
        return json.loads(plain.decode("utf-8"))


# Runs in every document before its scripts: PushManager hands out the test's subscription. What
# it was subscribed with is kept in localStorage, like a browser keeps a real one across reloads.
FAKE_PUSH_MANAGER = """
(() => {
  if (typeof PushManager === 'undefined') return;
  const device = %s;
  const STORED = 'test.push.serverKey';
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const subscription = (serverKey) => ({
    endpoint: device.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: bytes(serverKey).buffer },
    toJSON: () => ({ endpoint: device.endpoint, expirationTime: null, keys: { p256dh: device.p256dh, auth: device.auth } }),
    unsubscribe: async () => { localStorage.removeItem(STORED); return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    if (!options || options.userVisibleOnly !== true) throw new DOMException('userVisibleOnly must be true', 'NotAllowedError');
    const key = options.applicationServerKey;
    const raw = ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength) : new Uint8Array(key);
    localStorage.setItem(STORED, b64url(raw));
    return subscription(b64url(raw));
  };
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem(STORED);
    return key ? subscription(key) : null;
  };
})();
"""


@pytest.fixture
def push_browsers(server, browsers, push_service):
    """Factory of browsers whose push subscriptions go to `push_service`, with notifications
    allowed (as if the person had said yes to the prompt): (browser, device)."""
    connections = []

    def make(name):
        device = Device(push_service, name)
        b = browsers(name)
        b.fake_push_manager = FAKE_PUSH_MANAGER % json.dumps({"endpoint": device.endpoint, "p256dh": device.p256dh, "auth": device.auth})
        b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": b.fake_push_manager})
        # Granted over a DevTools connection of the browser's own: an override lasts as long as the
        # connection that made it, and chromedriver's goes with the tab it drives.
        b.devtools = DevTools(b)
        connections.append(b.devtools)
        b.devtools.call("Browser.grantPermissions", {"permissions": ["notifications"], "origin": server.url})
        return b, device

    yield make
    for connection in connections:
        connection.close()


def close_the_tab(b):
    """Closes the app's tab, leaving a blank one (with the stub) for later: its socket is gone."""
    app_tab = b.driver.current_window_handle
    b.driver.switch_to.new_window("tab")
    blank = b.driver.current_window_handle
    b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": b.fake_push_manager})
    b.driver.switch_to.window(app_tab)
    b.driver.close()
    b.driver.switch_to.window(blank)


# --- the server, over REST ---------------------------------------------------------------------

def call(server, token, method, path, body=None):
    return requests.request(method, server.url + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def subscriptions(server, token):
    r = call(server, token, "GET", "/api/push/subscriptions")
    assert r.status_code == 200, r.text
    return r.json()["subscriptions"]


def conversation_with(server, token, name):
    """The item of the signed-in user's conversation list whose other person or group is `name`."""
    r = call(server, token, "GET", "/api/messages/conversations")
    assert r.status_code == 200, r.text
    for item in r.json()["conversations"]:
        if (item.get("user") or {}).get("displayName") == name or (item.get("group") or {}).get("name") == name:
            return item
    raise AssertionError(f"no conversation with {name}: {r.text}")


def say(server, account, recipient_id, text):
    r = call(server, account["token"], "POST", "/api/messages", {"recipientId": recipient_id, "content": text})
    assert r.status_code == 201, r.text
    return r.json()


def fresh_session(server, account):
    """A second sign-in of the same person (password, then the emailed code): a new token."""
    r = requests.post(server.url + "/api/auth/login", json={"email": account["email"], "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    if r.json().get("token"):
        return r.json()["token"]
    r = requests.post(server.url + "/api/auth/login/verify",
                      json={"userId": account["user"]["id"], "code": latest_code(server, account["email"], after=1)}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def verify_vapid(authorization, public_key, audience):
    """`vapid t=<JWT>, k=<key>`: the key is the server's, the ES256 signature holds, the claims fit."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    assert fields["k"] == public_key
    head, claims, signature = fields["t"].split(".")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    raw = unb64url(signature)
    assert len(raw) == 64, "ES256 signatures are r || s, 32 bytes each"
    key.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
               f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
    claims = json.loads(unb64url(claims))
    assert claims["aud"] == audience, claims
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
    assert claims["sub"].startswith(("mailto:", "https:")), claims


# --- the browser -------------------------------------------------------------------------------

def service_worker(b):
    """The scope and script of the page's service worker once one is active, else None."""
    return b.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        navigator.serviceWorker.getRegistration().then(
          (r) => done(r && r.active ? { scope: r.scope, script: r.active.scriptURL } : null), () => done(null));""")


def tap(b, css):
    """Clicks css, finding it again if the view redrew it meanwhile (Settings redraws when the
    profile arrives from the server just after the panel opens)."""
    def attempt():
        try:
            b.find(css).click()
            return True
        except StaleElementReferenceException:
            return False
    b.wait(attempt, message=f"could not click {css}")


def checked(b, css):
    return b.js("return document.querySelector(arguments[0]).checked", css)


def open_notifications_settings(b):
    tap(b, "[data-action=settings]")
    b.find("[data-push]")
    b.js("document.querySelector('[data-push]').scrollIntoView({block: 'center'})")


def close_panels(b):
    while b.find_all(".panel [data-close]"):
        tap(b, ".panel [data-close]")


class DevTools:
    """A second DevTools connection to a browser (chromedriver keeps its own) for the
    ServiceWorker domain, whose registration ids come only as events, which execute_cdp_cmd
    cannot read; and for running code inside the service worker."""

    def __init__(self, b):
        address = b.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        url = requests.get(f"http://{address}/json/version", timeout=5).json()["webSocketDebuggerUrl"]
        self.ws = websocket.create_connection(url, timeout=10, suppress_origin=True)
        self.last_id = 0
        self.events = []

    def call(self, method, params=None, session=None):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.last_id:
                assert "error" not in answer, f"{method}: {answer['error']}"
                return answer["result"]
            self.events.append(answer)

    def event(self, method, matches, timeout=10):
        """The first event `method` whose params satisfy `matches`, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e.get("method") == method and matches(e["params"]):
                    return e["params"]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} event within {timeout} s")
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                pass
            finally:
                self.ws.settimeout(10)

    def attach(self, kind, url_ending):
        targets = self.call("Target.getTargets")["targetInfos"]
        target = next(t for t in targets if t["type"] == kind and t["url"].endswith(url_ending))
        return self.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]

    def evaluate(self, session, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, session=session)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def close(self):
        self.ws.close()


# --- the tests ---------------------------------------------------------------------------------

def test_the_settings_switch_registers_this_browser_for_push_and_removes_it(server, push_browsers):
    bob = register_via_api(server, "bob", "Bob")
    b, device = push_browsers("bob")
    sign_in_as(b, bob)
    # Nothing happens at page load: no worker, nothing registered, until the person asks.
    assert service_worker(b) is None
    assert subscriptions(server, bob["token"]) == []

    open_notifications_settings(b)
    assert not checked(b, "[data-push]") and not b.js("return document.querySelector('[data-push]').disabled")
    assert checked(b, "[data-push-previews]"), "message text is shown by default"
    tap(b, "[data-push]")
    b.wait_text(".toast", "Notifications are on")
    worker = b.wait(lambda: service_worker(b), message="no active service worker")
    assert worker["script"] == server.url + "/sw.js" and worker["scope"] == server.url + "/", worker
    listed = b.wait(lambda: subscriptions(server, bob["token"]), message="the server lists no subscription")
    assert [(s["endpoint"], s["previews"]) for s in listed] == [(device.endpoint, True)]
    # Subscribed with the server's VAPID key, as the push service needs.
    key = call(server, bob["token"], "GET", "/api/push/key").json()["publicKey"]
    assert b.js("return localStorage.getItem('test.push.serverKey')") == key
    b.wait(lambda: checked(b, "[data-push]"), message="the switch is not on")
    b.screenshot("push-01-settings-notifications")

    # Message text off: the same subscription, posted again without previews.
    tap(b, "[data-push-previews]")
    b.wait(lambda: [s["previews"] for s in subscriptions(server, bob["token"])] == [False], message="previews still on at the server")

    # Each start of the app posts the subscription again (the server ties it to the session).
    assert call(server, bob["token"], "DELETE", "/api/push/subscriptions", {"endpoint": device.endpoint}).status_code == 204
    b.open("/")
    b.find(".sidebar")
    b.wait(lambda: [(s["endpoint"], s["previews"]) for s in subscriptions(server, bob["token"])] == [(device.endpoint, False)],
           message="a reload did not register the subscription again")

    # Off: gone at the server and in the browser.
    open_notifications_settings(b)
    tap(b, "[data-push]")
    b.wait_text(".toast", "Notifications are off")
    b.wait(lambda: subscriptions(server, bob["token"]) == [], message="the subscription is still listed")
    assert b.js("return localStorage.getItem('test.push.serverKey')") is None, "the browser's subscription was kept"
    assert not checked(b, "[data-push]")

    # On again, then signing out: the server drops it with the session, and this device forgets it.
    tap(b, "[data-push]")
    b.wait(lambda: subscriptions(server, bob["token"]), message="the subscription did not come back")
    tap(b, "[data-logout]")
    b.find("dialog [data-dialog=ok]").click()
    b.find("form[data-form=login]")
    assert b.js("return localStorage.getItem('chatr.push')") is None
    b.wait(lambda: b.js("return localStorage.getItem('test.push.serverKey')") is None, message="still subscribed after signing out")
    assert subscriptions(server, fresh_session(server, bob)) == []


def test_a_message_to_someone_away_is_pushed_encrypted_and_shown_by_the_service_worker(server, browsers, push_browsers, push_service):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    b, device = push_browsers("bob")
    sign_in_as(b, bob)
    open_notifications_settings(b)
    tap(b, "[data-push]")
    b.wait_text(".toast", "Notifications are on")
    b.wait(lambda: subscriptions(server, bob["token"]), message="not registered")
    close_panels(b)

    # While Bob has Chatr open the message comes over the socket: no push.
    say(server, alice, bob["user"]["id"], "Lunch at noon?")
    b.wait_text(".conversation[data-key]", "Lunch at noon?")
    a = browsers("alice")
    sign_in_as(a, alice)
    a.click_text(".conversation[data-key]", "Bob")
    a.wait_text("[data-chat-sub]", "online")

    # Bob closes the tab; once Alice sees him gone (not just "away": the page says that as it
    # hides, before its socket closes), her next message is pushed.
    close_the_tab(b)
    a.wait(lambda: a.find("[data-chat-sub]").text == "offline" or a.find("[data-chat-sub]").text.startswith("last seen"),
           timeout=20, message="Bob still shown online")
    sent = say(server, alice, bob["user"]["id"], "Are you there, Bob? 🙂")
    [push] = push_service.wait_for(1)
    conversation = conversation_with(server, bob["token"], "Alice")
    cid = conversation["conversationId"]

    assert push["path"] == "/push/bob"
    headers = push["headers"]
    assert headers["ttl"] == "86400"
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["urgency"] == "high", "a direct message is urgent"
    assert len(headers["topic"]) == 32 and cid.replace("-", "")[:8] not in headers["topic"].lower(), headers["topic"]
    key = call(server, bob["token"], "GET", "/api/push/key").json()["publicKey"]
    verify_vapid(headers["authorization"], key, push_service.origin)
    payload = device.decrypt(push["body"])
    assert payload["type"] == "message" and payload["kind"] == "direct", payload
    assert payload["conversationId"] == cid and payload["messageId"] == sent["id"], payload
    assert (payload["title"], payload["body"], payload["count"]) == ("Alice", "Are you there, Bob? 🙂", 1), payload
    assert payload["url"] == f"/#/c/{cid}", payload

    # Back in Chatr: the push reaches Bob's service worker, which shows it as a notification.
    b.open("/")
    b.find(".sidebar")
    devtools = b.devtools
    page = devtools.attach("page", "/")
    devtools.call("ServiceWorker.enable", session=page)
    registration = devtools.event("ServiceWorker.workerRegistrationUpdated",
                                  lambda p: any(r["scopeURL"] == server.url + "/" and not r["isDeleted"] for r in p["registrations"]))
    registration_id = next(r["registrationId"] for r in registration["registrations"] if r["scopeURL"] == server.url + "/")
    deliver = lambda data: devtools.call("ServiceWorker.deliverPushMessage",
                                         {"origin": server.url, "registrationId": registration_id, "data": json.dumps(data)}, session=page)
    # Read once before the push: Chromium opens its notification store on first use, and a read
    # racing the push's write to a store not yet open can lose the write (seen here ~1 run in 2).
    assert notifications(b) == []
    deliver(payload)
    shown = b.wait(lambda: notifications(b), message="no notification shown")
    assert shown == [{"title": "Alice", "body": "Are you there, Bob? 🙂", "tag": cid,
                      "data": {"url": server.url + f"/#/c/{cid}", "conversationId": cid}}], shown
    # Several messages in one push: the same notification, saying how many.
    deliver({**payload, "count": 3, "body": "Third one"})
    b.wait(lambda: [n["body"] for n in notifications(b)] == ["3 new messages · Third one"], message="not replaced by the newer push")

    # A click on it focuses the open window and opens the chat there (what notificationclick does).
    worker = devtools.attach("service_worker", "/sw.js")
    devtools.evaluate(worker, f"openConversation({{ url: {json.dumps(server.url + '/#/c/' + cid)}, conversationId: {json.dumps(cid)} }}).then(() => true)")
    b.wait_text(".chat-name", "Alice")
    b.wait_text(".msg .bubble", "Are you there, Bob?")
    assert len(push_service.received) == 1, "a message was pushed while Bob was online"


def notifications(b):
    return b.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        navigator.serviceWorker.ready.then((r) => r.getNotifications()).then(
          (list) => done(list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }))), () => done([]));""")


def test_muting_a_chat_from_its_header(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    say(server, alice, bob["user"]["id"], "Big news tomorrow")
    b = browsers("bob")
    sign_in_as(b, bob)
    b.click_text(".conversation[data-key]", "Alice")
    b.wait_text(".chat-name", "Alice")
    mute = b.find("[data-action=mute]")
    assert mute.get_attribute("aria-label") == "Mute notifications"
    assert not b.find_all(".conversation [data-muted]")

    tap(b, "[data-action=mute]")
    mark = b.find(".conversation[data-key] [data-muted]")
    assert mark.get_attribute("aria-label") == "Notifications muted" and mark.text == "🔕"
    b.wait(lambda: b.find("[data-action=mute]").get_attribute("aria-label") == "Unmute notifications", message="the button still says Mute")
    muted_until = conversation_with(server, bob["token"], "Alice")["mutedUntil"]
    assert muted_until and muted_until > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), muted_until
    b.screenshot("push-02-muted-chat")

    # Still muted after a reload (the list comes from the server).
    b.open("/")
    b.find(".conversation[data-key] [data-muted]")

    b.click_text(".conversation[data-key]", "Alice")
    b.wait(lambda: b.find("[data-action=mute]").get_attribute("aria-label") == "Unmute notifications", message="no Unmute button")
    tap(b, "[data-action=mute]")
    b.wait(lambda: not b.find_all(".conversation [data-muted]"), message="the muted mark stays")
    b.wait(lambda: b.find("[data-action=mute]").get_attribute("aria-label") == "Mute notifications", message="the button still says Unmute")
    assert conversation_with(server, bob["token"], "Alice")["mutedUntil"] is None


def test_a_conversation_link_opens_the_chat(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    carol = register_via_api(server, "carol", "Carol")
    bob = register_via_api(server, "bob", "Bob")
    say(server, alice, bob["user"]["id"], "From Alice")
    say(server, carol, bob["user"]["id"], "From Carol")
    alice_cid = conversation_with(server, bob["token"], "Alice")["conversationId"]
    carol_cid = conversation_with(server, bob["token"], "Carol")["conversationId"]
    b = browsers("bob")
    sign_in_as(b, bob)

    # In a tab already open (a notification's link followed there).
    b.js("location.hash = arguments[0]", f"#/c/{carol_cid}")
    b.wait_text(".chat-name", "Carol")
    b.wait_text(".msg .bubble", "From Carol")
    b.wait(lambda: b.js("return location.hash") == "#/", message="the link stays in the address bar")
    b.js("location.hash = arguments[0]", f"#/c/{alice_cid}")
    b.wait_text(".chat-name", "Alice")

    # Opening Chatr at the link (a new window from a notification): the chat opens after start.
    b.driver.get("about:blank")   # else only the fragment would change, in the same page
    b.open(f"/#/c/{carol_cid}")
    b.wait_text(".chat-name", "Carol")

    # A conversation that is not Bob's: a notice, nothing opened.
    b.js("location.hash = arguments[0]", f"#/c/{uuid.uuid4()}")
    b.wait_text(".toast", "not in your list")
    assert b.find(".chat-name").text == "Carol"
