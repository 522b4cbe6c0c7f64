"""Groups (create with members, live group messages, add/remove, leave, join by invite link),
settings (profile, photo, theme remembered, online-status visibility), the Test Lab, a phone-sized
screen and keyboard-only use."""
import os
import tempfile

from selenium.webdriver.common.keys import Keys

from conftest import alice_and_bob, register_via_api, sign_in_as
from test_files_and_voice import png_file
from test_messaging import send


def confirm(b):
    b.find("dialog [data-dialog=ok]").click()


def test_groups_from_creation_to_invite_link(server, browsers):
    accounts = {name: register_via_api(server, name, name.title()) for name in ("alice", "bob", "carol")}
    alice, bob, carol = browsers("alice"), browsers("bob"), browsers("carol")
    for b, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        sign_in_as(b, accounts[name])

    # Alice creates a group with Bob; it opens for her and appears live in Bob's list.
    alice.find("[data-action=new-group]").click()
    alice.type("[data-group-form] [name=name]", "Book club")
    alice.type("[data-group-form] [name=description]", "Monthly reads")
    alice.type("[data-people]", "bob")
    alice.click_text("[data-pick]", "Bob")
    alice.wait_text("[data-picked]", "Bob")
    alice.find("[data-group-form] [type=submit]").click()
    alice.wait_text(".chat-name", "Book club")
    send(alice, "Welcome to the club")
    bob.click_text(".conversation[data-key]", "Book club")
    assert "Alice" in bob.text_in(".msg-group.theirs", "Welcome to the club", ".msg-sender")
    send(bob, "Glad to be here")
    alice.wait_text(".msg .bubble", "Glad to be here")
    alice.wait_text("[data-chat-sub]", "2 members")

    # Group info: add Carol, then remove her again (confirmed).
    alice.find("[data-action=info]").click()
    alice.wait_text(".members", "Bob")
    alice.type("[data-add-search]", "carol")
    alice.click_text("[data-add]", "Carol")
    alice.wait_text(".members", "Carol")
    carol.wait_text(".conversation[data-key]", "Book club")
    alice.screenshot("10-group-info")
    # Panels stack: a member's profile slides over the group info; Esc closes only the top one.
    alice.click_in(".members li", "Bob", "[data-profile]")
    alice.wait_text(".panel .profile-username", "@bob")
    assert len(alice.find_all(".panel")) == 2
    alice.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    alice.wait(lambda: len(alice.find_all(".panel")) == 1, message="Esc did not close the top panel")
    alice.click_in(".members li", "Carol", "[data-remove]")
    confirm(alice)
    alice.wait(lambda: "Carol" not in alice.find(".members").text, message="Carol not removed")
    carol.wait(lambda: all("Book club" not in e.text for e in carol.find_all(".conversation[data-key]")), message="group stayed in Carol's list")
    # The owner makes an invite link (the group's id no longer lets anyone in; test_invites.py
    # covers the links in depth).
    alice.find("[data-create-invite]").click()
    invite = alice.find("[data-invite-url]").text
    group_id = alice.js("return JSON.parse(sessionStorage.getItem('chatr.active')).group.id")
    assert "/#/join/" in invite and group_id not in invite, invite
    alice.find(".panel [data-close]").click()

    # Carol pastes the link in "Join a group", sees which group it is and confirms; Alice sees
    # the member count grow.
    carol.find("[data-action=join-group]").click()
    carol.type("dialog input", invite)
    carol.find("dialog [type=submit]").click()
    carol.wait_text("dialog .dialog-title", "Join Book club (2 members)?")
    confirm(carol)
    carol.wait_text(".chat-name", "Book club")
    alice.wait_text("[data-chat-sub]", "3 members")
    # Members see history from when they joined (SPEC §6): what was said before she came back
    # stays with those who were there; what is said now reaches her.
    send(bob, "Welcome back, Carol")
    carol.wait_text(".msg .bubble", "Welcome back, Carol")
    assert all("Glad to be here" not in t for t in carol.texts(".msg .bubble"))

    # Bob leaves (confirmed): the chat closes for him and the group leaves his list.
    bob.find("[data-action=info]").click()
    bob.find("[data-leave]").click()
    confirm(bob)
    bob.wait(lambda: all("Book club" not in e.text for e in bob.find_all(".conversation[data-key]")), message="group stayed in Bob's list")
    alice.wait_text("[data-chat-sub]", "2 members")


