"""Gap-free sync through the real `chatr` binary: the change feed (GET /api/sync) brings a client
that was away back to exactly what a fresh load shows — also across a kill -9 — shows nobody
what is not theirs, carries its cursor on live events; and Socket.IO connection state recovery
(raw protocol: python-socketio cannot recover) gives a dropped client its id and what it missed."""
import json
import os
import re
import socket
import sys
import threading
import time
import uuid

import requests
import socketio
import websocket

from conftest import Chatr
from test_chatr_messaging import EVENTS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from chatr_process import Server, base_env, reset_postgres_if_used  # noqa: E402

PASSWORD = "Interop-pass1!"  # what Chatr.register gives everyone
CURSOR = re.compile(r"^\d+\.[0-9a-f]{16}$")
LIVE_EVENTS = tuple(EVENTS) + ("group:updated", "group:deleted")


# ---------------------------------------------------------------------------------------------
# Plumbing


class Recorder:
    """Every event a client gets, in arrival order; waits on a condition with a deadline."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def add(self, name, args):
        with self.cond:
            self.events.append((name, list(args)))
            self.cond.notify_all()

    def wait(self, predicate, what, timeout=10):
        with self.cond:
            found = []
            ok = self.cond.wait_for(lambda: found.extend(e for e in self.events if predicate(*e)) or found, timeout)
            assert ok, f"never got {what}; got {[(n, a) for n, a in self.events]}"
            return found[0][1]

    def named(self, name):
        with self.cond:
            return [args for n, args in self.events if n == name]


def device(url, token):
    """A python-socketio client of `token`, recording every event."""
    recorder = Recorder()
    sio = socketio.Client(reconnection=False)
    for event in LIVE_EVENTS:
        sio.on(event, (lambda name: lambda *args: recorder.add(name, args))(event))
    sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    recorder.wait(lambda n, a: n == "presence:update", "presence:update")
    return sio, recorder


def call(url, token, method, path, expect=200, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.request(method, url + path, headers=headers, timeout=10, **kwargs)
    assert r.status_code == expect, f"{method} {path} {kwargs} → {r.status_code} {r.text}"
    return r.json() if r.content else None


def send(url, token, to, content):
    """A REST send: `to` is ("user", id) or ("group", id). Returns the stored message."""
    key = "recipientId" if to[0] == "user" else "groupId"
    return call(url, token, "POST", "/api/messages", expect=201,
                json={key: to[1], "content": content, "clientMessageId": str(uuid.uuid4())})


def ack(sio, event, payload):
    answer = sio.call(event, payload, timeout=5)
    assert answer and answer.get("ok") is True, f"{event} {payload} → {answer}"
    return answer


def second_device(url, name):
    """Log `name` in again (password, then the emailed code): a second session, a second token."""
    r = requests.post(url + "/api/auth/login", json={"email": f"{name}@example.com", "password": PASSWORD}, timeout=10)
    assert r.status_code == 200 and r.json().get("requiresLoginVerification"), r.text
    user_id = r.json()["userId"]
    code = requests.get(url + "/api/dev/outbox", params={"to": f"{name}@example.com"}, timeout=5).json()[-1]["code"]
    r = requests.post(url + "/api/auth/login/verify", json={"userId": user_id, "code": code}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def feed_position(url, token):
    body = call(url, token, "GET", "/api/sync")
    assert body["changes"] == [] and body["hasMore"] is False and CURSOR.match(body["cursor"]), body
    return body["cursor"]


def sync_pages(url, token, since, limit=200):
    """Every page after `since`: (the changes in order, the final cursor, how many pages)."""
    changes, cursor, pages = [], since, 0
    while True:
        body = call(url, token, "GET", "/api/sync", params={"since": cursor, "limit": limit})
        pages += 1
        assert set(body) == {"changes", "cursor", "hasMore"} and CURSOR.match(body["cursor"]), body
        keys = []
        for change in body["changes"]:
            assert CURSOR.match(change.get("cursor", "")), change
            kind = change["type"]
            assert kind in ("message", "conversation", "conversation:removed"), change
            keys.append((kind, change["message"]["id"] if kind == "message" else
                         change["conversation"]["conversationId"] if kind == "conversation" else change["conversationId"]))
        assert len(keys) == len(set(keys)), f"a page holds the same entry twice: {keys}"
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["hasMore"]:
            return changes, cursor, pages
        assert pages < 500, "the feed never ends"


class ClientState:
    """What a client holds: the conversation list and each conversation's messages, by id."""

    def __init__(self, conversations, histories):
        self.conversations = conversations
        self.histories = histories

    @classmethod
    def fresh(cls, url, token):
        """A fresh load over REST: the list, and the whole history of every conversation in it."""
        items = call(url, token, "GET", "/api/messages/conversations")["conversations"]
        ids = [c["conversationId"] for c in items]
        assert len(ids) == len(set(ids)), f"the conversation list repeats a conversation: {ids}"
        histories = {}
        for cid in ids:
            page = call(url, token, "GET", "/api/messages/history", params={"conversationId": cid, "limit": 200})
            assert page["hasMore"] is False
            message_ids = [m["id"] for m in page["messages"]]
            assert len(message_ids) == len(set(message_ids)), f"history repeats a message: {message_ids}"
            histories[cid] = {m["id"]: m for m in page["messages"]}
        return cls({c["conversationId"]: c for c in items}, histories)

    def copy(self):
        return ClientState(json.loads(json.dumps(self.conversations)), json.loads(json.dumps(self.histories)))

    def apply_change(self, change):
        """One feed entry: messages upsert into their conversation, list entries replace, removals delete."""
        if change["type"] == "message":
            message = change["message"]
            self.histories.setdefault(message["conversationId"], {})[message["id"]] = message
        elif change["type"] == "conversation":
            item = change["conversation"]
            self.conversations[item["conversationId"]] = item
            self.histories.setdefault(item["conversationId"], {})
        else:
            self.conversations.pop(change["conversationId"], None)
            self.histories.pop(change["conversationId"], None)

    def apply_live(self, name, args):
        """A live event, as a client applies it (without its `cursor`: that is not message state)."""
        payload = {k: v for k, v in args[0].items() if k != "cursor"}
        if name in ("message:received", "group:message:received", "message:sent"):
            self.histories.setdefault(payload["conversationId"], {})[payload["id"]] = payload
            return
        message = next((h[payload["messageId"]] for h in self.histories.values() if payload.get("messageId") in h), None)
        if message is None:
            return
        if name == "message:edited":
            message.update(content=payload["content"], edited=True, editedAt=payload["editedAt"])
        elif name == "message:unsent":
            message.update(unsent=True, content="")
        elif name == "message:reaction":
            message["reactions"] = payload["reactions"]
        elif name == "message:status":
            message.update(status=payload["status"], readAt=payload.get("readAt", message["readAt"]))


