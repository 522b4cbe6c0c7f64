"""Link previews through the real `chatr` binary: `GET /api/link-preview?url=` fetches a page
from a small web site served by this process on 127.0.0.1 (the testing server allows private
addresses; production's refusals are in LinkPreviewTests.swift), and the card's picture comes
back through `GET /api/link-preview/image`. The site counts what it is asked, so the tests see
the cache and the shared fetch from outside."""
import struct
import threading
import time
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
import requests


def png(width, height):
    """A real PNG (one grey pixel row per line)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


CARD = png(40, 20)
ARTICLE = """<!doctype html><html><head><meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Release notes &amp; road map">
<meta property="og:description" content="What shipped in v2, and what comes next.">
<meta property="og:image" content="/img/card.png">
<meta property="og:site_name" content="Example Blog">
</head><body><h1>Release notes</h1></body></html>"""


class Site:
    """A web site on 127.0.0.1 with the pages the tests need; `hits` counts requests per path."""

    def __init__(self):
        site = self
        self.hits = Counter()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", content_type="text/html; charset=utf-8", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server read what it wanted and hung up

            def do_GET(self):
                site.hits[self.path] += 1
                path = self.path
                if path.startswith("/article"):
                    if "slowly" in path:
                        time.sleep(0.5)  # long enough for concurrent asks to overlap
                    return self.reply(200, ARTICLE.encode())
                if path == "/img/card.png":
                    return self.reply(200, CARD, "image/png")
                if path.startswith("/redirect/"):
                    left = int(path.rsplit("/", 1)[1])
                    return self.reply(302, headers={"Location": "/article" if left == 0 else f"/redirect/{left - 1}"})
                if path == "/title-only":
                    return self.reply(200, b"<html><head><title>Just a title</title></head></html>")
                if path == "/nothing":
                    return self.reply(200, b"<html><head></head><body>no title at all</body></html>")
                if path == "/notes.txt":
                    return self.reply(200, b"plain text", "text/plain")
                if path == "/big":
                    # The head first, then 3 MB the server must not wait for.
                    return self.reply(200, b"<html><head><title>Big page</title></head><body>" + b"x" * (3 * 1024 * 1024))
                if path == "/slow":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    time.sleep(12)  # never finishes within the server's 5 s
                    return None
                if path == "/drip":
                    # Headers at once, then a byte a second: each read is quick, the whole is not.
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    try:
                        for _ in range(30):
                            self.wfile.write(b"<")
                            self.wfile.flush()
                            time.sleep(1)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return None
                if path == "/long-image":
                    return self.reply(200, b"<html><head><title>Long</title><meta property=og:image content=/" + b"a" * 5000 + b".png></head></html>")
                if path == "/to-ftp":
                    return self.reply(302, headers={"Location": "ftp://127.0.0.1/file"})
                if path == "/slow-photo.png":
                    time.sleep(0.5)
                    return self.reply(200, CARD, "image/png")
                if path == "/slow-photo-page":
                    return self.reply(200, b"<html><head><title>P</title><meta property=og:image content=/slow-photo.png></head></html>")
                if path == "/photo.png":
                    return self.reply(200, CARD, "image/png")
                if path == "/fake-image":
                    return self.reply(200, b"<html><head><title>Fake</title><meta property=og:image content=/fake.png></head></html>")
                if path == "/fake.png":
                    return self.reply(200, b"this is not a picture", "image/png")
                if path == "/huge-image":
                    return self.reply(200, b"<html><head><title>Huge</title><meta property=og:image content=/huge.png></head></html>")
                if path == "/huge.png":
                    return self.reply(200, CARD + b"\x00" * (2 * 1024 * 1024), "image/png")
                return self.reply(404, b"<html><head><title>Not found</title></head></html>")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.stop()


def local(chatr, address):
    """A URL the server built from its BACKEND_URL (localhost:3001 in tests), on the test's port."""
    path = address.split("/", 3)[3]
    return f"{chatr.url}/{path}"


def preview(chatr, token, url):
    return requests.get(chatr.url + "/api/link-preview", params={"url": url}, headers={"Authorization": f"Bearer {token}"}, timeout=20)


def test_a_page_previews_with_its_open_graph_card_and_picture(chatr, site):
    _, token = chatr.register("ann")
    r = preview(chatr, token, site.url + "/article")
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["url"] == site.url + "/article"
    assert card["title"] == "Release notes & road map"
    assert card["description"] == "What shipped in v2, and what comes next."
    assert card["siteName"] == "Example Blog"
    assert card["image"].startswith("http://localhost:3001/api/link-preview/image?"), card["image"]

    # The picture through the server, with no token (an <img> sends none), byte for byte.
    picture = requests.get(local(chatr, card["image"]), timeout=10)
    assert picture.status_code == 200
    assert picture.headers["Content-Type"] == "image/png"
    assert picture.content == CARD
    assert site.hits["/img/card.png"] == 1
    assert requests.get(local(chatr, card["image"]), timeout=10).content == CARD
    assert site.hits["/img/card.png"] == 1, "the picture is kept, not fetched again"

    # The signature is the permission: the route is not an open proxy.
    forged = card["image"].replace(quote("/img/card.png", safe=""), quote("/photo.png", safe=""))
    assert forged != card["image"]
    r = requests.get(local(chatr, forged), timeout=10)
    assert r.status_code == 403 and r.json()["code"] == "url_not_allowed"
    assert site.hits["/photo.png"] == 0

    # Asked again (by anyone): from the cache.
    _, bob = chatr.register("bob")
    assert preview(chatr, bob, site.url + "/article").json() == card
    assert site.hits["/article"] == 1


