"""Images (thumbnail, lightbox), files (card with name and size) and a voice note recorded with
Chromium's fake microphone: live level bars, `audio:recording` on the other side, the waveform
computed in the browser, playback that reports listening to the sender."""
import os
import struct
import tempfile
import zlib

from selenium.webdriver.common.keys import Keys

from conftest import alice_and_bob
from test_messaging import open_chat_by_search, send


def png_file(path, width=64, height=48):
    """A real RGB PNG (a gradient) written with zlib: the server checks images by their bytes."""
    raw = b"".join(b"\x00" + b"".join(bytes([(x * 4) % 256, (y * 5) % 256, 160]) for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)
    return path


def attach(b, path):
    field = b.driver.find_element("css selector", "[data-file]")
    b.js("arguments[0].hidden = false", field)
    field.send_keys(path)


def test_images_files_and_voice_notes(server, browsers):
    _, _, alice, bob = alice_and_bob(server, browsers)
    open_chat_by_search(alice, "bob", "Bob")
    send(alice, "Files coming")
    bob.click_text(".conversation[data-key]", "Files coming")

    with tempfile.TemporaryDirectory() as folder:
        # An image: a thumbnail in the chat, full screen on click, Esc closes.
        attach(alice, png_file(os.path.join(folder, "sunset.png")))
        thumb = bob.find(".msg[data-type=image] .image-btn img", timeout=15)
        bob.wait(lambda: bob.js("return arguments[0].complete && arguments[0].naturalWidth", thumb) == 64, message="image did not load")
        bob.find(".msg[data-type=image] .image-btn").click()
        bob.find(".lightbox img")
        bob.screenshot("05-lightbox")
        bob.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        bob.wait(lambda: not bob.find_all(".lightbox"), message="Esc did not close the lightbox")

        # A document: a card with its name and size.
        notes = os.path.join(folder, "notes.txt")
        with open(notes, "w") as f:
            f.write("Meeting notes\n" * 100)
        attach(alice, notes)
        card = bob.wait_text(".file-card", "notes.txt", timeout=15)
        assert "1.4 KB" in card.text
        assert card.get_attribute("href").startswith(server.url)

    # A voice note: Alice records (fake microphone), Bob sees that she is recording.
    alice.find("[data-record]").click()
    alice.find("[data-recording-bar]")
    alice.wait(lambda: len(alice.find_all("[data-levels] span")) == 30, message="no live level bars")
    bob.wait_text("[data-chat-sub]", "recording")
    alice.screenshot("06-recording")
    alice.wait(lambda: alice.find("[data-rec-time]").text >= "0:02", timeout=6, message="recording did not run")
    alice.find("[data-rec=send]").click()
    bob.find(".msg[data-type=voice] .audio", timeout=15)
    bob.wait(lambda: "recording" not in bob.find("[data-chat-sub]").text, message="recording indicator stayed")

    # The real waveform is computed in Alice's browser and reaches Bob as audio:waveform.
    heights = lambda b: b.js("return [...document.querySelectorAll('.msg[data-type=voice] .waveform span')].map(s => s.style.height)")
    bob.wait(lambda: len(set(heights(bob))) > 5, timeout=15, message="waveform never arrived")
    assert len(heights(bob)) == 100

    # Bob plays it: the bars fill, and Alice sees listening, then listened.
    bob.click_in(".msg[data-type=voice]", "", "[data-play]")
    alice.wait_text("[data-delivery]", "Listen", timeout=10)
    bob.wait(lambda: bob.find_all(".msg[data-type=voice] .waveform span.played"), message="bars did not fill")
    alice.wait_text("[data-delivery]", "Listened", timeout=15)
    bob.screenshot("07-voice-note")

    # Every event is in Bob's Test Lab log, payload included.
    bob.open("/#/lab")
    assert '"waveform"' in bob.text_in(".lab-entry.lab-in", "audio:waveform", "pre")
    bob.wait_text(".lab-entry.lab-out", "audio:listening")
