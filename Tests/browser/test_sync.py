"""Gap-free sync: a client that was offline while others wrote, edited, unsent, reacted, read and
renamed shows, once it is back, exactly what a fresh reload of the page shows — the conversation
list (names, previews, unread badges, order, times) and the open chat (bubbles, edited and unsent
marks, reactions, the status line under my last message), whether its socket session was
recovered or not — and presence: someone who left meanwhile shows as a reload shows them."""
import time

import pytest
import requests
import socketio

from conftest import register_via_api, sign_in_as
from test_offline import block, connection, network

# What the person sees, read off the screen: the list, the tab title and the open chat.
CAPTURE = r"""
const text = (root, css) => { const el = root.querySelector(css); return el ? el.textContent.replace(/\s+/g, ' ').trim() : null; };
const list = [...document.querySelectorAll('.conversation[data-key]')].map((el) => ({
  key: el.dataset.key,
  name: text(el, '.conversation-name'),
  preview: text(el, '.conversation-preview'),
  time: text(el, '.conversation-time'),
  unread: text(el, '.badge'),
}));
const chat = document.querySelector('[data-messages]') ? {
  name: text(document, '.chat-name'),
  sub: document.querySelector('[data-chat-title] .avatar-group') ? text(document, '[data-chat-sub]') : null,
  start: !!document.querySelector('[data-messages] .history-start'),
  messages: [...document.querySelectorAll('[data-messages] .msg')].map((m) => ({
    id: m.dataset.msg,
    mine: m.closest('.msg-group').classList.contains('mine'),
    sender: text(m.closest('.msg-group'), '.msg-sender'),
    text: text(m, '.bubble'),
    quote: text(m, '.quote'),
    time: text(m, 'time'),
    edited: !!m.querySelector('.edited'),
    unsent: m.classList.contains('unsent'),
    pending: m.classList.contains('pending'),
    reactions: [...m.querySelectorAll('.reaction')].map((r) => `${r.textContent.trim()} (${r.title})`),
  })),
  // The line under my last message, and which message it is under.
  delivery: [...document.querySelectorAll('[data-messages] [data-delivery]')].map((d) => ({
    text: d.textContent.replace(/\s+/g, ' ').trim(), under: d.previousElementSibling?.dataset.msg ?? null,
  })),
} : null;
return { title: document.title, list, chat };
"""


def capture(b):
    return b.js(CAPTURE)


def settled(b, timeout=20, read=capture):
    """The screen once it stops changing: the same capture three times in a row, 0.3 s apart."""
    seen = []

    def stable():
        seen.append(read(b))
        if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:
            return seen[-1]
        time.sleep(0.3)
        return None
    return b.wait(stable, timeout, "the screen did not settle")


def diff(before, after):
    """A readable account of where two captures differ (for the assertion message)."""
    lines = []
    if before["title"] != after["title"]:
        lines.append(f"title: {before['title']!r} != {after['title']!r}")
    for i in range(max(len(before["list"]), len(after["list"]))):
        x = before["list"][i] if i < len(before["list"]) else None
        y = after["list"][i] if i < len(after["list"]) else None
        if x != y:
            lines.append(f"list[{i}]: back from offline {x} / reload {y}")
    bc, ac = before["chat"] or {}, after["chat"] or {}
    for field in ("name", "sub", "start", "delivery"):
        if bc.get(field) != ac.get(field):
            lines.append(f"chat {field}: back from offline {bc.get(field)!r} / reload {ac.get(field)!r}")
    bm, am = bc.get("messages", []), ac.get("messages", [])
    for i in range(max(len(bm), len(am))):
        x = bm[i] if i < len(bm) else None
        y = am[i] if i < len(am) else None
        if x != y:
            lines.append(f"message[{i}]: back from offline {x} / reload {y}")
    return "\n".join(lines)


def assert_same_screen(before, after):
    assert before == after, "the screen after the reconnect differs from a reload:\n" + diff(before, after)


