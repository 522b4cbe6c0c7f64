"""Web client features of issue 15, checked the way a person sees them: links in messages made
clickable (only http/https/mailto, opened in a new tab without an opener) with a preview card for
the first link, hostile text shown as text; the timeline's date separators, grouped bubbles with
one timestamp, status ticks (queued, sent, delivered, read) and "Read by N" in groups; and group
previews in the conversation list that say who wrote the last message."""
import os
import sys

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import register_via_api, sign_in_as

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop"))
from test_link_preview import Site  # noqa: E402  (the small og: site of the server's own tests)


def auth(account):
    return {"Authorization": f"Bearer {account['token']}"}


def say(server, account, text, recipient_id=None, group_id=None):
    target = {"groupId": group_id} if group_id else {"recipientId": recipient_id}
    r = requests.post(server.url + "/api/messages", json={**target, "content": text}, headers=auth(account), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def make_group(server, owner, name, members):
    r = requests.post(server.url + "/api/groups", json={"name": name, "memberIds": [m["user"]["id"] for m in members]},
                      headers=auth(owner), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def anchors(b, css):
    """Each matching link's href (resolved), text, target and rel, read in one call."""
    return b.js("""return [...document.querySelectorAll(arguments[0])].map((a) =>
        ({href: a.href, text: a.innerText.trim(), target: a.getAttribute('target'), rel: a.getAttribute('rel') || ''}))""", css)


def open_chat_with(b, name):
    b.click_text(".conversation[data-key]", name)
    b.wait_text(".chat-name", name)


def network(b, offline):
    b.driver.execute_cdp_cmd("Network.enable", {})
    b.driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                             {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def shift_clock(b, days):
    """The browser's clock runs `days` ahead of the server's, so messages the server stored today
    are from an earlier day for this browser (a test cannot backdate what the server stores)."""
    b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": f"""
        (() => {{
          const shift = {days} * 86400000, Real = Date;
          class Shifted extends Real {{
            constructor(...args) {{ if (args.length === 0) super(Real.now() + shift); else super(...args); }}
            static now() {{ return Real.now() + shift; }}
          }}
          globalThis.Date = Shifted;
        }})();"""})


def preview_requests(b):
    return b.js("return performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/link-preview?')).map((e) => e.name)")


# --- 1. Links and preview cards ---

def test_links_are_clickable_hostile_text_is_inert_and_the_first_link_gets_a_card(server, browsers):
    site = Site()
    try:
        alice = register_via_api(server, "alice", "Alice")
        bob = register_via_api(server, "bob", "Bob")
        carol = register_via_api(server, "carol", "Carol")
        article = f"{site.url}/article"
        say(server, alice, f"No card for {site.url}/nothing please", recipient_id=bob["user"]["id"])
        say(server, alice, f"Read {article} and {site.url}/title-only, or write to mailto:team@example.com.",
            recipient_id=bob["user"]["id"])
        say(server, alice, "<script>window.pwned=1</script> javascript:window.pwned=2 <img src=x onerror=window.pwned=3>",
            recipient_id=bob["user"]["id"])
        say(server, carol, f"Same link again: {article}", recipient_id=bob["user"]["id"])
        b = browsers("bob")
        sign_in_as(b, bob)
        open_chat_with(b, "Alice")

        # The links: real anchors to where the text says, a new tab, no opener, no referrer.
        # Read in one call each: the preview card's arrival redraws the list (no stale elements).
        link = b.wait(lambda: next((a for a in anchors(b, ".bubble a") if a["href"] == article), None),
                      message="the article link is not clickable")
        assert link["text"] == article
        assert link["target"] == "_blank"
        assert set(link["rel"].split()) >= {"noopener", "noreferrer"}
        mail = anchors(b, ".bubble a[href^='mailto:']")
        assert [a["href"] for a in mail] == ["mailto:team@example.com"], "the sentence's full stop is not part of the link"
        hrefs = [a["href"] for a in anchors(b, ".messages a")]
        assert all(h.startswith(("http://", "https://", "mailto:")) for h in hrefs), hrefs

        # Hostile text is shown as text: nothing ran, no element was made of it, no javascript: link.
        hostile = b.wait_text(".msg .bubble", "<script>window.pwned=1</script>")
        assert "javascript:window.pwned=2" in hostile.text and "<img src=x onerror=window.pwned=3>" in hostile.text
        assert hostile.find_elements(By.CSS_SELECTOR, "script, img, a") == []
        assert b.js("return window.pwned === undefined")

        # The card of the first http(s) link: site, title, description and picture from the page.
        card = b.act_in(".msg", "Read ", "[data-link-card]", lambda el: {k: el.get_attribute(k) for k in ("href", "target", "rel")})
        assert card["href"] == article and card["target"] == "_blank", card
        assert "noopener" in card["rel"].split()
        assert b.text_in(".msg", "Read ", "[data-card-title]") == "Release notes & road map"
        assert b.text_in(".msg", "Read ", "[data-card-description]") == "What shipped in v2, and what comes next."
        assert b.text_in(".msg", "Read ", "[data-card-site]").lower() == "example blog"
        picture = "return [...document.querySelectorAll('[data-link-card] img')].map((i) => [i.src, i.complete, i.naturalWidth])"
        b.wait(lambda: any(w == 40 for _, done, w in b.js(picture)), message=f"the card's picture did not load: {b.js(picture)}")
        # One card per message: the second link (/title-only) has none.
        assert len(b.act_in(".msg", "Read ", ".bubble", lambda el: el.find_elements(By.XPATH, "../*[@data-link-card]"))) == 1

        # A page without a card (422 preview_unavailable) shows no card once its answer is in.
        b.wait(lambda: any("nothing" in u for u in preview_requests(b)), message="the failing link was not asked")
        assert b.act_in(".msg", "No card for", ".bubble", lambda el: el.find_elements(By.XPATH, "../*[@data-link-card]") or "none") == "none"

        # Once per link per page load: the same link in another chat, and this chat opened again, ask nothing new.
        open_chat_with(b, "Carol")
        b.wait(lambda: b.act_in(".msg", "Same link again", "[data-link-card]", lambda el: el), message="no card in the second chat")
        open_chat_with(b, "Alice")
        b.wait(lambda: b.act_in(".msg", "Read ", "[data-link-card]", lambda el: el), message="the card did not come back")
        asked = preview_requests(b)
        assert sum(article in requests.utils.unquote(u) for u in asked) == 1, asked
        b.screenshot("features-link-card")
    finally:
        site.stop()


# --- 2. Timeline polish ---

def test_date_separators_group_bubbles_with_one_timestamp(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    for text in ("First of three", "Second of three", "Third of three"):
        say(server, alice, text, recipient_id=bob["user"]["id"])
    b = browsers("bob")
    shift_clock(b, 1)   # what the server stored today is yesterday for Bob
    sign_in_as(b, bob)
    open_chat_with(b, "Alice")
    b.wait_text(".msg .bubble", "Third of three")
    assert b.texts("[data-day-separator]") == ["Yesterday"]
    # Three messages within minutes: one group, one timestamp, on the last. Read in one go: the
    # list is redrawn whole (a receipt, a presence change), and elements found earlier go stale.
    shape = b.js("""return [...document.querySelectorAll('.msg-group')].map((g) => ({
        messages: g.querySelectorAll('.msg').length,
        stamped: [...g.querySelectorAll('time[data-time]')].map((t) => t.closest('.msg').textContent)}))""")
    assert len(shape) == 1 and shape[0]["messages"] == 3, shape
    assert len(shape[0]["stamped"]) == 1 and "Third of three" in shape[0]["stamped"][0], shape

    # Bob writes offline: his queued message is today's (his clock), under a "Today" separator,
    # with the clock tick and its words; in a group of its own (another sender).
    network(b, True)
    b.wait(lambda: b.js("return document.querySelector('[data-connection]')?.dataset.state") != "online", message="still online")
    box = b.find("[data-input]")
    box.send_keys("Written today")
    box.send_keys(Keys.ENTER)
    b.wait(lambda: b.texts("[data-day-separator]") == ["Yesterday", "Today"],
           message=f"separators: {b.texts('[data-day-separator]')}")
    tick = b.act_in(".msg", "Written today", "[data-ticks]", lambda el: (el.get_attribute("data-ticks"), el.get_attribute("aria-label")))
    assert tick == ("queued", "Waiting to send"), tick
    b.wait_text("[data-delivery]", "Waiting to send")
    network(b, False)
    b.screenshot("features-day-separators")


def test_a_date_separator_names_an_older_day(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    say(server, alice, "From a while ago", recipient_id=bob["user"]["id"])
    b = browsers("bob")
    shift_clock(b, 3)
    sign_in_as(b, bob)
    open_chat_with(b, "Alice")
    b.wait_text(".msg .bubble", "From a while ago")
    label = b.find("[data-day-separator]").text
    expected = b.js("const d = new Date(Date.now() - 3 * 86400000); return String(d.getDate())")
    assert label not in ("Today", "Yesterday") and expected in label, label


def test_status_ticks_follow_my_message_from_queued_to_read(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    say(server, bob, "Hi Alice", recipient_id=alice["user"]["id"])
    a = browsers("alice")
    sign_in_as(a, alice)
    open_chat_with(a, "Bob")

    def tick():
        return a.act_in(".msg", "Ticks please", "[data-ticks]", lambda el: (el.get_attribute("data-ticks"), el.get_attribute("aria-label"), el.text))

    network(a, True)
    a.wait(lambda: a.js("return document.querySelector('[data-connection]')?.dataset.state") != "online", message="still online")
    box = a.find("[data-input]")
    box.send_keys("Ticks please")
    box.send_keys(Keys.ENTER)
    a.wait(lambda: tick() == ("queued", "Waiting to send", "🕓"), message=f"queued: {tick()}")
    network(a, False)
    # Bob is offline (no browser, no socket): stored, one tick.
    a.wait(lambda: tick() == ("sent", "Sent", "✓"), message=f"sent: {tick()}")
    a.wait_text("[data-delivery]", "Sent")
    # Bob's browser is open (not on this chat): the next message reaches it, two ticks.
    b = browsers("bob")
    sign_in_as(b, bob)
    box.send_keys("Ticks again")
    box.send_keys(Keys.ENTER)

    def tick_again():
        return a.act_in(".msg", "Ticks again", "[data-ticks]", lambda el: (el.get_attribute("data-ticks"), el.get_attribute("aria-label"), el.text))

    a.wait(lambda: tick_again() == ("delivered", "Delivered", "✓✓"), message=f"delivered: {tick_again()}")
    a.wait_text("[data-delivery]", "Delivered")
    # He opens the chat: both are read, two coloured ticks, and the line says "Read".
    open_chat_with(b, "Alice")
    a.wait(lambda: tick_again() == ("read", "Read", "✓✓"), message=f"read: {tick_again()}")
    a.wait(lambda: tick() == ("read", "Read", "✓✓"), message=f"the older one read: {tick()}")
    a.wait_text("[data-delivery]", "Read")
    colours = a.act_in(".msg", "Ticks again", "[data-ticks]", lambda el: a.js("""const t = arguments[0], other = document.createElement('span');
        other.className = 'ticks ticks-delivered'; t.parentNode.appendChild(other);
        const c = [getComputedStyle(t).color, getComputedStyle(other).color]; other.remove(); return c;""", el))
    assert colours[0] != colours[1], f"read ticks are not coloured: {colours}"
    # Bob's message carries no ticks on Alice's screen (ticks are for her own messages).
    assert a.act_in(".msg", "Hi Alice", ".bubble", lambda el: el.find_elements(By.XPATH, "..//*[@data-ticks]") or "none") == "none"


def test_group_read_by_count_and_previews_say_who_wrote(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    carol = register_via_api(server, "carol", "Carol")
    group = make_group(server, alice, "Book club", [bob, carol])
    group_id = group.get("id") or group["group"]["id"]
    say(server, bob, "Chapter one is great", group_id=group_id)
    a = browsers("alice")
    sign_in_as(a, alice)

    def preview():
        return a.text_in(".conversation[data-key]", "Book club", ".conversation-preview")

    a.wait(lambda: preview() == "Bob: Chapter one is great", message=f"group preview: {preview()!r}")
    say(server, carol, "Agreed", group_id=group_id)
    a.wait(lambda: preview() == "Carol: Agreed", message=f"group preview: {preview()!r}")
    open_chat_with(a, "Book club")
    # Sender name once per group of bubbles.
    senders = lambda: a.texts(".msg-sender > span:last-child")
    a.wait(lambda: senders() == ["Bob", "Carol"], message=f"sender names: {senders()!r}")

    box = a.find("[data-input]")
    box.send_keys("Next week: chapter two")
    box.send_keys(Keys.ENTER)
    a.wait(lambda: preview() == "You: Next week: chapter two", message=f"own preview: {preview()!r}")
    a.wait(lambda: a.find("[data-delivery]").text in ("Sent", "Delivered"), message="not stored")
    mine = a.wait(lambda: a.act_in(".msg", "Next week", ".bubble", lambda el: el.find_element(By.XPATH, "..").get_attribute("data-msg") or None),
                  message="no id")

    def read(account):
        r = requests.post(server.url + "/api/messages/read", json={"groupId": group_id, "upToMessageId": mine},
                          headers=auth(account), timeout=10)
        assert r.status_code in (200, 204), r.text

    read(bob)
    a.wait_text("[data-delivery]", "Read by 1")
    tick = a.act_in(".msg", "Next week", "[data-ticks]", lambda el: (el.get_attribute("data-ticks"), el.get_attribute("aria-label")))
    assert tick == ("read", "Read by 1"), tick
    read(carol)
    a.wait_text("[data-delivery]", "Read by 2")
    # After a reload the count comes from history (readBy), not from live events.
    a.driver.refresh()
    a.wait_text("[data-delivery]", "Read by 2")
    a.screenshot("features-group-read-by")


def test_group_notices_say_who_joined_and_left_without_counting_as_unread(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    carol = register_via_api(server, "carol", "Carol")
    group = make_group(server, alice, "Book club", [bob])
    group_id = group.get("id") or group["group"]["id"]
    say(server, alice, "Welcome, Bob", group_id=group_id)
    b = browsers("bob")
    sign_in_as(b, bob)

    def preview():
        return b.text_in(".conversation[data-key]", "Book club", ".conversation-preview")

    def badge():
        return b.text_in(".conversation[data-key]", "Book club", ".badge")

    b.wait(lambda: preview() == "Alice: Welcome, Bob", message=f"group preview: {preview()!r}")
    assert badge() == "1"
    r = requests.post(server.url + f"/api/groups/{group_id}/members", json={"userId": carol["user"]["id"]}, headers=auth(alice), timeout=10)
    assert r.status_code == 200, r.text
    b.wait(lambda: preview() == "Carol was added", message=f"the list does not say it: {preview()!r}")
    assert badge() == "1", "a notice is nobody's unread"

    open_chat_with(b, "Book club")
    b.wait_text("[data-notice]", "Carol was added")
    notice = b.find("[data-notice]")
    assert not notice.find_elements(By.CSS_SELECTOR, ".bubble, [data-ticks]"), "a notice is not a message bubble"
    r = requests.post(server.url + f"/api/groups/{group_id}/leave", headers=auth(carol), timeout=10)
    assert r.status_code == 200, r.text
    b.wait(lambda: b.texts("[data-notice]") == ["Carol was added", "Carol left"],
           message=f"notices: {b.texts('[data-notice]')}")
    # Kept in the history: there after a reload, in order with the messages.
    b.driver.refresh()
    b.wait(lambda: b.texts("[data-notice]") == ["Carol was added", "Carol left"],
           message="the notices are gone after a reload")
    order = b.js("return [...document.querySelectorAll('[data-notice], .msg .bubble')].map((e) => e.textContent.trim())")
    assert order[0].startswith("Welcome, Bob") and order[1:] == ["Carol was added", "Carol left"], order
    b.screenshot("features-group-notices")


# --- 4. Rarely used views load when opened; the Test Lab lives in Settings ---

def loaded_scripts(b):
    return b.js("return performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.endsWith('.js'))")


def test_rare_views_load_when_opened_and_the_test_lab_is_reached_from_settings(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    r = requests.post(server.url + "/api/groups", json={"name": "Book club", "memberIds": [bob["user"]["id"]]}, headers=auth(alice), timeout=10)
    assert r.status_code == 201, r.text
    b = browsers("alice")
    sign_in_as(b, alice)
    rare = {"/components/settings/settings.js", "/components/groups/group-info.js", "/components/groups/new-group.js", "/components/testlab/testlab.js"}
    assert rare.isdisjoint(loaded_scripts(b)), loaded_scripts(b)
    # This server runs in development, where the header offers the Test Lab too (it is never there
    # in production: showsTestLabButton in Tests/web/voice-and-polish.test.mjs); opening it later
    # goes through Settings, as every user does.
    b.wait(lambda: b.find_all(".sidebar-header [href='#/lab']"), message="no Test Lab in the header in development")

    b.find("[data-action=new-group]").click()
    b.find("[data-group-form]")
    assert "/components/groups/new-group.js" in loaded_scripts(b)
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: not b.find_all("[data-group-form]"), message="the new group form stayed open")

    b.click_text(".conversation[data-key]", "Book club")
    b.wait_text(".chat-name", "Book club")
    b.find("[data-action=info]").click()
    b.wait_text(".panel", "members")
    assert "/components/groups/group-info.js" in loaded_scripts(b)
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: not b.find_all(".panel"), message="group info stayed open")

    b.find("[data-action=settings]").click()
    lab = b.find(".panel [data-open-lab]")
    assert "/components/settings/settings.js" in loaded_scripts(b)
    assert "/components/testlab/testlab.js" not in loaded_scripts(b)
    lab.click()
    b.find(".lab [data-presence=away]")
    assert not b.find_all(".panel"), "Settings stayed open over the Test Lab"
    # The lab still lists what happened before it was loaded (the socket's connect).
    b.wait_text(".lab-entry", "connect")
    b.find(".lab a[href='#/']").click()
    b.find(".sidebar")
