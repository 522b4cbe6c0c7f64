"""The authorization matrix of the real `chatr` binary: who may call every REST operation and emit
every Socket.IO event, generated from ONE table (`ROUTES` and `EVENTS` below).

Each row names an operation (method + path exactly as `GET /api/openapi.json` writes it, or a
client → server event of SPEC §7) and, for every role it lists, the expected outcome: an HTTP
status for routes, `ok` / `refused` (an ack `{ok:false, error, code}`) / `connect refused` for
events. Each (row, role) cell is one test: it builds what it needs (a fresh group, message, voice
note…), acts as the role, checks the outcome, and after a refusal checks that nothing changed for
the victim (the message was not edited, no event reached the other members, the member list is
the same, a refused body leaks none of the group's messages…). Where the error code is the point
(an invite link was needed), the row's `codes` names it and the cell checks it.

Roles
  owner       the sender of the message / the group's creator (owner) / the user themself
  member      another member of the same group (or the other person of the owner's direct chat)
  admin       a group admin who is not the owner (no route makes admins: the cell sets the role
              in the database, which the server reads on every check)
  removed     was in the group, then removed by the owner (after the group's message was sent)
  stranger    a verified user who shares nothing with the owner
  stranger-dm a stranger naming the owner's direct conversation by its conversationId
  late-joiner the stranger after joining the group with an invite link the owner made, once the
              message was sent: a member, who sees history only from when they joined (SPEC §6)
  invitee     the stranger holding a usable invite link to the group (knowing a group's id lets
              no one in: joining takes a link an owner or admin made)
  anonymous   no token
  revoked     the owner's own token after POST /api/auth/logout (for joins: the stranger's)
  remote      a client that is not on this machine (X-Real-IP through the trusted proxy)
  guesser     no token, aiming at someone else's account without its secret (a wrong code or
              password, an email that belongs to a verified account, a made-up file key)

Coverage guard: a test fails when the OpenAPI document has an operation without a row or a row
names an operation that no longer exists, when `SocketEventHandlers.swift` registers an event
(`handle("name"`) without a row or a row names an event it does not handle, and when an
authenticated row lacks anonymous, revoked or stranger.

One server for the module (SQLite, or CHATR_E2E_DATABASE_URL), with TRUSTED_PROXIES=127.0.0.1
so each auth request comes from its own X-Real-IP (the per-IP auth limit is 30 a minute).
A cell that shows a real server bug is an xfail(strict=True) naming it, with the expectation set to
what it should be.
"""
import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import sqlite3
import struct
import subprocess
import threading
import time
import uuid

import pytest
import requests
import socketio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import Chatr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANDLERS = os.path.join(ROOT, "Sources", "ChatrServer", "Realtime", "SocketEventHandlers.swift")
SPEC = os.path.join(os.path.dirname(ROOT), "shared", "SPEC.md")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

OWNER, MEMBER, ADMIN, REMOVED, STRANGER = "owner", "member", "admin", "removed", "stranger"
STRANGER_DM, ANON, REVOKED, REMOTE, GUESSER = "stranger-dm", "anonymous", "revoked", "remote", "guesser"
LATE = "late-joiner"
INVITEE = "invitee"
AS_STRANGER = (STRANGER_DM, LATE, INVITEE)  # the stranger's account, in another situation
EXTRA = "extra"  # a verified user the cells add to or remove from groups (never an actor)
CAST = (OWNER, MEMBER, ADMIN, REMOVED, STRANGER, EXTRA)
SOCKET_ROLES = (OWNER, MEMBER, ADMIN, REMOVED, STRANGER)
OUTSIDERS = (ANON, REVOKED, STRANGER)  # every authenticated row lists these
OK, REFUSED, NO_CONNECT = "ok", "refused", "connect refused"

PASSWORD = "Authz-pass1!"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OGG = b"OggS" + b"\x01" * 128
WAIT = 5
FOREVER = "9999-12-31T00:00:00.000Z"  # how a mute "until turned off" is shown (the push contract)


def totp(secret, at=None):
    """RFC 6238 (SHA1, 6 digits, 30 s), as the server checks it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def other_code(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


class User:
    def __init__(self, id, username, email=None, phone=None, token=None):
        self.id, self.username, self.email, self.phone, self.token = id, username, email, phone, token


class Inbox:
    """Every event one socket heard, in order; checks look only after the cell's mark."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def add(self, name, args):
        with self.cond:
            self.events.append((name, args[0] if args else None))
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.events)

    def heard(self, since, name, match):
        with self.cond:
            return [p for n, p in self.events[since:] if n == name and isinstance(p, dict)
                    and all(p.get(k) == v for k, v in match.items())]

    def wait(self, since, name, match, timeout=WAIT):
        with self.cond:  # a re-entrant lock: heard() takes it again
            found = self.cond.wait_for(lambda: self.heard(since, name, match), timeout)
        assert found, f"no {name} {match} in {self.events[since:]}"
        return found[0]


class World:
    """The server, the cast (one verified user per role), their sockets and helpers."""

    def __init__(self, server, workdir):
        self.server, self.url, self.workdir = server, server.url, workdir
        self.http = requests.Session()
        self.counter = itertools.count(1)
        self.users, self.revoked, self.sockets, self.inboxes, self.refusals = {}, {}, {}, {}, {}

    # Identity

    def n(self):
        return next(self.counter)

    def unique(self, prefix):
        return f"{prefix}-{self.n()}-{uuid.uuid4().hex[:6]}"

    def ip(self):
        """Each auth request its own client address (see Tests/cluster fake_client_ip)."""
        n = self.n()
        return {"X-Real-IP": f"10.{(n // 62500) % 250}.{(n // 250) % 250}.{n % 250 + 1}"}

    def code(self, to):
        r = self.http.get(self.url + "/api/dev/outbox", params={"to": to}, timeout=WAIT)
        assert r.status_code == 200 and r.json(), r.text
        return r.json()[-1]["code"]

    def auth_post(self, path, body):
        return self.http.post(self.url + path, json=body, headers=self.ip(), timeout=10)

    def register(self, name, phone=None, verify=True):
        body = {"username": name, "password": PASSWORD, "displayName": name.title()}
        if phone:
            body["phoneNumber"] = phone
        else:
            body["email"] = f"{name}@example.com"
        r = self.auth_post("/api/auth/register", body)
        assert r.status_code == 201, r.text
        user = User(r.json()["userId"], name, email=body.get("email"), phone=phone)
        if verify:
            r = self.auth_post("/api/auth/verify-phone" if phone else "/api/auth/verify-email",
                               {"userId": user.id, "code": self.code(phone or user.email)})
            assert r.status_code == 200, r.text
            user.token = r.json()["token"]
        return user

    def fresh(self, prefix="fresh"):
        return self.register(f"{prefix}{self.n()}")

    def login(self, user, secret=None):
        r = self.auth_post("/api/auth/login", {"email": user.email, "password": PASSWORD})
        assert r.status_code == 200 and r.json().get("requiresLoginVerification"), r.text
        body = {"userId": user.id, "code": self.code(user.email)}
        if secret:
            body["twoFactorCode"] = totp(secret)
        r = self.auth_post("/api/auth/login/verify", body)
        assert r.status_code == 200 and r.json().get("token"), r.text
        return r.json()["token"]

    def revoke(self, user):
        """A second session of `user`, logged out: its token must be worth nothing from now on."""
        token = self.login(user)
        r = self.http.post(self.url + "/api/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=WAIT)
        assert r.status_code == 200, r.text
        return token

    def token(self, role, ctx=None):
        if ctx is not None and role in ctx.tokens:
            return ctx.tokens[role]
        if role in (ANON, REMOTE, GUESSER):
            return None
        if role == REVOKED:
            return self.revoked[OWNER]
        return self.actor(role).token

    def actor(self, role):
        return self.users[STRANGER if role in AS_STRANGER else role]

    # HTTP

    def call(self, method, path, role, ctx=None, headers=None, **kw):
        headers = dict(headers or {})
        token = self.token(role, ctx)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if role == REMOTE:
            headers.update(self.ip())
        return self.http.request(method, self.url + path, headers=headers, timeout=10, **kw)

    def json(self, method, path, role=OWNER, expect=200, **kw):
        r = self.call(method, path, role, **kw)
        assert r.status_code == expect, f"{method} {path} as {role}: {r.status_code} {r.text[:300]}"
        return r.json()

    def me(self, token):
        return self.http.get(self.url + "/api/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=WAIT)

    def history(self, gid=None, role=OWNER):
        params = {"groupId": gid} if gid else {"otherUserId": self.users[MEMBER].id}
        return self.json("GET", "/api/messages/history", role, params={**params, "limit": 200})["messages"]

    def message(self, gid, mid):
        found = [m for m in self.history(gid) if m["id"] == mid]
        assert found, f"message {mid} is gone"
        return found[0]

    def member_ids(self, gid):
        """The group's members, as whichever of its usual members can still see it."""
        for role in (OWNER, MEMBER, ADMIN):
            r = self.call("GET", f"/api/groups/{gid}", role)
            if r.status_code == 200:
                return {m["user"]["id"] for m in r.json()["members"]}
        raise AssertionError(f"no one can see group {gid}")

    def upload_files(self):
        """Files kept in the uploads folder (not the staging area)."""
        top = os.path.join(self.workdir, "uploads")
        return {os.path.join(d, f) for d, subdirs, files in os.walk(top) for f in files
                if ".staging" not in os.path.relpath(d, top).split(os.sep)}

    def promote(self, gid, role):
        """Makes a member an admin, in the database (no route makes admins)."""
        uid = self.users[role].id
        url = os.environ.get("CHATR_E2E_DATABASE_URL")
        if url:
            subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                            f"UPDATE members SET role = 'admin' WHERE conversation_id = '{gid}' AND user_id = '{uid}'"],
                           check=True, capture_output=True)
        else:
            db = sqlite3.connect(os.path.join(self.workdir, "data", "chatr.sqlite"), timeout=10)
            try:
                db.execute("UPDATE members SET role = 'admin' WHERE conversation_id = ? AND user_id = ?", (gid.upper(), uid.upper()))
                db.commit()
            finally:
                db.close()
        assert self.json("GET", f"/api/groups/{gid}", role)["myRole"] == "admin"

    # Sockets

    def connect(self, role):
        inbox = Inbox()
        sio = socketio.Client(reconnection=False)
        sio.on("*", lambda event, *args: inbox.add(event, args))
        sio.connect(self.url, auth={"token": self.users[role].token}, transports=["websocket"], wait_timeout=WAIT)
        with inbox.cond:
            assert inbox.cond.wait_for(lambda: any(n == "presence:update" for n, _ in inbox.events), WAIT)
        self.sockets[role], self.inboxes[role] = sio, inbox

    def refuse(self, token):
        """Connects with `token` (None: no auth at all); returns the connect_error data."""
        sio = socketio.Client(reconnection=False)
        refusals = []
        sio.on("connect_error", lambda data=None: refusals.append(data))
        try:
            sio.connect(self.url, auth={"token": token} if token else None, transports=["websocket"], wait_timeout=WAIT)
        except socketio.exceptions.ConnectionError:
            return refusals[0] if refusals else "refused"
        sio.disconnect()
        return None

    def sio(self, role):
        return self.sockets[STRANGER if role in AS_STRANGER else role]

    def live_socket(self, ctx, token):
        """A connected socket on `token`, and an Event set when the server cuts it off."""
        gone = threading.Event()
        sio = socketio.Client(reconnection=False)
        sio.on("disconnect", lambda *args: gone.set())
        sio.connect(self.url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT)
        ctx.teardown.append(lambda: sio.connected and sio.disconnect())
        return gone

    def settle(self, *roles):
        """A round trip on each socket: whatever the server published before is in its inbox."""
        for role in roles:
            assert self.sockets[role].call("presence:request", [], timeout=WAIT)["ok"] is True
        time.sleep(0.05)

    def emit_refused(self, token, event, payload):
        """Engine.IO long-polling by hand: CONNECT with `token` is refused, then the event is sent
        anyway. The server must drop it."""
        s = requests.Session()
        r = s.get(self.url + "/socket.io/?EIO=4&transport=polling", timeout=WAIT)
        assert r.status_code == 200 and r.text.startswith("0"), r.text
        q = f"{self.url}/socket.io/?EIO=4&transport=polling&sid={json.loads(r.text[1:])['sid']}"
        assert s.post(q, data="40" + (json.dumps({"token": token}) if token else ""), timeout=WAIT).status_code == 200
        r = s.get(q, timeout=WAIT)
        assert r.text.startswith("44") and "Authentication error" in r.text, r.text
        s.post(q, data="421" + json.dumps([event, payload]), timeout=WAIT)
        time.sleep(0.1)
        s.post(q, data="1", timeout=WAIT)  # Engine.IO close

    def restore_presence(self, role):
        assert self.sockets[role].call("presence:update", "online", timeout=WAIT)["ok"] is True
        self.settle(*SOCKET_ROLES)

    def restore_visibility(self, role):
        assert self.sockets[role].call("settings:update", {"showOnlineStatus": True}, timeout=WAIT)["ok"] is True
        self.settle(*SOCKET_ROLES)

    def close(self):
        for sio in self.sockets.values():
            sio.disconnect()


