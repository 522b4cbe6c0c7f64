#!/usr/bin/env python3
"""Product screenshots for the README: every main screen of the web client, light and dark.

    CHATR_BIN=/path/to/chatr python3 scripts/screenshots.py     (default .build/debug/chatr)

Starts the real server in a temporary folder (fresh SQLite, development mode, Public/ linked in,
as the browser tests do), seeds a believable team through the REST API and Socket.IO (a direct
chat with a reply, a reaction, an edit, a picture, a voice note and a link; a group with a
"was added" notice and read receipts), then photographs the screens in headless Chromium at
device scale 1 into docs/screenshots/. Needs what Tests/browser needs, plus ffmpeg.
"""
import math
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager

import requests
import socketio

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "browser"))
from chatr_process import Server, base_env, free_port  # noqa: E402
from conftest import Browser, register_via_api, sign_in_as  # noqa: E402

OUT = os.path.join(ROOT, "docs", "screenshots")
DESKTOP = (1280, 800)
PHONE = (390, 844)
THEMES = ("light", "dark")
VOICE_SECONDS = 12

# Not the product: development-only controls (the ⚗ Test Lab button), the text caret, and the
# scrollbars, which every system draws its own way.
SCREENSHOT_CSS = "[data-test-lab] { display: none !important; } * { caret-color: transparent !important; scrollbar-width: none; }"


@contextmanager
def chatr_server():
    """The `server` fixture of Tests/browser/conftest.py, outside pytest."""
    with tempfile.TemporaryDirectory() as workdir:
        os.symlink(os.path.join(ROOT, "Public"), os.path.join(workdir, "Public"))
        port = free_port()
        origin = f"http://127.0.0.1:{port}"   # the page's origin: file URLs must be on it
        server = Server(base_env(BACKEND_URL=origin, FRONTEND_URL=origin), workdir, port=port)
        try:
            yield server, workdir
        finally:
            server.stop()


# --- Media: a sunset picture and a voice note whose waveform follows its loudness ---

def voice_envelope(t):
    """Loudness 0…1 at t seconds: syllables (about 3 a second) in phrases with pauses between."""
    return abs(math.sin(math.pi * 3.1 * t)) * (0.35 + 0.65 * abs(math.sin(math.pi * t / 4.2)))


def make_media(folder):
    photo = os.path.join(folder, "sunset.png")
    # Front hill, back hill, sun, then a pink-to-orange sky: the first test that matches paints the pixel.
    front, back, sun = "gt(Y\\,310+26*sin(X/70))", "gt(Y\\,255+38*sin(X/110+2))", "lt(hypot(X-430\\,Y-215)\\,62)"
    layers = lambda f, b, s, sky: f"if({front}\\,{f}\\,if({back}\\,{b}\\,if({sun}\\,{s}\\,{sky})))"
    geq = f"geq=r='{layers(52, 128, 255, 255)}':g='{layers(40, 62, 232, '96+Y*0.36')}':b='{layers(84, 112, 170, '150-Y*0.12')}'"
    ffmpeg("-f", "lavfi", "-i", "color=black:s=640x400,format=rgb24", "-vf", geq, "-frames:v", "1", photo)
    voice = os.path.join(folder, "voice.ogg")
    loudness = "abs(sin(PI*3.1*t))*(0.35+0.65*abs(sin(PI*t/4.2)))"   # voice_envelope, in ffmpeg's words
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc=0.8*{loudness}*sin(2*PI*190*t):s=48000:d={VOICE_SECONDS}", "-c:a", "libopus", voice)
    return photo, voice


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


# --- Seeding: four colleagues, three direct chats and a group ---

class Person:
    """A verified account, its REST calls and (while connected) its socket."""

    def __init__(self, server, username, display_name):
        self.server = server
        self.account = register_via_api(server, username, display_name)
        self.id = self.account["user"]["id"]
        self.socket = None

    def call(self, method, path, **kwargs):
        r = requests.request(method, self.server.url + path, headers={"Authorization": f"Bearer {self.account['token']}"}, timeout=20, **kwargs)
        assert r.ok, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def say(self, to, content, reply_to=None):
        """A text message to a Person (direct) or a group id."""
        target = {"recipientId": to.id} if isinstance(to, Person) else {"groupId": to}
        return self.call("POST", "/api/messages", json={**target, "content": content, **({"replyToId": reply_to} if reply_to else {})})

    def read(self, other, up_to):
        target = {"otherUserId": other.id} if isinstance(other, Person) else {"groupId": other}
        self.call("POST", "/api/messages/read", json={**target, "upToMessageId": up_to["id"]})

    def connect(self):
        """Online (a green dot for the others) and able to react and edit, which are socket events."""
        self.socket = socketio.Client(reconnection=False)
        self.socket.connect(self.server.url, auth={"token": self.account["token"]}, transports=["websocket"], wait_timeout=10)

    def emit(self, event, payload):
        ack = self.socket.call(event, payload, timeout=10)
        assert ack and ack.get("ok"), f"{event}: {ack}"


