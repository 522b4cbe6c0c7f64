"""Durability under kill -9: python-socketio senders keep `message:send`ing (each message with a
clientMessageId of its own) while the real `chatr` binary is killed with SIGKILL and started again
on the same port and the same data, three times. Whatever was not acknowledged when the server
died is sent again with the same clientMessageId once the client is back. At the end the history
(REST, SPEC §6) of every conversation holds every acknowledged message exactly once — the one the
ack named — and nothing else: an ack means stored, and a retry never stores a second copy.

Runs on SQLite (a fresh file in the test's folder) or on PostgreSQL with CHATR_E2E_DATABASE_URL
(the `public` schema is dropped first). CHATR_BIN is the binary (default .build/debug/chatr); its
output is in the test's folder, `server.log`, quoted on a failure.

How the kill meets messages at every stage: each of the senders' devices sends on its own,
paced (about 22 a second each, under the server's 30 a second per connection; at most a few
unacknowledged at a time). Just before each kill every device also fires a burst of fresh
messages without waiting, and the server dies 0–15 ms later: some of them are stored and
acknowledged, some stored with the ack lost, some never read. Every wait is bounded and waits for
a condition.
"""
import os
import threading
import time
import uuid
from collections import Counter, deque
from datetime import datetime

import requests
import socketio

from chatr_process import Server, base_env, register_user, reset_postgres_if_used, wait_until

SENDERS = 4                 # users who send
DEVICES_PER_SENDER = 2      # sockets per sender (8 in all)
RECEIVERS = 3               # users who only receive (one socket each)
RATE = 22.0                 # messages a second per device (the server allows 30)
WINDOW = 4                  # unacknowledged messages per device, at most, in the paced flow
BURST = 5                   # fresh messages per device fired just before each kill
KILL_DELAYS = (0.0, 0.005, 0.015)  # from the burst to the SIGKILL, one per cycle
PHASE_ACKS = 250            # acknowledgements between two kills (and after the last restart)
ACK_TIMEOUT = 5.0           # an ack this late (while connected) means "send it again"
TIMEOUT = 20.0              # any one wait


