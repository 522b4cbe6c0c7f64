"""Accessibility of the main screens, checked with axe-core (axe-selenium-python bundles it) in
Chromium at desktop size, in the light and the dark theme: the sign-in screen, the chat list
with a chat open, Settings and a group's info panel have no violation of impact "serious" or
"critical" (missing names, colour contrast, roles). Also what axe cannot see: icon-only header
buttons have a name and a tooltip, Esc closes panels and dialogs, and focus is visible."""
import pytest
import requests
from axe_selenium_python import Axe
from selenium.webdriver.common.keys import Keys

from conftest import register_via_api, sign_in_as

THEMES = [pytest.param("light", id="light"), pytest.param("dark", id="dark")]


def auth(account):
    return {"Authorization": f"Bearer {account['token']}"}


def say(server, account, text, recipient_id=None, group_id=None):
    target = {"groupId": group_id} if group_id else {"recipientId": recipient_id}
    r = requests.post(server.url + "/api/messages", json={**target, "content": text}, headers=auth(account), timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def use_theme(b, theme):
    b.open("/")
    b.js("localStorage.setItem('chatr.theme', arguments[0])", theme)


def serious(b, screen):
    """axe's violations of impact serious or critical on what is shown now, as readable lines."""
    b.wait(lambda: b.js("return document.documentElement.dataset.theme") in ("light", "dark"), message="no theme")
    axe = Axe(b.driver)
    axe.inject()
    results = axe.run()
    found = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    return [f"{screen}: {v['id']} ({v['impact']}): " + "; ".join(
        f"{' '.join(n['target'])} — {n.get('failureSummary', '').strip()}" for n in v["nodes"][:6]) for v in found]


@pytest.mark.parametrize("theme", THEMES)
def test_main_screens_have_no_serious_axe_violations(server, browsers, theme):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    say(server, bob, "Hello Alice, see https://example.com/notes", recipient_id=alice["user"]["id"])
    r = requests.post(server.url + "/api/groups", json={"name": "Book club", "memberIds": [bob["user"]["id"]]}, headers=auth(alice), timeout=10)
    assert r.status_code == 201, r.text
    group = r.json()
    say(server, bob, "Chapter one is great", group_id=group.get("id") or group["group"]["id"])

    b = browsers("alice")
    problems = []
    # Signed out: the sign-in screen.
    use_theme(b, theme)
    b.open("/")
    b.find("form")
    b.wait(lambda: b.js("return document.documentElement.dataset.theme") == theme, message="theme not applied")
    problems += serious(b, "sign-in")

    # Signed in: the list, a direct chat open (my messages with ticks, theirs, a link).
    sign_in_as(b, alice)
    b.click_text(".conversation[data-key^='u:']", "Bob")
    b.wait_text(".chat-name", "Bob")
    box = b.find("[data-input]")
    box.send_keys("Hi Bob")
    box.send_keys(Keys.ENTER)
    b.wait(lambda: b.find_all("[data-ticks]"), message="my message has no ticks")
    problems += serious(b, "chat")

    # Settings.
    b.find("[data-action=settings]").click()
    b.find(".panel.open, .panel[open], [role=dialog]")
    problems += serious(b, "settings")
    b.find("body").send_keys(Keys.ESCAPE)

    # A group's info.
    b.click_text(".conversation[data-key]", "Book club")
    b.wait_text(".chat-name", "Book club")
    b.find("[data-action=info]").click()
    b.wait_text(".panel", "members")
    problems += serious(b, "group info")
    b.screenshot(f"a11y-group-info-{theme}")
    assert not problems, "\n".join(problems)


def test_icon_buttons_are_named_esc_closes_panels_and_dialogs_and_focus_shows(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    say(server, bob, "Hello Alice", recipient_id=alice["user"]["id"])
    b = browsers("alice")
    sign_in_as(b, alice)
    b.click_text(".conversation[data-key]", "Bob")
    b.wait_text(".chat-name", "Bob")
    b.wait(lambda: b.find_all(".chat-header [data-action=mute]"), message="no mute button")

    # Every icon-only button in the headers has a name and a tooltip.
    unnamed = b.js("""return [...document.querySelectorAll('.sidebar-header .icon-btn, .chat-header .icon-btn, .composer .icon-btn')]
        .filter((el) => !(el.getAttribute('aria-label') || '').trim() || !(el.getAttribute('title') || '').trim())
        .map((el) => el.outerHTML.slice(0, 120))""")
    assert unnamed == [], unnamed

    # Esc closes the settings panel and gives focus back to the button that opened it.
    b.find("[data-action=settings]").click()
    b.find(".panel")
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: not b.find_all(".panel"), message="Esc did not close the settings panel")
    assert b.js("return document.activeElement?.dataset.action") == "settings"

    # Esc closes a dialog ("Join a group").
    b.find("[data-action=join-group]").click()
    b.wait(lambda: b.js("return !!document.querySelector('dialog[open]')"), message="no dialog")
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: b.js("return !document.querySelector('dialog[open]')"), message="Esc did not close the dialog")

    # Esc closes a message's menu.
    b.click_in(".msg", "Hello Alice", "[data-menu]")
    b.find(".menu")
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: not any(m.is_displayed() for m in b.find_all(".menu")), message="Esc did not close the menu")

    # Focus reached with the keyboard is drawn.
    b.find("[data-search]").click()
    b.driver.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
    outline = b.js("const s = getComputedStyle(document.activeElement); return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]")
    assert outline[0] in ("BUTTON", "A") and outline[1] != "none" and outline[2] not in ("0px", ""), outline