class Api:
    """One person's REST calls with their token."""

    def __init__(self, server, account):
        self.server, self.account = server, account
        self.id = account["user"]["id"]
        self.headers = {"Authorization": f"Bearer {account['token']}"}

    def call(self, method, path, expect=(200, 201), **json):
        r = requests.request(method, self.server.url + path, json=json or None, headers=self.headers, timeout=10)
        assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def send(self, content, to=None, group=None):
        return self.call("POST", "/api/messages", content=content, **({"groupId": group} if group else {"recipientId": to}))

    def read(self, other=None, group=None):
        return self.call("POST", "/api/messages/read", **({"groupId": group} if group else {"otherUserId": other}))

    def feed_position(self):
        """Where the change feed is now (the number in a cursor `<seq>.<mac>`)."""
        return int(self.call("GET", "/api/sync")["cursor"].split(".")[0])


def device(server, account):
    """A python-socketio client for the actions the REST API does not offer (edit, unsend, react)."""
    sio = socketio.Client(reconnection=False)
    sio.connect(server.url, auth={"token": account["token"]}, transports=["websocket"], wait_timeout=5)
    return sio


def act(sio, event, payload):
    answer = sio.call(event, payload, timeout=5)
    assert answer and answer.get("ok"), f"{event}: {answer}"


def open_conversation(b, key, name):
    b.click_text(f".conversation[data-key='{key}']", name)
    b.wait_text(".chat-name", name)
    b.wait(lambda: b.find_all("[data-messages] .msg"), message=f"chat with {name} shows no messages")


def go_offline(b):
    # As in test_offline: the API blocked as well as the network, so nothing leaks out.
    block(b, ["*/api/*"])
    network(b, offline=True)
    b.wait(lambda: connection(b) == "offline", message="indicator did not show offline")


def come_back(b):
    block(b, [])
    network(b, offline=False)
    b.wait(lambda: connection(b) == "online", timeout=20, message="indicator did not come back online")


def caught_up(b, api, position):
    """Waits until the page has applied the change feed up to `position` (its saved cursor)."""
    def done():
        cursor = b.js("return localStorage.getItem(arguments[0])", f"chatr.sync.{api.id}")
        return cursor and int(cursor.split(".")[0]) >= position
    b.wait(done, 20, f"the page did not sync up to {position}")


def reload_with_chat(b, name):
    b.open("/")
    b.find(".sidebar")
    b.wait_text(".chat-name", name)
    b.wait(lambda: connection(b) == "online", timeout=20, message="socket did not connect after the reload")


def events_since_reconnect(b, back_to):
    """The socket events the page received since it last connected, read off the Test Lab
    (newest first there), as (event, text) pairs; then back to the chats."""
    b.js("location.hash = '#/lab'")
    b.find(".lab-entry")
    entries = b.js("return [...document.querySelectorAll('.lab-entry')].map((e) => [e.dataset.event, e.textContent])")
    b.js("location.hash = '#/'")
    b.wait_text(".chat-name", back_to)
    since = []
    for event, text in entries:
        if event == "connect":
            return since
        since.append((event, text))
    raise AssertionError("the Test Lab shows no connect")


def check_session(b, recovered, gap_message, back_to):
    """The reconnect was what the test says: a recovered session replays what was sent in the gap,
    a new session gets none of it over the socket (only the change feed can bring it)."""
    replayed = [text for event, text in events_since_reconnect(b, back_to) if event == "message:received" and gap_message in text]
    assert bool(replayed) == recovered, f"expected {'a' if recovered else 'no'} replay of {gap_message!r} on reconnect"


# Two ways back: a new session (the page had received no broadcast, so it has no offset to
# recover from: only the change feed brings the gap), and a recovered one (a live message before
# the gap gives it an offset; the server replays the missed events *and* the feed brings them —
# applied twice, they must still show once).
SESSIONS = pytest.mark.parametrize("recovered", [False, True], ids=["new-session", "recovered-session"])


def people(server):
    accounts = {name: register_via_api(server, name, name.title()) for name in ("alice", "bob", "carol")}
    return {name: Api(server, account) for name, account in accounts.items()}, accounts


