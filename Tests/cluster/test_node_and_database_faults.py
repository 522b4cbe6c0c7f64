"""Faults under a running cluster (issue 12 item 6): a node killed with SIGKILL while people send,
and PostgreSQL restarted. Each test leaves three ready nodes behind (this file runs after
test_across_nodes.py; the PostgreSQL restart is the last test).

The killed node is the one nginx sends 127.0.0.1 to (ip_hash), so the users "through nginx" are
on it, with a user straight at it; python-socketio reconnects the first (through nginx, to
another instance), the test reconnects the second to another node's URL itself."""
import os
import shlex
import subprocess
import threading
import time
import uuid
from urllib.parse import urlparse

import requests

from cluster_helpers import DATABASE_URL, TIMEOUT, note, wait_until

OFFLINE_WITHIN = 30  # seconds after the kill (SPEC §8)


class Sender(threading.Thread):
    """Sends numbered messages with a clientMessageId each, one at a time, and waits for each
    ack; a send that fails or gets no ack is retried with the same clientMessageId (after the
    device reconnects) until it is acknowledged. `acked` maps clientMessageId → message id."""

    def __init__(self, name, device, recipient_id, pace=0.05):
        super().__init__(name=name, daemon=True)
        self.device, self.recipient_id, self.pace = device, recipient_id, pace
        self.acked, self.contents = {}, {}
        self.failures = []        # (n, error) of attempts that were retried
        self.stop_requested = threading.Event()
        self.error = None
        self.lock = threading.Lock()

    def count(self):
        with self.lock:
            return len(self.acked)

    def run(self):
        n = 0
        try:
            while not self.stop_requested.is_set():
                n += 1
                client_id, content = str(uuid.uuid4()), f"{self.name} #{n}"
                deadline = time.monotonic() + 60
                while True:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{content} was never acknowledged: {self.failures[-5:]}")
                    if not self.device.sio.connected:
                        time.sleep(0.05)  # wait for python-socketio's reconnection
                        continue
                    try:
                        ack = self.device.sio.call("message:send", {"recipientId": self.recipient_id, "content": content,
                                                                    "clientMessageId": client_id}, timeout=5)
                    except Exception as error:  # TimeoutError, BadNamespaceError, disconnected mid-call
                        self.failures.append((n, repr(error)))
                        continue
                    if isinstance(ack, dict) and ack.get("ok") is True:
                        with self.lock:
                            self.acked[client_id] = ack["message"]["id"]
                            self.contents[client_id] = content
                        break
                    self.failures.append((n, repr(ack)))
                    time.sleep(0.1)
                time.sleep(self.pace)
        except BaseException as error:
            self.error = error


def last_status(device, user_id):
    statuses = [p["status"] for p in device.inbox.all("user:status", lambda p: p.get("userId") == user_id)]
    return statuses[-1] if statuses else None


def watcher_answer(device, user_id):
    answer = device.call("presence:request", [user_id])
    return answer["users"][0] if answer.get("ok") else answer


