"""Alerts, focus and keyboard in the web client: desktop notifications and the sound for messages
in chats that are not open (never for mine or muted chats), the unread count on the tab's icon,
the live region that announces new messages in the open chat, focus kept inside panels and
dialogs, and the keyboard shortcuts.

The browser is stubbed at its edge only, before the app loads (DevTools' "add script to evaluate
on new document"): `Notification` records what is shown and grants the permission when asked (the
grant is kept in localStorage, as the browser keeps it across reloads), `AudioContext` counts the
tones started, and `document.visibilityState` can be switched to "hidden" by the test.
"""
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from conftest import register_via_api, sign_in_as

BROWSER_STUBS = """
window.__test = { notifications: [], permissionRequests: 0, tones: 0, hidden: false };
class RecordedNotification extends EventTarget {
  static get permission() { return localStorage.getItem('test.permission') || 'default'; }
  static async requestPermission() {
    window.__test.permissionRequests += 1;
    localStorage.setItem('test.permission', 'granted');
    return 'granted';
  }
  constructor(title, options) { super(); this.title = title; this.options = options; window.__test.notifications.push(this); }
  close() { this.closed = true; }
}
window.Notification = RecordedNotification;
const param = () => ({ value: 0, setValueAtTime() {}, exponentialRampToValueAtTime() {} });
class CountingAudioContext {
  constructor() { this.state = 'running'; this.currentTime = 0; this.destination = {}; }
  resume() { return Promise.resolve(); }
  createGain() { return { gain: param(), connect() {} }; }
  createOscillator() {
    return { type: 'sine', frequency: param(), connect() {}, stop() {}, start() { window.__test.tones += 1; } };
  }
}
window.AudioContext = CountingAudioContext;
Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (window.__test.hidden ? 'hidden' : 'visible') });
"""


def auth(account):
    return {"Authorization": f"Bearer {account['token']}"}


def send(server, account, to, text):
    r = requests.post(server.url + "/api/messages", json={"recipientId": to["user"]["id"], "content": text}, headers=auth(account), timeout=10)
    assert r.status_code == 201, r.text


def conversation_id(server, account, other):
    r = requests.get(server.url + "/api/messages/conversations", headers=auth(account), timeout=10)
    return next(c["conversationId"] for c in r.json()["conversations"] if c.get("user", {}).get("id") == other["user"]["id"])


def people(server, *names):
    return [register_via_api(server, name.lower(), name) for name in names]


def stubbed_browser(browsers, name, **size):
    b = browsers(name, **size)
    b.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": BROWSER_STUBS})
    return b


def recorded(b):
    return b.js("return window.__test.notifications.map((n) => ({title: n.title, body: n.options.body, tag: n.options.tag, icon: n.options.icon}))")


def tones(b):
    return b.js("return window.__test.tones")


def reload_until_online(b):
    """Loads the page again and waits for its socket (as sign_in_as does): a message sent before
    that arrives by the catch-up sync, which does not alert."""
    b.driver.refresh()
    b.find(".sidebar")
    b.wait(lambda: b.js("return document.querySelector('[data-connection]')?.dataset.state") == "online",
           message="socket did not connect after the reload")


def switched_on(b, css):
    """Whether the switch is on, read through the page (Settings redraws its switches)."""
    return b.js("return document.querySelector(arguments[0]).checked", css)


def open_settings(b):
    b.find("[data-action=settings]").click()
    b.find(".panel [data-desktop-notifications]")


def close_panel(b):
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: not b.find_all(".panel"), message="the panel did not close")


def preview_shows(b, name, text):
    b.wait(lambda: any(name in el.text and text in el.text for el in b.find_all(".conversation[data-key]")),
           message=f"the list does not show {text!r} for {name}")


def announced(b):
    return b.js("return document.querySelector('[data-announcer]').textContent")


def press(b, *keys):
    """Real key presses (modifiers first, held down for the last key)."""
    chain = ActionChains(b.driver)
    for key in keys[:-1]:
        chain.key_down(key)
    chain.send_keys(keys[-1])
    for key in reversed(keys[:-1]):
        chain.key_up(key)
    chain.perform()