class Ctx:
    """One cell's things: groups to delete afterwards, token overrides, the inbox marks, the
    strings a refused answer must not contain."""

    def __init__(self, world):
        self.w = world
        self.groups, self.secrets, self.teardown, self.tokens, self.marks = [], [], [], {}, {}

    def mark(self):
        self.marks = {role: inbox.mark() for role, inbox in self.w.inboxes.items()}

    def heard(self, role, name, **match):
        return self.w.inboxes[role].heard(self.marks[role], name, match)

    def wait(self, role, name, **match):
        return self.w.inboxes[role].wait(self.marks[role], name, match)

    def cleanup(self):
        """Undo what the cell left behind: its groups go (so the stranger and the removed member
        share nothing with anyone again), presence and visibility come back."""
        try:
            for fn in self.teardown:
                fn()
        finally:
            for gid in self.groups:
                for role in CAST:
                    if self.w.call("DELETE", f"/api/groups/{gid}", role).status_code in (200, 404):
                        break


# ---------------------------------------------------------------------------------------------
# Building blocks of the rows


def make_group(w, ctx, role, *, extra=False, message=True, voice=False, edit=False):
    """A fresh group: the owner, member, admin (an admin only in the admin's cell), extra if asked,
    and `removed`, who is removed by the owner once the message (if any) was sent (and edited, if
    asked). In the late joiner's cell the stranger then joins with an invite link the owner made."""
    ctx.name = w.unique("Group")
    members = [w.users[r].id for r in (MEMBER, ADMIN, REMOVED)] + ([w.users[EXTRA].id] if extra else [])
    ctx.gid = w.json("POST", "/api/groups", OWNER, expect=201, json={"name": ctx.name, "memberIds": members})["id"]
    ctx.groups.append(ctx.gid)
    ctx.secrets.append(ctx.name)
    if role == ADMIN:
        w.promote(ctx.gid, ADMIN)
    if message:
        ctx.content = w.unique("secret")
        ctx.mid = w.json("POST", f"/api/groups/{ctx.gid}/messages", OWNER, expect=201, json={"content": ctx.content})["id"]
        ctx.secrets.append(ctx.content)
    if edit:
        assert w.sockets[OWNER].call("message:edit", {"messageId": ctx.mid, "content": "edited"}, timeout=WAIT)["ok"] is True
    if voice:
        r = w.call("POST", "/api/messages/upload", OWNER, files={"file": ("note.ogg", OGG, "audio/ogg")},
                   data={"groupId": ctx.gid, "type": "voice", "duration": "3.5"})
        assert r.status_code == 201, r.text
        ctx.vid, ctx.waveform = r.json()["messageId"], r.json()["waveform"]
    # The setup's own membership events reach the owner and the member before the cell starts
    # watching: one arriving late would be taken for a reaction to the cell's act.
    marks = {r: w.inboxes[r].mark() for r in (OWNER, MEMBER)}
    r = w.call("DELETE", f"/api/groups/{ctx.gid}/members/{w.users[REMOVED].id}", OWNER)
    assert r.status_code == 200, r.text
    heard = [("group:user:left", w.users[REMOVED].id)]
    if role == LATE:
        # One use: the join uses it up, so no live link is left behind for the cell.
        invite = make_invite(w, ctx.gid, maxUses=1)
        r = w.call("POST", f"/api/groups/{ctx.gid}/join", LATE, json={"inviteToken": invite})
        assert r.status_code == 200, r.text
        heard.append(("group:user:joined", w.actor(LATE).id))
    for listener_role, mark in marks.items():
        for name, user_id in heard:
            w.inboxes[listener_role].wait(mark, name, {"groupId": ctx.gid, "userId": user_id})
    ctx.before = w.member_ids(ctx.gid)


def make_invite(w, gid, role=OWNER, **body):
    """An invite link to the group, made by `role` (the owner unless said): its token."""
    return w.json("POST", f"/api/groups/{gid}/invites", role, expect=201, json=body)["token"]


def live_invites(w, gid):
    """The group's usable invite links as the owner sees them: token → invite."""
    return {i["token"]: i for i in w.json("GET", f"/api/groups/{gid}/invites")["invites"]}


def group_setup(**options):
    return lambda w, ctx, role: make_group(w, ctx, role, **options)


def listener(role):
    """Who should hear what `role` did in the group: the owner, or the member when the owner acts."""
    assert role != LATE
    return MEMBER if role in (OWNER, ADMIN, ANON, REVOKED) else OWNER


def not_heard(ctx, roles, names, **match):
    ctx.w.settle(*roles)
    for role in roles:
        for name in names:
            assert not ctx.heard(role, name, **match), f"{role} heard {name} {match}: {ctx.heard(role, name, **match)}"


# Routes ---------------------------------------------------------------------------------------

def history_act(w, ctx, role):
    if role == STRANGER_DM:
        return w.call("GET", "/api/messages/history", role, ctx, params={"conversationId": w.dm_id})
    return w.call("GET", "/api/messages/history", role, ctx, params={"groupId": ctx.gid})


def shows_message(w, ctx, role, r):
    ids = [m["id"] for m in r.json()["messages"]]
    if role == LATE:  # history from when they joined
        assert ctx.mid not in ids and ctx.content not in r.text, f"a late joiner sees what was said before: {r.text[:300]}"
    else:
        assert ctx.mid in ids


def send_act(path_of):
    def act(w, ctx, role):
        ctx.text = w.unique("text")
        path, body = path_of(w, ctx, role)
        return w.call("POST", path, role, ctx, json={**body, "content": ctx.text, "clientMessageId": str(uuid.uuid4())})
    return act


def send_arrived(w, ctx, role, r):
    assert r.json()["content"] == ctx.text
    ctx.wait(listener(role), "group:message:received", content=ctx.text)


def send_refused(w, ctx, role, r=None):
    not_heard(ctx, (OWNER, MEMBER), ("group:message:received", "message:received"), content=ctx.text)
    assert ctx.text not in [m["content"] for m in w.history(ctx.gid) + w.history()]


def read_act(w, ctx, role):
    body = {"conversationId": w.dm_id} if role == STRANGER_DM else {"groupId": ctx.gid, "upToMessageId": ctx.mid}
    return w.call("POST", "/api/messages/read", role, ctx, json=body)


def read_arrived(w, ctx, role, r):
    if role == MEMBER:
        ctx.wait(OWNER, "message:status", messageId=ctx.mid, status="read", userId=w.users[MEMBER].id)


def read_refused(w, ctx, role, r=None):
    not_heard(ctx, (OWNER, MEMBER), ("message:status",), status="read")


def edits_shown(w, ctx, role, r):
    assert [e["previousContent"] for e in r.json()["edits"]] == [ctx.content]


def waveform_act(w, ctx, role):
    return w.call("PATCH", f"/api/messages/{ctx.vid}/waveform", role, ctx, json={"waveform": [0.11, 0.22, 0.33], "duration": 3.5})


def waveform_changed(w, ctx, role, r):
    ctx.wait(listener(role), "audio:waveform", messageId=ctx.vid)
    assert w.message(ctx.gid, ctx.vid)["waveform"] == [0.11, 0.22, 0.33]


def waveform_unchanged(w, ctx, role, r=None):
    assert w.message(ctx.gid, ctx.vid)["waveform"] == ctx.waveform
    not_heard(ctx, (OWNER, MEMBER), ("audio:waveform",), messageId=ctx.vid)


def upload_act(w, ctx, role):
    ctx.files = w.upload_files()
    ctx.text = w.unique("caption")
    return w.call("POST", "/api/messages/upload", role, ctx, files={"file": ("pic.png", PNG, "application/octet-stream")},
                  data={"groupId": ctx.gid, "caption": ctx.text})


def upload_arrived(w, ctx, role, r):
    assert ctx.text in [m["caption"] for m in w.history(ctx.gid)]
    assert len(w.upload_files() - ctx.files) == 1


