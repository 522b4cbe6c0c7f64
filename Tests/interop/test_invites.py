"""Group invite links through the real `chatr` binary (the contract: knowing a group's id lets no
one in; an owner or admin makes links, which may expire, be limited in uses and be revoked; whoever
holds a usable link joins, and sees the group's messages from then on). Who may call each route is
in test_chatr_authorization.py; this file is about what a link does."""
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from conftest import Chatr
from test_chatr_messaging import device

RACERS = 8


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def at(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Club:
    """Ann's group (Bob is in it) on `server`; Cat is a verified user outside it."""

    def __init__(self, server, name="Club"):
        self.server, self.url = server, server.url
        self.ann, self.ann_token = server.register("ann")
        self.bob, self.bob_token = server.register("bob")
        self.cat, self.cat_token = server.register("cat")
        self.gid = self.make_group(name, [self.bob])

    def make_group(self, name, members=()):
        r = requests.post(self.url + "/api/groups", json={"name": name, "memberIds": list(members)}, headers=auth(self.ann_token), timeout=5)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def invite(self, gid=None, **body):
        r = requests.post(self.url + f"/api/groups/{gid or self.gid}/invites", json=body, headers=auth(self.ann_token), timeout=5)
        assert r.status_code == 201, r.text
        return r.json()

    def live(self, gid=None):
        """The group's usable links as Ann sees them: token → invite."""
        r = requests.get(self.url + f"/api/groups/{gid or self.gid}/invites", headers=auth(self.ann_token), timeout=5)
        assert r.status_code == 200, r.text
        return {i["token"]: i for i in r.json()["invites"]}

    def members(self, gid=None):
        r = requests.get(self.url + f"/api/groups/{gid or self.gid}", headers=auth(self.ann_token), timeout=5)
        assert r.status_code == 200, r.text
        return {m["user"]["id"] for m in r.json()["members"]}

    def preview(self, token, as_token):
        return requests.get(self.url + f"/api/invites/{quote(token, safe='')}", headers=auth(as_token), timeout=10)

    def join_link(self, token, as_token):
        return requests.post(self.url + f"/api/invites/{quote(token, safe='')}/join", headers=auth(as_token), timeout=10)

    def join_id(self, as_token, token=None, gid=None):
        body = {"json": {"inviteToken": token}} if token is not None else {}
        return requests.post(self.url + f"/api/groups/{gid or self.gid}/join", headers=auth(as_token), timeout=10, **body)

    def say(self, content):
        r = requests.post(self.url + f"/api/groups/{self.gid}/messages", json={"content": content}, headers=auth(self.ann_token), timeout=5)
        assert r.status_code == 201, r.text
        return r.json()["id"]


def refused(r, status, code):
    assert r.status_code == status and r.json().get("code") == code, f"expected {status} {code}: {r.status_code} {r.text[:300]}"


def test_a_link_and_its_expiry_and_a_revoked_link_is_refused_everywhere(chatr):
    club = Club(chatr)
    ann_socket, ann_inbox = device(chatr, club.ann_token)
    cat_socket, _ = device(chatr, club.cat_token)

    # A link with no limits: unused, never expiring, unlimited, Ann's, with the web client's URL.
    plain = club.invite()
    assert plain["groupId"] == club.gid and plain["createdBy"] == club.ann and plain["uses"] == 0
    assert plain["expiresAt"] is None and plain["maxUses"] is None
    assert plain["url"].endswith("/#/join/" + plain["token"]) and len(plain["token"]) >= 16

    # One that expires in an hour (the shortest there is: a test cannot wait it out).
    before = datetime.now(timezone.utc)
    hour = club.invite(expiresInHours=1)
    after = datetime.now(timezone.utc)
    expires = at(hour["expiresAt"])
    assert before + timedelta(hours=1) - timedelta(seconds=5) <= expires <= after + timedelta(hours=1) + timedelta(seconds=5), hour
    assert abs(expires - at(hour["createdAt"]) - timedelta(hours=1)) <= timedelta(milliseconds=1), hour
    assert list(club.live()) == [hour["token"], plain["token"]], "newest first"
    preview = club.preview(hour["token"], club.cat_token)
    assert preview.status_code == 200 and at(preview.json()["expiresAt"]) == expires, preview.text
    assert preview.json()["alreadyMember"] is False and preview.json()["group"] == {"id": club.gid, "name": "Club", "memberCount": 2}

    # Out-of-range numbers make nothing.
    for body in ({"expiresInHours": 0}, {"expiresInHours": 8761}, {"expiresInHours": -1}, {"maxUses": 0}, {"maxUses": 10001}):
        r = requests.post(chatr.url + f"/api/groups/{club.gid}/invites", json=body, headers=auth(club.ann_token), timeout=5)
        refused(r, 400, "invalid_invite")
    assert len(club.live()) == 2

    # Revoked: gone from the list and refused on every way in.
    r = requests.delete(chatr.url + f"/api/groups/{club.gid}/invites/{hour['token']}", headers=auth(club.ann_token), timeout=5)
    assert r.status_code == 200 and r.json() == {"success": True}, r.text
    assert list(club.live()) == [plain["token"]]
    mark = len(ann_inbox.events.get("group:user:joined", []))
    refused(club.preview(hour["token"], club.cat_token), 404, "invite_invalid")
    refused(club.join_link(hour["token"], club.cat_token), 404, "invite_invalid")
    refused(club.join_id(club.cat_token, hour["token"]), 404, "invite_invalid")
    ack = cat_socket.call("group:join", {"groupId": club.gid, "inviteToken": hour["token"]}, timeout=5)
    assert ack["ok"] is False and ack["code"] == "invite_invalid", ack
    assert club.cat not in club.members()
    # Revoking it again, or revoking a made-up token, finds nothing.
    for token in (hour["token"], "no-such-token"):
        r = requests.delete(chatr.url + f"/api/groups/{club.gid}/invites/{token}", headers=auth(club.ann_token), timeout=5)
        assert r.status_code == 404, r.text

    # The other link still works.
    r = club.join_link(plain["token"], club.cat_token)
    assert r.status_code == 200 and r.json()["myRole"] == "member", r.text
    assert ann_inbox.wait("group:user:joined", count=mark + 1)[0]["userId"] == club.cat
    assert club.live()[plain["token"]]["uses"] == 1
    for sio in (ann_socket, cat_socket):
        sio.disconnect()


def test_one_use_raced_by_eight_people_lets_exactly_one_in(chatr):
    club = Club(chatr)
    racers = [chatr.register(f"racer{n}") for n in range(RACERS)]
    token = club.invite(maxUses=1)["token"]
    before = club.members()
    barrier = threading.Barrier(RACERS)
    answers = [None] * RACERS

    def race(n):
        session = requests.Session()  # connected before the barrier: the requests leave together
        session.get(chatr.url + "/api/health", timeout=10)
        barrier.wait(timeout=30)
        answers[n] = session.post(chatr.url + f"/api/invites/{token}/join", headers=auth(racers[n][1]), timeout=30)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = [r.status_code for r in answers]
    assert sorted(statuses) == [200] + [404] * (RACERS - 1), [(r.status_code, r.text[:120]) for r in answers]
    assert all(r.json()["code"] == "invite_invalid" for r in answers if r.status_code == 404)
    winner = racers[statuses.index(200)][0]
    assert club.members() == before | {winner}, "exactly the one who got 200 is in"
    assert token not in club.live(), "a used-up link is still listed"
    refused(club.preview(token, club.cat_token), 404, "invite_invalid")
    # The winner following the link again is a member asking again; a loser trying again is still out.
    winner_token = racers[statuses.index(200)][1]
    assert club.join_link(token, winner_token).status_code == 200
    refused(club.join_link(token, racers[statuses.index(404)][1]), 404, "invite_invalid")
    assert club.members() == before | {winner}


def test_a_link_for_one_group_does_not_open_another(chatr):
    club = Club(chatr)
    other = club.make_group("Other")
    token = club.invite()["token"]
    cat_socket, _ = device(chatr, club.cat_token)

    refused(club.join_id(club.cat_token, token, gid=other), 403, "invite_invalid")
    ack = cat_socket.call("group:join", {"groupId": other, "inviteToken": token}, timeout=5)
    assert ack["ok"] is False and ack["code"] == "invite_invalid", ack
    assert club.cat not in club.members(other) and club.cat not in club.members()
    assert club.live()[token]["uses"] == 0, "the refused attempt used the link"
    # Nor can the other group's page revoke it.
    r = requests.delete(chatr.url + f"/api/groups/{other}/invites/{token}", headers=auth(club.ann_token), timeout=5)
    assert r.status_code == 404, r.text
    assert token in club.live()
    cat_socket.disconnect()


def test_joining_by_id_needs_a_link(chatr):
    club = Club(chatr)
    token = club.invite()["token"]
    dm = requests.post(chatr.url + "/api/messages", json={"recipientId": club.bob, "content": "just us"},
                       headers=auth(club.ann_token), timeout=5).json()["conversationId"]
    cat_socket, _ = device(chatr, club.cat_token)

    refused(club.join_id(club.cat_token), 403, "invite_required")
    refused(club.join_id(club.cat_token, ""), 403, "invite_required")
    for payload in (club.gid, {"groupId": club.gid}, {"groupId": club.gid, "inviteToken": ""}):
        ack = cat_socket.call("group:join", payload, timeout=5)
        assert ack["ok"] is False and ack["code"] == "invite_required", (payload, ack)
    # A good link does not open a direct conversation named by its id.
    assert club.join_id(club.cat_token, token, gid=dm).status_code == 404
    ack = cat_socket.call("group:join", {"groupId": dm, "inviteToken": token}, timeout=5)
    assert ack["ok"] is False, ack
    r = requests.get(chatr.url + "/api/messages/history", params={"conversationId": dm}, headers=auth(club.cat_token), timeout=5)
    assert r.status_code == 403 and "just us" not in r.text
    assert club.cat not in club.members() and club.live()[token]["uses"] == 0

    r = club.join_id(club.cat_token, token)
    assert r.status_code == 200 and r.json()["myRole"] == "member", r.text
    assert club.live()[token]["uses"] == 1
    cat_socket.disconnect()


def test_a_member_joining_again_uses_nothing(chatr):
    club = Club(chatr)
    token = club.invite(maxUses=2)["token"]
    ann_socket, ann_inbox = device(chatr, club.ann_token)
    bob_socket, _ = device(chatr, club.bob_token)

    assert club.preview(token, club.bob_token).json()["alreadyMember"] is True
    for as_token in (club.bob_token, club.ann_token):
        r = club.join_link(token, as_token)
        assert r.status_code == 200 and r.json()["id"] == club.gid, r.text
        assert club.join_id(as_token, token).status_code == 200
        assert club.join_id(as_token).status_code == 200, "a member needs no link"
    ack = bob_socket.call("group:join", {"groupId": club.gid, "inviteToken": token}, timeout=5)
    assert ack["ok"] is True and ack["group"]["myRole"] == "member", ack
    assert club.live()[token]["uses"] == 0, "a member asking again used the link"
    assert club.join_link(token, club.bob_token).json()["memberCount"] == 2

    # Cat joins: one use; Cat asking again uses no more; the link has one left.
    assert club.join_link(token, club.cat_token).status_code == 200
    assert ann_inbox.wait("group:user:joined")[0]["userId"] == club.cat
    assert club.join_link(token, club.cat_token).status_code == 200
    assert club.join_id(club.cat_token, token).status_code == 200
    assert club.live()[token]["uses"] == 1
    assert club.preview(token, club.cat_token).json()["alreadyMember"] is True
    time.sleep(0.2)
    assert [args[0]["userId"] for args in ann_inbox.events["group:user:joined"]] == [club.cat], "only the newcomer is announced"
    for sio in (ann_socket, bob_socket):
        sio.disconnect()


def test_who_joins_sees_the_messages_from_then_on(chatr):
    club = Club(chatr)
    earlier = club.say("said before Cat came")
    token = club.invite()["token"]
    assert club.join_link(token, club.cat_token).status_code == 200
    cat_socket, cat_inbox = device(chatr, club.cat_token)
    later = club.say("said after Cat came")
    assert cat_inbox.wait("group:message:received")[0]["id"] == later

    # Cat's history starts with the notice of her joining ("Cat joined"), then what was said since.
    r = requests.get(chatr.url + f"/api/groups/{club.gid}/messages", headers=auth(club.cat_token), timeout=5)
    assert r.status_code == 200, r.text
    seen = [(m["type"], m["content"]) for m in r.json()["messages"]]
    assert seen == [("system", "joined"), ("text", "said after Cat came")], seen
    assert r.json()["messages"][1]["id"] == later
    assert earlier not in r.text and "said before" not in r.text
    r = requests.get(chatr.url + "/api/messages/history", params={"groupId": club.gid}, headers=auth(club.cat_token), timeout=5)
    assert [m["id"] for m in r.json()["messages"]][1:] == [later]
    # Bob, a member from the start, sees both.
    r = requests.get(chatr.url + f"/api/groups/{club.gid}/messages", headers=auth(club.bob_token), timeout=5)
    assert {earlier, later} <= {m["id"] for m in r.json()["messages"]}
    cat_socket.disconnect()


def test_the_101st_live_link_is_refused(chatr):
    club = Club(chatr)
    made = [club.invite()["token"] for _ in range(100)]
    r = requests.post(chatr.url + f"/api/groups/{club.gid}/invites", json={}, headers=auth(club.ann_token), timeout=5)
    refused(r, 409, "too_many_invites")
    assert sorted(club.live()) == sorted(made)
    # Revoking one makes room for one.
    assert requests.delete(chatr.url + f"/api/groups/{club.gid}/invites/{made[0]}", headers=auth(club.ann_token), timeout=5).status_code == 200
    again = club.invite()["token"]
    assert len(club.live()) == 100 and again in club.live()
    refused(requests.post(chatr.url + f"/api/groups/{club.gid}/invites", headers=auth(club.ann_token), timeout=5), 409, "too_many_invites")
    # Another group has its own allowance.
    assert club.invite(club.make_group("Another"))["uses"] == 0


# ---------------------------------------------------------------------------------------------
# Hostile tokens: every way a token reaches the server answers "no such link" (404, or a refused
# ack over the socket) — never a 500, never a membership, never harm to the real links. Tokens in
# a URL path are percent-encoded, as a client would (`encodeURIComponent`).

HOSTILE = {
    "empty": "",
    "10 KB": "A" * 10240,
    "dot-dot-slash": "../",
    "traversal": "../../../etc/passwd",
    "sql-quote": "' OR '1'='1",
    "sql-drop": "x'; DROP TABLE group_invites; --",
    "sql-like": "%",
    "unicode": "ünïcødé✓🙂\u202e",
    "nul": "abc\u0000def",
}
CHANNELS = ("preview", "join by link", "join by group id", "socket group:join")

@pytest.fixture(scope="module")
def hostile_club(tmp_path_factory):
    server = Chatr(str(tmp_path_factory.mktemp("invites")))
    club = Club(server)
    club.token = club.invite()["token"]
    club.cat_socket, _ = device(server, club.cat_token)
    yield club
    club.cat_socket.disconnect()
    server.stop()


def hostile_cases():
    for name in HOSTILE:
        for channel in CHANNELS:
            yield pytest.param(name, channel, id=f"{name} by {channel}")


@pytest.mark.parametrize("name, channel", list(hostile_cases()))
def test_a_hostile_token_leads_nowhere(hostile_club, name, channel):
    club, token = hostile_club, HOSTILE[name]
    if channel == "socket group:join":
        ack = club.cat_socket.call("group:join", {"groupId": club.gid, "inviteToken": token}, timeout=10)
        expected = "invite_required" if token == "" else "invalid_text" if "\u0000" in token else "invite_invalid"
        assert ack["ok"] is False and ack["code"] == expected, ack
        assert club.cat_socket.connected
    else:
        r = {"preview": lambda: club.preview(token, club.cat_token),
             "join by link": lambda: club.join_link(token, club.cat_token),
             "join by group id": lambda: club.join_id(club.cat_token, token)}[channel]()
        assert r.status_code < 500, f"{name} by {channel}: {r.status_code} {r.text[:200]}"
        if "\u0000" in token:
            refused(r, 400, "invalid_text")  # no text may hold NUL (PostgreSQL cannot store it)
        elif channel == "join by group id" and token == "":
            refused(r, 403, "invite_required")  # an empty token is no token
        elif channel == "join by link" and token == "":
            # POST /api/invites//join is POST /api/invites/join: no such route.
            assert r.status_code in (404, 405), f"{name} by {channel}: {r.status_code} {r.text[:200]}"
        else:
            assert r.status_code == 404, f"{name} by {channel}: {r.status_code} {r.text[:200]}"
            if name != "empty":  # GET /api/invites/ is no route at all: a plain 404
                assert r.json().get("code") == "invite_invalid", r.text[:200]
    # Nothing came of it: Cat is not in, the real link is untouched and still works.
    assert club.cat not in club.members()
    assert club.live()[club.token]["uses"] == 0
    assert club.preview(club.token, club.cat_token).status_code == 200