def test_desktop_notifications_and_sound_come_for_chats_that_are_not_open(server, browsers):
    alice, bob, carol = people(server, "Alice", "Bob", "Carol")
    send(server, bob, alice, "Hi Alice")
    send(server, carol, alice, "Hello from Carol")
    b = stubbed_browser(browsers, "alice")
    sign_in_as(b, alice)
    assert b.js("return window.__test.permissionRequests") == 0, "the permission must not be asked at load"

    open_settings(b)
    b.find("[data-desktop-notifications]").click()
    b.wait(lambda: b.js("return window.__test.permissionRequests") == 1, message="the switch did not ask for the permission")
    b.wait(lambda: b.find("[data-desktop-notifications]").is_selected() and b.find("[data-desktop-notifications]").is_enabled(),
           message="the switch did not stay on")
    close_panel(b)
    b.click_text(".conversation[data-key]", "Carol")
    b.wait_text(".chat-name", "Carol")

    # A message in a chat that is not open: a notification named after the sender, and a tone.
    send(server, bob, alice, "Are you there?")
    b.wait(lambda: len(recorded(b)) == 1, message="no notification for Bob's message")
    shown = recorded(b)[0]
    assert (shown["title"], shown["body"], shown["tag"]) == ("Bob", "Are you there?", conversation_id(server, alice, bob))
    assert shown["icon"].startswith("data:image/svg+xml")
    # The sound's code loads with the first tone; once one has rung, every earlier chime has too.
    b.wait(lambda: tones(b) >= 1, message="no tone for Bob's message")

    # In the open chat (seen as it comes): no notification, no tone.
    send(server, carol, alice, "In the open chat")
    b.wait_text(".msg", "In the open chat")
    # Mine, sent from another device: nothing either.
    send(server, alice, bob, "Sent from my phone")
    preview_shows(b, "Bob", "You: Sent from my phone")
    assert [n["body"] for n in recorded(b)] == ["Are you there?"] and tones(b) == 1
    # A muted chat stays quiet (the page is loaded again to learn of the mute made elsewhere).
    r = requests.put(server.url + f"/api/messages/conversations/{conversation_id(server, alice, bob)}/mute", json={"muted": True}, headers=auth(alice), timeout=10)
    assert r.status_code == 200, r.text
    reload_until_online(b)
    b.wait(lambda: b.find_all(".conversation[data-key] [data-muted]"), message="the list does not show Bob's chat muted")
    send(server, bob, alice, "Muted message")
    preview_shows(b, "Bob", "Muted message")
    # The open chat while the tab is in the background: a notification again.
    b.js("window.__test.hidden = true")
    send(server, carol, alice, "While you were away")
    b.wait(lambda: [(n["title"], n["body"]) for n in recorded(b)] == [("Carol", "While you were away")],
           message="no notification for the open chat while the tab is hidden")
    # The reload dropped the sound's code: every chime asked for since then rings when it has
    # loaded, so a tone for the muted chat would be counted by the time this one is.
    b.wait(lambda: tones(b) >= 1, message="no tone for the open chat while the tab is hidden")
    assert tones(b) == 1, "one tone since the reload: none for the muted chat"

    # A click on a notification opens its chat.
    b.js("window.__test.hidden = false")
    send(server, bob, alice, "Unmuted later")   # (muted: no notification)
    dave, = people(server, "Dave")
    send(server, dave, alice, "Dave here")
    b.wait(lambda: [n["title"] for n in recorded(b)] == ["Carol", "Dave"], message="no notification for Dave's message")
    b.js("window.__test.notifications[1].dispatchEvent(new Event('click'))")
    b.wait_text(".chat-name", "Dave")
    assert b.js("return window.__test.notifications[1].closed") is True