def differences(rebuilt, fresh, names):
    """Field-by-field differences between two client states, readable (`names`: id → label)."""
    label = lambda i: names.get(i, i)
    missing = object()

    def fields(a, b):
        return {k: (a.get(k, missing), b.get(k, missing)) for k in sorted(a.keys() | b.keys()) if a.get(k, missing) != b.get(k, missing)}

    out = []
    for cid in fresh.conversations.keys() - rebuilt.conversations.keys():
        out.append(f"conversation {label(cid)} is missing from the rebuilt list")
    for cid in rebuilt.conversations.keys() - fresh.conversations.keys():
        out.append(f"conversation {label(cid)} is still in the rebuilt list but no longer in a fresh one")
    for cid in rebuilt.conversations.keys() & fresh.conversations.keys():
        if rebuilt.conversations[cid] != fresh.conversations[cid]:
            out.append(f"list item {label(cid)} differs (rebuilt, fresh): {fields(rebuilt.conversations[cid], fresh.conversations[cid])}")
    for cid in rebuilt.histories.keys() - fresh.conversations.keys():
        if rebuilt.histories[cid]:
            out.append(f"messages kept of {label(cid)}, not a conversation of the user: {[label(m) for m in rebuilt.histories[cid]]}")
    for cid in fresh.conversations:
        mine, theirs = rebuilt.histories.get(cid, {}), fresh.histories[cid]
        for mid in theirs.keys() - mine.keys():
            out.append(f"{label(cid)}: message {label(mid)} is missing from the rebuilt history")
        for mid in mine.keys() - theirs.keys():
            out.append(f"{label(cid)}: message {label(mid)} is in the rebuilt history but not in a fresh one")
        for mid in mine.keys() & theirs.keys():
            if mine[mid] != theirs[mid]:
                out.append(f"{label(cid)}: message {label(mid)} differs (rebuilt, fresh): {fields(mine[mid], theirs[mid])}")
    return out