def upload_refused(w, ctx, role, r=None):
    assert w.upload_files() == ctx.files, "a refused upload left a file behind"
    assert ctx.text not in [m["caption"] for m in w.history(ctx.gid)]
    not_heard(ctx, (OWNER, MEMBER), ("group:message:received",), caption=ctx.text)


def lists_group(field, key):
    """GET of a list: the group is in the answer for its members and nowhere for anyone else."""
    def check(w, ctx, role, r):
        if role in (OWNER, MEMBER):
            assert ctx.gid in [item[key] for item in r.json()[field]]
        else:
            assert ctx.gid not in r.text and ctx.content not in r.text, f"{role} is shown the group: {r.text[:300]}"
    return check


def search_act(w, ctx, role):
    return w.call("GET", "/api/search", role, ctx, params={"q": f'"{ctx.content}"'})


def search_found(w, ctx, role, r):
    """Found by its members; never by a removed member, a stranger, or one who joined after it."""
    ids = [hit["message"]["id"] for hit in r.json()["results"]]
    if role in (OWNER, MEMBER, ADMIN):
        assert ctx.mid in ids, f"{role} does not find the group's message: {r.text[:300]}"
    else:
        assert ctx.mid not in ids and ctx.content not in r.text, f"{role} finds the group's message: {r.text[:300]}"


def sync_setup(w, ctx, role):
    make_group(w, ctx, role, message=False)
    ctx.cursor = w.json("GET", "/api/sync")["cursor"]
    ctx.content = w.unique("secret")
    ctx.secrets.append(ctx.content)
    w.json("POST", f"/api/groups/{ctx.gid}/messages", OWNER, expect=201, json={"content": ctx.content})


def sync_shown(w, ctx, role, r):
    if role in (OWNER, MEMBER):
        assert ctx.content in r.text
    else:
        assert ctx.content not in r.text and ctx.gid not in r.text, f"{role} syncs another group: {r.text[:300]}"


def group_shown(w, ctx, role, r):
    assert r.json()["id"] == ctx.gid and w.users[OWNER].id in [m["user"]["id"] for m in r.json()["members"]]


def rename_act(w, ctx, role):
    ctx.new_name = w.unique("Renamed")
    return w.call("PUT", f"/api/groups/{ctx.gid}", role, ctx, json={"name": ctx.new_name})


def renamed(w, ctx, role, r):
    assert w.json("GET", f"/api/groups/{ctx.gid}")["name"] == ctx.new_name
    ctx.wait(MEMBER, "group:updated", id=ctx.gid)


def not_renamed(w, ctx, role, r=None):
    assert w.json("GET", f"/api/groups/{ctx.gid}")["name"] == ctx.name
    not_heard(ctx, (MEMBER,), ("group:updated",), id=ctx.gid)


def deleted(w, ctx, role, r):
    assert w.call("GET", f"/api/groups/{ctx.gid}", OWNER).status_code == 404
    ctx.wait(MEMBER, "group:deleted", groupId=ctx.gid)


def members_unchanged(w, ctx, role, r=None):
    assert w.member_ids(ctx.gid) == ctx.before
    not_heard(ctx, (OWNER, MEMBER), ("group:user:joined", "group:user:left", "group:deleted"), groupId=ctx.gid)


def join_setup(w, ctx, role):
    """A fresh group, and an invite link to it the owner made (a secret: no refusal may show it)."""
    make_group(w, ctx, role, message=False)
    ctx.invite = make_invite(w, ctx.gid)
    ctx.secrets.append(ctx.invite)
    ctx.tokens[REVOKED] = w.revoked[STRANGER]  # someone who is not in the group


# Who joins by the group's id holding the link: the invitee (that is their cell), the stranger-dm
# (a good link: only the target, the owner's direct conversation, is wrong), the anonymous and
# revoked callers (a good link: only the session is dead). The members need none; the stranger
# and the removed member have none.
JOIN_WITH_INVITE = (INVITEE, STRANGER_DM, ANON, REVOKED)
NEEDS_INVITE = {REMOVED: "invite_required", STRANGER: "invite_required"}


def join_target(w, ctx, role):
    """The group — or, for the stranger-dm, the owner's direct conversation (a stranger must never
    get into it by its id, whatever link they hold)."""
    return w.dm_id if role == STRANGER_DM else ctx.gid


def join_act(w, ctx, role):
    body = {"json": {"inviteToken": ctx.invite}} if role in JOIN_WITH_INVITE else {}
    return w.call("POST", f"/api/groups/{join_target(w, ctx, role)}/join", role, ctx, **body)


def join_payload(w, ctx, role):
    payload = {"groupId": join_target(w, ctx, role)}
    if role in JOIN_WITH_INVITE:
        payload["inviteToken"] = ctx.invite
    return payload


def join_unchanged(w, ctx, role, r=None):
    """No one joined, no one was told, the link was not used."""
    members_unchanged(w, ctx, role)
    assert live_invites(w, ctx.gid)[ctx.invite]["uses"] == 0, "a refused join used the invite link"
    if role == STRANGER_DM:
        r = w.call("GET", "/api/messages/history", STRANGER, params={"conversationId": w.dm_id})
        assert r.status_code == 403 and w.dm_content not in r.text, f"the stranger got into the direct conversation: {r.text[:300]}"
        assert w.dm_id not in mutes(w, STRANGER), "the direct conversation is in the stranger's list"


def joined(w, ctx, role, r):
    """In the group, answered with it. A newcomer is announced to the members and uses the link
    once; a member asking again is announced to no one and uses nothing."""
    me = w.actor(role).id
    group = r["group"] if isinstance(r, dict) else r.json()
    assert group["id"] == ctx.gid and me in [m["user"]["id"] for m in group["members"]], group
    assert group["myRole"] == {OWNER: "owner", ADMIN: "admin"}.get(role, "member"), group["myRole"]
    assert me in w.member_ids(ctx.gid)
    uses = live_invites(w, ctx.gid)[ctx.invite]["uses"]
    if role in (OWNER, MEMBER, ADMIN):
        assert uses == 0, f"{role} asking again used the invite link"
        not_heard(ctx, (OWNER, MEMBER), ("group:user:joined",), groupId=ctx.gid)
    else:
        assert uses == 1, f"{role} joined and the link shows {uses} uses"
        for listener_role in (OWNER, MEMBER):
            ctx.wait(listener_role, "group:user:joined", groupId=ctx.gid, userId=me)


def invite_setup(message=False):
    """A fresh group (with a message if asked) and an invite link the owner made, a secret."""
    def setup(w, ctx, role):
        make_group(w, ctx, role, message=message)
        ctx.invite = make_invite(w, ctx.gid)
        ctx.secrets.append(ctx.invite)
    return setup


def invite_create_act(w, ctx, role):
    return w.call("POST", f"/api/groups/{ctx.gid}/invites", role, ctx, json={"expiresInHours": 24, "maxUses": 5})


def invite_made(w, ctx, role, r):
    """The caller's link to this group, unused, and the owner sees it among the group's links."""
    invite = r.json()
    assert invite["groupId"] == ctx.gid and invite["createdBy"] == w.actor(role).id, invite
    assert invite["uses"] == 0 and invite["maxUses"] == 5 and invite["expiresAt"], invite
    assert invite["url"].endswith("/#/join/" + invite["token"]), invite["url"]
    assert list(live_invites(w, ctx.gid)) == [invite["token"]]


def no_invite_made(w, ctx, role, r=None):
    assert live_invites(w, ctx.gid) == {}, f"a refused caller ({role}) made an invite link"


def invites_listed(w, ctx, role, r):
    assert [i["token"] for i in r.json()["invites"]] == [ctx.invite], r.text[:300]


def invite_revoke_act(w, ctx, role):
    return w.call("DELETE", f"/api/groups/{ctx.gid}/invites/{ctx.invite}", role, ctx)


def preview_status(w, token):
    """What the stranger gets for the link: its preview's status."""
    return w.call("GET", f"/api/invites/{token}", STRANGER).status_code


def invite_revoked(w, ctx, role, r):
    assert r.json() == {"success": True}, r.text
    assert ctx.invite not in live_invites(w, ctx.gid), "the revoked link is still listed"
    assert preview_status(w, ctx.invite) == 404, "the revoked link still leads somewhere"


def invite_still_live(w, ctx, role, r=None):
    assert ctx.invite in live_invites(w, ctx.gid), f"a refused caller ({role}) revoked the link"
    assert preview_status(w, ctx.invite) == 200


def invite_preview_act(w, ctx, role):
    return w.call("GET", f"/api/invites/{ctx.invite}", role, ctx)


def invite_previewed(w, ctx, role, r):
    """The group's name and size, and whether the caller is in it: no members, no messages; and
    looking joins no one and uses nothing."""
    body = r.json()
    assert body["group"]["id"] == ctx.gid and body["group"]["name"] == ctx.name, body
    assert body["group"]["memberCount"] == len(ctx.before), body
    assert body["alreadyMember"] is (role in (OWNER, MEMBER, ADMIN)), body
    assert "members" not in body["group"] and ctx.content not in r.text and w.users[MEMBER].id not in r.text, r.text[:300]
    assert w.member_ids(ctx.gid) == ctx.before
    assert live_invites(w, ctx.gid)[ctx.invite]["uses"] == 0


def invite_join_act(w, ctx, role):
    return w.call("POST", f"/api/invites/{ctx.invite}/join", role, ctx)


def left(w, ctx, role, r):
    assert w.actor(role).id not in w.member_ids(ctx.gid)
    ctx.wait(listener(role), "group:user:left", groupId=ctx.gid, userId=w.actor(role).id)


def add_act(w, ctx, role):
    return w.call("POST", f"/api/groups/{ctx.gid}/members", role, ctx, json={"userId": w.users[EXTRA].id})


def extra_in(w, ctx, role, r):
    assert w.users[EXTRA].id in w.member_ids(ctx.gid)


def extra_out(w, ctx, role, r):
    assert w.users[EXTRA].id not in w.member_ids(ctx.gid)


def group_messages_act(w, ctx, role):
    return w.call("GET", f"/api/groups/{ctx.gid}/messages", role, ctx)


def profile_of(w, token):
    r = w.me(token)
    assert r.status_code == 200, r.text
    return r.json()


def self_service_setup(w, ctx, role):
    ctx.owner_before = profile_of(w, w.users[OWNER].token)


def owner_untouched(w, ctx, role, r=None):
    assert profile_of(w, w.users[OWNER].token) == ctx.owner_before


