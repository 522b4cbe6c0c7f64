"""Every realtime feature when the people are connected to different instances (issue 12 items 2,
3 and 6; SPEC §7, §8). Node 1, 2, 3 are `nodes[0..2]`; "through nginx" is the shipped site, where
ip_hash sends every client of 127.0.0.1 to the same instance.

Absence ("the tablet did not get it") is checked after a later event from the same node has
arrived: a node's notifications reach each other node in the order it sent them."""
import base64
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
import requests
import socketio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cluster_helpers import BIN, JWT_SECRET, PASSWORD, VAPID_PUBLIC_KEY, TIMEOUT, fake_client_ip, free_port, note, wait_until

OGG = b"OggS" + b"\x01" * 128  # sniffed as audio


def sent_ok(ack, status=None):
    assert isinstance(ack, dict) and ack.get("ok") is True, f"send refused: {ack!r}"
    if status:
        assert ack["message"]["status"] == status, f"expected status {status!r}: {ack['message']!r}"
    return ack["message"]


def by_id(message_id):
    return lambda payload: isinstance(payload, dict) and (payload.get("id") == message_id or payload.get("messageId") == message_id)


def status_of(user_id, status):
    return lambda p: isinstance(p, dict) and p.get("userId") == user_id and p.get("status") == status


def test_direct_messages_receipts_typing_recording_reactions_edits_and_unsend_cross_nodes(cluster, nodes):
    one, two, three = nodes
    ann, bob = cluster.register(one, "ann"), cluster.register(two, "bob")
    phone = cluster.device(one, ann.token)       # ann's phone on node 1
    tablet = cluster.device(three, ann.token)    # ann's tablet on node 3

    # While bob has no device anywhere: `sent`; his device acknowledges delivery when it comes.
    early = sent_ok(phone.send(bob.id, "Are you there?"), status="sent")
    bob_phone = cluster.device(two, bob.token)   # bob on node 2
    bob_phone.emit("message:received", early["id"])
    for device in (phone, tablet):
        receipt = device.inbox.wait("message:status", by_id(early["id"]), what="the delivery receipt")
        assert receipt["status"] == "delivered", receipt

    # Bob is online on another node: `delivered` at once; he gets it, ann's tablet hears it was sent.
    hello = sent_ok(phone.send(bob.id, "Hi Bob!"), status="delivered")
    assert bob_phone.inbox.wait("message:received", by_id(hello["id"]))["content"] == "Hi Bob!"
    assert tablet.inbox.wait("message:sent", by_id(hello["id"]))["content"] == "Hi Bob!"
    # The same clientMessageId again, from the tablet on node 3: the same message, not a second one.
    again = tablet.call("message:send", {"recipientId": bob.id, "content": "Hi Bob!", "clientMessageId": hello["clientMessageId"]})
    assert sent_ok(again)["id"] == hello["id"]

    # Read receipt from node 2 to both of ann's devices.
    bob_phone.emit("message:read", hello["id"])
    for device in (phone, tablet):
        read = device.inbox.wait("message:status", lambda p: p.get("messageId") == hello["id"] and p.get("status") == "read",
                                 what="the read receipt")
        assert read["readAt"], read

    # Typing and ghost typing reach bob, not ann's own tablet.
    phone.emit("typing:start", {"recipientId": bob.id})
    typing = bob_phone.inbox.wait("typing:status", lambda p: p.get("isTyping") is True)
    assert typing["userId"] == ann.id and typing["type"] == "direct", typing
    phone.emit("ghost:typing", {"recipientId": bob.id, "text": "what ab"})
    ghost = bob_phone.inbox.wait("ghost:typing")
    assert ghost["userId"] == ann.id and ghost["text"] == "what ab", ghost
    phone.emit("typing:stop", {"recipientId": bob.id})
    bob_phone.inbox.wait("typing:status", lambda p: p.get("isTyping") is False and p.get("userId") == ann.id)
    marker = sent_ok(phone.send(bob.id, "(marker)"))
    tablet.inbox.wait("message:sent", by_id(marker["id"]))  # node 1's events up to here have reached node 3
    assert tablet.inbox.all("typing:status") == [] and tablet.inbox.all("ghost:typing") == [], \
        f"ann's tablet heard her own typing: {tablet.inbox.all('typing:status')} {tablet.inbox.all('ghost:typing')}"

    # Recording: bob records a voice note on node 2; both of ann's devices see it.
    bob_phone.emit("audio:recording", {"recipientId": ann.id, "isRecording": True})
    for device in (phone, tablet):
        recording = device.inbox.wait("audio:recording", lambda p: p.get("isRecording") is True)
        assert recording["userId"] == bob.id, recording
    bob_phone.emit("audio:recording", {"recipientId": ann.id, "isRecording": False})
    phone.inbox.wait("audio:recording", lambda p: p.get("isRecording") is False)

    # Listening: ann uploads a voice note on node 1; bob plays it on node 2; ann's devices hear it.
    r = requests.post(one.url + "/api/messages/upload", headers=ann.auth, timeout=TIMEOUT,
                      files={"file": ("note.ogg", OGG, "audio/ogg")}, data={"recipientId": bob.id, "type": "voice", "duration": "3.5"})
    assert r.status_code == 201, r.text
    voice_id = r.json()["messageId"]
    assert bob_phone.inbox.wait("message:received", by_id(voice_id))["type"] == "voice"
    bob_phone.emit("audio:listening", {"messageId": voice_id, "isListening": True})
    listening = phone.inbox.wait("audio:listening", by_id(voice_id))
    assert listening["userId"] == bob.id and listening["isListening"] is True, listening
    phone.inbox.wait("message:status", lambda p: p.get("messageId") == voice_id and p.get("status") == "listening")
    bob_phone.emit("audio:listening", {"messageId": voice_id, "isListening": False, "isEnded": True})
    for device in (phone, tablet):
        device.inbox.wait("message:status", lambda p: p.get("messageId") == voice_id and p.get("status") == "listened",
                          what="status listened")

    # Reactions toggle, from node 2 to nodes 1 and 3.
    assert bob_phone.call("message:react", {"messageId": hello["id"], "emoji": "👍"})["ok"] is True
    for device in (phone, tablet):
        reaction = device.inbox.wait("message:reaction", by_id(hello["id"]))
        assert [(x["userId"], x["emoji"]) for x in reaction["reactions"]] == [(bob.id, "👍")], reaction
    assert bob_phone.call("message:react", {"messageId": hello["id"], "emoji": "👍"})["ok"] is True
    assert phone.inbox.wait("message:reaction", by_id(hello["id"]), count=2)["reactions"] == []

    # Edit on node 3 (the tablet), seen on nodes 1 and 2.
    assert tablet.call("message:edit", {"messageId": hello["id"], "content": "Hi Bob!!"})["ok"] is True
    for device in (bob_phone, phone):
        edited = device.inbox.wait("message:edited", by_id(hello["id"]))
        assert edited["content"] == "Hi Bob!!" and edited["editedAt"], edited

    # Unsend on node 1, seen on nodes 2 and 3; the history (read on node 3) keeps a placeholder.
    assert phone.call("message:unsend", hello["id"])["ok"] is True
    for device in (bob_phone, tablet):
        device.inbox.wait("message:unsent", by_id(hello["id"]))
    shown = next(m for m in cluster.history(three, bob, ann.id) if m["id"] == hello["id"])
    assert shown["unsent"] is True and shown["content"] == "", shown