# ---------------------------------------------------------------------------------------------
# 1 and 2: a client away for a while comes back to exactly the state a fresh load shows


def away_and_back(server, crash=None):
    """Ann loads her state, listens live, goes away; Bob, Cat and Ann's other device change a lot
    (`crash()` runs halfway); Ann pages through the feed from her cursor and must end up with what
    a fresh load shows, field by field."""
    url = server.url
    (ann, ann_t), (bob, bob_t), (cat, cat_t) = (Chatr.register(server, n) for n in ("ann", "bob", "cat"))
    names = {}

    def sent(token, to, content):
        message = send(url, token, to, content)
        names[message["id"]] = repr(content)
        return message

    # Before Ann takes her cursor: two direct conversations and three groups, one without her.
    a1, b1, b2, a2 = (sent(t, to, c) for t, to, c in ((ann_t, ("user", bob), "a1"), (bob_t, ("user", ann), "b1"),
                                                       (bob_t, ("user", ann), "b2"), (ann_t, ("user", bob), "a2")))
    c1 = sent(cat_t, ("user", ann), "c1")
    trip = call(url, bob_t, "POST", "/api/groups", expect=201, json={"name": "Trip", "memberIds": [ann, cat]})
    work = call(url, cat_t, "POST", "/api/groups", expect=201, json={"name": "Work", "memberIds": [ann, bob]})
    party = call(url, cat_t, "POST", "/api/groups", expect=201, json={"name": "Party", "memberIds": [bob]})
    names.update({a1["conversationId"]: "Ann–Bob", c1["conversationId"]: "Ann–Cat", trip["id"]: "Trip", work["id"]: "Work",
                  party["id"]: "Party"})
    sent(bob_t, ("group", trip["id"]), "trip-1")
    trip2 = sent(ann_t, ("group", trip["id"]), "trip-2 (Ann's)")
    sent(cat_t, ("group", work["id"]), "work-1")
    # Bob and Cat stay connected from here to the end (so their profiles' lastSeen stays as it is).
    bob_sio, _ = device(url, bob_t)
    cat_sio, _ = device(url, cat_t)

    # Ann: the cursor first, then the fresh load, then live events.
    cursor = feed_position(url, ann_t)
    before = ClientState.fresh(url, ann_t)
    assert set(before.conversations) == {a1["conversationId"], c1["conversationId"], trip["id"], work["id"]}
    ann_sio, ann_rec = device(url, ann_t)
    held = before.copy()
    b3 = sent(bob_t, ("user", ann), "b3 (live)")
    trip3 = sent(cat_t, ("group", trip["id"]), "trip-3 (live)")
    ack(bob_sio, "message:react", {"messageId": a1["id"], "emoji": "👍"})
    ann_rec.wait(lambda n, a: n == "message:received" and a[0]["id"] == b3["id"], "b3 live")
    ann_rec.wait(lambda n, a: n == "group:message:received" and a[0]["id"] == trip3["id"], "trip-3 live")
    ann_rec.wait(lambda n, a: n == "message:reaction" and a[0]["messageId"] == a1["id"], "the 👍 live")
    ann_sio.disconnect()
    for name, args in list(ann_rec.events):
        if name in LIVE_EVENTS and isinstance(args[0], dict) and ("messageId" in args[0] or "conversationId" in args[0]):
            assert isinstance(args[0].get("cursor"), str), f"{name} without a cursor: {args}"
            held.apply_live(name, args)

    # Ann is away. The first half of what happens meanwhile.
    b4 = sent(bob_t, ("user", ann), "b4")
    sent(cat_t, ("user", ann), "c2")
    sent(bob_t, ("group", trip["id"]), "trip-4")
    sent(cat_t, ("group", work["id"]), "work-2")
    ack(bob_sio, "message:edit", {"messageId": b1["id"], "content": "b1 (edited)"})
    ack(bob_sio, "message:unsend", b2["id"])
    ack(cat_sio, "message:react", {"messageId": trip2["id"], "emoji": "❤️"})
    ack(bob_sio, "message:react", {"messageId": b4["id"], "emoji": "🎉"})
    ack(bob_sio, "message:react", {"messageId": b4["id"], "emoji": "🎉"})  # and un-reacts
    ack(bob_sio, "message:react", {"messageId": a1["id"], "emoji": "👍"})  # the live 👍 taken back
    call(url, bob_t, "POST", "/api/messages/read", json={"otherUserId": ann, "upToMessageId": a2["id"]})  # Ann's a1, a2 read

    if crash:
        crash()  # Bob's and Cat's sockets die with it, unannounced

    # The second half.
    call(url, bob_t, "PUT", f"/api/groups/{trip['id']}", json={"name": "Trip 2026"})
    call(url, cat_t, "POST", f"/api/groups/{party['id']}/members", json={"userId": ann})
    sent(cat_t, ("group", party["id"]), "party-1 (after Ann joined)")
    call(url, cat_t, "DELETE", f"/api/groups/{work['id']}/members/{ann}")
    after_removal = sent(cat_t, ("group", work["id"]), "work-3 (after Ann was removed)")
    tablet = second_device(url, "ann")
    call(url, tablet, "POST", "/api/messages/read", json={"otherUserId": bob, "upToMessageId": b4["id"]})
    sent(cat_t, ("user", ann), "c3")

    # Ann is back: every page of the feed after her cursor, small pages.
    changes, end, pages = sync_pages(url, ann_t, cursor, limit=3)
    assert pages > 1, "limit=3 should take several pages"
    removed = [c for c in changes if c["type"] == "conversation:removed"]
    assert [c["conversationId"] for c in removed] == [work["id"]], f"Work should come back as removed: {removed}"
    assert all(c["message"]["id"] != after_removal["id"] for c in changes if c["type"] == "message"), \
        "a message sent after Ann was removed reached her"
    for change in changes:
        held.apply_change(change)
    fresh = ClientState.fresh(url, ann_t)
    assert set(fresh.conversations) == {a1["conversationId"], c1["conversationId"], trip["id"], party["id"]}
    # What happened did happen (else both sides could agree on nothing having changed).
    direct = fresh.histories[a1["conversationId"]]
    assert direct[b1["id"]]["content"] == "b1 (edited)" and direct[b1["id"]]["edited"] is True
    assert direct[b2["id"]]["unsent"] is True
    assert direct[a1["id"]]["status"] == direct[a2["id"]]["status"] == "read"
    assert direct[a1["id"]]["reactions"] == direct[b4["id"]]["reactions"] == []
    assert [r["emoji"] for r in fresh.histories[trip["id"]][trip2["id"]]["reactions"]] == ["❤️"]
    assert fresh.conversations[trip["id"]]["group"]["name"] == "Trip 2026"
    assert fresh.conversations[a1["conversationId"]]["unreadCount"] == 0, "read on Ann's other device"
    assert fresh.conversations[c1["conversationId"]]["unreadCount"] == 3
    assert [m["content"] for m in fresh.histories[party["id"]].values()] == ["added", "party-1 (after Ann joined)"], \
        "from the notice of her being added on"
    diffs = differences(held, fresh, names)
    assert not diffs, "\n".join(diffs)

    # The feed alone (one big page over the state loaded before) gets there too; and from the
    # end there is nothing more.
    alone = before.copy()
    for change in sync_pages(url, ann_t, cursor, limit=1000)[0]:
        alone.apply_change(change)
    diffs = differences(alone, fresh, names)
    assert not diffs, "\n".join(diffs)
    assert sync_pages(url, ann_t, end)[0] == []
    for sio in (bob_sio, cat_sio):
        sio.disconnect()


