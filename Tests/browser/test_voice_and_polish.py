"""Voice note controls (a waveform that reads at a glance and seeks, the speed button), loading
skeletons while the list and a chat's first page load, "1 member", empty states that say what to
do, and the development-only Test Lab button in the header."""
import io
import math
import struct
import wave

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from conftest import register_via_api, sign_in_as
from test_accessibility import serious

VOICE_SECONDS = 6


def auth(account):
    return {"Authorization": f"Bearer {account['token']}"}


def wav_bytes(seconds=VOICE_SECONDS, rate=8000):
    """A tone that swells and fades (a real WAV the server accepts as audio)."""
    frames = b"".join(struct.pack("<h", int(12000 * abs(math.sin(math.pi * i / rate)) * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(seconds * rate))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


def send_voice_note(server, sender, recipient):
    bars = [round(0.2 + 0.8 * abs(math.sin(i / 7)), 3) for i in range(100)]
    r = requests.post(server.url + "/api/messages/upload", headers=auth(sender), timeout=20,
                      data={"recipientId": recipient["user"]["id"], "type": "voice", "waveform": str(bars), "duration": str(VOICE_SECONDS)},
                      files={"file": ("note.wav", wav_bytes(), "audio/wav")})
    assert r.status_code in (200, 201), r.text


def before_page_scripts(browser, source):
    browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})


# The <audio> the player plays through is not in the page: the test keeps the one last played.
REMEMBER_PLAYED_AUDIO = """
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () { window.lastPlayed = this; return play.apply(this, arguments); };
"""

# Requests whose URL contains one of `window.heldRequests` wait until the test releases them: the
# page shows what it shows while they are slow, for as long as the test looks.
HOLD_REQUESTS = """
  window.heldRequests = ['/api/messages/conversations', '/api/messages/history'];
  const waiting = {};
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = String(input instanceof Request ? input.url : input);
    const held = window.heldRequests.find((part) => url.includes(part));
    if (!held) return realFetch.call(window, input, init);
    return new Promise((resolve) => { (waiting[held] ||= []).push(resolve); }).then(() => realFetch.call(window, input, init));
  };
  window.releaseRequests = (part) => {
    window.heldRequests = window.heldRequests.filter((p) => p !== part);
    for (const resolve of (waiting[part] || []).splice(0)) resolve();
  };
"""


def bar_geometry(b):
    """Width of every visible bar and the gap after it, in CSS pixels."""
    return b.js("""
      const bars = [...document.querySelectorAll('.msg[data-type=voice] .waveform span')].filter((s) => s.offsetWidth > 0);
      return bars.map((bar, i) => {
        const box = bar.getBoundingClientRect();
        const next = bars[i + 1]?.getBoundingClientRect();
        return [box.width, next ? next.left - box.right : null];
      });""")


def assert_bars_read_at_a_glance(b, where):
    geometry = bar_geometry(b)
    assert len(geometry) >= 25, f"{where}: only {len(geometry)} bars show"
    assert min(w for w, _ in geometry) >= 2, f"{where}: bars narrower than 2px: {geometry}"
    assert min(g for _, g in geometry if g is not None) >= 1, f"{where}: bars without a gap: {geometry}"


VOICE = ".msg[data-type=voice]"
SLIDER = f"{VOICE} [role=slider]"


def attribute(b, css, name):
    """Read through the page: the list may be redrawn (a read receipt) between finding and reading."""
    return b.js("return document.querySelector(arguments[0])?.getAttribute(arguments[1])", css, name)


def act_on(b, css, action):
    """`action(element)`, found again if a redraw replaced it first (Browser.wait retries stale ones)."""
    b.wait(lambda: action(b.find(css)) or True, message=f"could not act on {css}")


def click_middle(b, css):
    act_on(b, css, lambda el: ActionChains(b.driver).move_to_element(el).click().perform())


