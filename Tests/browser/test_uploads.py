"""Sending files: the checks made before a byte is sent (the server's size limit and types, from
GET /api/client-config), the progress bar with Cancel (nothing stored), several files at once as
messages in order, and files pasted into the message box or dropped on the chat."""
import base64
import os
import tempfile

import requests

from conftest import alice_and_bob
from test_files_and_voice import png_file
from test_messaging import open_chat_by_search, send

UPLOAD = "/api/messages/upload"


def attach(b, *paths):
    field = b.driver.find_element("css selector", "[data-file]")
    b.js("arguments[0].hidden = false", field)
    field.send_keys("\n".join(paths))


def upload_requests(b):
    """How many upload requests the page has made (Resource Timing also lists XHRs)."""
    return b.js("return performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === arguments[0]).length", UPLOAD)


def slow_uploads(b, bytes_per_second):
    b.driver.execute_cdp_cmd("Network.enable", {})
    b.driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                             {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second})


def history(server, account, other_id):
    r = requests.get(server.url + "/api/messages/history", params={"otherUserId": other_id},
                     headers={"Authorization": f"Bearer {account['token']}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def text_file(path, size):
    with open(path, "w") as f:
        f.write(("notes " * (size // 6 + 1))[:size])
    return path


def types_shown(b):
    """The types of the file messages shown, read in one go (the list redraws as receipts come in)."""
    return b.js("return [...document.querySelectorAll('.msg[data-type]')].map((m) => m.dataset.type).filter((t) => t !== 'text')")


# Retry re-checks at once, so the pending draft may be replaced before a poll could see it; an
# observer keeps the names of the pending drafts the list was drawn with.
RECORD_PENDING_DRAFTS = """
window.pendingDrafts = [];
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (!(node instanceof Element)) continue;
      for (const draft of [node, ...node.querySelectorAll('.msg.pending')].filter((e) => e.matches('.msg.pending'))) {
        window.pendingDrafts.push(draft.textContent);
      }
    }
  }
}).observe(document.querySelector('[data-messages]'), { childList: true, subtree: true });
"""


def progress_bars(b):
    """{accessible name: percent} of every progress bar shown, read in one go."""
    return b.js("return Object.fromEntries([...document.querySelectorAll('.msg [role=progressbar]')]"
                ".map((bar) => [bar.getAttribute('aria-label'), Number(bar.getAttribute('aria-valuenow'))]))")


def test_a_file_over_the_limit_or_of_a_refused_type_is_not_sent_at_all(server, browsers):
    alice_account, bob_account, alice, bob = alice_and_bob(server, browsers)
    limits = requests.get(server.url + "/api/client-config", timeout=5).json()
    open_chat_by_search(alice, "bob", "Bob")
    send(alice, "Two files for you")
    with tempfile.TemporaryDirectory() as folder:
        big = os.path.join(folder, "photo.png")
        with open(big, "wb") as f:
            f.truncate(limits["maxUploadBytes"] + 300 * 1024)   # 10.3 MB with the default limit of 10 MB
        program = os.path.join(folder, "setup.exe")
        with open(program, "wb") as f:
            f.write(b"MZ" + bytes(range(256)) * 8)
        attach(alice, big)
        alice.wait_text(".msg.failed [data-upload-error]", "Not sent: photo.png is 10.3 MB; the limit is 10 MB")
        attach(alice, program)
        alice.wait_text(".msg.failed [data-upload-error]", "setup.exe cannot be sent")
    assert upload_requests(alice) == 0, "bytes were sent for a file the server would refuse"
    # Retry checks again (pending for a moment, then refused again, still nothing sent); Remove takes it away.
    alice.js(RECORD_PENDING_DRAFTS)
    alice.click_in(".msg.failed", "setup.exe", "[data-retry]")
    alice.wait(lambda: any("setup.exe" in text for text in alice.js("return window.pendingDrafts")), message="Retry did not try again")
    alice.wait(lambda: alice.js("return [...document.querySelectorAll('.msg')].filter((m) => m.textContent.includes('setup.exe'))"
                                ".map((m) => m.matches('.failed') && m.textContent.includes('setup.exe cannot be sent'))") == [True],
               message="Retry did not refuse setup.exe again")
    alice.click_in(".msg.failed", "setup.exe", "[data-discard]")
    alice.wait(lambda: all("setup.exe" not in m.text for m in alice.find_all(".msg")), message="Remove did not take it away")
    assert upload_requests(alice) == 0
    assert [m["type"] for m in history(server, alice_account, bob_account["user"]["id"])] == ["text"]


def test_the_message_box_takes_the_servers_longest_message(server, browsers):
    _, _, alice, _ = alice_and_bob(server, browsers)
    limits = requests.get(server.url + "/api/client-config", timeout=5).json()
    open_chat_by_search(alice, "bob", "Bob")
    alice.wait(lambda: alice.find("[data-input]").get_attribute("maxlength") == str(limits["maxMessageLength"]),
               message="the message box does not have the server's limit")


def test_an_upload_shows_its_progress_and_cancel_stores_nothing(server, browsers):
    alice_account, bob_account, alice, bob = alice_and_bob(server, browsers)
    open_chat_by_search(alice, "bob", "Bob")
    send(alice, "Sending a big file")
    bob.click_text(".conversation[data-key]", "Alice")
    slow_uploads(alice, 64 * 1024)   # 64 KB/s: about 10 s for the file
    with tempfile.TemporaryDirectory() as folder:
        attach(alice, text_file(os.path.join(folder, "report.txt"), 640 * 1024))
        alice.wait(lambda: alice.find(".msg[data-cmid] [role=progressbar]").get_attribute("aria-label") == "Sending report.txt",
                   message="no progress bar named for the file")
        alice.wait(lambda: 0 < int(alice.find(".msg [role=progressbar]").get_attribute("aria-valuenow")) < 100,
                   message="the progress did not move")
        # The percentage shown is the bar's (read together: the upload goes on meanwhile).
        shown = alice.js("const bar = document.querySelector('.msg [role=progressbar]');"
                         "return [bar.getAttribute('aria-valuenow'), bar.parentElement.querySelector('[data-upload-percent]').textContent,"
                         " bar.firstElementChild.style.width]")
        assert shown[1] == f"{shown[0]}%" and shown[2] == f"{shown[0]}%", shown
        alice.screenshot("upload-progress")
        alice.click_in(".msg[data-cmid]", "report.txt", "[data-discard]")   # Cancel
        alice.wait(lambda: all("report.txt" not in m.text for m in alice.find_all(".msg")), message="Cancel did not take the message away")
    # Once the line is fast again, a text goes through: the cancelled file never arrives.
    slow_uploads(alice, -1)
    send(alice, "Never mind")
    bob.wait_text(".msg .bubble", "Never mind")
    assert [m["content"] for m in history(server, alice_account, bob_account["user"]["id"])] == ["Sending a big file", "Never mind"]
    assert not bob.js("return document.querySelector('[data-messages]').textContent.includes('report.txt')")


def test_several_files_at_once_become_messages_in_order_each_with_its_progress(server, browsers):
    alice_account, bob_account, alice, bob = alice_and_bob(server, browsers)
    open_chat_by_search(alice, "bob", "Bob")
    send(alice, "Three files")
    bob.click_text(".conversation[data-key]", "Alice")
    alice.find("[data-input]").send_keys("This text stays")
    slow_uploads(alice, 64 * 1024)   # about 5 s for second.txt: long enough to look at the bars meanwhile
    with tempfile.TemporaryDirectory() as folder:
        paths = [png_file(os.path.join(folder, "first.png")), text_file(os.path.join(folder, "second.txt"), 300 * 1024),
                 png_file(os.path.join(folder, "third.png"), 80, 60)]
        attach(alice, *paths)
        # One at a time, in order: while second.txt goes, first.png is stored and third.png waits at 0 %.
        during_second = alice.wait(lambda: (lambda bars: bars if 0 < bars.get("Sending second.txt", 0) < 100 else None)(progress_bars(alice)),
                                   message="second.txt did not show its progress")
        assert "Sending first.png" not in during_second and during_second.get("Sending third.png") == 0, during_second
        bob.wait(lambda: types_shown(bob) == ["image", "file", "image"], timeout=30, message="Bob did not get image, file, image in order")
    alice.wait(lambda: types_shown(alice) == ["image", "file", "image"] and not alice.find_all(".msg [role=progressbar]"),
               timeout=15, message="Alice's files are not shown in order")
    assert alice.js("return document.querySelector('[data-input]').value") == "This text stays"
    stored = history(server, alice_account, bob_account["user"]["id"])
    assert [m.get("fileName") for m in stored[1:]] == ["first.png", "second.txt", "third.png"]
    assert not any(m.get("caption") for m in stored)


PNG_JS = """
const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
const transfer = new DataTransfer();
transfer.items.add(new File([bytes], arguments[1], { type: 'image/png' }));
return transfer;
"""


def png_base64(folder, name, width=64, height=48):
    with open(png_file(os.path.join(folder, name), width, height), "rb") as f:
        return base64.b64encode(f.read()).decode()


def test_a_pasted_image_and_dropped_files_are_sent(server, browsers):
    _, _, alice, bob = alice_and_bob(server, browsers)
    open_chat_by_search(alice, "bob", "Bob")
    send(alice, "Pictures")
    bob.click_text(".conversation[data-key]", "Alice")
    with tempfile.TemporaryDirectory() as folder:
        pasted, dropped = png_base64(folder, "pasted.png"), png_base64(folder, "dropped.png", 40, 30)
    # Pasted into the message box (as from a screenshot tool): sent at once.
    alice.js(f"""
        const transfer = (() => {{ {PNG_JS} }})();
        document.querySelector('[data-input]').dispatchEvent(new ClipboardEvent('paste', {{ clipboardData: transfer, bubbles: true, cancelable: true }}));
    """, pasted, "pasted.png")
    bob.wait(lambda: bob.js("const img = document.querySelector('.msg[data-type=image] img'); return img?.complete && img.naturalWidth") == 64,
             timeout=15, message="the pasted image did not arrive")
    assert alice.js("return document.querySelector('[data-input]').value") == ""

    # Dragged over the chat: a drop zone shows; dropped: sent, and the zone goes.
    alice.js(f"""
        window.dragged = (() => {{ {PNG_JS} }})();
        document.querySelector('[data-messages]').dispatchEvent(new DragEvent('dragenter', {{ dataTransfer: window.dragged, bubbles: true, cancelable: true }}));
    """, dropped, "dropped.png")
    zone = alice.find("[data-drop-zone]")
    assert "Drop files" in zone.text
    chat, area = alice.js("return ['main.chat', '[data-drop-zone]'].map((css) => document.querySelector(css).getBoundingClientRect().toJSON())")
    assert abs(area["width"] - chat["width"]) < 2 and abs(area["height"] - chat["height"]) < 2, (area, chat)
    alice.screenshot("upload-drop-zone")
    alice.js("document.querySelector('[data-messages]').dispatchEvent(new DragEvent('drop', { dataTransfer: window.dragged, bubbles: true, cancelable: true }))")
    alice.wait(lambda: not alice.find_all("[data-drop-zone]:not([hidden])"), message="the drop zone stayed")
    bob.wait(lambda: bob.js("return [...document.querySelectorAll('.msg[data-type=image] img')].map((i) => i.complete && i.naturalWidth)") == [64, 40],
             timeout=15, message="the dropped image did not arrive after the pasted one")
