"""Schemathesis against the real binary's own OpenAPI document (`/api/openapi.json`): generated
valid and invalid requests for every operation, as a signed-in user with real ids to find, and
every default check (status codes, content types, response schemas, valid data accepted, invalid
data refused, 405 with `Allow` for undeclared methods, auth not ignored …). The server must answer
within its document: 0 failures.

Bounded by `SCHEMATHESIS_MAX_EXAMPLES` (default 60 per operation) and a fixed seed, so CI runs the
same few thousand cases in a few minutes; raise both for a longer hunt."""
import os
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from chatr_process import Server, base_env, register_user  # noqa: E402

PASSWORD = "Schema-pass1!"
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60")

# Rules a schema cannot say — "the code we sent you", "a group you belong to", "a message that is
# audio", "members who exist" — refuse requests whose shape is valid. These operations may answer
# such a request with a documented 400 (or 409) without it counting as "valid data refused".
BUSINESS_RULES = {
    "/api/auth/verify-email": "the code must be the one sent",
    "/api/auth/verify-phone": "the code must be the one sent",
    "/api/auth/login/verify": "the code must be the one sent",
    "/api/auth/reset-password": "the code must be the one sent",
    "/api/auth/resend-verification": "only unverified accounts get a new signup code",
    "/api/auth/2fa/verify": "the TimeOTP must be the current one",
    "/api/auth/2fa/disable": "the TimeOTP must be the current one, and 2FA on",
    "/api/auth/register": "username, email and phone must be free and well-formed",
    "/api/groups": "members must be existing users",
    "/api/groups/{groupId}/members": "the user must exist and not be a member yet",
    "/api/groups/{groupId}/members/{userId}": "use leave to remove yourself",
    "/api/messages/{messageId}/waveform": "only audio messages have a waveform",
    "/api/messages/upload": "the file's bytes must be of an allowed type",
    "/api/messages": "the recipient must exist and the reply must be in the conversation",
    "/api/groups/{groupId}/messages": "the reply must be in the conversation",
    "/api/messages/read": "the message must be in the conversation",
    "/api/users/profile-image": "the file's bytes must be an image",
    "/api/users/cover-image": "the file's bytes must be an image",
    "/api/messages/history": "exactly one of otherUserId, groupId, conversationId (query parameters cannot say so)",
    "/api/sync": "a cursor must be one the server issued (it is signed)",
    "/api/search": "the search must hold a word or a filter, and at most 16 words; has: and before:/after: take set values",
    "/api/users": "a cursor must be the nextCursor of a page",
    "/api/messages/conversations/{conversationId}/mute": "until must be in the future",
    "/api/push/subscriptions": "the endpoint must be a push service URL the server allows, p256dh a P-256 point and auth 16 bytes",
    "/socket.io": "a session id must be one the engine issued; CORS preflights need an Origin",
}
# Routes that fetch what the request names from elsewhere: a well-formed link can still have no
# preview (422): no site answers there, or says nothing; a picture needs the server's signature.
OUTSIDE_FETCHES = {
    "/api/link-preview": "the link must have a host and a page there that says what it is",
    "/api/link-preview/image": "the signature must be the one a preview card carried",
}


def register(url, name):
    return register_user(url, name, PASSWORD)


def seed(url):
    """Two people, a direct message, a group with a message and an uploaded file: ids for the
    generated requests to find (each used part of the time; the rest stays generated)."""
    alice, token = register(url, "alice")
    bob, bob_token = register(url, "bobby")
    auth = {"Authorization": f"Bearer {token}"}
    direct = requests.post(url + "/api/messages", json={"recipientId": bob, "content": "hello"}, headers=auth, timeout=10).json()
    group = requests.post(url + "/api/groups", json={"name": "Team", "memberIds": [bob]}, headers=auth, timeout=10).json()
    said = requests.post(url + f"/api/groups/{group['id']}/messages", json={"content": "hi team"}, headers=auth, timeout=10).json()
    upload = requests.post(url + "/api/messages/upload", data={"recipientId": bob}, headers=auth, timeout=10,
                           files={"file": ("notes.txt", b"some notes", "text/plain")}).json()
    return {
        "token": token,
        "users": [alice, bob], "usernames": ["alice", "@bobby"],
        "groups": [group["id"]], "messages": [direct["id"], said["id"], upload["messageId"]],
        "conversations": [direct["conversationId"]],
        "paths": [upload["fileUrl"].split("/uploads/", 1)[1]],
    }