def acted_on_self(field, changed):
    """A route that changes the caller's own profile: the caller's, and never the owner's."""
    def check(w, ctx, role, r):
        assert changed(profile_of(w, w.actor(role).token)[field], ctx)
        if role != OWNER:
            owner_untouched(w, ctx, role)
    return check


def display_name_act(w, ctx, role):
    ctx.new_name = w.unique("Name")[:40]
    return w.call("PUT", "/api/users/me", role, ctx, json={"displayName": ctx.new_name})


def image_setup(field):
    def setup(w, ctx, role):
        r = w.call("POST", f"/api/users/{field}", OWNER, files={field.replace("-image", "Image"): ("me.png", PNG, "image/png")})
        assert r.status_code == 200, r.text
        ctx.owner_before = profile_of(w, w.users[OWNER].token)
    return setup


def image_post(field):
    name = field.replace("-image", "Image")
    return lambda w, ctx, role: w.call("POST", f"/api/users/{field}", role, ctx, files={name: ("me.png", PNG, "image/png")})


def public_profiles(w, ctx, role, r):
    """Other people as public profiles: no email, phone or 2FA; and the owner's lastSeen only for
    a contact (the owner has one: the fixture connected and left once)."""
    assert w.users[OWNER].email not in r.text and '"email"' not in r.text and "twoFactorEnabled" not in r.text, r.text[:300]
    assert '"phoneNumber"' not in r.text, r.text[:300]
    body = r.json()
    listed = [u for u in (body.get("users", []) if isinstance(body, dict) and "users" in body else [body]) if u["id"] == w.users[OWNER].id]
    if role == STRANGER:
        assert listed and all(u["lastSeen"] is None for u in listed), f"a stranger sees when the owner was last seen: {listed}"
    elif role == MEMBER:
        assert listed and listed[0]["lastSeen"], f"a contact does not see the owner's lastSeen: {listed}"


def own_profile(w, ctx, role, r):
    assert r.json()["id"] == w.actor(role).id


def two_factor(w, token):
    return profile_of(w, token)["twoFactorEnabled"]


def fresh_owner(w, ctx, role):
    """A fresh user as the owner (the cell changes their account), with a revoked token when the
    cell needs one (made before any 2FA, so logging in needs no authenticator)."""
    ctx.owner = w.fresh()
    ctx.tokens[OWNER] = ctx.owner.token
    if role == REVOKED:
        ctx.tokens[REVOKED] = w.revoke(ctx.owner)


def tfa_verify_setup(w, ctx, role):
    fresh_owner(w, ctx, role)
    ctx.secret = w.json("POST", "/api/auth/2fa/setup", OWNER, ctx=ctx)["secret"]


def tfa_disable_setup(w, ctx, role):
    tfa_verify_setup(w, ctx, role)
    w.json("POST", "/api/auth/2fa/verify", OWNER, ctx=ctx, json={"token": totp(ctx.secret)})
    assert two_factor(w, ctx.owner.token) is True


def tfa_act(path):
    return lambda w, ctx, role: w.call("POST", path, role, ctx, json={"token": totp(ctx.secret)})


def logout_setup(w, ctx, role):
    ctx.tokens[OWNER] = w.fresh().token
    ctx.tokens[STRANGER] = w.fresh().token  # a stranger's own disposable session
    if role in (OWNER, STRANGER):
        ctx.gone = w.live_socket(ctx, ctx.tokens[role])


def logged_out(w, ctx, role, r):
    assert w.me(ctx.tokens[role]).status_code == 401, "the token still works after logout"
    assert ctx.gone.wait(WAIT), "the logged-out session's socket is still connected"
    assert w.me(w.users[OWNER].token).status_code == 200


def cast_owner_still_signed_in(w, ctx, role, r=None):
    assert w.me(w.users[OWNER].token).status_code == 200


def upload_file_setup(w, ctx, role):
    make_group(w, ctx, role, message=False)
    r = w.call("POST", "/api/messages/upload", OWNER, files={"file": ("pic.png", PNG, "image/png")}, data={"groupId": ctx.gid})
    assert r.status_code == 201, r.text
    ctx.path = "/uploads/" + r.json()["fileUrl"].split("/uploads/", 1)[1]


def link_preview_setup(w, ctx, role):
    """A preview of a picture uploaded to this server (the testing server may fetch 127.0.0.1),
    whose card names the picture's signed URL."""
    upload_file_setup(w, ctx, role)
    card = w.json("GET", "/api/link-preview", OWNER, params={"url": w.url + ctx.path})
    ctx.image = "/" + card["image"].split("/", 3)[3]


def link_preview_image_act(w, ctx, role):
    # The guesser names the same picture with a made-up signature.
    path = ctx.image if role != GUESSER else re.sub(r"sig=[^&]*", "sig=" + "A" * 43, ctx.image)
    return w.call("GET", path, role, ctx)


def pending_setup(phone=False):
    def setup(w, ctx, role):
        n = w.n()
        ctx.pending = w.register(f"pending{n}", phone=f"+4477009{n:05d}" if phone else None, verify=False)
        ctx.code = w.code(ctx.pending.phone or ctx.pending.email)
    return setup


def verify_act(path):
    def act(w, ctx, role):
        code = ctx.code if role == ANON else other_code(ctx.code)
        return w.auth_post(path, {"userId": ctx.pending.id, "code": code})
    return act


def verified(w, ctx, role, r):
    assert w.me(r.json()["token"]).status_code == 200


def code_still_good(path):
    def check(w, ctx, role, r=None):
        r = w.auth_post(path, {"userId": ctx.pending.id, "code": ctx.code})
        assert r.status_code == 200, f"a wrong guess spoiled the right code: {r.text}"
    return check


def login_code_setup(w, ctx, role):
    r = w.auth_post("/api/auth/login", {"email": w.users[EXTRA].email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    ctx.code = w.code(w.users[EXTRA].email)


def login_verify_act(w, ctx, role):
    code = ctx.code if role == ANON else other_code(ctx.code)
    return w.auth_post("/api/auth/login/verify", {"userId": w.users[EXTRA].id, "code": code})


def login_code_still_good(w, ctx, role, r=None):
    r = w.auth_post("/api/auth/login/verify", {"userId": w.users[EXTRA].id, "code": ctx.code})
    assert r.status_code == 200 and r.json()["token"], r.text


def reset_setup(w, ctx, role):
    ctx.owner = w.fresh()
    ctx.gone = w.live_socket(ctx, ctx.owner.token)
    assert w.auth_post("/api/auth/forgot-password", {"email": ctx.owner.email}).status_code == 200
    ctx.code = w.code(ctx.owner.email)


def reset_act(w, ctx, role):
    code = ctx.code if role == ANON else other_code(ctx.code)
    return w.auth_post("/api/auth/reset-password", {"email": ctx.owner.email, "code": code, "newPassword": "Another-pass2!"})


def expect_true(check, message=""):
    """A check written as an expression (for the table's one-liners)."""
    def run(w, ctx, role, r=None):
        assert check(w, ctx, role, r), message or f"{role}: check failed"
    return run


def new_group_act(w, ctx, role):
    ctx.name = w.unique("New")
    return w.call("POST", "/api/groups", role, ctx, json={"name": ctx.name})


def new_group_made(w, ctx, role, r):
    ctx.groups.append(r.json()["id"])
    assert r.json()["myRole"] == "owner"


def new_group_absent(w, ctx, role, r=None):
    assert ctx.name not in json.dumps(w.json("GET", "/api/groups"))


def mutes(w, role):
    """What `role` sees in their own conversation list: conversationId → mutedUntil."""
    return {c["conversationId"]: c["mutedUntil"] for c in w.json("GET", "/api/messages/conversations", role)["conversations"]}


def mute_target(w, ctx, role):
    """The group — or, for the stranger-dm, the owner's direct conversation by its id."""
    return w.dm_id if role == STRANGER_DM else ctx.gid


def mute_act(w, ctx, role):
    return w.call("PUT", f"/api/messages/conversations/{mute_target(w, ctx, role)}/mute", role, ctx, json={"muted": True})


def muted_for_self(w, ctx, role, r):
    """Muted in the caller's own list (until turned off), and only for them: the other members of
    the group still see it unmuted."""
    assert r.json() == {"conversationId": ctx.gid, "mutedUntil": FOREVER}, r.text
    assert mutes(w, role).get(ctx.gid) == FOREVER, f"{role}'s conversation list does not show the mute"
    for other in (OWNER, MEMBER):
        if w.actor(other) is not w.actor(role):
            assert mutes(w, other)[ctx.gid] is None, f"{role} muting the group muted it for {other} too"


def mute_unchanged(w, ctx, role, r=None):
    """Nobody's mute changed: the conversation's members still see it unmuted, and a refused
    outsider did not get a (muted) membership out of it."""
    target = mute_target(w, ctx, role)
    for member in (OWNER, MEMBER):
        assert mutes(w, member)[target] is None, f"{role} changed {member}'s mute: {mutes(w, member)[target]}"
    if role in (REMOVED, STRANGER, STRANGER_DM):
        assert target not in mutes(w, role), f"{role} has the conversation in their list after a refused mute"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def push_key_shown(w, ctx, role, r):
    """The server's VAPID key: a 65-byte uncompressed P-256 point, the same for everyone."""
    key = r.json()["publicKey"]
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))  # raises if not a P-256 point
    assert len(unb64url(key)) == 65
    assert key == w.json("GET", "/api/push/key", OWNER)["publicKey"]


def new_device(w):
    """A syntactically valid browser subscription: its own P-256 key and 16-byte auth secret, at a
    loopback endpoint nothing listens on (port 9: discard) — pushes to it would just fail."""
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": f"http://127.0.0.1:9/push/{w.unique('device')}", "keys": {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}}


def devices(w, role):
    """The endpoints `role` sees in their own subscription list."""
    return [s["endpoint"] for s in w.json("GET", "/api/push/subscriptions", role)["subscriptions"]]


def forget_device(w, ctx, endpoint):
    """At the end of the cell, whoever holds `endpoint` (of the cast's push users) drops it, so
    subscriptions do not pile up on the shared cast (a user keeps at most 20)."""
    def drop():
        for role in (OWNER, STRANGER):
            assert w.call("DELETE", "/api/push/subscriptions", role, json={"endpoint": endpoint}).status_code in (204, 404)
    ctx.teardown.append(drop)


