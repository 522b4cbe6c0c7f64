"""Group invite links in the web client: owners and admins make them in the group info panel
(choosing expiry and uses), copy them and revoke them; a link followed in a tab already open shows
the group and asks before joining, and who joins sees the messages from then on; a revoked or
used-up link says it is not valid and lets nobody in; plain members are told to ask an admin.

What the server holds (members, invites) is checked over REST, the way another client would see it.
"""
from datetime import datetime, timedelta, timezone

import requests
from selenium.webdriver.support.ui import Select

from conftest import register_via_api, sign_in_as


def confirm(b):
    b.find("dialog [data-dialog=ok]").click()


def call(server, account, method, path, body=None):
    return requests.request(method, server.url + path, json=body, headers={"Authorization": f"Bearer {account['token']}"}, timeout=10)


def make_group(server, owner, name, members=()):
    r = call(server, owner, "POST", "/api/groups", {"name": name, "memberIds": [m["user"]["id"] for m in members]})
    assert r.status_code == 201, r.text
    return r.json()


def say_in_group(server, account, group_id, text):
    r = call(server, account, "POST", "/api/messages", {"groupId": group_id, "content": text})
    assert r.status_code == 201, r.text


def live_invites(server, account, group_id):
    r = call(server, account, "GET", f"/api/groups/{group_id}/invites")
    assert r.status_code == 200, r.text
    return r.json()["invites"]


def open_group_info(b, name):
    b.click_text(".conversation[data-key]", name)
    b.wait_text(".chat-name", name)
    b.find("[data-action=info]").click()
    b.wait_text(".panel h3", "Invite links")