def test_a_client_away_comes_back_to_the_fresh_state(chatr):
    away_and_back(chatr)


def test_the_feed_survives_a_kill_9(tmp_path):
    reset_postgres_if_used()
    server = Server(base_env(CHATR_ENV="testing"), str(tmp_path))
    try:
        def crash():
            server.kill()
            server.start()
        away_and_back(server, crash)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------------------
# 3: nobody sees what is not theirs; bad input is refused


def test_the_feed_shows_each_user_only_their_own_and_refuses_bad_input(chatr):
    url = chatr.url
    (ann, ann_t), (bob, bob_t), (sam, sam_t), (lee, lee_t), (rob, rob_t) = (
        chatr.register(n) for n in ("ann", "bob", "sam", "lee", "rob"))
    start = feed_position(url, sam_t)

    # Ann and Bob talk; Ann's group has Bob and Rob.
    secret = send(url, ann_t, ("user", bob), "secret between Ann and Bob")
    send(url, bob_t, ("user", ann), "secret reply")
    call(url, bob_t, "POST", "/api/messages/read", json={"otherUserId": ann, "upToMessageId": secret["id"]})
    group = call(url, ann_t, "POST", "/api/groups", expect=201, json={"name": "Club", "memberIds": [bob, rob]})
    early = send(url, ann_t, ("group", group["id"]), "before Lee")
    send(url, bob_t, ("group", group["id"]), "also before Lee")
    bob_sio, _ = device(url, bob_t)
    ack(bob_sio, "message:react", {"messageId": early["id"], "emoji": "👍"})
    ack(bob_sio, "message:edit", {"messageId": send(url, bob_t, ("group", group["id"]), "typo")["id"], "content": "fixed"})
    call(url, ann_t, "DELETE", f"/api/groups/{group['id']}/members/{rob}")
    after_rob = send(url, ann_t, ("group", group["id"]), "after Rob left")
    call(url, ann_t, "POST", f"/api/groups/{group['id']}/members", json={"userId": lee})
    late = send(url, bob_t, ("group", group["id"]), "after Lee joined")
    bob_sio.disconnect()

    # A stranger: nothing at all, however the pages are cut.
    changes = sync_pages(url, sam_t, start, limit=1)[0]
    assert changes == [], f"a stranger sees {changes}"
    body = requests.get(url + "/api/sync", params={"since": start, "limit": 1000}, headers={"Authorization": f"Bearer {sam_t}"}, timeout=5).text
    assert secret["conversationId"] not in body and "secret" not in body

    # The late member: the group, and only the message sent after joining.
    changes, _, _ = sync_pages(url, lee_t, start)
    messages = [c["message"]["content"] for c in changes if c["type"] == "message" and c["message"]["type"] != "system"]
    notices = [(c["message"]["content"], c["message"]["senderId"]) for c in changes if c["type"] == "message" and c["message"]["type"] == "system"]
    assert notices == [("added", lee)], f"Lee sees the notice of her own arrival, nothing earlier: {notices}"
    assert messages == ["after Lee joined"], f"Lee, added late, got {messages}"
    listed = [c["conversation"]["conversationId"] for c in changes if c["type"] == "conversation"]
    assert listed == [group["id"]], listed
    assert secret["conversationId"] not in json.dumps(changes)
    lee_history = call(url, lee_t, "GET", "/api/messages/history", params={"conversationId": group["id"], "limit": 200})["messages"]
    assert [c["message"] for c in changes if c["type"] == "message"] == lee_history, "the feed and history agree"
    assert lee_history[-1]["id"] == late["id"]

    # The removed member: told the group is gone, and nothing sent after.
    changes, _, _ = sync_pages(url, rob_t, start)
    of_group = [c for c in changes if c.get("conversationId") == group["id"] or
                c.get("conversation", {}).get("conversationId") == group["id"] or c.get("message", {}).get("conversationId") == group["id"]]
    assert of_group and of_group[-1]["type"] == "conversation:removed", f"Rob's entries of the group: {of_group}"
    contents = json.dumps(changes)
    assert after_rob["id"] not in contents and late["id"] not in contents and "after Lee joined" not in contents
    assert group["id"] not in [c["conversationId"] for c in call(url, rob_t, "GET", "/api/messages/conversations")["conversations"]]

    # Bad cursors, bad limits, no token.
    good = feed_position(url, ann_t)
    seq, mac = good.split(".")
    assert int(seq) > 1
    bad = ["abc", "5", "5.deadbeefdeadbeef", f"{int(seq) - 1}.{mac}", f"{int(seq) + 1}.{mac}", f"{seq}.{mac[:-1]}",
           f"-1.{mac}", "9223372036854775807.deadbeefdeadbeef", "99999999999999999999999999." + mac, good + ".0"]
    for cursor in bad:
        r = requests.get(url + "/api/sync", params={"since": cursor}, headers={"Authorization": f"Bearer {ann_t}"}, timeout=5)
        assert r.status_code == 400 and r.json().get("code") == "invalid_cursor" and r.json().get("error"), (cursor, r.status_code, r.text)
    for limit in (0, 5001, 100000, -1):
        r = requests.get(url + "/api/sync", params={"since": good, "limit": limit}, headers={"Authorization": f"Bearer {ann_t}"}, timeout=5)
        assert r.status_code == 400 and r.json().get("code") == "invalid_limit", (limit, r.status_code, r.text)
    assert requests.get(url + "/api/sync", params={"since": good, "limit": 1000}, headers={"Authorization": f"Bearer {ann_t}"}, timeout=5).status_code == 200
    for headers in ({}, {"Authorization": "Bearer nope"}):
        assert requests.get(url + "/api/sync", params={"since": good}, headers=headers, timeout=5).status_code == 401
        assert requests.get(url + "/api/sync", headers=headers, timeout=5).status_code == 401