def test_the_notification_switches_persist_and_the_sound_can_be_turned_off(server, browsers):
    alice, bob = people(server, "Alice", "Bob")
    send(server, bob, alice, "Hi Alice")
    b = stubbed_browser(browsers, "alice")
    sign_in_as(b, alice)
    open_settings(b)
    assert not switched_on(b, "[data-desktop-notifications]")
    assert switched_on(b, "[data-sound]"), "the sound is on until turned off"
    b.find("[data-desktop-notifications]").click()
    b.wait(lambda: b.find("[data-desktop-notifications]").is_selected() and b.find("[data-desktop-notifications]").is_enabled(),
           message="the switch did not stay on")
    b.find("[data-sound]").click()

    reload_until_online(b)
    open_settings(b)
    assert switched_on(b, "[data-desktop-notifications]"), "desktop notifications were not remembered"
    assert not switched_on(b, "[data-sound]"), "the sound switch was not remembered"
    assert b.js("return window.__test.permissionRequests") == 0, "a reload must not ask again"
    close_panel(b)

    send(server, bob, alice, "Quiet please")
    send(server, bob, alice, "Still quiet")
    b.wait(lambda: [n["body"] for n in recorded(b)] == ["Quiet please", "Still quiet"], message="no notifications after the reload")
    # Sound on again, the next message rings once. Every chime asked for rings when the sound's
    # code has loaded, so tones for the two quiet ones would be counted by then too.
    open_settings(b)
    b.find("[data-sound]").click()
    close_panel(b)
    send(server, bob, alice, "Ring now")
    b.wait(lambda: tones(b) >= 1, message="no tone once the sound was on again")
    assert tones(b) == 1, "tones rang while the sound was off"

    # Turned off: no more notifications.
    open_settings(b)
    b.find("[data-desktop-notifications]").click()
    b.wait(lambda: not b.find("[data-desktop-notifications]").is_selected() and b.find("[data-desktop-notifications]").is_enabled(),
           message="the switch did not turn off")
    close_panel(b)
    send(server, bob, alice, "Nobody hears this")
    preview_shows(b, "Bob", "Nobody hears this")
    assert len(recorded(b)) == 3


FAVICON_BADGE_PIXEL = """
const done = arguments[arguments.length - 1];
const image = new Image();
image.onload = () => {
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 64;
  const g = canvas.getContext('2d');
  g.drawImage(image, 0, 0, 64, 64);
  done(Array.from(g.getImageData(58, 18, 1, 1).data));
};
image.onerror = () => done(null);
image.src = document.querySelector('link[rel=icon]').href;
"""


def test_the_tab_icon_shows_the_unread_count_and_is_plain_at_zero(server, browsers):
    alice, bob = people(server, "Alice", "Bob")
    b = browsers("alice")
    sign_in_as(b, alice)
    plain = b.js("return document.querySelector('link[rel=icon]').href")
    assert plain.startswith("data:image/svg+xml")
    plain_pixel = b.driver.execute_async_script(FAVICON_BADGE_PIXEL)

    send(server, bob, alice, "One")
    send(server, bob, alice, "Two")
    b.wait(lambda: b.driver.title == "(2) Chatr", message="the title does not count 2 unread")
    b.wait(lambda: b.js("return document.querySelector('link[rel=icon]').href").startswith("data:image/png"),
           message="the icon has no badge")
    red, green, blue, alpha = b.driver.execute_async_script(FAVICON_BADGE_PIXEL)
    assert red > 180 and green < 90 and blue < 90 and alpha == 255, (red, green, blue, alpha)
    assert plain_pixel[:3] != [red, green, blue]

    b.click_text(".conversation[data-key]", "Bob")
    b.wait(lambda: b.driver.title == "Chatr", message="the title still counts unread messages")
    b.wait(lambda: b.js("return document.querySelector('link[rel=icon]').href") == plain, message="the icon did not go back to plain")


def test_new_messages_in_the_open_chat_are_announced_once_but_not_history_or_mine(server, browsers):
    alice, bob = people(server, "Alice", "Bob")
    send(server, bob, alice, "Old news")
    b = browsers("alice")
    sign_in_as(b, alice)
    region = b.driver.find_element("css selector", "[data-announcer]")
    assert region.get_attribute("aria-live") == "polite"
    b.click_text(".conversation[data-key]", "Bob")
    b.wait_text(".msg", "Old news")
    assert announced(b) == "", "history is not news"

    composer = b.find(".composer textarea")
    composer.send_keys("Mine", Keys.ENTER)
    b.wait(lambda: b.find_all(".msg-group.mine [data-ticks=sent], .msg-group.mine [data-ticks=delivered]"), message="my message was not sent")
    assert announced(b) == "", "my own message is not announced"

    send(server, bob, alice, "Fresh news")
    b.wait(lambda: announced(b) == "Bob: Fresh news", message="Bob's message was not announced")
    # Shown off screen to everyone, for screen readers only.
    assert b.js("const r = document.querySelector('[data-announcer]').getBoundingClientRect(); return r.width <= 1 && r.height <= 1")