def test_concurrent_asks_for_one_link_share_one_fetch(chatr, site):
    _, token = chatr.register("ann")
    url = site.url + "/article?slowly"
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: preview(chatr, token, url), range(8)))
    assert [r.status_code for r in replies] == [200] * 8
    assert {r.json()["title"] for r in replies} == {"Release notes & road map"}
    assert site.hits["/article?slowly"] == 1


def test_redirects_are_followed_three_times_at_most(chatr, site):
    _, token = chatr.register("ann")
    r = preview(chatr, token, site.url + "/redirect/2")  # 3 redirects, then the article
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Release notes & road map"
    assert r.json()["url"] == site.url + "/redirect/2", "the card keeps the link as written"
    r = preview(chatr, token, site.url + "/redirect/3")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "preview_unavailable"
    assert "redirects" in r.json()["error"]


def test_what_has_no_preview_says_so_quickly(chatr, site):
    _, token = chatr.register("ann")
    r = preview(chatr, token, site.url + "/title-only")
    assert r.status_code == 200 and r.json()["title"] == "Just a title"
    assert r.json()["image"] is None and r.json()["siteName"] == "127.0.0.1"
    for path in ("/nothing", "/notes.txt", "/missing"):
        r = preview(chatr, token, site.url + path)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["code"] == "preview_unavailable", path
    # A failure is remembered for a while too: the site is not asked again.
    assert preview(chatr, token, site.url + "/missing").status_code == 422
    assert site.hits["/missing"] == 1

    # Only the first 512 KB of a page are read: a 3 MB page previews from its head at once.
    started = time.monotonic()
    r = preview(chatr, token, site.url + "/big")
    assert r.status_code == 200 and r.json()["title"] == "Big page"
    assert time.monotonic() - started < 5

    # A site that stops answering is given 5 seconds.
    started = time.monotonic()
    r = preview(chatr, token, site.url + "/slow")
    took = time.monotonic() - started
    assert r.status_code == 422, r.text
    assert 4 < took < 9, took

    # Nothing listening there.
    r = preview(chatr, token, "http://127.0.0.1:9/")
    assert r.status_code == 422


def test_pictures_must_be_small_real_images(chatr, site):
    _, token = chatr.register("ann")
    # A link to a picture is its own preview.
    r = preview(chatr, token, site.url + "/photo.png")
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "photo.png"
    assert requests.get(local(chatr, r.json()["image"]), timeout=10).content == CARD

    for page in ("/fake-image", "/huge-image"):
        card = preview(chatr, token, site.url + page).json()
        r = requests.get(local(chatr, card["image"]), timeout=10)
        assert r.status_code == 422, (page, r.status_code)
        assert r.json()["code"] == "preview_unavailable"


def test_bad_links_and_strangers_are_refused(chatr, site):
    _, token = chatr.register("ann")
    assert requests.get(chatr.url + "/api/link-preview", params={"url": site.url + "/article"}, timeout=10).status_code == 401
    for bad in ("", "not a url", "ftp://example.com/", "javascript:alert(1)", "http://user:pw@127.0.0.1/", "http://" + "a" * 2100):
        r = preview(chatr, token, bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["code"] == "invalid_url"
    r = requests.get(chatr.url + "/api/link-preview/image", params={"url": site.url + "/photo.png"}, timeout=10)
    assert r.status_code == 400


def test_previews_are_rate_limited_per_person(chatr, site):
    _, ann = chatr.register("ann")
    _, bob = chatr.register("bob")
    url = site.url + "/article"
    statuses = [preview(chatr, ann, url).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    assert preview(chatr, bob, url).status_code == 200, "someone else is not held back"


def test_a_site_that_drips_its_body_is_cut_off(chatr, site):
    _, token = chatr.register("ann")
    started = time.monotonic()
    r = preview(chatr, token, site.url + "/drip")
    took = time.monotonic() - started
    assert r.status_code == 422, r.text
    assert 6 < took < 12, f"{took:.1f} s: the whole fetch has one deadline, not each read"


def test_odd_pages_and_redirects(chatr, site):
    _, token = chatr.register("ann")
    r = preview(chatr, token, site.url + "/long-image")
    assert r.status_code == 200 and r.json()["title"] == "Long"
    assert r.json()["image"] is None, "a picture address longer than a link may be is dropped"
    r = preview(chatr, token, site.url + "/to-ftp")
    assert r.status_code == 422 and r.json()["code"] == "preview_unavailable", r.text
    # Even outside production, link-local addresses (cloud metadata) are never fetched.
    for target in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/"):
        r = preview(chatr, token, target)
        assert r.status_code == 403 and r.json()["code"] == "url_not_allowed", (target, r.text)


def test_concurrent_asks_for_one_picture_share_one_fetch(chatr, site):
    _, token = chatr.register("ann")
    card = preview(chatr, token, site.url + "/slow-photo-page").json()
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: requests.get(local(chatr, card["image"]), timeout=10), range(8)))
    assert [r.status_code for r in replies] == [200] * 8
    assert all(r.content == CARD for r in replies)
    assert site.hits["/slow-photo.png"] == 1