def test_a_late_member_ends_up_with_the_history_a_fresh_load_shows(chatr):
    """The feed gives a member added late nothing from before they joined; a fresh load must then
    show them nothing from before either (SPEC §6: members see history from when they joined) —
    else a client that syncs misses what a client that reloads shows."""
    url = chatr.url
    (ann, ann_t), (lee, lee_t) = (chatr.register(n) for n in ("ann", "lee"))
    cursor = feed_position(url, lee_t)
    held = ClientState.fresh(url, lee_t)
    group = call(url, ann_t, "POST", "/api/groups", expect=201, json={"name": "Club", "memberIds": []})
    before = send(url, ann_t, ("group", group["id"]), "before Lee joined")
    call(url, ann_t, "POST", f"/api/groups/{group['id']}/members", json={"userId": lee})
    after = send(url, ann_t, ("group", group["id"]), "after Lee joined")
    for change in sync_pages(url, lee_t, cursor)[0]:
        held.apply_change(change)
    fresh = ClientState.fresh(url, lee_t)
    names = {group["id"]: "Club", before["id"]: "'before Lee joined'", after["id"]: "'after Lee joined'"}
    diffs = differences(held, fresh, names)
    assert not diffs, "\n".join(diffs)


# ---------------------------------------------------------------------------------------------
# 4: live events carry their cursor


