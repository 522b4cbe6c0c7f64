"""Browser tests: the real `chatr` binary serving the web client, driven in headless Chromium.

Each test gets its own server (fresh database, fresh rate limits) started in a temporary folder
that links to the repository's Public/ so the server serves the client under test. Chromium runs
with fake media devices so voice notes can be recorded. CHATR_E2E_DATABASE_URL runs the server
on PostgreSQL instead of SQLite. Screenshots go to Tests/browser/screenshots/ (not committed).
"""
import os
import sys
import tempfile
import time
import uuid

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "support"))
from chatr_process import Server, base_env, free_port, reset_postgres_if_used  # noqa: E402

SCREENSHOTS = os.path.join(HERE, "screenshots")
PASSWORD = "Sup3r-secret!"


@pytest.fixture
def server():
    with tempfile.TemporaryDirectory() as workdir:
        os.symlink(os.path.join(ROOT, "Public"), os.path.join(workdir, "Public"))
        # The browser loads the page from 127.0.0.1:<port>; file URLs must be on the same origin.
        reset_postgres_if_used()
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        s = Server(base_env(BACKEND_URL=origin, FRONTEND_URL=origin), workdir, port=port)
        try:
            yield s
        finally:
            s.stop()


class Browser:
    """One user's Chromium with helpers that wait the way a person looks at the screen."""

    def __init__(self, server, name, width=1280, height=900):
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--window-size={width},{height}", "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
                    # No slide-in animations: a click lands where the element is, not where it is going.
                    "--force-prefers-reduced-motion"):
            options.add_argument(arg)
        options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
        if width < 500:
            # Chromium's windows are at least 500 px wide: emulate a phone's viewport instead.
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                        {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
        self.server = server
        self.name = name
        self.console = []

    def open(self, path="/"):
        self.driver.get(self.server.url + path)

    def find(self, css, timeout=10):
        return WebDriverWait(self.driver, timeout).until(lambda d: _visible(d, css), message=f"{self.name}: no visible {css}")

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout=10, message=""):
        try:
            return WebDriverWait(self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition())
        except TimeoutException:
            self.screenshot(f"timeout-{self.name}")
            raise AssertionError(f"{self.name}: {message}")

    def wait_text(self, css, text, timeout=10):
        """Waits until an element matching css contains text; returns that element."""
        def check():
            for el in self.find_all(css):
                try:
                    if text in el.text:
                        return el
                except Exception:  # re-rendered while reading
                    pass
            return None
        return self.wait(check, timeout, f"no {css} containing {text!r}")

    def click_text(self, css, text, timeout=10):
        """Clicks the element matching css that contains text, finding it again if a live update
        redrew it between finding and clicking."""
        def attempt():
            el = self.wait_text(css, text, timeout)
            try:
                el.click()
                return True
            except StaleElementReferenceException:
                return False
        self.wait(attempt, timeout, f"could not click {css} containing {text!r}")

    def act_in(self, css, text, inner, action, timeout=10):
        """Does `action(element)` on the `inner` element of the css match containing text;
        retried when a live update redraws the list in between. Returns the action's result."""
        def attempt():
            for el in self.find_all(css):
                if text in el.text:
                    result = action(el.find_element(By.CSS_SELECTOR, inner))
                    return True if result is None else result
            return None
        return self.wait(attempt, timeout, f"no {inner} in {css} containing {text!r}")

    def click_in(self, css, text, inner, timeout=10):
        # Through JS: hover-only buttons (opacity 0 until hovered) are still real buttons.
        self.act_in(css, text, inner, lambda el: self.js("arguments[0].click()", el), timeout)

    def text_in(self, css, text, inner, timeout=10):
        return self.act_in(css, text, inner, lambda el: el.text or " ", timeout)

    def type(self, css, text, clear=True):
        el = self.find(css)
        if clear:
            el.clear()
        el.send_keys(text)
        return el

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def texts(self, css):
        """The visible text of every match, read in one call (a redraw cannot make them stale)."""
        return self.js("return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText.trim())", css)

    def screenshot(self, name):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        self.driver.save_screenshot(os.path.join(SCREENSHOTS, f"{name}.png"))

    def collect_console(self):
        self.console += self.driver.get_log("browser")
        return self.console

    def severe_console_errors(self):
        # Failed network requests the tests cause on purpose (offline, wrong codes) are logged by
        # Chromium as errors of the request, not of the page's scripts; page script errors are not.
        return [e for e in self.collect_console() if e["level"] == "SEVERE" and not _expected_network_error(e["message"])]

    def quit(self):
        self.driver.quit()