def register_device(w, ctx, role):
    device = new_device(w)
    forget_device(w, ctx, device["endpoint"])
    r = w.call("POST", "/api/push/subscriptions", role, json=device)
    assert r.status_code == 201, f"{role} could not register a device: {r.status_code} {r.text[:300]}"
    return device["endpoint"]


def subscribe_act(w, ctx, role):
    ctx.device = new_device(w)
    forget_device(w, ctx, ctx.device["endpoint"])
    return w.call("POST", "/api/push/subscriptions", role, ctx, json=ctx.device)


def subscribed(w, ctx, role, r):
    """The device is the caller's: in their list, in no one else's."""
    endpoint = ctx.device["endpoint"]
    assert r.json()["endpoint"] == endpoint and r.json()["previews"] is True, r.text
    assert endpoint in devices(w, role)
    assert endpoint not in devices(w, STRANGER if role == OWNER else OWNER), f"{role}'s device is listed for someone else"


def not_subscribed(w, ctx, role, r=None):
    for someone in (OWNER, STRANGER):
        assert ctx.device["endpoint"] not in devices(w, someone), f"a refused registration ({role}) stored the device for {someone}"


def two_devices_setup(w, ctx, role):
    """The owner and the stranger each have a device of their own."""
    ctx.devices = {who: register_device(w, ctx, who) for who in (OWNER, STRANGER)}
    ctx.secrets.append(ctx.devices[OWNER])


def own_devices_only(w, ctx, role, r):
    listed = [s["endpoint"] for s in r.json()["subscriptions"]]
    assert listed == [ctx.devices[role]], f"{role} is shown {listed}, not just their own device"


def owner_device_setup(w, ctx, role):
    ctx.device = register_device(w, ctx, OWNER)


def unsubscribe_act(w, ctx, role):
    return w.call("DELETE", "/api/push/subscriptions", role, ctx, json={"endpoint": ctx.device})


def plain(method, path, **kw):
    return lambda w, ctx, role: w.call(method, path, role, ctx, **kw)


def in_group(method, suffix="", **kw):
    return lambda w, ctx, role: w.call(method, f"/api/groups/{ctx.gid}{suffix}", role, ctx, **kw)


class Row:
    """One operation: the outcome for each role, and how a cell acts and checks.

    setup(w, ctx, role) builds what the cell needs; act(w, ctx, role) does the operation (routes:
    returns the response; events: returns the payload to emit); ok(w, ctx, role, result) checks a
    success; unchanged(w, ctx, role) checks that a refusal changed nothing for the victim.
    `public` says why a route needs no token; `bugs` maps a role to a known server bug (the
    cell is a strict xfail with the expectation as it should be); `codes` maps a refused role to
    the error code its answer must carry."""

    def __init__(self, expect, act, setup=None, ok=None, unchanged=None, public=None, bugs=None, codes=None):
        self.expect, self.act, self.setup, self.ok, self.unchanged = expect, act, setup, ok, unchanged
        self.public, self.bugs, self.codes = public, bugs or {}, codes or {}


# Known server bugs go in a row's `bugs` (each cell: strict xfail, the expectation as it should
# be). None now: the late joiner's history floor on single-message operations was one (fixed in
# MessageService.messageForMember, with replies in replySnapshot).

READ_ROLES = {OWNER: 200, MEMBER: 200, ADMIN: 200, REMOVED: 403, STRANGER: 403, ANON: 401, REVOKED: 401}
SEND_ROLES = {OWNER: 201, MEMBER: 201, ADMIN: 201, REMOVED: 403, STRANGER: 403, ANON: 401, REVOKED: 401}
MANAGE_ROLES = {OWNER: 200, ADMIN: 200, MEMBER: 403, REMOVED: 403, STRANGER: 403, ANON: 401, REVOKED: 401}
LIST_ROLES = {OWNER: 200, MEMBER: 200, REMOVED: 200, STRANGER: 200, ANON: 401, REVOKED: 401}
SELF_ROLES = {OWNER: 200, STRANGER: 200, ANON: 401, REVOKED: 401}  # stranger: acts on their own account only

# =============================================================================================
# THE TABLE, part 1: every operation of GET /api/openapi.json.