def clipboard_text(b):
    return b.driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        navigator.clipboard.readText().then(done, (e) => done('refused: ' + e.message));""")


def follow_in_open_tab(b, url):
    """What following a link to the app does in a tab where it is already open: only the
    fragment changes, so the page is not loaded again."""
    b.js("location.hash = arguments[0]", url[url.index("#"):])


def test_an_invite_link_lets_someone_in_from_then_on_until_it_is_revoked(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    carol = register_via_api(server, "carol", "Carol")
    group = make_group(server, alice, "Book club")
    group_id = group["id"]
    a, b = browsers("alice"), browsers("bob")
    sign_in_as(a, alice)
    sign_in_as(b, bob)
    # The clipboard as a person who allowed it has it (headless Chromium asks nobody).
    a.driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": server.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})

    # Knowing the group's id lets nobody in.
    r = call(server, bob, "POST", f"/api/groups/{group_id}/join")
    assert r.status_code == 403 and r.json().get("code") == "invite_required", r.text

    # Alice, the owner, makes a link (never expires, unlimited uses: the defaults) and copies it.
    open_group_info(a, "Book club")
    a.find("[data-no-invites]")
    a.find("[data-create-invite]").click()
    a.wait_text(".toast", "Invite link created")
    link = a.find("[data-invite-url]").text
    [made] = live_invites(server, alice, group_id)
    assert link == made["url"] == f"{server.url}/#/join/{made['token']}", (link, made)
    assert group_id not in link
    assert (made["expiresAt"], made["maxUses"], made["uses"]) == (None, None, 0), made
    assert a.find("[data-invite-terms]").text == "Never expires · unlimited uses"
    a.click_text("[data-copy]", "Copy")
    a.wait_text(".toast", "Link copied")
    assert clipboard_text(a) == link
    a.screenshot("invites-01-owner-links")

    # Said before Bob joins: stays with those who were there.
    say_in_group(server, alice, group_id, "Before Bob came")

    # Bob follows the link in the tab he has open: he sees which group, confirms, and is in.
    follow_in_open_tab(b, link)
    b.wait_text("dialog .dialog-title", "Join Book club (1 member)?")
    b.screenshot("invites-02-join-confirm")
    confirm(b)
    b.wait_text(".toast", "You joined Book club")
    b.wait_text(".chat-name", "Book club")
    b.wait_text(".conversation[data-key]", "Book club")
    b.wait(lambda: b.js("return location.hash") == "#/", message="the invite link stays in the address bar")
    r = call(server, bob, "GET", f"/api/groups/{group_id}")
    assert r.status_code == 200 and r.json()["myRole"] == "member", r.text
    # Alice's open panel follows: Bob among the members, the link's use counted.
    a.wait_text(".members", "Bob")
    a.wait_text("[data-invite-terms]", "unlimited uses (1 used)")

    say_in_group(server, alice, group_id, "Welcome, Bob")
    b.wait_text(".msg .bubble", "Welcome, Bob")
    assert all("Before Bob came" not in t for t in b.texts(".msg .bubble"))
    # Not just hidden in this view: the server's history for Bob starts when he joined.
    r = call(server, bob, "GET", f"/api/messages/history?groupId={group_id}&limit=50")
    said = [m["content"] for m in r.json()["messages"]]
    assert "Welcome, Bob" in said and "Before Bob came" not in said, said

    # Following it again as a member just opens the group: no question, no use counted.
    b.find("[data-action=info]").click()
    b.find("[data-invite-hint]")
    b.find(".panel [data-close]").click()
    b.js("document.querySelector('[data-action=back]').click()")   # the chat closed, to see it open
    b.wait(lambda: not b.find_all(".chat-name"), message="the chat did not close")
    follow_in_open_tab(b, link)
    b.wait_text(".chat-name", "Book club")
    assert b.js("return location.hash") == "#/"
    assert not b.find_all("dialog")
    assert live_invites(server, alice, group_id)[0]["uses"] == 1

    # Alice revokes it (after confirming): gone from her list and from the server's.
    a.click_text("[data-revoke]", "Revoke")
    a.wait_text("dialog .dialog-title", "Revoke invite link?")
    confirm(a)
    a.wait_text(".toast", "Invite link revoked")
    a.find("[data-no-invites]")
    assert live_invites(server, alice, group_id) == []
    # A member following the old link is just taken back to the group (the server shows a dead
    # link's group to its members only).
    b.js("document.querySelector('[data-action=back]').click()")
    b.wait(lambda: not b.find_all(".chat-name"), message="the chat did not close")
    follow_in_open_tab(b, link)
    b.wait_text(".chat-name", "Book club")
    assert not b.find_all("dialog") and all("not valid" not in t.text for t in b.find_all(".toast"))

    # Carol opens the revoked link (Chatr starting at it): a clear notice, no question, not a member.
    c = browsers("carol")
    sign_in_as(c, carol)
    c.driver.get("about:blank")   # else only the fragment would change, in the same page
    c.open(link[len(server.url):])
    c.wait_text(".toast", "This invite link is not valid")
    c.wait(lambda: c.js("return location.hash") == "#/", message="the invite link stays in the address bar")
    assert not c.find_all("dialog")
    assert all("Book club" not in t for t in c.texts(".conversation[data-key]"))
    r = call(server, carol, "GET", f"/api/groups/{group_id}")
    assert r.status_code == 403, r.text
    # The same in a tab already open.
    c.js("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    follow_in_open_tab(c, link)
    c.wait_text(".toast", "This invite link is not valid")
    assert call(server, carol, "GET", f"/api/groups/{group_id}").status_code == 403


def test_link_choices_reach_the_server_and_plain_members_cannot_make_links(server, browsers):
    alice = register_via_api(server, "alice", "Alice")
    bob = register_via_api(server, "bob", "Bob")
    carol = register_via_api(server, "carol", "Carol")
    dave = register_via_api(server, "dave", "Dave")
    group = make_group(server, alice, "Climbing", members=[bob])
    group_id = group["id"]
    a, b, c = browsers("alice"), browsers("bob"), browsers("carol")
    for browser, account in ((a, alice), (b, bob), (c, carol)):
        sign_in_as(browser, account)

    # Bob, a plain member, is told to ask an admin; he has no way to make or list links.
    open_group_info(b, "Climbing")
    b.wait_text("[data-invite-hint]", "ask an admin")
    assert not b.find_all("[data-create-invite]") and not b.find_all("[data-invite-url]")
    b.screenshot("invites-03-member-asks-an-admin")
    assert call(server, bob, "GET", f"/api/groups/{group_id}/invites").status_code == 403

    # Alice makes a link for one day and one use.
    open_group_info(a, "Climbing")
    Select(a.find("[data-invite-form] [name=expiresInHours]")).select_by_visible_text("1 day")
    Select(a.find("[data-invite-form] [name=maxUses]")).select_by_visible_text("1 use")
    a.find("[data-create-invite]").click()
    terms = a.wait_text("[data-invite-terms]", "0 of 1 use").text
    assert terms.startswith("Expires "), terms
    [made] = live_invites(server, alice, group_id)
    assert made["maxUses"] == 1 and made["uses"] == 0, made
    expires = datetime.fromisoformat(made["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(hours=24))) < timedelta(minutes=5), made
    token = made["token"]

    # Where the clipboard is refused, the link is selected on screen to copy by hand.
    a.js("navigator.clipboard.writeText = () => Promise.reject(new DOMException('Refused', 'NotAllowedError'))")
    a.click_text("[data-copy]", "Copy")
    a.wait_text(".toast", "Link selected")
    assert a.js("return getSelection().toString()") == a.find("[data-invite-url]").text == made["url"]
    a.screenshot("invites-04-one-day-one-use")

    # Carol pastes the bare token in "Join a group", then thinks better of it: not in, no use counted.
    c.find("[data-action=join-group]").click()
    c.type("dialog input", token)
    c.find("dialog [type=submit]").click()
    c.wait_text("dialog .dialog-title", "Join Climbing (2 members)?")
    c.find("dialog [data-dialog=cancel]").click()
    c.wait(lambda: not c.find_all("dialog"), message="the question stays open")
    assert call(server, carol, "GET", f"/api/groups/{group_id}").status_code == 403
    assert live_invites(server, alice, group_id)[0]["uses"] == 0

    # Then she joins with it; that was its one use, so it leaves Alice's list.
    c.find("[data-action=join-group]").click()
    c.type("dialog input", token)
    c.find("dialog [type=submit]").click()
    c.wait_text("dialog .dialog-title", "Join Climbing (2 members)?")
    confirm(c)
    c.wait_text(".chat-name", "Climbing")
    a.wait_text(".members", "Carol")
    a.find("[data-no-invites]")
    assert live_invites(server, alice, group_id) == []
    r = call(server, dave, "GET", f"/api/invites/{token}")
    assert r.status_code == 404 and r.json().get("code") == "invite_invalid", r.text

    # Something that is no invite link at all is refused before asking the server.
    c.find("[data-action=join-group]").click()
    c.type("dialog input", "https://example.com/#/c/123")
    c.find("dialog [type=submit]").click()
    c.wait_text(".toast", "That is not an invite link")