def register(server, name):
    """A verified user: (user id, token)."""
    return register_user(server.url, name, "Durable-pass1!", name.title())


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Device(threading.Thread):
    """One sender's socket. Messages wait in `queue` (retries go first), are sent paced with at
    most WINDOW unacknowledged, and stay there until an ok ack: a disconnect, an ack timeout or a
    refusal puts them back at the front, to be sent again with the same clientMessageId."""

    def __init__(self, url, user_name, user_id, token, recipients, index):
        super().__init__(name=f"{user_name}/{index}", daemon=True)
        self.user_name, self.user_id, self.recipients, self.index = user_name, user_id, recipients, index
        self.cond = threading.Condition()
        self.queue = deque()              # clientMessageIds to send, retries first
        self.inflight = {}                # clientMessageId → (sent at, attempt token)
        self.payloads = {}                # clientMessageId → the message:send payload (never changes)
        self.acked = {}                   # clientMessageId → the message of its first ok ack
        self.attempts = Counter()         # clientMessageId → sends
        self.lost = []                    # one set per disconnect: what was unacknowledged
        self.problems = []                # contradictions in the acks themselves
        self.refusals = []                # ok:false acks (rate_limited or other), retried
        self.timeouts = 0
        self.generating = True
        self.stopped = False
        self.counter = 0
        self.token_seq = 0
        self.connects = 0
        self.sio = socketio.Client(reconnection=True, reconnection_attempts=0, reconnection_delay=0.1,
                                   reconnection_delay_max=0.5, randomization_factor=0)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=5)

    # --- bookkeeping (under the condition's lock) ----------------------------------------------

    def _new_message(self):
        self.counter += 1
        cid = f"dur-{self.user_name}-{self.index}-{self.counter}-{uuid.uuid4()}"
        recipient = self.recipients[self.counter % len(self.recipients)]
        self.payloads[cid] = {"recipientId": recipient, "clientMessageId": cid,
                              "content": f"durability {self.user_name}/{self.index} #{self.counter} {cid[-12:]}"}
        return cid

    def _take(self, fresh=False):
        """The next message to send, marked in flight; None when there is nothing to send."""
        if fresh:
            cid = self._new_message()
        else:
            while self.queue and self.queue[0] in self.acked:
                self.queue.popleft()  # acknowledged meanwhile (a late ack)
            if self.queue:
                cid = self.queue.popleft()
            elif self.generating:
                cid = self._new_message()
            else:
                return None
        self.token_seq += 1
        self.inflight[cid] = (time.monotonic(), self.token_seq)
        self.attempts[cid] += 1
        return cid, self.token_seq

    def _emit(self, cid, token):
        try:
            self.sio.emit("message:send", self.payloads[cid], callback=lambda *args: self._on_ack(cid, token, args))
        except Exception:  # not connected (any more): back to the queue
            with self.cond:
                if self.inflight.get(cid, (None, None))[1] == token:
                    del self.inflight[cid]
                    self.queue.appendleft(cid)
                self.cond.notify_all()

    def _on_ack(self, cid, token, args):
        ack = args[0] if args else None
        with self.cond:
            current = self.inflight.get(cid, (None, None))[1] == token
            if current:
                del self.inflight[cid]
            if isinstance(ack, dict) and ack.get("ok") is True:
                message = ack.get("message") or {}
                payload = self.payloads[cid]
                if message.get("clientMessageId") != cid or message.get("content") != payload["content"]:
                    self.problems.append(f"ack for {cid} carries another message: {message}")
                elif cid in self.acked and self.acked[cid]["id"] != message.get("id"):
                    self.problems.append(f"{cid} acknowledged as {self.acked[cid]['id']} and later as {message.get('id')} "
                                         f"(attempts {self.attempts[cid]})")
                else:
                    self.acked.setdefault(cid, message)
            else:
                self.refusals.append((cid, ack))
                if current and cid not in self.acked:
                    self.queue.appendleft(cid)
            self.cond.notify_all()

    def _on_connect(self):
        with self.cond:
            self.connects += 1
            self.cond.notify_all()

    def _on_disconnect(self, *reason):
        # python-socketio forgets the callbacks of a lost connection: whatever is in flight will
        # never be acknowledged there, and is sent again (first) once connected.
        with self.cond:
            lost = set(self.inflight)
            self.lost.append(lost)
            for cid in sorted(self.inflight, key=lambda c: self.inflight[c][1], reverse=True):
                self.queue.appendleft(cid)
            self.inflight.clear()
            self.cond.notify_all()

    # --- the sending loop ----------------------------------------------------------------------

    def run(self):
        next_at = time.monotonic()
        while True:
            with self.cond:
                while True:
                    if self.stopped:
                        return
                    now = time.monotonic()
                    for cid, (sent_at, token) in list(self.inflight.items()):
                        if now - sent_at > ACK_TIMEOUT and self.sio.connected:
                            del self.inflight[cid]
                            self.timeouts += 1
                            self.queue.appendleft(cid)
                    if self.sio.connected and len(self.inflight) < WINDOW and now >= next_at:
                        taken = self._take()
                        if taken:
                            break
                    self.cond.wait(timeout=max(0.001, min(0.05, next_at - now)))
            next_at = max(next_at + 1 / RATE, time.monotonic() - 1 / RATE)
            self._emit(*taken)

    def burst(self, count):
        """Fresh messages sent at once, not waiting for any ack (just before a kill)."""
        with self.cond:
            taken = [self._take(fresh=True) for _ in range(count)] if self.sio.connected else []
        for cid, token in taken:
            self._emit(cid, token)

    # --- views for the test ---------------------------------------------------------------------

    def acked_count(self):
        with self.cond:
            return len(self.acked)

    def drained(self):
        with self.cond:
            return self.sio.connected and not self.queue and not self.inflight

    def stop(self):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        self.join(timeout=5)
        self.sio.disconnect()


