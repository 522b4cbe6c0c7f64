"""Two people register through the UI, find each other and chat live: delivery and read status,
typing dots, ghost text, reactions, reply, edit with history, unsend, and escaped user text."""
from selenium.webdriver.common.keys import Keys

from conftest import PASSWORD, latest_code


def register_in_ui(b, server, username, display):
    b.open("/")
    b.find("[data-go=register]").click()
    email = f"{username}@example.com"
    b.type("[data-form=register] [name=email]", email)
    b.type("[data-form=register] [name=username]", username)
    b.type("[data-form=register] [name=displayName]", display)
    b.type("[data-form=register] [name=password]", "weakpass")
    b.find("[data-form=register] [type=submit]").click()
    # The server's rule is shown inline and nothing moves on.
    b.wait_text("[data-form=register] .form-error", "uppercase")
    b.type("[data-form=register] [name=password]", PASSWORD)
    b.find("[data-form=register] [type=submit]").click()
    b.find("[data-form=verify]")
    assert b.find("[data-dev-outbox] a").get_attribute("href").endswith("/api/dev/outbox")
    b.type("[data-form=verify] [name=code]", "000000")
    b.find("[data-form=verify] [type=submit]").click()
    b.wait_text("[data-form=verify] .form-error", "code")
    b.type("[data-form=verify] [name=code]", latest_code(server, email))
    b.find("[data-form=verify] [type=submit]").click()
    b.find(".sidebar")
    b.wait(lambda: b.js("return document.querySelector('[data-connection]').dataset.state") == "online", message="not connected")


def open_chat_by_search(b, query, display):
    b.type("[data-search]", query)
    b.click_text(".conversation[data-user]", display)
    b.wait_text(".chat-name", display)


def send(b, text):
    box = b.find("[data-input]")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def bubble(b, text, timeout=10):
    return b.wait_text(".msg .bubble", text, timeout)