@SESSIONS
def test_a_client_back_from_offline_shows_what_a_fresh_reload_shows(server, browsers, recovered):
    api, accounts = people(server)
    a, b, c = api["alice"], api["bob"], api["carol"]

    # Before: a direct chat with Bob, both ways; one with Carol ending in Alice's message (Carol
    # has not read it: "Sent"); a group of the three.
    a.send("Hi Bob, are we still on for Saturday?", to=b.id)
    b.send("Yes! Where do we meet?", to=a.id)
    typo = b.send("At the statoin at nine", to=a.id)
    regret = b.send("Bring the big tent", to=a.id)
    liked = a.send("Perfect, see you there", to=b.id)
    a.send("Carol, do you have the map?", to=c.id)
    # Bob's group (only its owner or an admin may rename it).
    group = b.call("POST", "/api/groups", name="Weekend trip", memberIds=[a.id, c.id])
    gid = group["id"]
    a.send("Group for the trip", group=gid)
    c.send("Count me in", group=gid)

    alice = browsers("alice")
    sign_in_as(alice, accounts["alice"])
    # Carol's chat is held (loaded once), Bob's is open.
    open_conversation(alice, f"u:{c.id}", "Carol")
    alice.wait_text("[data-delivery]", "Sent")
    open_conversation(alice, f"u:{b.id}", "Bob")
    alice.wait_text(".msg .bubble", "Perfect, see you there")
    if recovered:
        b.send("Packing now", to=a.id)
        alice.wait_text(".msg .bubble", "Packing now")

    go_offline(alice)
    alice.screenshot("sync-01-offline")

    # While Alice is away.
    bob = device(server, accounts["bob"])
    try:
        act(bob, "message:edit", {"messageId": typo["id"], "content": "At the station at nine"})
        act(bob, "message:unsend", regret["id"])
        act(bob, "message:react", {"messageId": liked["id"], "emoji": "👍"})
    finally:
        bob.disconnect()
    b.read(other=a.id)
    b.send("Running ten minutes late", to=a.id)
    b.send("Save me a seat", to=a.id)
    b.send("Who brings snacks?", group=gid)
    b.call("PUT", f"/api/groups/{gid}", name="Saturday hike")
    c.read(other=a.id)
    gap_end = a.feed_position()

    come_back(alice)
    alice.wait_text(".msg .bubble", "Save me a seat", timeout=20)
    alice.wait_text(".conversation[data-key]", "Saturday hike", timeout=20)
    caught_up(alice, a, gap_end)
    back = settled(alice)
    alice.screenshot(f"sync-02-back-online-{recovered}")
    check_session(alice, recovered, "Save me a seat", "Bob")
    # Held but not open: Carol's chat, opened from memory.
    open_conversation(alice, f"u:{c.id}", "Carol")
    carol_back = settled(alice)
    open_conversation(alice, f"u:{b.id}", "Bob")
    alice.wait_text(".msg .bubble", "Save me a seat")

    reload_with_chat(alice, "Bob")
    alice.wait_text(".msg .bubble", "Save me a seat")
    fresh = settled(alice)
    alice.screenshot(f"sync-03-reloaded-{recovered}")
    open_conversation(alice, f"u:{c.id}", "Carol")
    carol_fresh = settled(alice)

    # What the reload shows is what happened while she was away (so the comparison means something).
    bubbles = [m["text"] for m in fresh["chat"]["messages"]]
    assert "At the station at nine" in bubbles and "At the statoin at nine" not in bubbles
    assert "Bring the big tent" not in bubbles and "This message was unsent" in bubbles
    assert any(r.startswith("👍 1") for m in fresh["chat"]["messages"] for r in m["reactions"])
    assert bubbles[-2:] == ["Running ten minutes late", "Save me a seat"]
    assert [x["name"] for x in fresh["list"]] == ["Saturday hike", "Bob", "Carol"]
    assert [x["unread"] for x in fresh["list"]] == ["2", None, None]  # Carol's and Bob's
    assert carol_fresh["chat"]["delivery"][0]["text"] == "Read"

    assert_same_screen(back, fresh)
    assert_same_screen(carol_back, carol_fresh)