ROUTES = {
    # --- Public by design -----------------------------------------------------------------------
    ("GET", "/api/health"): Row({ANON: 200, REVOKED: 200}, plain("GET", "/api/health"),
                                public="liveness probe; a dead token on a public route is ignored"),
    ("GET", "/api/ready"): Row({ANON: 200, REVOKED: 200}, plain("GET", "/api/ready"), public="readiness probe"),
    ("GET", "/api/client-config"): Row({ANON: 200, REVOKED: 200}, plain("GET", "/api/client-config"),
                                       public="limits the web client checks before sign-in and upload; nothing private"),
    ("GET", "/api/openapi.json"): Row({ANON: 200}, plain("GET", "/api/openapi.json"), public="the API description"),
    ("GET", "/api/docs"): Row({ANON: 200}, plain("GET", "/api/docs"), public="Swagger UI (basic auth only in production)"),
    ("GET", "/metrics"): Row({ANON: 200}, plain("GET", "/metrics"),
                             public="Prometheus scrape; kept off the public side by the proxy (deploy/)"),
    ("GET", "/api/dev/outbox"): Row({ANON: 200, REMOTE: 403}, plain("GET", "/api/dev/outbox"),
                                    public="testing/development only, and only for clients on this machine"),
    ("GET", "/api/email-preview"): Row({ANON: 200, REMOTE: 403}, plain("GET", "/api/email-preview"),
                                       public="testing/development only, and only for clients on this machine"),
    # Files are capability URLs: random keys, readable by whoever holds the link (SPEC §1).
    # The server fetches a page for anyone signed in (its own web page here); the picture of a
    # card needs no token — an <img> sends none — but a signature the server made.
    ("GET", "/api/link-preview"): Row(SELF_ROLES, lambda w, ctx, role: w.call("GET", "/api/link-preview", role, ctx, params={"url": w.url + "/"}),
                                      ok=expect_true(lambda w, ctx, role, r: r.json()["title"] == "Chatr", "not the page's title")),
    ("GET", "/api/link-preview/image"): Row({ANON: 200, GUESSER: 403}, link_preview_image_act, setup=link_preview_setup,
                                            ok=expect_true(lambda w, ctx, role, r: r.content == PNG, "not the previewed picture"),
                                            public="a card's picture, for <img>: the server's signature is the permission"),
    ("GET", "/uploads/{path}"): Row({ANON: 200, STRANGER: 200, GUESSER: 404},
                                    lambda w, ctx, role: w.call("GET", ctx.path if role != GUESSER else f"/uploads/messages/{uuid.uuid4()}.png", role, ctx),
                                    setup=upload_file_setup, ok=expect_true(lambda w, ctx, role, r: r.content == PNG, "not the uploaded file"),
                                    public="uploaded files are capability URLs (unguessable keys)"),
    ("GET", "/api/users/check-username"): Row({ANON: 200}, plain("GET", "/api/users/check-username", params={"username": "olive"}),
                                              public="registration form helper"),
    ("GET", "/api/users/suggest-username"): Row({ANON: 200}, plain("GET", "/api/users/suggest-username", params={"username": "olive"}),
                                                public="registration form helper"),
    # Engine.IO transport: anyone may open it; Socket.IO CONNECT is where the token is checked
    # (see the event rows: anonymous and revoked sockets are refused).
    ("GET", "/socket.io"): Row({ANON: 200}, plain("GET", "/socket.io/", params={"EIO": "4", "transport": "polling"}),
                               public="Engine.IO handshake; auth at Socket.IO CONNECT"),
    ("POST", "/socket.io"): Row({ANON: 400}, plain("POST", "/socket.io/", params={"EIO": "4", "transport": "polling"}, data="40"),
                                public="Engine.IO long-polling (400 without a session)"),
    ("OPTIONS", "/socket.io"): Row({ANON: 200}, plain("OPTIONS", "/socket.io/", params={"EIO": "4", "transport": "polling"},
                                                      headers={"Origin": "http://localhost:3001", "Access-Control-Request-Method": "POST"}),
                                   public="CORS preflight"),
    # Accounts: the code or password is the credential. The guesser aims at someone else's account.
    ("POST", "/api/auth/register"): Row(
        {ANON: 201, GUESSER: 409},
        lambda w, ctx, role: w.auth_post("/api/auth/register", {
            "email": w.users[OWNER].email if role == GUESSER else f"new{w.n()}@example.com",
            "username": f"new{w.n()}", "password": PASSWORD}),
        unchanged=expect_true(lambda w, ctx, role, r: profile_of(w, w.users[OWNER].token)["email"] == w.users[OWNER].email),
        public="sign-up; a verified account's email cannot be taken over"),
    ("POST", "/api/auth/verify-email"): Row({ANON: 200, GUESSER: 400}, verify_act("/api/auth/verify-email"), setup=pending_setup(),
                                            ok=verified, unchanged=code_still_good("/api/auth/verify-email"),
                                            public="the emailed code is the credential"),
    ("POST", "/api/auth/verify-phone"): Row({ANON: 200, GUESSER: 400}, verify_act("/api/auth/verify-phone"), setup=pending_setup(phone=True),
                                            ok=verified, unchanged=code_still_good("/api/auth/verify-phone"),
                                            public="the texted code is the credential"),
    # The owner of a just-registered account asks again: reachable without a token, throttled per
    # account (one code per 30 s: a 200 needs the window to pass, see RegistrationTests.swift).
    ("POST", "/api/auth/resend-verification"): Row(
        {ANON: 429, GUESSER: 404},
        lambda w, ctx, role: w.auth_post("/api/auth/resend-verification", {"userId": ctx.pending.id if role == ANON else str(uuid.uuid4())}),
        setup=pending_setup(), public="sends a code to the account's own address only"),
    ("POST", "/api/auth/login"): Row(
        {ANON: 200, GUESSER: 401},
        lambda w, ctx, role: w.auth_post("/api/auth/login", {"email": w.users[EXTRA].email,
                                                              "password": PASSWORD if role == ANON else "Wrong-pass9!"}),
        ok=expect_true(lambda w, ctx, role, r: r.json()["requiresLoginVerification"] is True),
        public="step one of signing in: the password is the credential"),
    ("POST", "/api/auth/login/verify"): Row({ANON: 200, GUESSER: 400}, login_verify_act, setup=login_code_setup,
                                            ok=expect_true(lambda w, ctx, role, r: w.me(r.json()["token"]).status_code == 200),
                                            unchanged=login_code_still_good, public="step two: the login code is the credential"),
    ("POST", "/api/auth/forgot-password"): Row(
        {ANON: 200, GUESSER: 200},
        lambda w, ctx, role: w.auth_post("/api/auth/forgot-password", {"email": w.users[EXTRA].email if role == ANON else "nobody@example.com"}),
        ok=expect_true(lambda w, ctx, role, r: "If an account exists" in r.json()["message"], "enumeration"),
        public="always 200, the same answer whether or not the account exists"),
    ("POST", "/api/auth/reset-password"): Row(
        {ANON: 200, GUESSER: 400}, reset_act, setup=reset_setup,
        ok=expect_true(lambda w, ctx, role, r: w.me(ctx.owner.token).status_code == 401 and ctx.gone.wait(WAIT),
                       "sessions or their sockets survive a reset"),
        unchanged=expect_true(lambda w, ctx, role, r: w.me(ctx.owner.token).status_code == 200 and not ctx.gone.is_set()),
        public="the reset code is the credential"),

    # --- Signed in: my own account ---------------------------------------------------------------
    ("POST", "/api/auth/2fa/setup"): Row(SELF_ROLES, plain("POST", "/api/auth/2fa/setup"), setup=self_service_setup,
                                         ok=expect_true(lambda w, ctx, role, r: r.json()["secret"]),
                                         unchanged=owner_untouched),
    # The stranger sends the owner's valid authenticator code for their own account: it enables nothing.
    ("POST", "/api/auth/2fa/verify"): Row({OWNER: 200, STRANGER: 400, ANON: 401, REVOKED: 401}, tfa_act("/api/auth/2fa/verify"),
                                          setup=tfa_verify_setup,
                                          ok=expect_true(lambda w, ctx, role, r: two_factor(w, ctx.owner.token) is True),
                                          unchanged=expect_true(lambda w, ctx, role, r: two_factor(w, ctx.owner.token) is False)),
    ("POST", "/api/auth/2fa/disable"): Row({OWNER: 200, STRANGER: 400, ANON: 401, REVOKED: 401}, tfa_act("/api/auth/2fa/disable"),
                                           setup=tfa_disable_setup,
                                           ok=expect_true(lambda w, ctx, role, r: two_factor(w, ctx.owner.token) is False),
                                           unchanged=expect_true(lambda w, ctx, role, r: two_factor(w, ctx.owner.token) is True)),
    ("POST", "/api/auth/logout"): Row(SELF_ROLES, plain("POST", "/api/auth/logout"), setup=logout_setup, ok=logged_out,
                                      unchanged=cast_owner_still_signed_in),
    ("GET", "/api/users/me"): Row(SELF_ROLES, plain("GET", "/api/users/me"), ok=own_profile),
    ("PUT", "/api/users/me"): Row(SELF_ROLES, display_name_act, setup=self_service_setup,
                                  ok=acted_on_self("displayName", lambda value, ctx: value == ctx.new_name), unchanged=owner_untouched),
    ("POST", "/api/users/profile-image"): Row(SELF_ROLES, image_post("profile-image"), setup=self_service_setup,
                                              ok=acted_on_self("profileImage", lambda value, ctx: bool(value)), unchanged=owner_untouched),
    ("DELETE", "/api/users/profile-image"): Row(SELF_ROLES, plain("DELETE", "/api/users/profile-image"), setup=image_setup("profile-image"),
                                                ok=acted_on_self("profileImage", lambda value, ctx: value is None), unchanged=owner_untouched),
    ("POST", "/api/users/cover-image"): Row(SELF_ROLES, image_post("cover-image"), setup=self_service_setup,
                                            ok=acted_on_self("coverImage", lambda value, ctx: bool(value)), unchanged=owner_untouched),
    ("DELETE", "/api/users/cover-image"): Row(SELF_ROLES, plain("DELETE", "/api/users/cover-image"), setup=image_setup("cover-image"),
                                              ok=acted_on_self("coverImage", lambda value, ctx: value is None), unchanged=owner_untouched),
    # Other people: verified users are listed and found by design, as public profiles only.
    ("GET", "/api/users"): Row(SELF_ROLES, plain("GET", "/api/users", params={"limit": 200}), ok=public_profiles),
    ("GET", "/api/users/search"): Row(SELF_ROLES, plain("GET", "/api/users/search", params={"q": "olive"}), ok=public_profiles),
    ("GET", "/api/users/{username}"): Row({OWNER: 200, MEMBER: 200, STRANGER: 200, ANON: 401, REVOKED: 401}, plain("GET", "/api/users/olive"),
                                          ok=lambda w, ctx, role, r: public_profiles(w, ctx, role, r) if role != OWNER else None),
    ("GET", "/api/messages/conversations"): Row(LIST_ROLES, plain("GET", "/api/messages/conversations"), setup=group_setup(),
                                                ok=lists_group("conversations", "conversationId")),
    ("GET", "/api/users/conversations"): Row(LIST_ROLES, plain("GET", "/api/users/conversations"), setup=group_setup(),
                                             ok=lists_group("conversations", "conversationId")),
    ("GET", "/api/search"): Row({**LIST_ROLES, ADMIN: 200, LATE: 200}, search_act, setup=group_setup(), ok=search_found),
    ("GET", "/api/sync"): Row(LIST_ROLES, lambda w, ctx, role: w.call("GET", "/api/sync", role, ctx, params={"since": ctx.cursor}),
                              setup=sync_setup, ok=sync_shown),

    # --- Messages -------------------------------------------------------------------------------
    ("GET", "/api/messages/history"): Row({**READ_ROLES, STRANGER_DM: 403, LATE: 200}, history_act, setup=group_setup(), ok=shows_message),
    ("POST", "/api/messages"): Row(
        {**SEND_ROLES, STRANGER_DM: 403},
        send_act(lambda w, ctx, role: ("/api/messages", {"conversationId": w.dm_id} if role == STRANGER_DM else {"groupId": ctx.gid})),
        setup=group_setup(message=False), ok=send_arrived, unchanged=send_refused),
    ("POST", "/api/messages/read"): Row({OWNER: 200, MEMBER: 200, REMOVED: 403, STRANGER: 403, STRANGER_DM: 403, ANON: 401, REVOKED: 401},
                                        read_act, setup=group_setup(), ok=read_arrived, unchanged=read_refused),
    ("GET", "/api/messages/{messageId}/edits"): Row({**READ_ROLES, LATE: 403}, lambda w, ctx, role: w.call("GET", f"/api/messages/{ctx.mid}/edits", role, ctx),
                                                    setup=group_setup(edit=True), ok=edits_shown),
    # SPEC §6: "members only" — any member, not only the sender, may set a voice note's waveform.
    ("PATCH", "/api/messages/{messageId}/waveform"): Row({OWNER: 200, MEMBER: 200, REMOVED: 403, STRANGER: 403, LATE: 403, ANON: 401,
                                                          REVOKED: 401},
                                                         waveform_act, setup=group_setup(message=False, voice=True),
                                                         ok=waveform_changed, unchanged=waveform_unchanged),
    ("POST", "/api/messages/upload"): Row({OWNER: 201, MEMBER: 201, REMOVED: 403, STRANGER: 403, ANON: 401, REVOKED: 401},
                                          upload_act, setup=group_setup(message=False), ok=upload_arrived, unchanged=upload_refused),

    # --- Groups ---------------------------------------------------------------------------------
    ("POST", "/api/groups"): Row(
        {OWNER: 201, STRANGER: 201, ANON: 401, REVOKED: 401},
        new_group_act, ok=new_group_made, unchanged=new_group_absent),
    ("GET", "/api/groups"): Row(LIST_ROLES, plain("GET", "/api/groups"), setup=group_setup(), ok=lists_group("groups", "id")),
    ("GET", "/api/groups/{groupId}"): Row(READ_ROLES, in_group("GET"), setup=group_setup(), ok=group_shown),
    ("PUT", "/api/groups/{groupId}"): Row(MANAGE_ROLES, rename_act, setup=group_setup(message=False), ok=renamed, unchanged=not_renamed),
    ("DELETE", "/api/groups/{groupId}"): Row({OWNER: 200, ADMIN: 403, MEMBER: 403, REMOVED: 403, STRANGER: 403, ANON: 401, REVOKED: 401},
                                             in_group("DELETE"), setup=group_setup(message=False), ok=deleted, unchanged=members_unchanged),
    # Knowing the group's id lets no one in: joining takes an invite link (the invitee holds one);
    # without one a stranger, or a removed member, is refused (invite_required); a member asking
    # again needs none. The stranger-dm, with a good link, names the owner's direct conversation:
    # no group by that id (404), and never a way into it.
    ("POST", "/api/groups/{groupId}/join"): Row({OWNER: 200, MEMBER: 200, ADMIN: 200, INVITEE: 200, REMOVED: 403, STRANGER: 403,
                                                 STRANGER_DM: 404, ANON: 401, REVOKED: 401},
                                                join_act, setup=join_setup, ok=joined, unchanged=join_unchanged, codes=NEEDS_INVITE),
    # Invite links: made, listed and revoked by the owner and admins only; whoever holds a usable
    # link may look at where it leads and join (a removed member too: the link is the owner's say).
    ("POST", "/api/groups/{groupId}/invites"): Row({**MANAGE_ROLES, OWNER: 201, ADMIN: 201}, invite_create_act,
                                                   setup=group_setup(message=False), ok=invite_made, unchanged=no_invite_made),
    ("GET", "/api/groups/{groupId}/invites"): Row(MANAGE_ROLES, in_group("GET", "/invites"), setup=invite_setup(), ok=invites_listed),
    ("DELETE", "/api/groups/{groupId}/invites/{token}"): Row(MANAGE_ROLES, invite_revoke_act, setup=invite_setup(), ok=invite_revoked,
                                                             unchanged=invite_still_live),
    ("GET", "/api/invites/{token}"): Row({OWNER: 200, MEMBER: 200, ADMIN: 200, REMOVED: 200, STRANGER: 200, ANON: 401, REVOKED: 401},
                                         invite_preview_act, setup=invite_setup(message=True), ok=invite_previewed,
                                         unchanged=lambda w, ctx, role, r=None: members_unchanged(w, ctx, role)),
    ("POST", "/api/invites/{token}/join"): Row({OWNER: 200, MEMBER: 200, ADMIN: 200, REMOVED: 200, STRANGER: 200, ANON: 401, REVOKED: 401},
                                               invite_join_act, setup=join_setup, ok=joined, unchanged=join_unchanged),
    ("POST", "/api/groups/{groupId}/leave"): Row({OWNER: 200, MEMBER: 200, REMOVED: 403, STRANGER: 403, ANON: 401, REVOKED: 401},
                                                 in_group("POST", "/leave"), setup=group_setup(message=False), ok=left,
                                                 unchanged=members_unchanged),
    ("POST", "/api/groups/{groupId}/members"): Row(MANAGE_ROLES, add_act, setup=group_setup(message=False), ok=extra_in,
                                                   unchanged=lambda w, ctx, role, r=None: extra_out(w, ctx, role, r)),
    ("DELETE", "/api/groups/{groupId}/members/{userId}"): Row(
        MANAGE_ROLES, lambda w, ctx, role: w.call("DELETE", f"/api/groups/{ctx.gid}/members/{w.users[EXTRA].id}", role, ctx),
        setup=group_setup(message=False, extra=True), ok=extra_out, unchanged=lambda w, ctx, role, r=None: extra_in(w, ctx, role, r)),
    ("GET", "/api/groups/{groupId}/messages"): Row({**READ_ROLES, LATE: 200}, group_messages_act, setup=group_setup(), ok=shows_message),
    ("POST", "/api/groups/{groupId}/messages"): Row(SEND_ROLES, send_act(lambda w, ctx, role: (f"/api/groups/{ctx.gid}/messages", {})),
                                                    setup=group_setup(message=False), ok=send_arrived, unchanged=send_refused),

    # --- Push notifications -----------------------------------------------------------------------
    # Muting is each member's own setting for a conversation they are in (a late joiner included):
    # it never changes what the other members get; an outsider is refused (the stranger-dm names the
    # owner's direct conversation by its id).
    ("PUT", "/api/messages/conversations/{conversationId}/mute"): Row(
        {OWNER: 200, MEMBER: 200, ADMIN: 200, LATE: 200, REMOVED: 403, STRANGER: 403, STRANGER_DM: 403, ANON: 401, REVOKED: 401},
        mute_act, setup=group_setup(message=False), ok=muted_for_self, unchanged=mute_unchanged),
    # Per user, not per group: like the routes of my own account (the stranger acts on their own).
    ("GET", "/api/push/key"): Row(SELF_ROLES, plain("GET", "/api/push/key"), ok=push_key_shown),
    ("GET", "/api/push/subscriptions"): Row(SELF_ROLES, plain("GET", "/api/push/subscriptions"), setup=two_devices_setup,
                                            ok=own_devices_only),
    ("POST", "/api/push/subscriptions"): Row({OWNER: 201, STRANGER: 201, ANON: 401, REVOKED: 401}, subscribe_act, ok=subscribed,
                                             unchanged=not_subscribed),
    # Someone else's endpoint is answered as if it did not exist (404), and stays theirs.
    ("DELETE", "/api/push/subscriptions"): Row(
        {OWNER: 204, MEMBER: 404, STRANGER: 404, ANON: 401, REVOKED: 401}, unsubscribe_act, setup=owner_device_setup,
        ok=expect_true(lambda w, ctx, role, r: ctx.device not in devices(w, OWNER), "the device is still registered"),
        unchanged=expect_true(lambda w, ctx, role, r: ctx.device in devices(w, OWNER), "someone else removed the owner's device")),
}


