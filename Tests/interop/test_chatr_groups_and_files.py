"""Groups of three and files through the real `chatr` binary with python-socketio."""
import requests

from test_chatr_messaging import device

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OGG = b"OggS" + b"\x01" * 128


def test_a_group_of_three(chatr):
    users = {name: chatr.register(name) for name in ("ann", "bob", "cat")}
    auth = lambda name: {"Authorization": f"Bearer {users[name][1]}"}
    group = requests.post(chatr.url + "/api/groups", json={"name": "Trip", "memberIds": [users["bob"][0]]},
                          headers=auth("ann"), timeout=5).json()
    sockets = {name: device(chatr, users[name][1]) for name in ("ann", "bob", "cat")}

    # Cat joins over the socket with an invite Ann made (the group's id alone lets no one in); the others see it.
    invite = requests.post(chatr.url + f"/api/groups/{group['id']}/invites", headers=auth("ann"), timeout=5)
    assert invite.status_code == 201, invite.text
    ack = sockets["cat"][0].call("group:join", {"groupId": group["id"], "inviteToken": invite.json()["token"]}, timeout=5)
    assert ack["ok"] is True and ack["group"]["myRole"] == "member", ack
    for name in ("ann", "bob"):
        joined = sockets[name][1].wait("group:user:joined")[0]
        assert joined["userId"] == users["cat"][0] and joined["groupId"] == group["id"]

    # Everyone sees everyone else's messages, and typing.
    for sender in ("ann", "bob", "cat"):
        ack = sockets[sender][0].call("group:message:send", {"groupId": group["id"], "content": f"hi from {sender}"}, timeout=5)
        assert ack["ok"] is True
    for name in ("ann", "bob", "cat"):
        sockets[name][1].wait("group:message:received", count=3)  # Cat's notice and the two others' messages
        received = [args[0] for args in sockets[name][1].events["group:message:received"]]
        # Cat's joining is in everyone's history as a notice ("Cat joined"), before the three messages.
        notices = [(m["content"], m["senderId"]) for m in received if m["type"] == "system"]
        assert notices == [("joined", users["cat"][0])], notices
        texts = sorted(m["content"] for m in received if m["type"] != "system")
        assert texts == sorted(f"hi from {other}" for other in ("ann", "bob", "cat") if other != name)
    sockets["bob"][0].emit("typing:start", {"groupId": group["id"]})
    for name in ("ann", "cat"):
        typing = sockets[name][1].wait("typing:status")[0]
        assert typing["userId"] == users["bob"][0] and typing["type"] == "group"

    # Bob leaves; the others are told and Bob hears no more.
    assert sockets["bob"][0].call("group:leave", group["id"], timeout=5)["ok"] is True
    for name in ("ann", "cat"):
        assert sockets[name][1].wait("group:user:left")[0]["userId"] == users["bob"][0]
    sockets["ann"][0].call("group:message:send", {"groupId": group["id"], "content": "bob left"}, timeout=5)
    # Cat: her own notice, two messages, the notice of Bob's leaving and the message after it.
    assert sockets["cat"][1].wait("group:message:received", count=5)[0]["content"] == "bob left"
    assert sockets["cat"][1].events["group:message:received"][3][0]["content"] == "left"
    assert len(sockets["bob"][1].events["group:message:received"]) == 3, "nothing reaches Bob after he left"
    for sio, _ in sockets.values():
        sio.disconnect()


def test_an_image_and_a_voice_note(chatr):
    ann_id, ann_token = chatr.register("ann")
    bob_id, bob_token = chatr.register("bob")
    bob, bob_inbox = device(chatr, bob_token)
    ann, ann_inbox = device(chatr, ann_token)
    headers = {"Authorization": f"Bearer {ann_token}"}

    image = requests.post(chatr.url + "/api/messages/upload", headers=headers, timeout=10,
                          files={"file": ("beach.png", PNG, "application/octet-stream")},
                          data={"recipientId": bob_id, "caption": "Beach!"})
    assert image.status_code == 201, image.text
    received = bob_inbox.wait("message:received")[0]
    assert received["type"] == "image" and received["caption"] == "Beach!"
    assert requests.get(received["fileUrl"].replace("http://localhost:3001", chatr.url), timeout=5).content == PNG

    voice = requests.post(chatr.url + "/api/messages/upload", headers=headers, timeout=10,
                          files={"file": ("note.ogg", OGG, "audio/ogg")},
                          data={"recipientId": bob_id, "type": "voice", "duration": "3.5"})
    assert voice.status_code == 201, voice.text
    body = voice.json()
    assert body["needsWaveformGeneration"] is True and len(body["waveform"]) == 100
    note = bob_inbox.wait("message:received", count=2)[0]
    assert note["type"] == "voice" and note["id"] == body["messageId"]
    assert requests.get(note["fileUrl"].replace("http://localhost:3001", chatr.url), timeout=5).content == OGG

    r = requests.patch(chatr.url + f"/api/messages/{body['messageId']}/waveform", headers=headers, timeout=5,
                       json={"waveform": [0.1, 0.4, 0.8], "duration": 3.5})
    assert r.status_code == 200
    for inbox in (bob_inbox, ann_inbox):
        update = inbox.wait("audio:waveform")[0]
        assert update["messageId"] == body["messageId"] and update["waveform"] == [0.1, 0.4, 0.8]
    ann.disconnect()
    bob.disconnect()