def history(server, token, other_user_id):
    """Every message of the direct conversation with `other_user_id`, oldest first (pages of 200)."""
    messages, before = [], None
    for _ in range(100):
        params = {"otherUserId": other_user_id, "limit": 200}
        if before:
            params["before"] = before
        r = requests.get(server.url + "/api/messages/history", params=params,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 200, r.text
        page = r.json()
        messages = page["messages"] + messages
        if not page["hasMore"] or not page["messages"]:
            return messages
        before = page["messages"][0]["id"]
    raise AssertionError("history did not end within 100 pages")


def log_excerpt(server, needles=(), lines=40):
    text = server.output().splitlines()
    found = [line for line in text if any(n in line for n in needles)] if needles else []
    notable = [line for line in text if any(w in line for w in ("ERROR", "CRITICAL", "WARNING", "Fatal", "fatal"))]
    return "\n".join(["--- server.log: lines naming the ids ---", *found[-lines:],
                      "--- server.log: errors and warnings ---", *notable[-lines:],
                      "--- server.log: last lines ---", *text[-15:]])


def test_acknowledged_messages_survive_kill_minus_9_and_retries_store_once(tmp_path, capsys):
    began = time.monotonic()
    reset_postgres_if_used()
    server = Server(base_env(), str(tmp_path))
    devices, receivers = [], []
    try:
        senders = [(f"sender{i}", *register(server, f"sender{i}")) for i in range(SENDERS)]
        receiver_users = [(f"receiver{i}", *register(server, f"receiver{i}")) for i in range(RECEIVERS)]
        receiver_ids = [user_id for _, user_id, _ in receiver_users]
        received = Counter()
        for name, _, token in receiver_users:
            sio = socketio.Client(reconnection=True, reconnection_attempts=0, reconnection_delay=0.1,
                                  reconnection_delay_max=0.5, randomization_factor=0)
            sio.on("message:received", lambda *args, n=name: received.update([n]))
            sio.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
            receivers.append(sio)
        for name, user_id, token in senders:
            for index in range(DEVICES_PER_SENDER):
                devices.append(Device(server.url, name, user_id, token, receiver_ids, index))
        setup_done = time.monotonic()
        for device in devices:
            device.start()

        def total_acked():
            return sum(d.acked_count() for d in devices)

        def traffic(what):
            """PHASE_ACKS more acknowledgements, with every device among them."""
            marks = [d.acked_count() for d in devices]
            wait_until(lambda: sum(d.acked_count() for d in devices) >= sum(marks) + PHASE_ACKS
                       and all(d.acked_count() >= m + 5 for d, m in zip(devices, marks)), TIMEOUT, what)

        cycles = []
        for cycle, delay in enumerate(KILL_DELAYS):
            traffic(f"{PHASE_ACKS} acknowledged sends before kill {cycle + 1}")
            for device in devices:
                device.burst(BURST)
            if delay:
                time.sleep(delay)  # where the kill lands among the burst (not for correctness)
            acked_before = total_acked()
            killed_wall = time.time()
            killed = time.monotonic()
            server.kill()
            wait_until(lambda: not any(d.sio.connected for d in devices) and not any(s.connected for s in receivers),
                       TIMEOUT, f"every client sees kill {cycle + 1}")
            server.start()  # same port, same folder (SQLite file, jwt-secret), same database
            healthy = time.monotonic() - killed
            wait_until(lambda: all(d.sio.connected for d in devices) and all(s.connected for s in receivers),
                       TIMEOUT, f"every client reconnected after kill {cycle + 1}")
            reconnected = time.monotonic() - killed
            lost = set().union(*(d.lost[-1] for d in devices if d.lost))
            cycles.append({"acked_before": acked_before, "unacked_at_kill": len(lost), "killed_wall": killed_wall,
                           "healthy": healthy, "reconnected": reconnected, "lost": lost})

        traffic(f"{PHASE_ACKS} acknowledged sends after the last restart")
        for device in devices:
            with device.cond:
                device.generating = False
        wait_until(lambda: all(d.drained() for d in devices), TIMEOUT,
                   "every message (retries included) acknowledged after the last restart")
        sending_done = time.monotonic()
        for device in devices:
            device.stop()

        # --- what the clients know ---------------------------------------------------------------
        problems = [p for d in devices for p in d.problems]
        assert not problems, "contradicting acks:\n" + "\n".join(problems[:20]) + "\n" + log_excerpt(server)
        acked = {}       # clientMessageId → (device, acknowledged message)
        for device in devices:
            for cid, message in device.acked.items():
                acked[cid] = (device, message)
        generated = {cid for d in devices for cid in d.payloads}
        assert generated == set(acked), f"never acknowledged: {sorted(generated - set(acked))[:20]}"
        resent = {cid for d in devices for cid, n in d.attempts.items() if n > 1}
        unacked_at_kills = set().union(*(c["lost"] for c in cycles))
        assert unacked_at_kills, "no kill caught a message in flight: the test proved nothing about retries"
        # Resent after a kill, yet stored before it: the ack was what the crash lost.
        stored_before_kill = 0
        for cycle in cycles:
            stored_before_kill += sum(1 for cid in cycle["lost"]
                                      if parse_time(acked[cid][1]["createdAt"]) < cycle["killed_wall"])
        other_refusals = [(cid, ack) for d in devices for cid, ack in d.refusals
                          if not (isinstance(ack, dict) and ack.get("code") == "rate_limited")]

        # --- what the server kept ----------------------------------------------------------------
        stored = []
        for name, user_id, token in senders:
            for receiver_id in receiver_ids:
                for message in history(server, token, receiver_id):
                    stored.append((name, receiver_id, message))
        by_client = {}
        for name, receiver_id, message in stored:
            by_client.setdefault(message.get("clientMessageId"), []).append(message)
        failures = []
        for cid, (device, message) in acked.items():
            copies = by_client.get(cid, [])
            payload = device.payloads[cid]
            if [m["id"] for m in copies] != [message["id"]]:
                when = "resent" if cid in resent else "sent once"
                failures.append(f"{cid} ({when}, {device.attempts[cid]} sends, acknowledged as {message['id']} "
                                f"at {message.get('createdAt')}) is stored as {[(m['id'], m.get('createdAt')) for m in copies]}")
            elif copies[0]["content"] != payload["content"] or copies[0]["senderId"] != device.user_id \
                    or copies[0]["recipientId"] != payload["recipientId"]:
                failures.append(f"{cid} is stored with other fields: {copies[0]}")
        strangers = [m for cid, ms in by_client.items() if cid not in acked for m in ms]
        if strangers:
            failures.append(f"{len(strangers)} stored messages nobody acknowledged: {[(m['id'], m.get('clientMessageId')) for m in strangers[:10]]}")
        contents = Counter(m["content"] for _, _, m in stored)
        doubled = [c for c, n in contents.items() if n > 1]
        if doubled:
            failures.append(f"stored twice (by content): {doubled[:10]}")
        if len(stored) != len(acked):
            failures.append(f"{len(stored)} messages stored, {len(acked)} distinct clientMessageIds acknowledged")
        if failures:
            needles = [f.split(" ", 1)[0] for f in failures[:10]]
            raise AssertionError(f"{len(failures)} problems:\n" + "\n".join(failures[:30]) + "\n" + log_excerpt(server, needles))

        summary = (f"durability ({'PostgreSQL' if os.environ.get('CHATR_E2E_DATABASE_URL') else 'SQLite'}): "
                   f"{len(generated)} messages from {len(devices)} devices to {RECEIVERS} receivers, all stored once; "
                   f"acked before each kill {[c['acked_before'] for c in cycles]}, unacked at each kill "
                   f"{[c['unacked_at_kill'] for c in cycles]}, resent {len(resent)} "
                   f"(of them stored before the kill, ack lost: {stored_before_kill}; ack timeouts "
                   f"{sum(d.timeouts for d in devices)}; refusals {sum(len(d.refusals) for d in devices)}, not rate limits "
                   f"{len(other_refusals)}); healthy after kill {[round(c['healthy'], 2) for c in cycles]} s, all "
                   f"reconnected {[round(c['reconnected'], 2) for c in cycles]} s; sending {sending_done - setup_done:.1f} s "
                   f"({len(generated) / (sending_done - setup_done):.0f} msg/s incl. downtime), whole test "
                   f"{time.monotonic() - began:.1f} s; receivers got {sum(received.values())} message:received")
        if other_refusals:
            summary += f"\n  refusals other than rate limits (retried): {other_refusals[:5]}"
        with capsys.disabled():
            print("\n" + summary)
    finally:
        for device in devices:
            try:
                device.stop()
            except Exception:
                pass
        for sio in receivers:
            try:
                sio.disconnect()
            except Exception:
                pass
        server.stop()
