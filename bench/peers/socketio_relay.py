"""The peer Chatr is measured against (issue 18, "side by side"): a python-socketio relay on
aiohttp that answers the same events `chatr-bench direct` uses — `message:send` with an ack
`{ok, message}`, and `message:received` to the recipient's sockets — optionally writing each
message to SQLite first, as a minimal server that stores would. A benchmark fixture, not part of
the product: no accounts (the tokens of `chatr bench-seed`'s tokens.tsv are the identities), no
receipts, sequence numbers or history.

    pip install python-socketio aiohttp
    python3 bench/peers/socketio_relay.py --tokens tokens.tsv --port 3500 [--sqlite relay.sqlite]
    chatr-bench direct --url http://127.0.0.1:3500 --tokens tokens.tsv --server-pid <its pid> ...
"""
import argparse
import sqlite3
import time
import uuid

import socketio
from aiohttp import web


def load_tokens(path):
    """token -> user id, from `userId<TAB>token` lines."""
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2:
                users[parts[1]] = parts[0]
    return users


def open_store(path):
    """One insert and commit per message, in WAL mode — the simplest storing server."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("""CREATE TABLE IF NOT EXISTS messages (
        id TEXT PRIMARY KEY, sender_id TEXT NOT NULL, recipient_id TEXT NOT NULL, client_message_id TEXT,
        content TEXT NOT NULL, created_at REAL NOT NULL, UNIQUE (sender_id, client_message_id))""")
    return db


def make_app(users, db=None):
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[])
    app = web.Application()
    sio.attach(app)
    who = {}  # sid -> user id

    @sio.event
    async def connect(sid, environ, auth):
        user = users.get((auth or {}).get("token"))
        if user is None:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        who[sid] = user
        await sio.enter_room(sid, f"user:{user}")

    @sio.event
    async def disconnect(sid, *reason):
        who.pop(sid, None)

    @sio.on("message:send")
    async def send(sid, data):
        sender = who.get(sid)
        if sender is None or not isinstance(data, dict) or not isinstance(data.get("content"), str) \
                or not isinstance(data.get("recipientId"), str):
            return {"ok": False, "error": "invalid message"}
        message = {"id": str(uuid.uuid4()), "senderId": sender, "recipientId": data["recipientId"],
                   "clientMessageId": data.get("clientMessageId"), "content": data["content"],
                   "createdAt": time.time()}
        if db is not None:
            try:
                db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                           (message["id"], sender, message["recipientId"], message["clientMessageId"],
                            message["content"], message["createdAt"]))
            except sqlite3.IntegrityError:
                return {"ok": False, "error": "duplicate clientMessageId"}
        await sio.emit("message:received", message, room=f"user:{message['recipientId']}")
        return {"ok": True, "message": message}

    return app


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="tokens.tsv")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3500)
    parser.add_argument("--sqlite", help="store every message in this SQLite file before relaying it")
    args = parser.parse_args()
    app = make_app(load_tokens(args.tokens), open_store(args.sqlite) if args.sqlite else None)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