@SESSIONS
def test_unread_count_and_preview_of_a_chat_not_open_catch_up_after_offline(server, browsers, recovered):
    api, accounts = people(server)
    a, b, c = api["alice"], api["bob"], api["carol"]
    a.send("Hi Bob", to=b.id)
    b.send("Hi Alice", to=a.id)
    group = b.call("POST", "/api/groups", name="Book club", memberIds=[a.id, c.id])
    gid = group["id"]
    a.send("Next book?", group=gid)
    b.send("Dune", group=gid)
    old = b.call("POST", "/api/groups", name="Old club", memberIds=[a.id])
    b.send("This club is closing", group=old["id"])

    alice = browsers("alice")
    sign_in_as(alice, accounts["alice"])
    alice.wait_text(f".conversation[data-key='u:{b.id}'] .badge", "1")
    alice.wait_text(f".conversation[data-key='g:{old['id']}']", "Old club")
    open_conversation(alice, f"g:{gid}", "Book club")
    alice.wait_text(".msg .bubble", "Dune")
    if recovered:
        c.send("Or Foundation", group=gid)
        alice.wait_text(".msg .bubble", "Or Foundation")

    go_offline(alice)
    for n in range(1, 4):
        b.send(f"Private note {n}", to=a.id)
    c.send("Dune again?", group=gid)
    b.call("PUT", f"/api/groups/{gid}", name="Sci-fi club")
    b.call("DELETE", f"/api/groups/{old['id']}")
    gap_end = a.feed_position()

    come_back(alice)
    alice.wait_text(".msg .bubble", "Dune again?", timeout=20)
    alice.wait_text(".chat-name", "Sci-fi club", timeout=20)
    alice.wait_text(f".conversation[data-key='u:{b.id}']", "Private note 3", timeout=20)
    alice.wait(lambda: not alice.find_all(f".conversation[data-key='g:{old['id']}']"), timeout=20,
               message="the group deleted while she was away stayed in her list")
    caught_up(alice, a, gap_end)
    back = settled(alice)
    alice.screenshot(f"sync-04-group-back-online-{recovered}")
    check_session(alice, recovered, "Private note 3", "Sci-fi club")

    reload_with_chat(alice, "Sci-fi club")
    alice.wait_text(".msg .bubble", "Dune again?")
    fresh = settled(alice)
    alice.screenshot(f"sync-05-group-reloaded-{recovered}")

    assert f"g:{old['id']}" not in [x["key"] for x in fresh["list"]]
    bob_entry = next(x for x in fresh["list"] if x["key"] == f"u:{b.id}")
    assert bob_entry["preview"] == "Private note 3" and bob_entry["unread"] == "4"
    assert fresh["title"] == "(4) Chatr"
    assert_same_screen(back, fresh)


PRESENCE = r"""
const dot = (root) => root?.querySelector('.presence-dot')?.getAttribute('title') ?? null;
return {
  header: document.querySelector('[data-chat-sub]')?.textContent.trim() ?? null,
  headerDot: dot(document.querySelector('[data-chat-title]')),
  list: [...document.querySelectorAll('.conversation[data-key]')].map((el) => [el.dataset.key, dot(el)]),
};
"""


def presence(b):
    return b.js(PRESENCE)


# A page whose session is not recovered (it had no offset yet) learns presence afresh: the
# `presence:update` of the new connection is the whole list of contacts online now, so whoever
# is not in it went offline meanwhile, and a presence:request brings their last seen.
def test_presence_of_someone_who_left_while_i_was_offline_matches_a_reload(server, browsers):
    api, accounts = people(server)
    a, b = api["alice"], api["bob"]
    a.send("Hi Bob", to=b.id)
    b.send("Hi Alice", to=a.id)
    bob = device(server, accounts["bob"])
    try:
        alice = browsers("alice")
        sign_in_as(alice, accounts["alice"])
        open_conversation(alice, f"u:{b.id}", "Bob")
        alice.wait_text("[data-chat-sub]", "online")
        go_offline(alice)
    finally:
        bob.disconnect()
    b.send("Gone for the day", to=a.id)  # written after he left, so it says when she has caught up
    gap_end = a.feed_position()

    come_back(alice)
    alice.wait_text(".msg .bubble", "Gone for the day", timeout=20)
    caught_up(alice, a, gap_end)
    back = settled(alice, read=presence)
    alice.screenshot("sync-06-presence-back-online")

    reload_with_chat(alice, "Bob")
    alice.wait_text(".msg .bubble", "Gone for the day")
    fresh = settled(alice, read=presence)
    alice.screenshot("sync-07-presence-reloaded")
    assert fresh["headerDot"] == "offline"
    assert back == fresh, f"presence after the reconnect {back} / after a reload {fresh}"