def _expected_network_error(message):
    return ("Failed to load resource" in message or "net::ERR_" in message or "WebSocket connection" in message)


def _visible(driver, css):
    for el in driver.find_elements(By.CSS_SELECTOR, css):
        try:
            if el.is_displayed():
                return el
        except Exception:
            pass
    return None


@pytest.fixture
def browsers(server):
    """Factory of browsers; all are closed at the end, and none may have logged a script error."""
    opened = []

    def make(name, **kwargs):
        b = Browser(server, name, **kwargs)
        opened.append(b)
        return b

    make.opened = opened   # for the failure report
    yield make
    errors = {}
    for b in opened:
        try:
            found = b.severe_console_errors()
            if found:
                errors[b.name] = found
        finally:
            b.quit()
    assert not errors, f"console errors: {errors}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows what the screenshot cannot: the server's last log lines and
    each browser's console."""
    report = (yield).get_result()
    # The teardown too: the browsers fixture fails a test there for a script error in the page.
    if not report.failed or call.when == "setup":
        return
    server, browsers = item.funcargs.get("server"), item.funcargs.get("browsers")
    if server is not None:
        try:
            lines = server.output().splitlines()
        except ValueError as error:   # its log already closed
            lines = [f"(could not read: {error})"]
        report.sections.append(("server log (last 60 lines)", "\n".join(lines[-60:]) or "(nothing)"))
    for b in getattr(browsers, "opened", []):
        try:
            console = "\n".join(f"{e['level']} {e['message']}" for e in b.collect_console())
        except Exception as error:  # the browser itself may be what failed
            console = f"(could not read: {error})"
        report.sections.append((f"{b.name}'s console", console or "(nothing)"))


def latest_code(server, to, after=0):
    """The newest one-time code sent to an address, once more than `after` codes have gone there
    (the mailer may deliver just after the response that announced it)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        entries = requests.get(server.url + "/api/dev/outbox", params={"to": to}, timeout=5).json()
        if len(entries) > after:
            return entries[-1]["code"]
        time.sleep(0.1)
    raise AssertionError(f"no code number {after + 1} sent to {to}")


def register_via_api(server, username, display_name):
    """A verified account made over REST (for tests whose subject is not registration)."""
    email = f"{username}-{uuid.uuid4().hex[:6]}@example.com"
    r = requests.post(server.url + "/api/auth/register",
                      json={"email": email, "username": username, "password": PASSWORD, "displayName": display_name}, timeout=10)
    assert r.status_code == 201, r.text
    user_id = r.json()["userId"]
    r = requests.post(server.url + "/api/auth/verify-email", json={"userId": user_id, "code": latest_code(server, email)}, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    return {"email": email, "token": body["token"], "user": body["user"]}


def sign_in_as(browser, account):
    """Puts a session in the browser's storage the way the sign-in form does, and opens the app."""
    browser.open("/")
    browser.js("localStorage.setItem('chatr.token', arguments[0]); localStorage.setItem('chatr.user', JSON.stringify(arguments[1]));",
               account["token"], account["user"])
    browser.open("/")
    browser.find(".sidebar")
    browser.wait(lambda: browser.js("return document.querySelector('[data-connection]')?.dataset.state") == "online",
                 message="socket did not connect")


def alice_and_bob(server, browsers, bob_size=None):
    """Two verified people signed in, each in their own browser (Bob's viewport optional)."""
    alice_account = register_via_api(server, "alice", "Alice")
    bob_account = register_via_api(server, "bob", "Bob")
    alice = browsers("alice")
    bob = browsers("bob", width=bob_size[0], height=bob_size[1]) if bob_size else browsers("bob")
    sign_in_as(alice, alice_account)
    sign_in_as(bob, bob_account)
    return alice_account, bob_account, alice, bob