def test_a_first_message_creates_the_conversation_on_every_node(cluster, nodes):
    one, two, three = nodes
    ann, carl = cluster.register(one, "ann"), cluster.register(two, "carl")
    ann_phone = cluster.device(one, ann.token)
    ann_laptop = cluster.device(two, ann.token)
    carl_phone, carl_tablet = cluster.device(two, carl.token), cluster.device(three, carl.token)

    first = sent_ok(ann_phone.send(carl.id, "Hello Carl, first time"), status="delivered")
    for device in (carl_phone, carl_tablet):
        assert device.inbox.wait("message:received", by_id(first["id"]))["content"] == "Hello Carl, first time"
    ann_laptop.inbox.wait("message:sent", by_id(first["id"]))

    # The conversation's room was joined on every node at once: what goes to the conversation
    # (typing, edits, reactions) reaches carl's two devices and ann's laptop.
    ann_phone.emit("typing:start", {"recipientId": carl.id})
    for device in (carl_phone, carl_tablet):
        assert device.inbox.wait("typing:status", lambda p: p.get("isTyping") is True)["userId"] == ann.id
    assert ann_phone.call("message:edit", {"messageId": first["id"], "content": "Hello Carl!"})["ok"] is True
    for device in (carl_phone, carl_tablet, ann_laptop):
        assert device.inbox.wait("message:edited", by_id(first["id"]))["content"] == "Hello Carl!"

    # Carl's reply from node 3 reaches ann on nodes 1 and 2; his phone on node 2 hears it was sent.
    reply = sent_ok(carl_tablet.send(ann.id, "Hi Ann!"), status="delivered")
    for device in (ann_phone, ann_laptop):
        assert device.inbox.wait("message:received", by_id(reply["id"]))["content"] == "Hi Ann!"
    carl_phone.inbox.wait("message:sent", by_id(reply["id"]))
    carl_tablet.emit("typing:start", {"recipientId": ann.id})
    ann_laptop.inbox.wait("typing:status", lambda p: p.get("userId") == carl.id and p.get("isTyping") is True)
    ann_phone.emit("message:read", reply["id"])
    for device in (carl_phone, carl_tablet):
        device.inbox.wait("message:status", lambda p: p.get("messageId") == reply["id"] and p.get("status") == "read")

    # Presence follows the new conversation: carl's devices go one after the other (node 2, then
    # node 3) → ann, in the conversation's room on nodes 1 and 2, sees him offline.
    before = sockets_connected(two)
    carl_phone.close()
    wait_until(lambda: sockets_connected(two) < before, TIMEOUT, "node 2 dropped carl's phone")
    # Node 2's news up to here (carl's phone is gone) has reached node 3 once this has:
    r = requests.post(two.url + "/api/messages", headers=carl.auth, timeout=TIMEOUT,
                      json={"recipientId": ann.id, "content": "(marker from node 2)", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    carl_tablet.inbox.wait("message:sent", by_id(r.json()["id"]))
    assert "offline" not in presence_seen_by(ann_phone, carl.id), "carl went offline while his tablet was connected"
    carl_tablet.close()
    for device in (ann_phone, ann_laptop):
        offline = device.inbox.wait("user:status", status_of(carl.id, "offline"), what=f"carl offline on ann's {device.label} device")
        assert offline["lastSeen"], offline


def test_groups_fan_out_and_membership_changes_act_on_every_node(cluster, nodes):
    one, two, three = nodes
    ann = cluster.register(one, "ann")
    bob, carl, dave = cluster.register(two, "bob"), cluster.register(three, "carl"), cluster.register(three, "dave")
    owner = cluster.device(one, ann.token)
    bob_phone = cluster.device(two, bob.token)
    carl_tablet, carl_phone = cluster.device(three, carl.token), cluster.device(two, carl.token)
    dave_phone = cluster.device(three, dave.token)

    r = requests.post(one.url + "/api/groups", headers=ann.auth, timeout=TIMEOUT,
                      json={"name": "Trip", "memberIds": [bob.id, carl.id]})
    assert r.status_code == 201, r.text
    group = r.json()
    for device in (bob_phone, carl_tablet, carl_phone):
        assert device.inbox.wait("group:created", by_id(group["id"]))["name"] == "Trip"

    def group_send(device, content):
        return device.call("group:message:send", {"groupId": group["id"], "content": content, "clientMessageId": str(uuid.uuid4())})

    def received(device, message, what=None):
        return device.inbox.wait("group:message:received", by_id(message["id"]), what=what)

    # Fan-out from each node (this also fills each node's membership cache for the group).
    hello = sent_ok(group_send(owner, "Hello all"))
    for device in (bob_phone, carl_tablet, carl_phone):
        received(device, hello)
    from_bob = sent_ok(group_send(bob_phone, "Hi from node 2"))
    for device in (owner, carl_tablet, carl_phone):
        received(device, from_bob)
    from_carl = sent_ok(group_send(carl_tablet, "Hi from node 3"))
    for device in (owner, bob_phone):
        received(device, from_carl)
    carl_phone.inbox.wait("message:sent", by_id(from_carl["id"]))
    bob_phone.emit("typing:start", {"groupId": group["id"]})
    for device in (owner, carl_tablet):
        typing = device.inbox.wait("typing:status", lambda p: p.get("userId") == bob.id and p.get("isTyping") is True)
        assert typing["type"] == "group" and typing["groupId"] == group["id"], typing

    # The owner adds dave over REST on node 2: his device on node 3 is in the room at once and he
    # may post from node 3.
    r = requests.post(two.url + f"/api/groups/{group['id']}/members", headers=ann.auth, json={"userId": dave.id}, timeout=TIMEOUT)
    assert r.status_code in (200, 201), r.text
    for device in (dave_phone, owner, bob_phone):
        device.inbox.wait("group:user:joined", lambda p: p.get("userId") == dave.id and p.get("groupId") == group["id"],
                          what="group:user:joined for dave")
    welcome = sent_ok(group_send(owner, "Welcome dave"))
    received(dave_phone, welcome, what="the owner's message on dave's node-3 device")
    from_dave = sent_ok(group_send(dave_phone, "Thanks!"))
    received(owner, from_dave)

    # The owner removes carl over REST on node 1: his devices on nodes 2 and 3 are told, hear no
    # more of the group, and can no longer post from either node.
    r = requests.delete(one.url + f"/api/groups/{group['id']}/members/{carl.id}", headers=ann.auth, timeout=TIMEOUT)
    assert r.status_code in (200, 204), r.text
    for device in (carl_tablet, carl_phone, owner, bob_phone, dave_phone):
        device.inbox.wait("group:user:left", lambda p: p.get("userId") == carl.id and p.get("groupId") == group["id"],
                          what="group:user:left for carl")
    after = sent_ok(group_send(owner, "Carl has gone"))
    for device in (bob_phone, dave_phone):
        received(device, after)
    marker = sent_ok(owner.send(carl.id, "(marker: a direct message after the group one)"))
    for device in (carl_tablet, carl_phone):
        device.inbox.wait("message:received", by_id(marker["id"]))  # node 1's events up to here have arrived
        assert device.inbox.all("group:message:received", by_id(after["id"])) == [], f"removed carl still got the group message on {device.label}"
    for device in (carl_tablet, carl_phone):
        refused = group_send(device, "am I still in?")
        assert refused["ok"] is False and refused.get("error"), f"removed carl could post on {device.label}: {refused!r}"
    r = requests.post(three.url + f"/api/groups/{group['id']}/messages", headers=carl.auth, json={"content": "over REST?"}, timeout=TIMEOUT)
    assert r.status_code == 403, f"removed carl posting over REST on node 3: {r.status_code} {r.text}"
    texts = [m["content"] for m in requests.get(two.url + f"/api/groups/{group['id']}/messages", headers=bob.auth,
                                                   timeout=TIMEOUT).json()["messages"]]
    assert "am I still in?" not in texts and "over REST?" not in texts, texts


def test_presence_is_cluster_wide(cluster, nodes):
    one, two, three = nodes
    ann, bob = cluster.register(one, "ann"), cluster.register(two, "bob")
    # They share a conversation (so they see each other's status); bob has no device yet: `sent`.
    r = requests.post(one.url + "/api/messages", headers=ann.auth, timeout=TIMEOUT,
                      json={"recipientId": bob.id, "content": "ping", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201 and r.json()["status"] == "sent", r.text
    watcher = cluster.device(one, ann.token)

    bob_statuses = lambda: presence_seen_by(watcher, bob.id)

    def presence_of_bob(device):
        answer = device.call("presence:request", [bob.id])
        assert answer["ok"] is True, answer
        return answer["users"][0]

    phone = cluster.device(two, bob.token)
    online = watcher.inbox.wait("user:status", status_of(bob.id, "online"), what="bob online")
    assert online["username"] == bob.handle and online["timestamp"], online
    assert sent_ok(watcher.send(bob.id, "you there?"), status="delivered")

    # A second device on node 3 (node 2 has heard of it: node 3's news up to the tablet's connect
    # has reached node 2 once this marker from node 3 has), then the first one goes: bob is still
    # online, via node 3. (When both happen at once: see the handoff test below.)
    tablet = cluster.device(three, bob.token)
    r = requests.post(three.url + "/api/messages", headers=bob.auth, timeout=TIMEOUT,
                      json={"recipientId": ann.id, "content": "(marker from node 3)", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    phone.inbox.wait("message:sent", by_id(r.json()["id"]))
    sockets_on_two = lambda: sockets_connected(two)
    before = sockets_on_two()
    phone.close()
    wait_until(lambda: sockets_on_two() < before, TIMEOUT, "node 2 dropped bob's phone")
    # Something from node 2 after it handled the disconnect: an offline from node 2 would be here by then.
    r = requests.post(two.url + "/api/messages", headers=bob.auth, timeout=TIMEOUT,
                      json={"recipientId": ann.id, "content": "(marker from node 2)", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    watcher.inbox.wait("message:received", by_id(r.json()["id"]))
    assert bob_statuses() == ["online"], f"ann saw {bob_statuses()} although bob's tablet is still on node 3"
    for device in (watcher, tablet):
        assert presence_of_bob(device)["status"] == "online"
    assert presence_of_bob(cluster.device(two, ann.token))["status"] == "online", "node 2 knows bob is online on node 3"
    assert sent_ok(watcher.send(bob.id, "still there?"), status="delivered")

    # The last device goes: offline with lastSeen, on every node.
    tablet.close()
    offline = watcher.inbox.wait("user:status", status_of(bob.id, "offline"), what="bob offline")
    assert offline["lastSeen"], offline
    answer = presence_of_bob(watcher)
    assert answer["status"] == "offline" and answer["lastSeen"], answer
    # A message to bob now: `sent`, not `delivered` — on any node.
    assert sent_ok(watcher.send(bob.id, "gone?"), status="sent")
    assert sent_ok(cluster.device(three, ann.token).send(bob.id, "gone? (from node 3)"), status="sent")


ROUNDS = 5  # the races below depend on timing: each test tries a few times


def shared_conversation(cluster, node, name_a, name_b):
    a, b = cluster.register(node, name_a), cluster.register(node, name_b)
    r = requests.post(node.url + "/api/messages", headers=a.auth, timeout=TIMEOUT,
                      json={"recipientId": b.id, "content": "hi", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return a, b


def test_a_user_whose_devices_on_two_nodes_go_at_the_same_time_goes_offline(cluster, nodes):
    """Both devices leave at once (the Wi-Fi drops, a logout everywhere): each node may handle its
    own socket's disconnect before it hears of the other's. The user must still go offline for
    their contacts, with lastSeen stored — as when the devices leave one after the other."""
    one, two, three = nodes
    for round in range(1, ROUNDS + 1):
        ann, carl = shared_conversation(cluster, one, "ann", "carl")
        watcher = cluster.device(one, ann.token)
        phone, tablet = cluster.device(two, carl.token), cluster.device(three, carl.token)
        watcher.inbox.wait("user:status", status_of(carl.id, "online"), what="carl online")
        phone.close()
        tablet.close()
        try:
            offline = watcher.inbox.wait("user:status", status_of(carl.id, "offline"), what=f"carl offline (round {round})")
        except AssertionError:
            answer = watcher.call("presence:request", [carl.id])
            profile = requests.get(one.url + f"/api/users/{carl.username}", headers=ann.auth, timeout=TIMEOUT).json()
            raise AssertionError(f"round {round}: carl's devices on nodes 2 and 3 left at once and ann never saw him go offline "
                                 f"(her user:status events for him: {presence_seen_by(watcher, carl.id)}); presence:request answers "
                                 f"{answer.get('users')}; stored lastSeen {profile.get('lastSeen')!r}")
        assert offline["lastSeen"], offline
        cluster.close_devices()


def test_a_device_handoff_between_nodes_keeps_the_user_online(cluster, nodes):
    """Bob's tablet connects on node 3 while his phone on node 2 goes at the same moment: he is
    never without a device, so his contacts must not see him go offline (or, if they did, they
    must see him online again)."""
    one, two, three = nodes
    for round in range(1, ROUNDS + 1):
        ann, bob = shared_conversation(cluster, one, "ann", "bob")
        watcher = cluster.device(one, ann.token)
        phone = cluster.device(two, bob.token)
        watcher.inbox.wait("user:status", status_of(bob.id, "online"), what="bob online")
        before = sockets_connected(two)
        tablet = cluster.device(three, bob.token)
        phone.close()
        wait_until(lambda: sockets_connected(two) < before, TIMEOUT, "node 2 dropped bob's phone")
        # Everything nodes 2 and 3 published so far has reached node 1 once their markers have.
        for node, device in ((two, watcher), (three, watcher)):
            r = requests.post(node.url + "/api/messages", headers=bob.auth, timeout=TIMEOUT,
                              json={"recipientId": ann.id, "content": f"(marker from {node.name})", "clientMessageId": str(uuid.uuid4())})
            assert r.status_code == 201, r.text
            device.inbox.wait("message:received", by_id(r.json()["id"]))
        seen = presence_seen_by(watcher, bob.id)
        answer = watcher.call("presence:request", [bob.id])["users"][0]
        assert seen[-1] == "online", (f"round {round}: bob's tablet connected on node 3 as his phone left node 2; ann saw {seen} "
                                      f"while presence:request on node 1 answers {answer}")
        assert answer["status"] == "online", answer
        cluster.close_devices()


def presence_seen_by(device, user_id):
    return [p["status"] for p in device.inbox.all("user:status", lambda p: p.get("userId") == user_id)]


def sockets_connected(node):
    text = requests.get(node.url + "/metrics", timeout=TIMEOUT).text
    line = next(line for line in text.splitlines() if line.startswith("chatr_sockets_connected"))
    return float(line.split()[-1])


def test_logout_on_one_node_disconnects_that_sessions_sockets_on_every_node(cluster, nodes):
    one, two, three = nodes
    ann, bob = cluster.register(one, "ann"), cluster.register(two, "bob")
    other_session = cluster.login(three, ann)
    on_one, on_three = cluster.device(one, ann.token), cluster.device(three, ann.token)
    still_signed_in = cluster.device(one, other_session)

    r = requests.post(two.url + "/api/auth/logout", headers=ann.auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    for device in (on_one, on_three):
        device.inbox.wait("disconnect", timeout=5, what=f"the disconnect of ann's logged-out socket on {device.label}")
        assert not device.connected

    # Her other session is untouched: it still receives (bob's REST send on node 2).
    r = requests.post(two.url + "/api/messages", headers=bob.auth, timeout=TIMEOUT,
                      json={"recipientId": ann.id, "content": "still there?", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    still_signed_in.inbox.wait("message:received", by_id(r.json()["id"]))
    assert still_signed_in.connected and still_signed_in.inbox.all("disconnect") == []

    # The revoked token works nowhere.
    for node in nodes:
        assert requests.get(node.url + "/api/users/me", headers=ann.auth, timeout=TIMEOUT).status_code == 401
    refusals = []
    sio = socketio.Client(reconnection=False)
    sio.on("connect_error", lambda data: refusals.append(data))
    try:
        sio.connect(three.url, auth={"token": ann.token}, transports=["websocket"], wait_timeout=TIMEOUT)
        raise AssertionError("a socket connected on node 3 with the logged-out token")
    except socketio.exceptions.ConnectionError:
        pass
    finally:
        sio.disconnect()
    assert refusals == [{"message": "Authentication error"}], refusals


def test_the_login_limit_per_account_and_source_is_shared_by_the_nodes(cluster, nodes):
    one, two, three = nodes
    fay = cluster.register(one, "fay")
    guesser = fake_client_ip()  # one source, whichever node it reaches

    def attempt(target, password):
        body = {"email": fay.email, "password": password}
        return requests.post(target.url + "/api/auth/login", json=body, headers={"X-Real-IP": guesser}, timeout=TIMEOUT)

    for n, target in enumerate(([one, two, three] * 4)[:10], 1):
        r = attempt(target, "Wrong-password1!")
        assert r.status_code == 401, f"wrong password #{n} on {target.name}: {r.status_code} {r.text}"
    # The 11th attempt from that source, on any node, with any password: 429.
    for target in (three, one, two):
        for password in ("Wrong-password1!", PASSWORD):
            r = attempt(target, password)
            assert r.status_code == 429, f"attempt after 10 failures on {target.name}: {r.status_code} {r.text}"
            assert r.headers.get("Retry-After"), r.headers
    # Fay herself, from another address (through nginx), is not locked out by the guesser.
    r = cluster.site.session().post(cluster.site.url + "/api/auth/login", json={"email": fay.email, "password": PASSWORD}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json().get("requiresLoginVerification") is True, (r.status_code, r.text)


def test_one_users_event_budget_is_shared_by_the_nodes(cluster, nodes):
    """A user's sockets share one budget of 30 events/s (burst 60) on every node together: three
    devices on three nodes flooding at 40/s each get about 30/s between them, not 90/s."""
    gus, hal = cluster.register(nodes[0], "gus"), cluster.register(nodes[1], "hal")
    devices = [cluster.device(node, gus.token) for node in nodes]
    accepted, refused, errors = [], [], []
    started = time.monotonic()
    seconds, pace = 6.0, 1 / 40

    def flood(device):
        n = 0
        while (elapsed := time.monotonic() - started) < seconds:
            n += 1
            try:
                ack = device.send(hal.id, f"flood {device.label} {n}")
            except Exception as error:  # a timeout or a closed socket: the test fails below
                errors.append(repr(error))
                return
            if isinstance(ack, dict) and ack.get("ok") is True:
                accepted.append(elapsed)
            elif isinstance(ack, dict) and ack.get("code") == "rate_limited":
                refused.append(elapsed)
            else:
                errors.append(repr(ack))
            time.sleep(max(0.0, started + n * pace - time.monotonic()))

    threads = [threading.Thread(target=flood, args=(device,)) for device in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + TIMEOUT)
    assert not errors, errors[:5]
    assert all(device.connected for device in devices), "a flooding device was disconnected"
    # After the first 2 s (the bursts, and the lag before the nodes hear of each other's spending),
    # the three together: about 30/s. Without sharing each node would admit 30/s: 360 in 4 s.
    steady = [t for t in accepted if t >= 2.0]
    note(f"one user on 3 nodes, 3 × 40 events/s for {seconds:.0f} s: {len(accepted)} accepted, {len(refused)} refused; "
         f"{len(steady) / (seconds - 2):.1f}/s accepted after the first 2 s")
    assert len(steady) <= 30 * (seconds - 2) * 1.35, f"{len(steady)} accepted in the last {seconds - 2:.0f} s: the budget is not shared"
    assert len(steady) >= 30 * (seconds - 2) * 0.6, f"only {len(steady)} accepted in the last {seconds - 2:.0f} s: too strict"
    # Every accepted message is stored once.
    stored = [m for m in cluster.history(nodes[1], hal, gus.id) if m["content"].startswith("flood ")]
    assert len(stored) == len(accepted), (len(stored), len(accepted))


def test_users_through_nginx_and_straight_at_a_node_talk(cluster, nodes):
    one, two, three = nodes
    ann, bob, carl = cluster.register(one, "ann"), cluster.register(two, "bob"), cluster.register(three, "carl")
    ann_web = cluster.device_via_nginx(ann.token)
    bob_web = cluster.device_via_nginx(bob.token)
    carl_phone = cluster.device(three, carl.token)
    for device in (ann_web, bob_web):
        wait_until(lambda: device.sio.transport() == "websocket", TIMEOUT, "the upgrade from polling to WebSocket through nginx")
    behind = cluster.site.upstream_of()
    assert behind in [node.port for node in nodes], behind

    for sender, receiver, recipient in ((ann_web, bob_web, bob), (bob_web, carl_phone, carl), (carl_phone, ann_web, ann),
                                        (ann_web, carl_phone, carl)):
        message = sent_ok(sender.send(recipient.id, f"hello {recipient.username}"), status="delivered")
        assert receiver.inbox.wait("message:received", by_id(message["id"]))["content"] == f"hello {recipient.username}"

    # A group of the three, made through nginx; carl (node 3) and ann (nginx) post.
    r = cluster.site.session().post(cluster.site.url + "/api/groups", headers=ann.auth, timeout=TIMEOUT,
                                    json={"name": "Front and back", "memberIds": [bob.id, carl.id]})
    assert r.status_code == 201, r.text
    group = r.json()
    carl_phone.inbox.wait("group:created", by_id(group["id"]))
    bob_web.inbox.wait("group:created", by_id(group["id"]))
    message = sent_ok(carl_phone.call("group:message:send", {"groupId": group["id"], "content": "from node 3", "clientMessageId": str(uuid.uuid4())}))
    for device in (ann_web, bob_web):
        device.inbox.wait("group:message:received", by_id(message["id"]))
    message = sent_ok(ann_web.call("group:message:send", {"groupId": group["id"], "content": "from nginx", "clientMessageId": str(uuid.uuid4())}))
    carl_phone.inbox.wait("group:message:received", by_id(message["id"]))


def test_a_node_with_another_jwt_secret_refuses_to_start(cluster, nodes):
    with tempfile.TemporaryDirectory() as workdir:
        env = cluster.env()
        env["JWT_SECRET"] = "a-different-secret-" + JWT_SECRET
        result = subprocess.run([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(free_port())], cwd=workdir, env=env,
                                capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"a node with another JWT_SECRET started (exit {result.returncode}):\n{output}"
    assert "JWT_SECRET" in output, output
    # The three nodes are unaffected.
    cluster.wait_ready()


# --- Web Push across nodes ----------------------------------------------------------------------
# A push service on 127.0.0.1 (the nodes run in development, where http loopback endpoints are
# allowed) and browsers with their own keys, as in Tests/interop/test_push.py — kept here because
# that module cannot be imported from this suite (its imports reach the interop conftest).

PUSH_WAIT = 10  # seconds for a push to reach the push service (sent in the background)
PUSH_GRACE = 1.0  # after a barrier: pushes to different subscriptions may be sent in parallel


class PushService:
    """Records every request on 127.0.0.1:<port> and answers 201."""

    def __init__(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while (size := int(self.rfile.readline().split(b";")[0].strip(), 16)):
                        body += self.rfile.read(size + 2)[:size]
                    self.rfile.readline()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with service.cond:
                    service.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    service.cond.notify_all()
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.requests, self.cond = [], threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, path):
        with self.cond:
            return [(headers, body) for p, headers, body in self.requests if p == path]

    def wait(self, path, count=1, timeout=PUSH_WAIT):
        with self.cond:
            ok = self.cond.wait_for(lambda: len([r for r in self.requests if r[0] == path]) >= count, timeout)
        got = self.received(path)
        assert ok, f"{path}: {len(got)} push(es) within {timeout} s, wanted {count}"
        return got[:count]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.stop()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """A browser's push subscription: its own P-256 key and auth secret, endpoint <service>/push/<name>."""

    def __init__(self, service, name):
        self.service, self.path = service, f"/push/{name}"
        self.key, self.auth = ec.generate_private_key(ec.SECP256R1()), os.urandom(16)

    def subscribe(self, node, user):
        public = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        body = {"endpoint": self.service.url + self.path, "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}
        r = requests.post(node.url + "/api/push/subscriptions", headers=user.auth, json=body, timeout=TIMEOUT)
        assert r.status_code == 201, f"subscribe on {node.name}: {r.status_code} {r.text}"

    def pushes(self):
        return self.service.received(self.path)

    def wait(self, count=1):
        return self.service.wait(self.path, count)

    def decrypt(self, body):
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def test_a_push_goes_only_to_a_recipient_with_no_socket_on_any_node(cluster, nodes, push_service):
    """Node 1 stores alice's message to bob while bob's only socket is on node 2: no push (node 1
    knows from the shared presence that he is connected). Once that socket is gone and node 1 has
    heard so, the next message from node 1 is pushed to his device."""
    one, two, _ = nodes
    alice, bob, carol = cluster.register(one, "alice"), cluster.register(two, "bob"), cluster.register(one, "carol")
    bob_browser, carol_browser = Browser(push_service, "bob"), Browser(push_service, "carol")  # carol: offline, the witness
    bob_browser.subscribe(two, bob)
    carol_browser.subscribe(one, carol)

    alice_phone = cluster.device(one, alice.token)
    bob_phone = cluster.device(two, bob.token)
    # Bob writes first, from node 2: once alice has it on node 1, node 2's news up to bob's
    # connect has reached node 1 (and they share a conversation, so she sees his presence).
    r = requests.post(two.url + "/api/messages", headers=bob.auth, timeout=TIMEOUT,
                      json={"recipientId": alice.id, "content": "hi Alice", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    alice_phone.inbox.wait("message:received", by_id(r.json()["id"]))
    seen = alice_phone.call("presence:request", [bob.id])["users"][0]
    assert seen["status"] == "online", f"node 1 does not see bob's socket on node 2: {seen}"

    # Alice → bob through node 1 while his socket is on node 2: delivered there, not pushed.
    r = requests.post(one.url + "/api/messages", headers=alice.auth, timeout=TIMEOUT,
                      json={"recipientId": bob.id, "content": "you are on node 2", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201 and r.json()["status"] == "delivered", r.text
    here = r.json()
    assert bob_phone.inbox.wait("message:received", by_id(here["id"]))["content"] == "you are on node 2"
    # Barrier: a later message from node 1 to carol (no socket anywhere) is pushed; by then a push
    # for bob's message would have been sent too, give or take the grace for parallel sends.
    r = requests.post(one.url + "/api/messages", headers=alice.auth, timeout=TIMEOUT,
                      json={"recipientId": carol.id, "content": "barrier", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201 and r.json()["status"] == "sent", r.text
    [(_, body)] = carol_browser.wait()
    assert carol_browser.decrypt(body)["messageId"] == r.json()["id"]
    time.sleep(PUSH_GRACE)
    pushed = [bob_browser.decrypt(body) for _, body in bob_browser.pushes()]
    assert pushed == [], f"bob was pushed although his socket on node 2 was connected: {pushed}"

    # Bob's only socket goes; node 1 hears it (alice, on node 1, sees him offline).
    bob_phone.close()
    offline = alice_phone.inbox.wait("user:status", status_of(bob.id, "offline"), what="bob offline on node 1")
    assert offline["lastSeen"], offline
    r = requests.post(one.url + "/api/messages", headers=alice.auth, timeout=TIMEOUT,
                      json={"recipientId": bob.id, "content": "now you are away", "clientMessageId": str(uuid.uuid4())})
    assert r.status_code == 201 and r.json()["status"] == "sent", r.text
    away = r.json()
    [(headers, body)] = bob_browser.wait()
    payload = bob_browser.decrypt(body)
    cid = away["conversationId"]
    assert payload["title"] == "Alice" and payload["body"] == "now you are away", payload
    assert (payload["messageId"], payload["conversationId"], payload["kind"], payload["count"]) == (away["id"], cid, "direct", 1), payload
    assert headers.get("urgency") == "high" and len(headers.get("topic", "")) == 32, headers
    # Signed with the key bob's browser subscribed with on node 2: every node has the same one.
    key = requests.get(two.url + "/api/push/key", headers=bob.auth, timeout=TIMEOUT).json()["publicKey"]
    assert headers["authorization"].endswith(f", k={key}") and key == VAPID_PUBLIC_KEY, headers["authorization"]


def test_a_node_with_another_vapid_key_refuses_to_start(cluster, nodes):
    """Browsers subscribe with the key one node gives; a push signed with another is refused by
    the push service. So a node with a different VAPID key (or none, beside nodes that have one)
    does not join."""
    other_private = b64url(ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big"))
    for change in ({"VAPID_PRIVATE_KEY": other_private, "VAPID_PUBLIC_KEY": ""}, {"VAPID_PRIVATE_KEY": "", "VAPID_PUBLIC_KEY": ""}):
        with tempfile.TemporaryDirectory() as workdir:
            env = {**cluster.env(), **change}
            result = subprocess.run([BIN, "serve", "--hostname", "127.0.0.1", "--port", str(free_port())], cwd=workdir, env=env,
                                    capture_output=True, text=True, timeout=30)
        output = result.stdout + result.stderr
        assert result.returncode != 0, f"a node with {change} started (exit {result.returncode}):\n{output}"
        assert "VAPID" in output, output
    cluster.wait_ready()