def test_focus_stays_inside_panels_and_dialogs_and_returns_to_the_opener(server, browsers):
    alice, = people(server, "Alice")
    b = browsers("alice")
    sign_in_as(b, alice)
    active = lambda: b.js("const e = document.activeElement; return e.dataset.action || e.dataset.close !== undefined && 'close' || e.dataset.logout !== undefined && 'logout' || e.dataset.dialog || e.tagName")  # noqa: E731
    inside = lambda css: b.js("return !!document.activeElement.closest(arguments[0])", css)  # noqa: E731

    b.find("[data-action=settings]").click()
    b.find(".panel [data-logout]")
    assert b.js("return document.querySelector('.panel').getAttribute('aria-modal')") == "true"
    b.wait(lambda: active() == "close", message="the panel's first control does not have the focus")
    press(b, Keys.SHIFT, Keys.TAB)
    assert active() == "logout", "Shift+Tab from the first control goes to the last"
    press(b, Keys.TAB)
    assert active() == "close", "Tab from the last control goes to the first"
    for _ in range(3):
        press(b, Keys.TAB)
        assert inside(".panel")

    # A dialog over the panel keeps Tab too, and gives the focus back to its opener.
    b.find(".panel [data-logout]").click()
    b.wait(lambda: b.js("return !!document.querySelector('dialog[open]')"), message="no dialog")
    for _ in range(3):
        press(b, Keys.TAB)
        assert inside("dialog[open]")
    press(b, Keys.SHIFT, Keys.TAB)
    assert inside("dialog[open]")
    press(b, Keys.ESCAPE)
    b.wait(lambda: b.js("return !document.querySelector('dialog[open]')"), message="Esc did not close the dialog")
    b.wait(lambda: active() == "logout", message="focus did not return to the button that opened the dialog")
    press(b, Keys.TAB)
    assert active() == "close", "the panel traps Tab again once the dialog is gone"

    press(b, Keys.ESCAPE)
    b.wait(lambda: not b.find_all(".panel"), message="Esc did not close the panel")
    b.wait(lambda: active() == "settings", message="focus did not return to the Settings button")
    press(b, Keys.TAB)
    assert active() == "theme", "Tab from the Settings button goes on to the next control in the header"


def test_keyboard_shortcuts_move_between_conversations_and_list_themselves(server, browsers):
    alice, bob, carol = people(server, "Alice", "Bob", "Carol")
    send(server, bob, alice, "From Bob")
    send(server, carol, alice, "From Carol")   # the newest: first in the list
    b = browsers("alice")
    sign_in_as(b, alice)
    b.wait(lambda: len(b.find_all(".conversation[data-key]")) == 2, message="the list does not have both chats")
    b.driver.find_element("css selector", "body").click()

    press(b, Keys.ALT, Keys.ARROW_DOWN)
    b.wait_text(".chat-name", "Carol")
    press(b, Keys.ALT, Keys.ARROW_DOWN)
    b.wait_text(".chat-name", "Bob")
    press(b, Keys.ALT, Keys.ARROW_UP)
    b.wait_text(".chat-name", "Carol")

    # Not while typing: Alt+↓ and ? stay in the message box.
    composer = b.find(".composer textarea")
    composer.click()
    press(b, Keys.ALT, Keys.ARROW_DOWN)
    composer.send_keys("?")
    assert composer.get_attribute("value") == "?"
    assert b.js("return document.querySelector('.chat-name').textContent") == "Carol"   # (the header redraws on presence)
    assert not b.js("return !!document.querySelector('dialog[open]')")
    composer.clear()

    # ? lists the shortcuts (Ctrl+K still goes to the search, even from the message box).
    b.js("document.activeElement.blur()")
    press(b, "?")
    dialog = b.find("dialog[open]")
    assert "Keyboard shortcuts" in dialog.text
    for words in ("Ctrl+K", "Alt+↑ / Alt+↓", "Edit your last message", "Esc"):
        assert words in dialog.text, words
    press(b, Keys.ESCAPE)
    b.wait(lambda: not b.find_all("dialog[open]"), message="Esc did not close the shortcuts")
    composer.click()
    press(b, Keys.CONTROL, "k")
    assert b.js("return document.activeElement.matches('[data-search]')")
