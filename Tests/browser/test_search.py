"""Message search in the web client (issue 17): Ctrl+K, hits as you type with the matched words
marked, and a hit that opens its conversation at the message — far back in the history — with
the message highlighted; what follows it loads as one scrolls down, with no gap, and the chat
stays live at its newest end."""
import re

import requests
from selenium.webdriver.common.keys import Keys

from conftest import register_via_api, sign_in_as


def say(server, account, recipient_id, text):
    r = requests.post(server.url + "/api/messages", json={"recipientId": recipient_id, "content": text},
                      headers={"Authorization": f"Bearer {account['token']}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_search_finds_an_old_message_and_opens_the_chat_there(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob_account = register_via_api(server, "bob", "Bob")
    bob_id = bob_account["user"]["id"]
    # The hit is the 10th of 330 messages: further back than the client loads at once after it.
    for n in range(1, 331):
        say(server, alice, bob_id, "The quarterly Café report is attached" if n == 10 else f"filler message {n}")
    bob = browsers("bob")
    sign_in_as(bob, bob_account)

    # Ctrl+K puts the cursor in the search box, from anywhere.
    bob.find("body").send_keys(Keys.CONTROL, "k")
    bob.wait(lambda: bob.js("return document.activeElement?.dataset.search !== undefined"), message="Ctrl+K did not focus the search")
    bob.js("document.activeElement.blur()")
    bob.type("[data-search]", "cafe repo*")
    hit = bob.wait_text(".search-hit", "quarterly")
    marks = [m.text for m in hit.find_elements("css selector", "mark")]
    assert marks == ["Café", "report"], marks
    assert "Alice" in hit.text
    bob.screenshot("search-01-hits")

    hit.click()
    bob.wait_text(".chat-name", "Alice")
    found = bob.wait_text(".msg.highlighted .bubble, .highlighted .bubble", "quarterly Café report")
    # In view: the message list shows it, though it is 120 messages above the newest.
    visible = bob.js("""
        const el = arguments[0], list = document.querySelector('[data-messages]');
        const a = el.getBoundingClientRect(), b = list.getBoundingClientRect();
        return a.top >= b.top && a.bottom <= b.bottom;""", found)
    assert visible, "the found message is not scrolled into view"
    bob.screenshot("search-02-opened-at-the-hit")

    # Live: a new message lands last, even before the messages between are loaded.
    say(server, alice, bob_id, "one more thing")
    bob.wait(lambda: bob.js("const b = [...document.querySelectorAll('.msg .bubble')]; return b.length && b[b.length - 1].textContent.includes('one more thing')"),
             message="the new message is not the last one")
    # Scrolling down loads what lies between, until the chat is whole from the hit to the newest.
    bob.wait(lambda: bob.js("""
        const list = document.querySelector('[data-messages]');
        list.scrollTop = list.scrollHeight;
        return [...document.querySelectorAll('.msg .bubble')].some((b) => b.textContent.includes('filler message 330'));"""),
             timeout=20, message="scrolling down did not load the messages after the hit")
    texts = bob.js("return [...document.querySelectorAll('.msg .bubble')].map((b) => b.textContent.trim())")
    joined = "\n".join(texts)
    missing = [n for n in range(11, 331) if not re.search(rf"filler message {n}\b", joined)]
    assert not missing, f"a gap between the hit and the newest: {missing[:5]}…"
    assert "one more thing" in texts[-1], texts[-3:]

    # Odd queries show a message, never a broken list; Escape clears the search.
    bob.type("[data-search]", '"')
    bob.wait_text(".conversation-list .empty", "")
    bob.find("[data-search]").send_keys(Keys.ESCAPE)
    bob.wait_text(".conversation[data-key]", "one more thing")
    assert not bob.severe_console_errors(), bob.severe_console_errors()