def seed(server, media_folder):
    photo, voice = make_media(media_folder)
    maya = Person(server, "maya", "Maya Chen")
    leo = Person(server, "leo", "Leo Martins")
    priya = Person(server, "priya", "Priya Nair")
    sam = Person(server, "sam", "Sam Okafor")
    maya.call("PUT", "/api/users/me", json={"displayName": "Maya Chen", "firstName": "Maya", "lastName": "Chen", "showOnlineStatus": True,
                                            "bio": "Product designer. Coffee first, pixels second."})
    for person in (maya, leo, priya):
        person.connect()

    # Oldest activity first: the list shows the newest conversation on top.
    invoice = sam.say(maya, "I've sent you the invoice draft for the illustrations.")
    maya.read(sam, invoice)
    sam.read(maya, maya.say(sam, "Got it, thanks Sam! I'll check it tomorrow morning."))

    group = maya.call("POST", "/api/groups", json={"name": "Design team", "description": "Everything pixels",
                                                   "memberIds": [leo.id, priya.id]})["id"]
    priya.say(group, "Sprint review moved to Thursday at 3pm.")
    leo.say(group, "Works for me 👍")
    maya.call("POST", f"/api/groups/{group}/members", json={"userId": sam.id})   # the server writes "Sam Okafor was added"
    sam.say(group, "Hi all! Thanks for adding me 👋")
    priya.say(group, "Welcome, Sam! The design system docs are pinned in the wiki.")
    mine = maya.say(group, "I've shared the updated component library. Feedback welcome by Friday!")
    for member in (maya, leo, priya):
        member.read(group, mine)   # Maya too: the group opens without a "New messages" marker

    priya.say(maya, "Lunch at 1? The new ramen place just opened 🍜")   # left unread: a badge in the list

    leo.say(maya, "Morning Maya! Did you get a chance to look at the onboarding mockups?")
    calmer = maya.say(leo, "Just did. The new welcome screen feels so much calmer 🙌")
    leo.emit("message:react", {"messageId": calmer["id"], "emoji": "❤️"})
    with open(photo, "rb") as f:
        picture = leo.call("POST", "/api/messages/upload", data={"recipientId": maya.id, "type": "image", "caption": "Latest take on the hero illustration"},
                           files={"file": ("sunset.png", f, "image/png")})["message"]
    maya.emit("message:react", {"messageId": picture["id"], "emoji": "😍"})
    warmer = maya.say(leo, "Love the colors! Could we try the hills a bit warmer?", reply_to=picture["id"])
    maya.emit("message:edit", {"messageId": warmer["id"], "content": "Love the colours! Could we try the hills a touch warmer?"})
    waveform = [round(voice_envelope((i + 0.5) * VOICE_SECONDS / 100), 3) for i in range(100)]
    with open(voice, "rb") as f:
        leo.call("POST", "/api/messages/upload", data={"recipientId": maya.id, "type": "voice", "duration": str(VOICE_SECONDS),
                                                       "waveform": str(waveform).replace(" ", "")},
                 files={"file": ("voice.ogg", f, "audio/ogg")})
    # A reserved .example name never resolves: no preview card, so every run draws the same picture.
    leo.say(maya, "Sure! Research notes from Tuesday: https://wiki.acme.example/onboarding")
    last_from_leo = leo.say(maya, "No rush, Friday is fine.")
    maya.read(leo, last_from_leo)
    leo.read(maya, maya.say(leo, "Perfect, I'll go through them after lunch 👍"))

    maya.socket.disconnect()   # the browser is Maya now; Leo and Priya stay online
    return maya


# --- Taking the pictures ---

def open_browser(server, size, name):
    browser = Browser(server, name, width=max(size[0], 500), height=size[1])
    # Exactly this viewport at device scale 1: small files, and a phone's layout below 500 px.
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size[0] < 500})
    browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": f"""
        addEventListener('DOMContentLoaded', () => {{
          const style = document.createElement('style');
          style.textContent = {SCREENSHOT_CSS!r};
          document.head.append(style);
        }});"""})
    return browser


def set_theme(browser, theme):
    """The app's own setTheme (what the ◐ button and Settings do): stored, and applied at once."""
    browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; import('/lib/theme.js').then((m) => { m.setTheme(arguments[0]); done(); });", theme)
    browser.wait(lambda: browser.js("return document.documentElement.dataset.theme") == theme, message=f"theme {theme} not applied")