def test_live_events_carry_a_cursor_the_feed_accepts(chatr):
    url = chatr.url
    (ann, ann_t), (bob, bob_t) = (chatr.register(n) for n in ("ann", "bob"))
    ann_sio, ann_rec = device(url, ann_t)
    bob_sio, bob_rec = device(url, bob_t)
    before = feed_position(url, ann_t)

    message = send(url, bob_t, ("user", ann), "hello live")
    received = ann_rec.wait(lambda n, a: n == "message:received" and a[0]["id"] == message["id"], "message:received")[0]
    # The live message is the message as history has it, and as the feed from before brings it.
    history = call(url, ann_t, "GET", "/api/messages/history", params={"otherUserId": bob})["messages"]
    assert {k: v for k, v in received.items() if k != "cursor"} == history[0]
    entries = [c["message"] for c in sync_pages(url, ann_t, before)[0] if c["type"] == "message"]
    assert entries == history
    ack(bob_sio, "message:edit", {"messageId": message["id"], "content": "hello live!"})
    ack(ann_sio, "message:react", {"messageId": message["id"], "emoji": "👍"})
    call(url, ann_t, "POST", "/api/messages/read", json={"otherUserId": bob, "upToMessageId": message["id"]})
    group = call(url, ann_t, "POST", "/api/groups", expect=201, json={"name": "Club", "memberIds": []})
    call(url, ann_t, "POST", f"/api/groups/{group['id']}/members", json={"userId": bob})
    ack(bob_sio, "group:message:send", {"groupId": group["id"], "content": "hi club"})
    ack(bob_sio, "message:unsend", message["id"])
    call(url, ann_t, "PUT", f"/api/groups/{group['id']}", json={"name": "Club 2"})
    call(url, ann_t, "DELETE", f"/api/groups/{group['id']}/members/{bob}")
    expected = {"message:received": ann_rec, "message:edited": ann_rec, "message:reaction": bob_rec, "message:status": bob_rec,
                "group:user:joined": ann_rec, "group:message:received": ann_rec, "message:sent": bob_rec, "message:unsent": ann_rec,
                "group:updated": bob_rec, "group:user:left": ann_rec}
    for name, recorder in expected.items():
        payload = recorder.wait(lambda n, a: n == name, name)[0]
        assert isinstance(payload.get("cursor"), str) and CURSOR.match(payload["cursor"]), f"{name} has no cursor: {payload}"
        r = requests.get(url + "/api/sync", params={"since": payload["cursor"]}, headers={"Authorization": f"Bearer {ann_t}"}, timeout=5)
        assert r.status_code == 200, f"the cursor of {name} ({payload['cursor']}) → {r.status_code} {r.text}"

    for sio in (ann_sio, bob_sio):
        sio.disconnect()


