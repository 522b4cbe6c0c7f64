"""Accounts in the browser: sign-in with the emailed code (and a wrong one), two-factor set up in
Settings with the QR code and then required at sign-in, sign-out, a taken username with
suggestions, and a forgotten password reset."""
import base64
import hashlib
import hmac
import struct
import time

from conftest import PASSWORD, latest_code, register_via_api, sign_in_as


def totp(secret, at=None):
    """RFC 6238 (SHA-1, 6 digits, 30 s), written out so the test does not trust the server's."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def sign_in_form(b, who, password):
    b.find("form[data-form=login]")
    b.type("[data-form=login] [name=email]", who)
    b.type("[data-form=login] [name=password]", password)
    b.find("[data-form=login] [type=submit]").click()


def test_sign_in_with_code_and_two_factor_then_sign_out(server, browsers):
    account = register_via_api(server, "carol", "Carol")
    b = browsers("carol")
    b.open("/")

    # Wrong password: the server's message, inline.
    sign_in_form(b, "carol", "Wrong-password1!")
    b.wait_text("[data-form=login] .form-error", "Invalid credentials")

    # Right password → code step; a wrong code is refused, the right one signs in.
    sign_in_form(b, "@Carol", PASSWORD)
    b.find("form[data-form=loginCode]")
    b.type("[data-form=loginCode] [name=code]", "123456")
    b.find("[data-form=loginCode] [type=submit]").click()
    b.wait_text("[data-form=loginCode] .form-error", "code")
    b.type("[data-form=loginCode] [name=code]", latest_code(server, account["email"], after=1))
    b.find("[data-form=loginCode] [type=submit]").click()
    b.find(".sidebar")

    # Settings → two-factor: the QR code is shown, a TOTP turns it on.
    b.find("[data-action=settings]").click()
    b.find("[data-2fa-setup]").click()
    qr = b.find("img.qr")
    assert qr.get_attribute("src").startswith("data:image/")
    b.screenshot("09-two-factor-setup")
    secret = b.find("[data-secret]").text
    b.type("[data-2fa-verify] [name=token]", "000000" if totp(secret) != "000000" else "111111")
    b.find("[data-2fa-verify] [type=submit]").click()
    b.find("[data-2fa-verify] .form-error")
    b.type("[data-2fa-verify] [name=token]", totp(secret))
    b.find("[data-2fa-verify] [type=submit]").click()
    b.wait_text("[data-2fa]", "is on")

    # Sign out (confirmed) → back at the sign-in form; the old token no longer works.
    b.find("[data-logout]").click()
    b.find("dialog [data-dialog=ok]").click()
    b.find("form[data-form=login]")
    assert b.js("return localStorage.getItem('chatr.token')") is None

    # Sign in again: code, then the authenticator step.
    sign_in_form(b, account["email"], PASSWORD)
    b.find("form[data-form=loginCode]")
    b.type("[data-form=loginCode] [name=code]", latest_code(server, account["email"], after=2))
    b.find("[data-form=loginCode] [type=submit]").click()
    b.find("form[data-form=twoFactor]")
    # A wrong authenticator code says so, and the form stays for the right one.
    b.type("[data-form=twoFactor] [name=twoFactorCode]", "000000" if totp(secret) != "000000" else "111111")
    b.find("[data-form=twoFactor] [type=submit]").click()
    b.wait_text("[data-form=twoFactor] .form-error", "not right")
    b.type("[data-form=twoFactor] [name=twoFactorCode]", totp(secret))
    b.find("[data-form=twoFactor] [type=submit]").click()
    b.find(".sidebar")
    b.wait(lambda: b.js("return document.querySelector('[data-connection]').dataset.state") == "online", message="not connected")


def test_taken_username_suggestions_and_password_reset(server, browsers):
    account = register_via_api(server, "dave", "Dave")
    b = browsers("visitor")
    b.open("/")
    b.find("[data-go=register]").click()
    b.type("[data-form=register] [name=email]", "someone@example.com")
    b.type("[data-form=register] [name=username]", "dave")
    hint = b.wait_text("[data-username-hint]", "taken")
    suggestions = b.find_all("[data-suggestion]")
    assert suggestions, hint.text
    chosen = suggestions[0].get_attribute("data-suggestion")
    suggestions[0].click()
    assert b.find("[data-form=register] [name=username]").get_attribute("value") == chosen
    b.wait_text("[data-username-hint]", "available")

    # Forgot password → code + new password → sign in with it.
    b.find("[data-go=login]").click()
    b.find("[data-go=forgot]").click()
    b.type("[data-form=forgot] [name=email]", account["email"])
    b.find("[data-form=forgot] [type=submit]").click()
    b.find("form[data-form=reset]")
    b.type("[data-form=reset] [name=code]", latest_code(server, account["email"], after=1))
    b.type("[data-form=reset] [name=newPassword]", "Brand-new-pass1")
    b.find("[data-form=reset] [type=submit]").click()
    b.wait_text(".toast", "Password changed")
    sign_in_form(b, "dave", "Brand-new-pass1")
    b.find("form[data-form=loginCode]")


def test_expired_session_returns_to_sign_in(server, browsers):
    account = register_via_api(server, "erin", "Erin")
    b = browsers("erin")
    sign_in_as(b, account)
    # Another device signs this session out: the next request is refused, the app asks to sign in.
    import requests
    requests.post(server.url + "/api/auth/logout", headers={"Authorization": f"Bearer {account['token']}"}, timeout=5)
    b.wait(lambda: b.find_all("form[data-form=login]"), timeout=15, message="revoked session still signed in")