def test_settings_lab_phone_and_keyboard(server, browsers):
    alice_account, bob_account, alice, bob = alice_and_bob(server, browsers, bob_size=(375, 740))
    bob.type("[data-search]", "alice")
    bob.click_text(".conversation[data-user]", "Alice")

    # Phone: the chat replaces the list; back returns to it.
    bob.find("[data-action=back]")
    assert not bob.find_all(".sidebar") or not bob.find_all(".sidebar")[0].is_displayed()
    send(bob, "Hi from my phone")
    alice.click_text(".conversation[data-key]", "Hi from my phone")
    bob.wait_text("[data-chat-sub]", "online")
    bob.screenshot("11-phone-chat")
    bob.find("[data-action=back]").click()
    bob.find(".sidebar")
    bob.screenshot("12-phone-list")

    # Keyboard only: focus the message's actions, open the menu, move, close with Esc.
    bob.wait_text(".conversation[data-key]", "Alice").send_keys(Keys.ENTER)
    bob.wait_text(".chat-name", "Alice")
    bob.act_in(".msg", "Hi from my phone", "[data-menu]", lambda button: button.send_keys(Keys.ENTER))
    bob.find(".menu")
    assert bob.js("return document.activeElement.dataset.emoji") == "👍"
    bob.driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert bob.js("return document.activeElement.closest('.menu') !== null")
    bob.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    bob.wait(lambda: not bob.find_all(".menu"), message="Esc did not close the menu")
    assert bob.js("return document.activeElement.dataset.menu") is not None, "focus returns to the button"

    # Settings: names, photo, theme (remembered across a reload), online status hidden.
    alice.find("[data-action=settings]").click()
    alice.type("[data-profile] [name=displayName]", "Alice L.")
    alice.find("[data-profile] [type=submit]").click()
    alice.wait_text(".toast", "Profile saved")
    with tempfile.TemporaryDirectory() as folder:
        field = alice.driver.find_element("css selector", "[data-image=profile-image]")
        alice.js("arguments[0].hidden = false", field)
        field.send_keys(png_file(os.path.join(folder, "me.png")))
        alice.click_text("dialog.crop-dialog button", "Use photo")   # cropped first (test_image_crop.py)
        alice.wait_text(".toast", "Image updated")
    alice.find(".panel-body .profile-avatar img")
    alice.find("[data-dark]").click()
    assert alice.js("return document.documentElement.dataset.theme") == "dark"
    alice.screenshot("13-settings-dark")
    alice.find("[data-online]").click()
    bob.wait(lambda: bob.find("[data-chat-sub]").text in ("offline",) or "last seen" in bob.find("[data-chat-sub]").text, message="Alice still shown online")
    alice.find("[data-online]").click()
    bob.wait_text("[data-chat-sub]", "online", timeout=10)
    alice.open("/")
    alice.find(".sidebar")
    assert alice.js("return document.documentElement.dataset.theme") == "dark"
    assert alice.js("return JSON.parse(localStorage.getItem('chatr.user')).displayName") == "Alice L."

    # Test Lab: presence toggles reach Bob; bad JSON is refused; an emitted event's ack is logged.
    alice.open("/#/lab")
    alice.find("[data-presence=away]").click()
    bob.wait_text("[data-chat-sub]", "away")
    alice.wait_text(".lab-entry.lab-out", "presence:update")
    alice.find("[data-presence=online]").click()
    bob.wait_text("[data-chat-sub]", "online")
    alice.type("[data-emit] [name=payload]", "{not json")
    alice.find("[data-emit] [type=submit]").click()
    alice.wait_text("[data-emit] .form-error", "not valid JSON")
    alice.type("[data-emit] [name=payload]", f'["{bob_account["user"]["id"]}"]')
    alice.find("[data-emit] [type=submit]").click()
    ack = alice.wait_text(".lab-entry.lab-ack", "presence:request ack")
    assert '"ok": true' in ack.text
    alice.screenshot("14-test-lab")
