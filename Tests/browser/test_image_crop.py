"""Issue 15: a new profile photo or cover is cropped before it is uploaded. The picture is a
600x300 PNG, red on the left half and blue on the right, so the stored image says which part of it
the person chose: the test decodes what the server stored (ffmpeg to raw RGB) and reads pixels."""
import json
import os
import struct
import subprocess
import tempfile
import zlib

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.keys import Keys

from conftest import register_via_api, sign_in_as
from test_accessibility import serious

RED, BLUE = (220, 30, 30), (30, 60, 220)


@pytest.fixture
def red_blue_png():
    """600x300: left half red, right half blue."""
    width, height = 600, 300
    row = b"\x00" + bytes(RED) * (width // 2) + bytes(BLUE) * (width // 2)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "red-blue.png")
        with open(path, "wb") as f:
            f.write(png)
        yield path


def open_settings_and_pick(b, image, path):
    """Opens Settings and picks `path` for image (profile-image or cover-image); returns the crop dialog."""
    if not b.find_all(".panel [data-image]"):
        b.find("[data-action=settings]").click()
    field = b.find(".panel").find_element("css selector", f"[data-image={image}]")
    b.js("arguments[0].hidden = false", field)   # the input hides behind its "Change photo" label
    field.send_keys(path)
    return b.find("dialog.crop-dialog")


def stored_image(server, account, field):
    """(width, height, pixel(x, y) -> (r, g, b)) of the image the server stored for field, or None."""
    me = requests.get(server.url + "/api/users/me", headers={"Authorization": f"Bearer {account['token']}"}, timeout=10).json()
    url = me.get("user", me)[field]
    if url is None:
        return None
    r = requests.get(requests.compat.urljoin(server.url, url), timeout=10)
    assert r.status_code == 200, url
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "json", "-"],
                           input=r.content, capture_output=True, check=True)
    size = json.loads(probe.stdout)["streams"][0]
    width, height = size["width"], size["height"]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         input=r.content, capture_output=True, check=True).stdout
    assert len(raw) == width * height * 3

    def pixel(x, y):
        i = (y * width + x) * 3
        return tuple(raw[i:i + 3])
    return width, height, pixel


def colour(rgb):
    r, _, b = rgb
    return "blue" if b > 150 and r < 90 else "red" if r > 150 and b < 90 else f"neither {rgb}"


def test_the_photo_is_the_part_dragged_into_the_frame(server, browsers, red_blue_png):
    account = register_via_api(server, "alice", "Alice")
    b = browsers("alice")
    sign_in_as(b, account)
    dialog = open_settings_and_pick(b, "profile-image", red_blue_png)
    frame = dialog.find_element("css selector", "[data-crop-frame]")
    assert b.js("return document.activeElement") == frame, "the frame has the focus, ready for the arrow keys"
    assert frame.get_attribute("aria-label") == "Crop area: drag or use the arrow keys"
    assert b.js("return document.querySelector('dialog.crop-dialog [data-crop-zoom]').labels[0].textContent.trim()") == "Zoom"
    assert stored_image(server, account, "profileImage") is None, "nothing is uploaded before the crop is chosen"
    b.screenshot("crop-photo")
    assert serious(b, "crop dialog") == []

    # Drag the picture far to the left: it stops where its right edge meets the frame (only blue shows).
    ActionChains(b.driver).click_and_hold(frame).move_by_offset(-frame.size["width"] // 2 + 5, 0).release().perform()
    b.click_text("dialog.crop-dialog button", "Use photo")
    b.wait_text(".toast", "Image updated")
    assert not b.find_all("dialog.crop-dialog")
    b.find(".panel-body .profile-avatar img")

    width, height, pixel = stored_image(server, account, "profileImage")
    assert (width, height) == (300, 300), "square, as large as the source allows (never blown up to 512)"
    # Before the drag the left quarter showed red: now the whole width is blue.
    assert [colour(pixel(x, height // 2)) for x in (5, width // 4, width // 2, width - 5)] == ["blue"] * 4


def test_cancel_and_esc_upload_nothing(server, browsers, red_blue_png):
    account = register_via_api(server, "alice", "Alice")
    b = browsers("alice")
    sign_in_as(b, account)
    open_settings_and_pick(b, "profile-image", red_blue_png)
    b.click_text("dialog.crop-dialog button", "Cancel")
    b.wait(lambda: not b.find_all("dialog.crop-dialog"), message="Cancel did not close the cropper")

    # The same file again opens the cropper again; the wheel zooms; Esc closes it.
    dialog = open_settings_and_pick(b, "profile-image", red_blue_png)
    frame = dialog.find_element("css selector", "[data-crop-frame]")
    ActionChains(b.driver).scroll_to_element(frame).scroll_from_origin(ScrollOrigin.from_element(frame), 0, -300).perform()
    assert float(dialog.find_element("css selector", "[data-crop-zoom]").get_attribute("value")) > 1.5
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait(lambda: not b.find_all("dialog.crop-dialog"), message="Esc did not close the cropper")
    assert b.find_all(".panel"), "Esc closed the cropper only, not Settings under it"
    assert stored_image(server, account, "profileImage") is None
    assert not b.find_all(".panel-body .profile-avatar img")


def test_the_cover_is_three_to_one_and_moves_with_the_keyboard_on_a_phone(server, browsers, red_blue_png):
    account = register_via_api(server, "alice", "Alice")
    b = browsers("alice", width=390, height=844)
    sign_in_as(b, account)
    dialog = open_settings_and_pick(b, "cover-image", red_blue_png)
    assert b.js("return document.documentElement.scrollWidth <= innerWidth"), "the page scrolls sideways"
    assert b.js("return arguments[0].getBoundingClientRect().right <= innerWidth", dialog), "the dialog is wider than the phone"
    b.screenshot("crop-cover-phone")

    # Zoom in with +, then move the picture to the left with the arrow keys until only blue shows.
    frame = b.driver.switch_to.active_element
    frame.send_keys("+" * 8)
    zoom = float(dialog.find_element("css selector", "[data-crop-zoom]").get_attribute("value"))
    assert zoom > 2, zoom
    frame.send_keys(Keys.SHIFT + Keys.ARROW_LEFT * 20)
    b.click_text("dialog.crop-dialog button", "Use cover")
    b.wait_text(".toast", "Image updated")

    width, height, pixel = stored_image(server, account, "coverImage")
    assert abs(width / height - 3) < 0.05, (width, height)
    assert width < 600 / 2, "zoomed in: a smaller part of the picture, at its own resolution"
    assert [colour(pixel(x, height // 2)) for x in (3, width // 2, width - 3)] == ["blue"] * 3