def test_kill_minus_9_of_a_node_while_people_send(cluster, nodes):
    started = time.monotonic()
    victim = cluster.node_for_port(cluster.site.upstream_of())  # where nginx sends this host's clients
    # The survivor with the smallest cluster id announces the victim's users offline; erin later
    # reconnects to the other one, which learns of the death by its own clock.
    first, second = sorted((node for node in nodes if node is not victim), key=cluster.node_id)
    problems = []  # checked at the end, so that one failure does not hide the others
    alice = cluster.register(first, "alice")       # sender, straight at a surviving node
    dana = cluster.register(second, "dana")        # through nginx (on the victim), reconnects by herself
    erin = cluster.register(second, "erin")        # straight at the victim, reconnects elsewhere by hand
    for other in (dana, erin):  # they share conversations, so each sees the others' status
        r = requests.post(first.url + "/api/messages", headers=alice.auth, timeout=TIMEOUT,
                          json={"recipientId": other.id, "content": "hello", "clientMessageId": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
    watcher = cluster.device(first, alice.token)
    alice_sending = cluster.device(first, alice.token)
    dana_web = cluster.device_via_nginx(dana.token, reconnection=True)
    erin_phone = cluster.device(victim, erin.token)
    for user in (dana, erin):
        watcher.inbox.wait("user:status", lambda p, u=user: p.get("userId") == u.id and p.get("status") == "online")
    wait_until(lambda: dana_web.sio.transport() == "websocket", TIMEOUT, "dana's upgrade to WebSocket through nginx")

    to_dana = Sender("alice→dana", alice_sending, dana.id)
    from_dana = Sender("dana→alice", dana_web, alice.id)
    senders = (to_dana, from_dana)
    try:
        for sender in senders:
            sender.start()
        wait_until(lambda: all(s.count() >= 10 for s in senders), 30, "10 acknowledged messages from each sender before the kill")

        cluster.kill(victim)
        killed_at = time.monotonic()
        for device in (dana_web, erin_phone):
            device.inbox.wait("disconnect", timeout=TIMEOUT, what=f"the disconnect on {device.label} of the killed node")

        # Dana: python-socketio reconnects through nginx, which sends her to a live instance.
        dana_web.inbox.wait("connect", count=2, timeout=20, what="dana's reconnection through nginx")
        reconnected_after = time.monotonic() - killed_at
        now_behind = cluster.site.upstream_of()
        assert now_behind != victim.port and now_behind in (first.port, second.port), now_behind
        # Delivery resumes for her: a message alice sends while she is connected reaches her. (At
        # failover nginx may send the first requests of her new session to two different
        # instances — ip_hash re-hashes once the dead one is marked down — so she can need a
        # second reconnection; what is sent between two connections is history, not live events.)
        deadline = time.monotonic() + 30
        while True:
            connects = len(dana_web.inbox.all("connect"))
            mark = to_dana.count()
            wait_until(lambda: to_dana.count() >= mark + 5, 20, "alice's sends acknowledged after dana's reconnection")
            resumed = list(to_dana.acked)[mark:]
            try:
                dana_web.inbox.wait("message:received", lambda p: p.get("clientMessageId") in resumed, timeout=TIMEOUT,
                                    what="a message alice sent after the kill, on dana's reconnected device")
                break
            except AssertionError:
                if len(dana_web.inbox.all("connect")) == connects or time.monotonic() > deadline:
                    raise  # connected all along, and still nothing: lost
        note(f"kill -9: dana connected {len(dana_web.inbox.all('connect'))} times in all")

        # Erin stays away: the others see her go offline within 30 s of the kill (her node is
        # declared gone after ~15 s of silence), with lastSeen.
        remaining = OFFLINE_WITHIN - (time.monotonic() - killed_at)
        offline = watcher.inbox.wait("user:status", lambda p: p.get("userId") == erin.id and p.get("status") == "offline",
                                     timeout=max(remaining, 0.1), what=f"erin offline within {OFFLINE_WITHIN} s of the kill")
        offline_after = time.monotonic() - killed_at
        assert offline.get("lastSeen"), offline
        answer = watcher.call("presence:request", [erin.id, dana.id])
        by_user = {u["userId"]: u for u in answer["users"]}
        assert by_user[erin.id]["status"] == "offline" and by_user[erin.id]["lastSeen"], by_user
        # Dana came back through nginx: she ends online, and whatever alice saw ends in online. Not
        # "at this instant": at failover nginx can split her new session over two instances, and if
        # her second reconnection is under way when the dead node is swept she has no device
        # anywhere for that moment — rightly announced offline, then online again.
        def dana_online():
            users = {u["userId"]: u for u in watcher.call("presence:request", [dana.id])["users"]}
            return users[dana.id]["status"] == "online" and last_status(watcher, dana.id) == "online"
        wait_until(dana_online, TIMEOUT, f"dana online again: {watcher.inbox.all('user:status')}", interval=0.2)

        # Erin reconnects herself, to another node: the others see her online again.
        _, second_view = cluster.ready(second)
        erin_back_after = time.monotonic() - killed_at
        erin_again = cluster.device(second, erin.token)
        try:
            watcher.inbox.wait("user:status", lambda p: p.get("userId") == erin.id and p.get("status") == "online", count=2,
                               what="erin online again after reconnecting to another node")
        except AssertionError as error:
            views = {node.name: watcher_answer(cluster.device(node, alice.token), erin.id) for node in (first, second)}
            problems.append(f"{error}\n  erin reconnected to {second.name} {erin_back_after:.1f} s after the kill ({offline_after:.1f} s: "
                            f"offline seen), when "
                            f"its /api/ready said {second_view}; alice's user:status events for erin: "
                            f"{[p['status'] for p in watcher.inbox.all('user:status', lambda p: p.get('userId') == erin.id)]}; "
                            f"presence:request for erin now: {views}")
        assert erin_again.call("presence:request", [alice.id])["users"][0]["status"] == "online"

        # Dana's own sends go on after her reconnection.
        mark = from_dana.count()
        wait_until(lambda: from_dana.count() >= mark + 5, 20, "dana's sends acknowledged after her reconnection")
    finally:
        for sender in senders:
            sender.stop_requested.set()
        for sender in senders:
            sender.join(timeout=70)

    for sender in senders:
        assert sender.error is None, f"{sender.name}: {sender.error!r}"
    # Nothing acknowledged is lost, nothing is stored twice.
    history = cluster.history(second, alice, dana.id)
    by_client = {}
    for message in history:
        if message.get("clientMessageId"):
            by_client.setdefault(message["clientMessageId"], []).append(message)
    for sender in senders:
        for client_id, message_id in sender.acked.items():
            stored = by_client.get(client_id, [])
            assert [m["id"] for m in stored] == [message_id], \
                f"{sender.contents[client_id]} (acknowledged as {message_id}) is stored as {[m['id'] for m in stored]}"
    contents = [m["content"] for m in history]
    duplicates = sorted({c for c in contents if contents.count(c) > 1})
    assert not duplicates, f"stored twice: {duplicates}"
    acked_total = sum(s.count() for s in senders)

    # Back to three nodes for the tests that follow.
    restart_began = time.monotonic()
    cluster.restart(victim)
    cluster.wait_ready()
    note(f"kill -9: {acked_total} messages acknowledged ({', '.join(f'{s.name} {s.count()} with {len(s.failures)} retries' for s in senders)}), "
         f"all stored once; dana reconnected through nginx {reconnected_after:.1f} s after the kill; "
         f"erin seen offline {offline_after:.1f} s after the kill; node restarted and 3 ready in "
         f"{time.monotonic() - restart_began:.1f} s; test {time.monotonic() - started:.1f} s")
    assert not problems, "\n".join(problems)


def postgres_restart_command():
    """The command that restarts the PostgreSQL behind DATABASE_URL: CHATR_CLUSTER_PG_RESTART, else
    Debian's `pg_ctlcluster <version> <cluster> restart` for the cluster listening on the URL's port."""
    if os.environ.get("CHATR_CLUSTER_PG_RESTART"):
        return ["sh", "-c", os.environ["CHATR_CLUSTER_PG_RESTART"]]
    port = urlparse(DATABASE_URL).port or 5432
    try:
        listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise AssertionError(f"cannot find how to restart PostgreSQL (set CHATR_CLUSTER_PG_RESTART): {error!r}")
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port):
            return ["pg_ctlcluster", fields[0], fields[1], "restart"]
    raise AssertionError(f"no PostgreSQL cluster on port {port} in pg_lsclusters (set CHATR_CLUSTER_PG_RESTART):\n{listing}")


def send_until_acknowledged(device, recipient_id, content, timeout=30):
    """`message:send` with one clientMessageId, retried until acknowledged: (ack, attempts)."""
    client_id, attempts = str(uuid.uuid4()), []

    def once():
        try:
            ack = device.sio.call("message:send", {"recipientId": recipient_id, "content": content, "clientMessageId": client_id}, timeout=5)
        except Exception as error:  # not connected (yet), no ack in time
            attempts.append(repr(error))
            return None
        attempts.append(ack)
        return ack if isinstance(ack, dict) and ack.get("ok") is True else None
    try:
        return wait_until(once, timeout, f"an acknowledged {content!r}", interval=0.5), attempts
    except AssertionError as error:
        raise AssertionError(f"{error}; last attempts: {attempts[-3:]}")


def test_postgresql_restarted_under_the_running_cluster(cluster, nodes):
    started = time.monotonic()
    one, two, three = nodes
    ann, bob = cluster.register(one, "ann"), cluster.register(two, "bob")
    ann_phone = cluster.device(one, ann.token, reconnection=True)
    bob_phone = cluster.device(two, bob.token, reconnection=True)
    first = ann_phone.send(bob.id, "before the restart")
    assert first["ok"] is True and first["message"]["status"] == "delivered", first
    bob_phone.inbox.wait("message:received", lambda p: p.get("id") == first["message"]["id"])
    command = postgres_restart_command()

    # Readiness of every node, sampled while PostgreSQL goes down and comes back.
    seen = {node.name: [] for node in nodes}
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            for node in nodes:
                status, _ = cluster.ready(node, timeout=4)
                if not seen[node.name] or seen[node.name][-1] != status:
                    seen[node.name].append(status)
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        restart = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert restart.returncode == 0, f"{shlex.join(command)} failed: {restart.stdout}{restart.stderr}"
        restarted_at = time.monotonic()
        note(f"PostgreSQL restart ({shlex.join(command)}) took {restarted_at - started:.1f} s from the test's start")
        cluster.wait_ready(timeout=45)
        ready_after = time.monotonic() - restarted_at
    finally:
        sampling.set()
        sampler.join(timeout=10)
    for node in nodes:
        assert seen[node.name][-1] == 200, f"{node.name} /api/ready answers {seen[node.name]}"

    # Delivery resumes: ann (node 1) → bob (node 2), once their sockets are back if they dropped.
    for device in (ann_phone, bob_phone):
        wait_until(lambda d=device: d.sio.connected, 30, f"{device.label}'s socket connected after the restart")
    ack, attempts = send_until_acknowledged(ann_phone, bob.id, "after the restart")
    assert ack["message"]["status"] == "delivered", ack
    received = bob_phone.inbox.wait("message:received", lambda p: p.get("id") == ack["message"]["id"], timeout=30,
                                    what="ann's message on bob's node-2 device after the PostgreSQL restart")
    assert received["content"] == "after the restart"
    reply, _ = send_until_acknowledged(bob_phone, ann.id, "got it")
    ann_phone.inbox.wait("message:received", lambda p: p.get("id") == reply["message"]["id"], timeout=30,
                         what="bob's reply on ann's node-1 device")
    reconnects = {d.label: d.inbox.count("connect") - 1 for d in (ann_phone, bob_phone)}
    note(f"PostgreSQL restart: /api/ready per node {seen}; all 3 ready {ready_after:.1f} s after the restart returned; "
         f"socket reconnections {reconnects}; {len(attempts)} send attempt(s) until acknowledged; test {time.monotonic() - started:.1f} s")