def test_two_people_chat_live(server, browsers):
    alice, bob = browsers("alice"), browsers("bob")
    register_in_ui(alice, server, "alice", "Alice Liddell")
    alice.screenshot("01-conversations-empty")
    register_in_ui(bob, server, "bob_builder", "Bob Builder")

    open_chat_by_search(alice, "bob", "Bob Builder")

    # Alice writes; Bob sees it live and the conversation appears in his list with the preview.
    # Until then they were strangers, who do not see each other's presence; now Bob is online.
    send(alice, "Hello Bob!")
    alice.wait(lambda: "online" in alice.find("[data-chat-sub]").text, message="Bob not shown online")
    bob.wait_text(".conversation[data-key]", "Hello Bob!")
    badge = bob.wait_text(".conversation[data-key] .badge", "1")
    assert badge.text == "1"
    # Delivered: Bob's client acknowledged receipt; read once he opens the chat.
    alice.wait_text("[data-delivery]", "Delivered")
    bob.click_text(".conversation[data-key]", "Alice Liddell")
    bubble(bob, "Hello Bob!")
    alice.wait_text("[data-delivery]", "Read")
    assert not bob.find_all(".conversation[data-key] .badge"), "unread badge stays after reading"

    # Typing dots and, once Bob opts in, his ghost text.
    bob.find("[data-input]").send_keys("Hi Al")
    alice.find("[data-typing]")
    alice.wait_text("[data-chat-sub]", "typing")
    bob.find("[data-ghost-toggle]").click()
    bob.find("[data-input]").send_keys("ice")
    alice.wait_text("[data-ghost]", "Hi Alice")
    bob.find("[data-input]").send_keys(Keys.ENTER)
    bubble(alice, "Hi Alice")
    alice.wait(lambda: not alice.find_all("[data-typing]"), message="typing dots did not stop")
    alice.wait(lambda: not alice.find_all("[data-ghost]:not([hidden])"), message="ghost text stayed after the send")

    # Reactions: Alice reacts through the message menu; both see the count and who.
    alice.click_in(".msg", "Hi Alice", "[data-menu]")
    alice.find(".menu [data-emoji='❤️']").click()
    chip = bob.wait_text(".reaction", "❤️ 1")
    assert "alice" in chip.get_attribute("title")
    # Bob toggles the same reaction on, then the count is 2; clicking again takes his off.
    chip.click()
    alice.wait_text(".reaction", "❤️ 2")
    bob.click_text(".reaction", "❤️ 2")
    alice.wait_text(".reaction", "❤️ 1")

    # Reply with a quoted snippet.
    bob.click_in(".msg", "Hello Bob!", "[data-menu]")
    bob.find(".menu [data-do=reply]").click()
    bob.wait_text("[data-context]", "Replying to")
    send(bob, "Replying to you")
    assert "Hello Bob!" in alice.text_in(".msg", "Replying to you", ".quote")

    # Edit with ↑ in the empty box; Esc cancels; the edit shows "edited" and the history.
    send(alice, "Lunch at noon?")
    bubble(bob, "Lunch at noon?")
    box = alice.find("[data-input]")
    box.send_keys(Keys.ARROW_UP)
    alice.wait_text("[data-context]", "Editing")
    assert box.get_attribute("value") == "Lunch at noon?"
    box.send_keys(Keys.ESCAPE)
    alice.wait(lambda: not alice.find_all("[data-context]:not([hidden])"), message="Esc did not cancel the edit")
    assert box.get_attribute("value") == ""
    box.send_keys(Keys.ARROW_UP)
    alice.wait(lambda: box.get_attribute("value") == "Lunch at noon?", message="↑ did not load the message")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Lunch at one?")
    box.send_keys(Keys.ENTER)
    bob.click_in(".msg", "Lunch at one?", "[data-history]")
    history = bob.wait_text("dialog .edit-history", "Lunch at noon?")
    assert "Lunch at one?" in history.text
    bob.screenshot("02-edit-history")
    bob.find("dialog [data-dialog=ok]").click()

    # Unsend, after confirming; both sides see the placeholder.
    alice.click_in(".msg", "Lunch at one?", "[data-menu]")
    alice.find(".menu [data-do=unsend]").click()
    alice.find("dialog [data-dialog=ok]").click()
    bob.wait_text(".msg.unsent", "This message was unsent")
    alice.wait_text(".msg.unsent", "You unsent a message")
    assert all("Lunch at one?" not in t for t in bob.texts(".bubble")), "the unsent text is still on Bob's screen"

    # User text is text: markup in a message is shown, never run.
    attack = "<img src=x onerror=\"window.pwned=1\"><b>bold?</b>"
    send(alice, attack)
    shown = bubble(bob, "<img src=x")
    assert attack in shown.text
    assert not bob.find_all(".bubble img[src='x']") and not bob.find_all(".bubble b")
    assert bob.js("return window.pwned") is None
    alice.screenshot("03-chat-desktop")
    bob.screenshot("04-chat-other-side")


def test_infinite_scroll_back_through_history(server, browsers):
    import requests
    from conftest import register_via_api, sign_in_as
    alice_account = register_via_api(server, "alice", "Alice")
    bob_account = register_via_api(server, "bob", "Bob")
    for n in range(1, 131):
        r = requests.post(server.url + "/api/messages", json={"recipientId": alice_account["user"]["id"], "content": f"Message {n}"},
                          headers={"Authorization": f"Bearer {bob_account['token']}"}, timeout=5)
        assert r.status_code == 201, r.text
    alice = browsers("alice")
    sign_in_as(alice, alice_account)
    alice.wait_text(".conversation[data-key] .badge", "130")
    assert alice.driver.title == "(130) Chatr"
    alice.click_text(".conversation[data-key]", "Bob")
    alice.wait_text(".msg .bubble", "Message 130")
    alice.find("[data-load-more]")
    assert len(alice.find_all(".msg")) == 50, "one page first"
    alice.wait(lambda: alice.driver.title == "Chatr", message="opening the chat did not clear the unread count")

    # Scrolling to the top loads the page before, twice, until the beginning; the view keeps its place.
    for expected in (100, 130):
        alice.js("document.querySelector('[data-messages]').scrollTop = 0")
        alice.wait(lambda: len(alice.find_all(".msg")) == expected, message=f"{expected} messages not loaded")
        assert alice.js("return document.querySelector('[data-messages]').scrollTop") > 0, "the view jumped to the top"
    alice.find(".history-start")
    texts = alice.texts(".msg .bubble")
    assert texts == [f"Message {n}" for n in range(1, 131)], "in order, no gaps, no duplicates"