def settled(browser):
    """Nothing still loading: no placeholder rows or bubbles, every image in view drawn, no toast."""
    return browser.js("""
        if (document.querySelector('[aria-busy="true"], .toast')) return false;
        return [...document.images].every((img) => {
          const r = img.getBoundingClientRect();
          const inView = r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
          return !inView || (img.complete && img.naturalWidth > 0);
        });""")


def shoot(browser, name, prepare=None):
    """`name`-light.png and `name`-dark.png of the same screen; `prepare(theme)` sets it up for each."""
    for theme in THEMES:
        set_theme(browser, theme)
        if prepare:
            prepare(theme)
        browser.js("document.activeElement?.blur()")   # no focus ring (the chat focuses its message box)
        browser.wait(lambda: settled(browser), timeout=20, message=f"{name}-{theme}: the screen did not settle")
        path = os.path.join(OUT, f"{name}-{theme}.png")
        browser.driver.save_screenshot(path)
        print(f"{os.path.relpath(path, ROOT)}  {os.path.getsize(path) // 1024} KB")


def click(browser, css):
    """Clicked through the page, not the mouse: no hover effect left in the picture."""
    browser.js("arguments[0].click()", browser.find(css))


def open_chat(browser, name):
    browser.click_in(".conversation[data-key]", name, ".conversation-name")
    browser.wait_text(".chat-header .chat-name", name)


def direct_chat_ready(browser):
    browser.wait_text("[data-delivery]", "Read")
    browser.find(".msg[data-type=image] img")
    browser.find(".msg[data-type=voice] .waveform")
    browser.find(".msg .reactions")
    browser.wait_text(".chat-header [data-chat-sub]", "online")


def desktop_screens(server, maya):
    browser = open_browser(server, DESKTOP, "desktop")
    try:
        browser.open("/")
        browser.find("form[data-form=login]")
        shoot(browser, "signin")

        sign_in_as(browser, maya.account)
        browser.wait(lambda: len(browser.find_all(".conversation[data-key]")) == 4, message="the list did not come")
        open_chat(browser, "Leo Martins")
        direct_chat_ready(browser)
        shoot(browser, "chat")

        def open_settings(theme):
            # Opened again for each theme: the panel's "Dark theme" switch shows the theme it was opened in.
            browser.js("document.querySelector('.panel [data-close]')?.click()")
            click(browser, "[data-action=settings]")
            browser.find(".panel.open [data-dark]" + (":checked" if theme == "dark" else ":not(:checked)"))
        shoot(browser, "settings", prepare=open_settings)
        click(browser, ".panel [data-close]")

        browser.type("[data-input]", "Sounds great ")
        # A "Recent" row, as on a device that has been used for a while (the picker's own bookkeeping).
        browser.driver.execute_async_script("""const done = arguments[arguments.length - 1];
            import('/lib/recent-emoji.js').then((m) => { [...arguments[0]].reverse().forEach((e) => m.rememberEmoji(e)); done(); });""",
                                            ["👍", "❤️", "😂", "🎉", "🙌", "🔥", "😍", "☕"])
        click(browser, "[data-emoji-toggle]")
        browser.find("[data-emoji-picker] .emoji-btn")
        shoot(browser, "emoji")
        click(browser, "[data-emoji-toggle]")   # closes the picker
        browser.wait(lambda: not browser.find_all("[data-emoji-picker]"), message="the emoji picker did not close")

        open_chat(browser, "Design team")
        browser.wait_text("[data-notice]", "Sam Okafor was added")
        browser.wait_text("[data-delivery]", "Read by 2")
        shoot(browser, "group")
    finally:
        browser.quit()


def phone_screens(server, maya):
    browser = open_browser(server, PHONE, "phone")
    try:
        sign_in_as(browser, maya.account)
        browser.wait(lambda: len(browser.find_all(".conversation[data-key]")) == 4, message="the list did not come")
        shoot(browser, "phone-list")
        open_chat(browser, "Leo Martins")
        direct_chat_ready(browser)
        shoot(browser, "phone-chat")
    finally:
        browser.quit()


def main():
    os.makedirs(OUT, exist_ok=True)
    with chatr_server() as (server, workdir):
        maya = seed(server, workdir)
        desktop_screens(server, maya)
        phone_screens(server, maya)


if __name__ == "__main__":
    main()