def test_voice_note_waveform_seeks_by_click_and_keys_and_speed_cycles(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob_account = register_via_api(server, "bob", "Bob")
    send_voice_note(server, alice, bob_account)
    bob = browsers("bob")
    before_page_scripts(bob, REMEMBER_PLAYED_AUDIO)
    sign_in_as(bob, bob_account)
    bob.click_text(".conversation[data-key]", "Alice")
    bob.find(SLIDER)
    assert attribute(bob, SLIDER, "aria-label") == "Position in voice message"
    assert attribute(bob, SLIDER, "aria-valuemax") == str(VOICE_SECONDS)
    assert_bars_read_at_a_glance(bob, "desktop")

    # A click in the middle of the waveform seeks to half the duration, before any playing.
    click_middle(bob, SLIDER)
    bob.wait(lambda: attribute(bob, SLIDER, "aria-valuenow") == "3", message="the click did not seek to the middle")
    bob.wait_text(f"{VOICE} [data-audio-time]", "0:03")
    assert attribute(bob, SLIDER, "aria-valuetext") == "0:03 of 0:06"
    # The played half is coloured differently from the rest.
    colours = bob.js("""return [...document.querySelectorAll('.msg[data-type=voice] .waveform span')]
      .map((s) => [s.classList.contains('played'), getComputedStyle(s).backgroundColor]);""")
    played = {c for is_played, c in colours if is_played}
    rest = {c for is_played, c in colours if not is_played}
    # Half of the 100 bars, from the start (±1: where the click lands within a pixel decides the last one).
    count = len([1 for is_played, _ in colours if is_played])
    assert 49 <= count <= 51 and all(is_played for is_played, _ in colours[:count]), colours
    assert played and rest and played.isdisjoint(rest), colours

    # The keyboard: ← goes back (to the start at most), → forward five seconds.
    act_on(bob, SLIDER, lambda el: el.send_keys(Keys.ARROW_LEFT))
    bob.wait(lambda: attribute(bob, SLIDER, "aria-valuenow") == "0", message="← did not seek back")
    act_on(bob, SLIDER, lambda el: el.send_keys(Keys.ARROW_RIGHT))
    bob.wait(lambda: attribute(bob, SLIDER, "aria-valuenow") == "5", message="→ did not seek forward")
    bob.wait_text(f"{VOICE} [data-audio-time]", "0:05")

    # Played from there: the audio starts where the waveform says.
    click_middle(bob, SLIDER)
    bob.wait(lambda: attribute(bob, SLIDER, "aria-valuenow") == "3", message="the second click did not seek")
    act_on(bob, f"{VOICE} [data-play]", lambda el: el.click())
    bob.wait(lambda: bob.js("return !!window.lastPlayed"), message="nothing played")
    bob.wait(lambda: 2.9 <= bob.js("return window.lastPlayed.currentTime") < VOICE_SECONDS, message="the audio did not start at 0:03")

    # The speed button: 1× → 1.5× → 2× → 1×, on the label, the name and the audio itself.
    for label, rate in (("1.5×", 1.5), ("2×", 2), ("1×", 1)):
        act_on(bob, f"{VOICE} [data-speed]", lambda el: el.click())
        bob.wait_text(f"{VOICE} [data-speed]", label)
        assert attribute(bob, f"{VOICE} [data-speed]", "aria-label") == f"Playback speed {label}"
        assert bob.js("return window.lastPlayed.playbackRate") == rate

    # The slider and the speed button pass axe in both themes.
    problems = serious(bob, "voice note, light")
    bob.find("[data-action=theme]").click()
    bob.wait(lambda: bob.js("return document.documentElement.dataset.theme") == "dark", message="no dark theme")
    problems += serious(bob, "voice note, dark")
    assert not problems, "\n".join(problems)

    # On a phone the waveform still reads (fewer, wider bars) and nothing overflows.
    bob.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    bob.wait(lambda: bob.js("return innerWidth") == 390, message="not phone-sized")
    assert_bars_read_at_a_glance(bob, "phone")
    assert bob.js("return document.documentElement.scrollWidth") <= 390
    bob.screenshot("voice-note-phone")


def shown_placeholders(b, container):
    """Placeholder rows in `container` that take room on screen."""
    return b.js("return [...document.querySelectorAll(arguments[0] + ' [data-skeleton]')].filter((e) => e.offsetHeight > 0).length", container)


def test_skeletons_show_while_the_list_and_the_first_page_load(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob_account = register_via_api(server, "bob", "Bob")
    r = requests.post(server.url + "/api/messages", json={"recipientId": bob_account["user"]["id"], "content": "Hello from Alice"},
                      headers=auth(alice), timeout=10)
    assert r.status_code == 201, r.text
    bob = browsers("bob")
    before_page_scripts(bob, HOLD_REQUESTS)
    sign_in_as(bob, bob_account)

    # The list is on its way (held as long as the test looks): placeholder rows in a busy list,
    # not a blank one nor "no conversations".
    bob.wait(lambda: attribute(bob, "[data-list]", "aria-busy") == "true" and shown_placeholders(bob, "[data-list]") >= 3,
             message="no placeholder rows in a busy list")
    assert not bob.find_all("[data-empty-list]")
    bob.screenshot("skeleton-list")
    bob.js("releaseRequests('/api/messages/conversations')")
    bob.wait_text(".conversation[data-key]", "Hello from Alice")
    assert attribute(bob, "[data-list]", "aria-busy") is None
    assert not bob.find_all("[data-skeleton]")

    # The chat's first page is on its way: placeholder bubbles in a busy message list.
    bob.click_text(".conversation[data-key]", "Alice")
    bob.wait(lambda: attribute(bob, "[data-messages]", "aria-busy") == "true" and shown_placeholders(bob, "[data-messages]") >= 3,
             message="no placeholder bubbles in a busy message list")
    bob.screenshot("skeleton-chat")
    bob.js("releaseRequests('/api/messages/history')")
    bob.wait_text(".msg .bubble", "Hello from Alice")
    assert attribute(bob, "[data-messages]", "aria-busy") is None
    assert not bob.find_all("[data-skeleton]")


def test_a_group_of_one_says_1_member(server, browsers):
    alice_account = register_via_api(server, "alice", "Alice")
    r = requests.post(server.url + "/api/groups", json={"name": "Just me", "memberIds": []}, headers=auth(alice_account), timeout=10)
    assert r.status_code == 201, r.text
    alice = browsers("alice")
    sign_in_as(alice, alice_account)
    alice.click_text(".conversation[data-key]", "Just me")
    # Read through the page, inside the wait: the header redraws on presence.
    alice.wait(lambda: alice.js("return document.querySelector('[data-chat-sub]')?.textContent") == "1 member",
               message="the chat's header does not say 1 member")
    alice.click_text("[data-chat-title]", "Just me")
    alice.wait(lambda: "1 member" in alice.js("return [...document.querySelectorAll('.panel h3')].map((h) => h.textContent.trim())"),
               message="group info does not say 1 member")


def test_no_conversations_yet_offers_what_to_do(server, browsers):
    account = register_via_api(server, "alice", "Alice")
    alice = browsers("alice")
    sign_in_as(alice, account)
    alice.wait_text("[data-empty-list]", "No conversations yet")
    assert attribute(alice, "[data-list]", "aria-busy") is None
    alice.screenshot("empty-list")
    assert not serious(alice, "no conversations yet")
    alice.click_text("[data-empty-list] button", "Find someone to chat with")
    alice.wait(lambda: alice.js("return document.activeElement.matches('[data-search]')"), message="the search box did not get the focus")
    alice.click_text("[data-empty-list] button", "New group")
    alice.wait_text(".panel", "New group")


def test_test_lab_button_in_the_header_in_development(server, browsers):
    assert requests.get(server.url + "/api/client-config", timeout=10).json()["mode"] == "development"
    account = register_via_api(server, "alice", "Alice")
    alice = browsers("alice")
    sign_in_as(alice, account)
    button = ".sidebar-header [data-test-lab]"
    alice.find(button)
    assert attribute(alice, button, "aria-label") == "Test Lab"
    assert "Test Lab" in attribute(alice, button, "title")
    assert alice.js("return document.querySelector(arguments[0]).textContent", button) == "⚗"
    act_on(alice, button, lambda el: el.click())
    alice.find(".lab")
    # Back in the chats (the header drawn again), the button is there again.
    alice.find(".lab a[href='#/']").click()
    alice.find(button)
    # On a phone the header still fits, the button included.
    alice.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    alice.wait(lambda: alice.js("return innerWidth") == 390, message="not phone-sized")
    right = alice.js("return document.querySelector('.sidebar-header [data-test-lab]').getBoundingClientRect().right")
    assert right <= 390 and alice.js("return document.documentElement.scrollWidth") <= 390