# The page's own socket and controller, reached through their modules (the instances the app made
# are of these same classes): each connect is recorded with whether the server took the old
# session back; the controller is kept once it draws a chat.
WATCH_PAGE = r"""
return Promise.all([import('/lib/socket.js'), import('/lib/chat-controller.js')]).then(([{ SocketClient }, { ChatController }]) => {
  if (!window.__connects) {
    window.__connects = [];
    const dispatch = SocketClient.prototype.dispatch;
    SocketClient.prototype.dispatch = function (event, args) {
      window.__socket = this;
      if (event === 'connect') window.__connects.push({ recovered: this.recovered, sid: this.id });
      return dispatch.call(this, event, args);
    };
    const chat = ChatController.prototype.chat;
    ChatController.prototype.chat = function (key) { window.__controller = this; return chat.call(this, key); };
  }
  return true;
});
"""


def watch_page(b, back_to):
    """Installs WATCH_PAGE, and redraws the chat (Test Lab and back) so the controller is reached."""
    b.js(WATCH_PAGE)
    b.js("location.hash = '#/lab'")
    b.find(".lab")
    b.js("location.hash = '#/'")
    b.wait_text(".chat-name", back_to)
    b.wait(lambda: b.js("return !!window.__controller"), message="the controller was not reached")


def my_statuses(b, key):
    """Status of each of my messages in the page's state (the screen shows only the last one's)."""
    return b.js("const c = window.__controller;"
                " return c.chat(arguments[0]).messages.filter((m) => m.senderId === c.me.id).map((m) => [m.id, m.status]);", key)


def socket_state(b):
    return b.js("const s = window.__socket; return s && { state: s.state, sid: s.id, pid: s.pid, offset: s.offset,"
                " recovered: s.recovered, connects: window.__connects };")


# A server killed (kill -9) and started again on the same database knows nothing of the sessions
# it had: the page, holding a pid and an offset, asks to recover and is given a new session, so
# only the change feed can bring what happened while it was away — and must bring all of it.
def test_a_server_killed_and_restarted_meanwhile_changes_nothing_the_screen_ends_with(server, browsers):
    api, accounts = people(server)
    a, b = api["alice"], api["bob"]
    a.send("Hi Bob, are we still on for Saturday?", to=b.id)
    b.send("Yes! Where do we meet?", to=a.id)
    typo = b.send("At the statoin at nine", to=a.id)
    liked = a.send("Perfect, see you there", to=b.id)

    alice = browsers("alice")
    sign_in_as(alice, accounts["alice"])
    open_conversation(alice, f"u:{b.id}", "Bob")
    alice.wait_text(".msg .bubble", "Perfect, see you there")
    watch_page(alice, "Bob")
    # Live broadcasts: the page now holds an offset to ask the server to recover from.
    b.send("Packing now", to=a.id)
    alice.wait_text(".msg .bubble", "Packing now")
    last = a.send("Great, see you there", to=b.id)  # Bob has not read it yet
    alice.wait_text(".msg .bubble", "Great, see you there")
    alice.wait(lambda: capture(alice)["chat"]["delivery"] == [{"text": "Sent", "under": last["id"]}],
               message="her last message is not shown as sent (and not read)")
    before = socket_state(alice)
    assert before["state"] == "connected" and before["pid"] and before["offset"], f"no recovery offset: {before}"

    server.kill()
    # Her socket goes down with the server: the page keeps trying.
    alice.wait(lambda: connection(alice) == "connecting", message="indicator did not show connecting after the kill")
    alice.screenshot("sync-08-server-killed")
    # Held offline while the server restarts and Bob writes, so that she reconnects only after
    # all of it (her backoff would otherwise race Bob's changes).
    go_offline(alice)
    server.start()

    b.send("Running ten minutes late", to=a.id)
    b.send("Save me a seat", to=a.id)
    bob = device(server, accounts["bob"])  # his token still works after the restart
    try:
        act(bob, "message:edit", {"messageId": typo["id"], "content": "At the station at nine"})
        act(bob, "message:react", {"messageId": liked["id"], "emoji": "👍"})
    finally:
        bob.disconnect()
    b.read(other=a.id)
    gap_end = a.feed_position()
    held = socket_state(alice)
    assert held["state"] != "connected" and held["connects"] == before["connects"], f"she reconnected too early: {held}"

    come_back(alice)
    alice.wait_text(".msg .bubble", "Save me a seat", timeout=20)
    caught_up(alice, a, gap_end)
    back = settled(alice)
    alice.screenshot("sync-09-back-after-restart")
    after = socket_state(alice)
    assert len(after["connects"]) == len(before["connects"]) + 1, f"expected one reconnect: {after['connects']}"
    assert after["recovered"] is False and after["connects"][-1]["recovered"] is False, f"the restarted server recovered a session: {after}"
    assert after["sid"] != before["sid"], f"same socket id after the restart: {after}"
    check_session(alice, False, "Save me a seat", "Bob")
    # Bob's read shows on no bubble (his messages are the last), but the page knows it.
    statuses_back = my_statuses(alice, f"u:{b.id}")

    reload_with_chat(alice, "Bob")
    alice.wait_text(".msg .bubble", "Save me a seat")
    fresh = settled(alice)
    watch_page(alice, "Bob")
    statuses_fresh = my_statuses(alice, f"u:{b.id}")
    alice.screenshot("sync-10-reloaded-after-restart")

    messages = fresh["chat"]["messages"]
    bubbles = [m["text"] for m in messages]
    assert "At the station at nine" in bubbles and "At the statoin at nine" not in bubbles
    assert next(m for m in messages if m["id"] == typo["id"])["edited"]
    assert any(r.startswith("👍 1") for r in next(m for m in messages if m["id"] == liked["id"])["reactions"])
    assert bubbles[-2:] == ["Running ten minutes late", "Save me a seat"]
    assert [status for _, status in statuses_fresh] == ["read"] * 3, statuses_fresh
    assert statuses_back == statuses_fresh, f"her messages after the reconnect {statuses_back} / after a reload {statuses_fresh}"
    assert_same_screen(back, fresh)