def config(ids):
    def values(items):
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"
    text = f"""
[checks.positive_data_acceptance]
expected-statuses = ["2XX", "401", "403", "404", "429"]

# In the stateful phase schemathesis 4.32 labels some valid requests (a multipart upload with an
# extra field) as invalid ("Invalid component: positive test case") and then fails them for being
# accepted; the other phases check invalid data thoroughly.
[phases.stateful.checks.negative_data_rejection]
enabled = false

[dictionaries.users]
values = {values(ids["users"])}
[dictionaries.usernames]
values = {values(ids["usernames"])}
[dictionaries.groups]
values = {values(ids["groups"])}
[dictionaries.messages]
values = {values(ids["messages"])}
[dictionaries.conversations]
values = {values(ids["conversations"])}
[dictionaries.paths]
values = {values(ids["paths"])}

[parameters]
"path.groupId" = {{ dictionary = "groups", probability = 0.5 }}
"path.messageId" = {{ dictionary = "messages", probability = 0.5 }}
"path.userId" = {{ dictionary = "users", probability = 0.5 }}
"path.username" = {{ dictionary = "usernames", probability = 0.5 }}
"path.path" = {{ dictionary = "paths", probability = 0.5 }}
"path.conversationId" = {{ dictionary = "conversations", probability = 0.5 }}
"query.otherUserId" = {{ dictionary = "users", probability = 0.3 }}
"query.conversationId" = {{ dictionary = "conversations", probability = 0.3 }}
"query.groupId" = {{ dictionary = "groups", probability = 0.3 }}
"""
    for path, why in BUSINESS_RULES.items():
        text += f"""
# {why}
[[operations]]
include-path = "{path}"
checks.positive_data_acceptance.expected-statuses = ["2XX", "400", "401", "403", "404", "409", "415", "429"]
"""
    for path, why in OUTSIDE_FETCHES.items():
        text += f"""
# {why}
[[operations]]
include-path = "{path}"
checks.positive_data_acceptance.expected-statuses = ["2XX", "400", "401", "403", "422", "429"]
"""
    return text


def test_the_server_answers_within_its_openapi_document(tmp_path):
    # Limits high enough that generated requests test the routes, not the rate limiter (whose
    # 429 is documented and tested elsewhere).
    env = base_env(CHATR_ENV="testing", AUTH_RATE_LIMIT_PER_MINUTE="100000", LOGIN_ATTEMPTS_PER_ACCOUNT="100000")
    server = Server(env, str(tmp_path))
    try:
        ids = seed(server.url)
        (tmp_path / "schemathesis.toml").write_text(config(ids))
        started = time.time()
        run = subprocess.run(
            ["st", "--config-file", str(tmp_path / "schemathesis.toml"), "run", server.url + "/api/openapi.json",
             "-H", f"Authorization: Bearer {ids['token']}",
             # Logging out would revoke the token the rest of the run uses (its rules are in the
             # authorization matrix test).
             "--exclude-path", "/api/auth/logout",
             "--workers", "1", "--max-examples", MAX_EXAMPLES, "--seed", "42", "--request-timeout", "10",
             "--continue-on-failure"],
            cwd=tmp_path, capture_output=True, text=True, timeout=900)
        elapsed = time.time() - started
        tail = [line.strip() for line in run.stdout.splitlines() if line.strip()][-6:]
        print(f"\nschemathesis: {elapsed:.0f} s\n" + "\n".join(tail))
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:] + "\nserver log:\n" + server.output()[-5000:]
    finally:
        server.stop()