# Events ---------------------------------------------------------------------------------------

def ev_send(w, ctx, role):
    ctx.text = w.unique("text")
    target = {"conversationId": w.dm_id} if role == STRANGER_DM else {"groupId": ctx.gid}
    return {**target, "content": ctx.text, "clientMessageId": str(uuid.uuid4())}


def ev_sent(w, ctx, role, ack):
    assert ack["message"]["content"] == ctx.text
    ctx.wait(listener(role), "group:message:received", content=ctx.text)


def ev_reacted(w, ctx, role, ack):
    reaction = ctx.wait(listener(role), "message:reaction", messageId=ctx.mid)
    assert [r["userId"] for r in reaction["reactions"]] == [w.actor(role).id]


def ev_not_reacted(w, ctx, role, r=None):
    not_heard(ctx, (OWNER, MEMBER), ("message:reaction",), messageId=ctx.mid)
    assert w.message(ctx.gid, ctx.mid)["reactions"] == []


def ev_not_unsent(w, ctx, role, r=None):
    not_heard(ctx, (OWNER, MEMBER), ("message:unsent",), messageId=ctx.mid)
    message = w.message(ctx.gid, ctx.mid)
    assert message["unsent"] is False and message["content"] == ctx.content


def ev_edit(w, ctx, role):
    ctx.text = w.unique("edit")
    return {"messageId": ctx.mid, "content": ctx.text}


def ev_not_edited(w, ctx, role, r=None):
    not_heard(ctx, (OWNER, MEMBER), ("message:edited",), messageId=ctx.mid)
    message = w.message(ctx.gid, ctx.mid)
    assert message["content"] == ctx.content and message["edited"] is False
    assert w.json("GET", f"/api/messages/{ctx.mid}/edits")["edits"] == []


def ev_typing_heard(is_typing):
    def check(w, ctx, role, ack):
        ctx.wait(listener(role), "typing:status", groupId=ctx.gid, userId=w.actor(role).id, isTyping=is_typing)
    return check


def ev_not_typing(w, ctx, role, r=None):
    not_heard(ctx, (OWNER, MEMBER), ("typing:status",), groupId=ctx.gid)


def ev_ghost(w, ctx, role):
    ctx.text = w.unique("ghost")
    to = OWNER if role == MEMBER else MEMBER
    return {"recipientId": w.users[to].id, "text": ctx.text}


def ev_ghost_heard(w, ctx, role, ack):
    ctx.wait(OWNER if role == MEMBER else MEMBER, "ghost:typing", text=ctx.text, userId=w.actor(role).id)


def ev_recording_heard(w, ctx, role, ack):
    ctx.wait(listener(role), "audio:recording", groupId=ctx.gid, userId=w.actor(role).id, isRecording=True)


def ev_listening_unchanged(w, ctx, role, r=None):
    not_heard(ctx, (OWNER,), ("audio:listening",), messageId=ctx.vid)
    assert w.message(ctx.gid, ctx.vid)["status"] not in ("listening", "listened")


def ev_presence_setup(w, ctx, role):
    if role in SOCKET_ROLES:
        ctx.teardown.append(lambda: w.restore_presence(role))


def ev_presence_heard(w, ctx, role, ack):
    me = w.actor(role).id
    if role == OWNER:
        ctx.wait(MEMBER, "user:status", userId=me, status="away")
        not_heard(ctx, (STRANGER, REMOVED), ("user:status",), userId=me)  # presence goes to contacts only
    else:
        not_heard(ctx, (OWNER, MEMBER), ("user:status",), userId=me)


def ev_request(w, ctx, role):
    return [w.users[MEMBER if role == OWNER else OWNER].id]


def ev_presence_answer(w, ctx, role, ack):
    [entry] = ack["users"]
    if role in (OWNER, MEMBER):
        assert entry["status"] == "online", entry
    else:  # the owner is online, but not to someone who shares nothing with them
        assert entry["status"] == "offline" and entry["lastSeen"] is None, f"{role} sees the owner's presence: {entry}"


def ev_settings_setup(w, ctx, role):
    if role in SOCKET_ROLES:
        ctx.teardown.append(lambda: w.restore_visibility(role))


def ev_settings_heard(w, ctx, role, ack):
    me = w.actor(role)
    assert profile_of(w, me.token)["showOnlineStatus"] is False
    if role == OWNER:
        ctx.wait(MEMBER, "user:status", userId=me.id, status="offline")
    else:
        not_heard(ctx, (OWNER, MEMBER), ("user:status",), userId=me.id)


def ev_settings_unchanged(w, ctx, role, r=None):
    assert profile_of(w, w.users[OWNER].token)["showOnlineStatus"] is True
    not_heard(ctx, (MEMBER,), ("user:status",), userId=w.users[OWNER].id, status="offline")


GROUP_EVENT_ROLES = {OWNER: OK, MEMBER: OK, REMOVED: REFUSED, STRANGER: REFUSED, ANON: NO_CONNECT, REVOKED: NO_CONNECT}
RECIPIENT_ROLES = {MEMBER: OK, OWNER: REFUSED, REMOVED: REFUSED, STRANGER: REFUSED, ANON: NO_CONNECT, REVOKED: NO_CONNECT}
SENDER_ROLES = {OWNER: OK, MEMBER: REFUSED, ADMIN: REFUSED, REMOVED: REFUSED, STRANGER: REFUSED, ANON: NO_CONNECT, REVOKED: NO_CONNECT}
SELF_EVENT_ROLES = {OWNER: OK, STRANGER: OK, REMOVED: OK, ANON: NO_CONNECT, REVOKED: NO_CONNECT}  # reaches contacts only

# =============================================================================================
# THE TABLE, part 2: every client → server event (SPEC §7, SocketEventHandlers.swift).
# Anonymous and revoked sockets are refused at CONNECT; their cells also send the event anyway
# on the refused connection (as the owner would) and check nothing happened.