@pytest.mark.parametrize("opened", [True, False], ids=["chat-open", "chat-not-loaded-yet"])
def test_a_chat_with_earlier_pages_takes_no_old_message_from_the_feed(server, browsers, opened):
    """The feed brings every message that changed, however old (a reaction to one said long ago,
    the receipts of a read that covered the whole backlog). A chat showing only its newest page —
    or not loaded yet, holding only a live message — must not take such a message: it would sit
    above a hole, because scrolling back reads the page before the oldest message held."""
    api, accounts = people(server)
    a, b = api["alice"], api["bob"]
    sent = [b.send(f"Message {n}", to=a.id) for n in range(1, 61)]

    alice = browsers("alice")
    sign_in_as(alice, accounts["alice"])
    if opened:
        open_conversation(alice, f"u:{b.id}", "Bob")
        alice.wait_text(".msg .bubble", "Message 60")
        assert settled(alice)["chat"]["messages"] and alice.texts(".msg .bubble") == [f"Message {n}" for n in range(11, 61)]
    b.send("Are you there?", to=a.id)
    # Live: into the open chat, or into a chat the page holds without its first page.
    alice.wait_text(".msg .bubble" if opened else f".conversation[data-key='u:{b.id}']", "Are you there?")

    go_offline(alice)
    bob = device(server, accounts["bob"])
    try:
        act(bob, "message:react", {"messageId": sent[2]["id"], "emoji": "👍"})
        act(bob, "message:edit", {"messageId": sent[4]["id"], "content": "Message 5, corrected"})
    finally:
        bob.disconnect()
    b.send("Back soon", to=a.id)
    gap_end = a.feed_position()

    come_back(alice)
    caught_up(alice, a, gap_end)
    if not opened:
        open_conversation(alice, f"u:{b.id}", "Bob")
    alice.wait_text(".msg .bubble", "Back soon", timeout=20)
    settled(alice)
    first = 11 if opened else 13
    assert alice.texts(".msg .bubble") == [f"Message {n}" for n in range(first, 61)] + ["Are you there?", "Back soon"], \
        "an old message came in above the page"

    alice.js("document.querySelector('[data-messages]').scrollTop = 0")
    alice.find(".history-start")
    whole = [f"Message {n}" for n in range(1, 61)]
    whole[4] = "Message 5, corrected"
    alice.wait(lambda: alice.texts(".msg .bubble") == whole + ["Are you there?", "Back soon"], message="scrolling back left a hole")
    reactions = alice.js("return [...document.querySelectorAll('[data-messages] .msg')].map((m) => m.querySelectorAll('.reaction').length)")
    assert reactions[2] == 1 and sum(reactions) == 1, reactions
