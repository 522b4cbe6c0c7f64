"""Two people (and a second device) talking through the real `chatr` binary with python-socketio."""
import time
import uuid

import requests
import socketio

from test_python_socketio import Inbox

EVENTS = ("message:received", "message:sent", "message:status", "message:reaction", "message:edited", "message:unsent",
          "typing:status", "ghost:typing", "user:status", "presence:update", "presence:response", "error",
          "group:message:received", "group:user:joined", "group:user:left", "group:created", "audio:waveform")


def device(server, token, inbox=None):
    inbox = inbox or Inbox()
    sio = socketio.Client(reconnection=False)
    for event in EVENTS:
        sio.on(event, (lambda name: lambda *args: inbox.add(name, args))(event))
    sio.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    inbox.wait("presence:update")
    return sio, inbox


def test_two_people_and_a_second_device(chatr):
    ann_id, ann_token = chatr.register("ann")
    bob_id, bob_token = chatr.register("bob")
    ann, ann_inbox = device(chatr, ann_token)
    ann_tablet, tablet_inbox = device(chatr, ann_token)
    bob, bob_inbox = device(chatr, bob_token)

    ack = ann.call("message:send", {"recipientId": bob_id, "content": "Hi Bob!", "clientMessageId": "cm-1"}, timeout=5)
    assert ack["ok"] is True
    message = ack["message"]
    assert message["content"] == "Hi Bob!" and message["status"] == "delivered"
    assert bob_inbox.wait("message:received")[0]["id"] == message["id"]
    assert tablet_inbox.wait("message:sent")[0]["id"] == message["id"], "the sender's second device hears it"

    # A retried clientMessageId is the same message, stored once.
    again = ann.call("message:send", {"recipientId": bob_id, "content": "Hi Bob!", "clientMessageId": "cm-1"}, timeout=5)
    assert again["message"]["id"] == message["id"]
    history = requests.get(chatr.url + "/api/messages/history", params={"otherUserId": bob_id},
                           headers={"Authorization": f"Bearer {ann_token}"}, timeout=5).json()
    assert [m["id"] for m in history["messages"]] == [message["id"]]

    bob.emit("message:read", message["id"])
    status = ann_inbox.wait("message:status")[0]
    assert status["messageId"] == message["id"] and status["status"] == "read"
    assert tablet_inbox.wait("message:status")[0]["status"] == "read"

    # Typing and ghost typing reach Bob, not Ann's own devices.
    ann.emit("typing:start", {"recipientId": bob_id})
    assert bob_inbox.wait("typing:status")[0]["isTyping"] is True
    ann.emit("ghost:typing", {"recipientId": bob_id, "text": "what ab"})
    assert bob_inbox.wait("ghost:typing")[0]["text"] == "what ab"
    assert "typing:status" not in tablet_inbox.events

    # Reactions toggle.
    bob.call("message:react", {"messageId": message["id"], "emoji": "👍"}, timeout=5)
    assert ann_inbox.wait("message:reaction")[0]["reactions"][0]["emoji"] == "👍"
    bob.call("message:react", {"messageId": message["id"], "emoji": "👍"}, timeout=5)
    assert ann_inbox.wait("message:reaction", count=2)[0]["reactions"] == []

    # Edit, with the history over REST.
    assert ann.call("message:edit", {"messageId": message["id"], "content": "Hi Bob!!"}, timeout=5)["ok"] is True
    assert bob_inbox.wait("message:edited")[0]["content"] == "Hi Bob!!"
    edits = requests.get(chatr.url + f"/api/messages/{message['id']}/edits", headers={"Authorization": f"Bearer {bob_token}"}, timeout=5).json()
    assert [e["previousContent"] for e in edits["edits"]] == ["Hi Bob!"]

    # Unsend leaves a placeholder in history.
    assert ann.call("message:unsend", message["id"], timeout=5)["ok"] is True
    assert bob_inbox.wait("message:unsent")[0]["messageId"] == message["id"]
    shown = requests.get(chatr.url + "/api/messages/history", params={"otherUserId": ann_id},
                         headers={"Authorization": f"Bearer {bob_token}"}, timeout=5).json()["messages"][0]
    assert shown["unsent"] is True and shown["content"] == ""

    # Bob cannot edit Ann's message; the failure is an ack, and the socket stays.
    refused = bob.call("message:edit", {"messageId": message["id"], "content": "mine now"}, timeout=5)
    assert refused["ok"] is False and refused["error"]
    assert bob.connected
    for sio in (ann, ann_tablet, bob):
        sio.disconnect()


def test_rest_send_reaches_the_socket_and_presence_goes_offline(chatr):
    ann_id, ann_token = chatr.register("ann")
    bob_id, bob_token = chatr.register("bob")
    bob, bob_inbox = device(chatr, bob_token)
    r = requests.post(chatr.url + "/api/messages", json={"recipientId": bob_id, "content": "from REST", "clientMessageId": str(uuid.uuid4())},
                      headers={"Authorization": f"Bearer {ann_token}"}, timeout=5)
    assert r.status_code == 201
    assert bob_inbox.wait("message:received")[0]["content"] == "from REST"

    ann, ann_inbox = device(chatr, ann_token)
    online = bob_inbox.wait("user:status")[0]
    assert online["userId"] == ann_id and online["status"] == "online"
    ann.disconnect()
    offline = bob_inbox.wait("user:status", count=2)[0]
    assert offline["status"] == "offline" and offline["lastSeen"]
    profile = requests.get(chatr.url + "/api/users/ann", headers={"Authorization": f"Bearer {bob_token}"}, timeout=5).json()
    assert profile["lastSeen"]
    bob.disconnect()


def test_bad_tokens_and_bad_payloads(chatr):
    bob_id, bob_token = chatr.register("bob")
    sio = socketio.Client(reconnection=False)
    refusals = []
    sio.on("connect_error", lambda data: refusals.append(data))
    try:
        sio.connect(chatr.url, auth={"token": "nope"}, transports=["websocket"], wait_timeout=5)
        raise AssertionError("connected with a bad token")
    except socketio.exceptions.ConnectionError:
        pass
    assert refusals == [{"message": "Authentication error"}]
    bob, inbox = device(chatr, bob_token)
    for payload in ({"recipientId": bob_id, "content": "self"}, {"recipientId": "x", "content": "?"}, {"content": 5}, "text"):
        answer = bob.call("message:send", payload, timeout=5)
        assert answer["ok"] is False and answer["error"], payload
    bob.emit("message:send", {"recipientId": bob_id})
    assert inbox.wait("error")[0]["message"]
    assert bob.call("presence:request", [str(uuid.uuid4())] * 10000, timeout=5)["ok"] is False
    assert bob.connected
    bob.disconnect()