EVENTS = {
    "message:send": Row({**GROUP_EVENT_ROLES, STRANGER_DM: REFUSED}, ev_send, setup=group_setup(message=False),
                        ok=ev_sent, unchanged=send_refused),
    "group:message:send": Row(GROUP_EVENT_ROLES, ev_send, setup=group_setup(message=False), ok=ev_sent, unchanged=send_refused),
    # {groupId, inviteToken}: the same rules as POST /api/groups/{groupId}/join (who holds the link:
    # JOIN_WITH_INVITE); the stranger-dm's good link does not open the owner's direct conversation.
    "group:join": Row({OWNER: OK, MEMBER: OK, ADMIN: OK, INVITEE: OK, REMOVED: REFUSED, STRANGER: REFUSED, STRANGER_DM: REFUSED,
                       ANON: NO_CONNECT, REVOKED: NO_CONNECT},
                      join_payload, setup=join_setup, ok=joined, unchanged=join_unchanged, codes=NEEDS_INVITE),
    "group:leave": Row(GROUP_EVENT_ROLES, lambda w, ctx, role: ctx.gid, setup=group_setup(message=False), ok=left,
                       unchanged=members_unchanged),
    "message:received": Row(RECIPIENT_ROLES, lambda w, ctx, role: ctx.mid, setup=group_setup(),
                            unchanged=lambda w, ctx, role, r=None: not_heard(ctx, (OWNER,), ("message:status",), messageId=ctx.mid)),
    "message:read": Row(RECIPIENT_ROLES, lambda w, ctx, role: ctx.mid, setup=group_setup(),
                        ok=lambda w, ctx, role, ack: read_arrived(w, ctx, role, ack), unchanged=read_refused),
    "message:react": Row({**GROUP_EVENT_ROLES, LATE: REFUSED}, lambda w, ctx, role: {"messageId": ctx.mid, "emoji": "👍"},
                         setup=group_setup(), ok=ev_reacted, unchanged=ev_not_reacted),
    "message:unsend": Row(SENDER_ROLES, lambda w, ctx, role: ctx.mid, setup=group_setup(),
                          ok=lambda w, ctx, role, ack: ctx.wait(MEMBER, "message:unsent", messageId=ctx.mid), unchanged=ev_not_unsent),
    "message:edit": Row(SENDER_ROLES, ev_edit, setup=group_setup(),
                        ok=lambda w, ctx, role, ack: ctx.wait(MEMBER, "message:edited", messageId=ctx.mid, content=ctx.text),
                        unchanged=ev_not_edited),
    "typing:start": Row(GROUP_EVENT_ROLES, lambda w, ctx, role: {"groupId": ctx.gid}, setup=group_setup(message=False),
                        ok=ev_typing_heard(True), unchanged=ev_not_typing),
    "typing:stop": Row(GROUP_EVENT_ROLES, lambda w, ctx, role: {"groupId": ctx.gid}, setup=group_setup(message=False),
                       ok=ev_typing_heard(False), unchanged=ev_not_typing),
    # Direct conversations only: the owner and the member have one; the stranger has none.
    "ghost:typing": Row({OWNER: OK, MEMBER: OK, STRANGER: REFUSED, ANON: NO_CONNECT, REVOKED: NO_CONNECT}, ev_ghost, ok=ev_ghost_heard,
                        unchanged=lambda w, ctx, role, r=None: not_heard(ctx, (MEMBER,), ("ghost:typing",), text=ctx.text)),
    "audio:recording": Row(GROUP_EVENT_ROLES, lambda w, ctx, role: {"groupId": ctx.gid, "isRecording": True},
                           setup=group_setup(message=False), ok=ev_recording_heard,
                           unchanged=lambda w, ctx, role, r=None: not_heard(ctx, (OWNER, MEMBER), ("audio:recording",), groupId=ctx.gid)),
    "audio:listening": Row(RECIPIENT_ROLES, lambda w, ctx, role: {"messageId": ctx.vid, "isListening": True},
                           setup=group_setup(message=False, voice=True),
                           ok=lambda w, ctx, role, ack: ctx.wait(OWNER, "audio:listening", messageId=ctx.vid, userId=w.users[MEMBER].id),
                           unchanged=ev_listening_unchanged),
    "presence:update": Row(SELF_EVENT_ROLES, lambda w, ctx, role: "away", setup=ev_presence_setup, ok=ev_presence_heard,
                           unchanged=lambda w, ctx, role, r=None: not_heard(ctx, (MEMBER,), ("user:status",),
                                                                            userId=w.users[OWNER].id, status="away")),
    # Read-only: a stranger (or a removed member) is answered as if the owner hid their presence.
    "presence:request": Row({OWNER: OK, MEMBER: OK, REMOVED: OK, STRANGER: OK, ANON: NO_CONNECT, REVOKED: NO_CONNECT},
                            ev_request, ok=ev_presence_answer),
    "settings:update": Row(SELF_EVENT_ROLES, lambda w, ctx, role: {"showOnlineStatus": False}, setup=ev_settings_setup,
                           ok=ev_settings_heard, unchanged=ev_settings_unchanged),
}


# ---------------------------------------------------------------------------------------------
# The server and the cast

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("authorization"))
    server = Chatr(workdir, env={"TRUSTED_PROXIES": "127.0.0.1"})
    w = World(server, workdir)
    try:
        for role, name in zip(CAST, ("olive", "mia", "ada", "rex", "sam", "eve")):
            w.users[role] = w.register(name)
        w.revoked[OWNER] = w.revoke(w.users[OWNER])
        w.revoked[STRANGER] = w.revoke(w.users[STRANGER])
        w.dm_content = w.unique("direct-secret")
        dm = w.json("POST", "/api/messages", OWNER, expect=201,
                    json={"recipientId": w.users[MEMBER].id, "content": w.dm_content, "clientMessageId": str(uuid.uuid4())})
        w.dm_id, w.dm_message = dm["conversationId"], dm["id"]
        # The owner comes and goes once: they have a lastSeen, for their contacts' eyes only.
        w.connect(OWNER)
        w.sockets.pop(OWNER).disconnect()
        deadline = time.time() + WAIT
        while not w.json("GET", "/api/users/olive", MEMBER).get("lastSeen"):
            assert time.time() < deadline, "the owner's lastSeen was never saved"
            time.sleep(0.05)
        for role in SOCKET_ROLES:
            w.connect(role)
        w.refusals[ANON] = w.refuse(None)
        w.refusals[REVOKED] = w.refuse(w.revoked[OWNER])
        yield w
    finally:
        w.close()
        server.stop()


@pytest.fixture
def ctx(world):
    c = Ctx(world)
    yield c
    c.cleanup()


def cells(table):
    for key, row in table.items():
        label = " ".join(key) if isinstance(key, tuple) else key
        for role in row.expect:
            marks = [pytest.mark.xfail(strict=True, reason=row.bugs[role])] if role in row.bugs else []
            yield pytest.param(key, role, id=f"{label} as {role}", marks=marks)


@pytest.mark.parametrize("op, role", list(cells(ROUTES)))
def test_route(world, ctx, op, role):
    row, expected = ROUTES[op], ROUTES[op].expect[role]
    if row.setup:
        row.setup(world, ctx, role)
    ctx.secrets.append(world.dm_content)
    ctx.mark()
    r = row.act(world, ctx, role)
    assert r.status_code == expected, f"{' '.join(op)} as {role}: expected {expected}, got {r.status_code} {r.text[:300]}"
    if 200 <= expected < 300:
        if row.ok:
            row.ok(world, ctx, role, r)
        return
    for secret in ctx.secrets:  # a refused answer gives nothing away
        assert secret not in r.text, f"the refusal leaks {secret!r}: {r.text[:300]}"
    if role in row.codes:
        assert r.json().get("code") == row.codes[role], f"{' '.join(op)} as {role}: expected code {row.codes[role]}, got {r.text[:300]}"
    if row.unchanged:
        row.unchanged(world, ctx, role)


@pytest.mark.parametrize("event, role", list(cells(EVENTS)))
def test_event(world, ctx, event, role):
    row, expected = EVENTS[event], EVENTS[event].expect[role]
    if row.setup:
        row.setup(world, ctx, role)
    ctx.mark()
    payload = row.act(world, ctx, role)
    if role in (ANON, REVOKED):
        assert expected == NO_CONNECT
        assert world.refusals[role] == {"message": "Authentication error"}, f"{role} socket: {world.refusals[role]}"
        world.emit_refused(world.token(role, ctx), event, payload)
        if row.unchanged:
            row.unchanged(world, ctx, role)
        return
    ack = world.sio(role).call(event, payload, timeout=WAIT)
    assert isinstance(ack, dict), f"{event} as {role}: ack {ack!r}"
    if expected == OK:
        assert ack["ok"] is True, f"{event} as {role}: expected ok, got {ack}"
        if row.ok:
            row.ok(world, ctx, role, ack)
        return
    assert ack["ok"] is False and ack.get("error") and "code" in ack, f"{event} as {role}: expected a refusal, got {ack}"
    if role in row.codes:
        assert ack["code"] == row.codes[role], f"{event} as {role}: expected code {row.codes[role]}, got {ack}"
    for secret in ctx.secrets + [world.dm_content]:
        assert secret not in json.dumps(ack, ensure_ascii=False), f"the refusal leaks {secret!r}: {ack}"
    assert world.sio(role).connected, "a refused event must not cost the socket"
    if row.unchanged:
        row.unchanged(world, ctx, role)


# ---------------------------------------------------------------------------------------------
# Coverage guard: the table against the server's own lists


def handled_events():
    with open(HANDLERS, encoding="utf-8") as f:
        return set(re.findall(r'handle\("([^"]+)"', f.read()))


def spec_events():
    """The names in SPEC §7's client → server table (first column)."""
    with open(SPEC, encoding="utf-8") as f:
        section = f.read().split("| Client → server |", 1)[1].split("\n\n", 1)[0]
    return {name for line in section.splitlines()[2:] for name in re.findall(r"`([a-z:]+)`", line.split("|")[1])}


def test_every_openapi_operation_has_a_row(world):
    document = world.json("GET", "/api/openapi.json", ANON)
    operations = {(method.upper(), path): op for path, item in document["paths"].items()
                  for method, op in item.items() if method in HTTP_METHODS}
    assert sorted(set(operations) - set(ROUTES)) == [], "operations of /api/openapi.json without a row in ROUTES"
    assert sorted(set(ROUTES) - set(operations)) == [], "rows in ROUTES for operations /api/openapi.json no longer has"
    for key, op in operations.items():
        secured = bool(op.get("security", document.get("security")))
        assert secured == (ROUTES[key].public is None), f"{key}: the document says secured={secured}; the row disagrees"


def test_every_socket_event_has_a_row():
    handled = handled_events()
    assert len(handled) >= 10, f"could not read the handlers from {HANDLERS}"
    assert sorted(handled - set(EVENTS)) == [], "events SocketEventHandlers.swift handles without a row in EVENTS"
    assert sorted(set(EVENTS) - handled) == [], "rows in EVENTS for events no longer handled"


@pytest.mark.skipif(not os.path.exists(SPEC), reason="SPEC.md is not beside this checkout")
def test_every_spec_event_has_a_row():
    assert sorted(spec_events() - set(EVENTS)) == [], "client → server events of SPEC §7 without a row"


def test_the_table_is_complete():
    """Every authenticated row names anonymous, revoked and stranger; public rows name anonymous."""
    for key, row in ROUTES.items():
        assert ANON in row.expect, key
        if row.public is None:
            assert set(OUTSIDERS) <= set(row.expect), f"{key} must list {OUTSIDERS}"
            assert row.expect[ANON] == row.expect[REVOKED] == 401, key
        assert set(row.bugs) <= set(row.expect), key
        assert set(row.codes) <= set(row.expect), key
    for name, row in EVENTS.items():
        assert set(row.codes) <= set(row.expect), name
        assert set(OUTSIDERS) <= set(row.expect), f"{name} must list {OUTSIDERS}"
        assert row.expect[ANON] == row.expect[REVOKED] == NO_CONNECT, name
        assert set(row.expect.values()) <= {OK, REFUSED, NO_CONNECT}, name