# ---------------------------------------------------------------------------------------------
# 5: Socket.IO connection state recovery, on the wire


class RawSocket:
    """A Socket.IO client on one WebSocket, speaking the protocol by hand."""

    def __init__(self, port, auth):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", timeout=10)
        opening = self.ws.recv()
        assert opening.startswith("0{") and "sid" in json.loads(opening[1:]), opening
        self.ws.settimeout(None)
        self.frames = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.ws.send("40" + json.dumps(auth))
        reply = self.wait_frame(lambda f: f.startswith(("40", "44")), "a CONNECT reply")
        assert reply.startswith("40"), f"refused: {reply}"
        self.connect_reply = json.loads(reply[2:])
        self.sid, self.pid = self.connect_reply["sid"], self.connect_reply.get("pid")

    def _read(self):
        while True:
            try:
                frame = self.ws.recv()
            except Exception:
                return
            if frame == "2":
                try:
                    self.ws.send("3")
                except Exception:
                    return
                continue
            with self.cond:
                self.frames.append(frame)
                self.cond.notify_all()

    def wait_frame(self, predicate, what, timeout=10):
        with self.cond:
            assert self.cond.wait_for(lambda: any(predicate(f) for f in self.frames), timeout), f"never got {what}: {self.frames}"
            return next(f for f in self.frames if predicate(f))

    def events(self, name=None):
        """[(name, args)] of every event packet (`42[...]`, no namespace, no ack id)."""
        out = []
        with self.cond:
            for frame in self.frames:
                if frame.startswith("42"):
                    packet = json.loads(frame[2:].lstrip("0123456789"))
                    if name is None or packet[0] == name:
                        out.append((packet[0], packet[1:]))
        return out

    def wait_event(self, name, predicate, what, timeout=10):
        """The arguments of the first `name` event they satisfy."""
        with self.cond:
            assert self.cond.wait_for(lambda: any(predicate(a) for _, a in self.events(name)), timeout), f"never got {what}: {self.frames}"
            return next(a for _, a in self.events(name) if predicate(a))

    def drop(self):
        """The network goes: no DISCONNECT packet, no WebSocket close frame."""
        self.ws.sock.shutdown(socket.SHUT_RDWR)  # a FIN now (a bare close waits for the reader thread)
        self.reader.join(timeout=5)
        self.ws.shutdown()

    def close(self):
        try:
            self.ws.send("41")
            self.ws.close()
        except Exception:
            pass


def test_connection_state_recovery_on_the_wire(tmp_path):
    server = Chatr(str(tmp_path), env={"RECOVERY_WINDOW_SECONDS": "3"})
    sockets = []
    try:
        url = server.url
        (ann, ann_t), (bob, bob_t), (cat, cat_t) = (server.register(n) for n in ("ann", "bob", "cat"))
        send(url, bob_t, ("user", ann), "before Ann connects")
        send(url, bob_t, ("user", cat), "before Cat connects")
        bob_sio, bob_rec = device(url, bob_t)

        def gone(count):
            """Bob sees Ann go offline for the `count`-th time: the server noticed the drop."""
            bob_rec.wait(lambda n, a: n == "user:status" and a[0]["userId"] == ann and a[0]["status"] == "offline"
                         and len([1 for m, b in bob_rec.events if m == "user:status" and b[0]["userId"] == ann
                                  and b[0]["status"] == "offline"]) >= count, f"Ann offline #{count}")

        def message_ids(raw):
            return [args[0]["id"] for _, args in raw.events("message:received")]

        # Ann asks for recovery: a pid, and offsets as the last argument of broadcasts.
        first = RawSocket(server.port, {"token": ann_t, "recover": True})
        sockets.append(first)
        assert first.pid and first.pid != first.sid
        presence = first.wait_event("presence:update", lambda a: True, "presence:update")
        m0 = send(url, bob_t, ("user", ann), "m0")
        args = first.wait_event("message:received", lambda a: a[0]["id"] == m0["id"], "m0")
        assert len(args) == 2 and isinstance(args[1], str) and args[1], f"no offset after the payload: {args}"
        assert CURSOR.match(args[0]["cursor"])
        offset = args[1]
        # python-socketio did not ask: no extra argument for Bob.
        assert all(len(a) == 1 for n, a in bob_rec.events), bob_rec.events
        assert len(presence) == 1

        # Ann drops; Bob sends three; Ann comes back with {pid, offset}: same id, the three in order.
        first.drop()
        gone(1)
        missed = [send(url, bob_t, ("user", ann), f"missed {i}") for i in (1, 2, 3)]
        back = RawSocket(server.port, {"token": ann_t, "pid": first.pid, "offset": offset})
        sockets.append(back)
        assert back.sid == first.sid and back.pid == first.pid, f"not recovered: {back.connect_reply} (was {first.connect_reply})"
        live = send(url, bob_t, ("user", ann), "live again")
        back.wait_event("message:received", lambda a: a[0]["id"] == live["id"], "the live message after recovery")
        contents = [a[0]["content"] for _, a in back.events("message:received")]
        assert message_ids(back) == [m["id"] for m in missed] + [live["id"]], contents
        offsets = [a[-1] for _, a in back.events("message:received")]
        assert all(isinstance(o, str) and o for o in offsets) and len(set(offsets)) == 4 and offset not in offsets, offsets

        # Ann drops again; Cat presents Ann's pid and offset: a connection of Cat's own, none of Ann's events.
        back.drop()
        gone(2)
        secret = send(url, bob_t, ("user", ann), "for Ann only")
        intruder = RawSocket(server.port, {"token": cat_t, "pid": back.pid, "offset": offsets[-1]})
        sockets.append(intruder)
        assert intruder.sid != first.sid and intruder.pid != first.pid, intruder.connect_reply
        # Ann's session is still hers (within the window): she gets what she missed.
        again = RawSocket(server.port, {"token": ann_t, "pid": first.pid, "offset": offsets[-1]})
        sockets.append(again)
        assert again.sid == first.sid, f"Ann lost her session to Cat's attempt: {again.connect_reply}"
        again.wait_event("message:received", lambda a: a[0]["id"] == secret["id"], "what Ann missed")
        to_cat = send(url, bob_t, ("user", cat), "for Cat")
        intruder.wait_event("message:received", lambda a: a[0]["id"] == to_cat["id"], "Cat's own message")
        assert message_ids(intruder) == [to_cat["id"]], [a[0]["content"] for _, a in intruder.events("message:received")]
        assert secret["id"] not in json.dumps(intruder.events()), intruder.events()

        # After the window: a fresh connection, nothing replayed.
        last_offset = again.events("message:received")[-1][1][-1]
        again.drop()
        gone(3)
        stale = send(url, bob_t, ("user", ann), "while Ann was away too long")
        time.sleep(3.5)  # the recovery window (3 s) must pass: the condition here is time itself
        late = RawSocket(server.port, {"token": ann_t, "pid": first.pid, "offset": last_offset})
        sockets.append(late)
        assert late.sid != first.sid, f"recovered after the window: {late.connect_reply}"
        fresh = send(url, bob_t, ("user", ann), "after the window")
        late.wait_event("message:received", lambda a: a[0]["id"] == fresh["id"], "the live message")
        assert message_ids(late) == [fresh["id"]], f"replayed after the window: {[a[0]['content'] for _, a in late.events('message:received')]}"
        assert stale["id"] not in message_ids(late)
        bob_sio.disconnect()
    finally:
        for raw in sockets:
            raw.close()
        server.stop()
