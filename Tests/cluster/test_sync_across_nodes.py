"""Gap-free sync in a cluster: a socket that comes back to its node is recovered with what the
other nodes sent meanwhile (each node records every broadcast it applies, remote ones too), and
the change feed brings the same changes from any node."""
import json
import re
import socket
import threading
import time

import requests
import websocket

from cluster_helpers import TIMEOUT, note, wait_until


class RawSocket:
    """A Socket.IO client by hand (websocket-client): python-socketio cannot present a pid."""

    def __init__(self, node, auth):
        self.ws = websocket.create_connection(node.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=TIMEOUT)
        assert self.ws.recv().startswith("0")
        self.ws.send("40" + json.dumps(auth))
        reply = self.ws.recv()
        assert reply.startswith("40{"), reply
        self.connect = json.loads(reply[2:])
        self.events = []
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while not self.closed:
            try:
                frame = self.ws.recv()
            except Exception:
                return
            if frame == "2":
                self.ws.send("3")
            elif frame.startswith("42"):
                self.events.append(json.loads(frame[2:]))

    def received(self, name):
        return [e for e in self.events if e[0] == name]

    def drop(self):
        """The connection is lost (no DISCONNECT packet): the state is kept for recovery.
        shutdown() first: close() alone sends no FIN while the reader thread is blocked in recv on
        the socket (the kernel keeps it open until that recv times out, 10 s later)."""
        self.closed = True
        sock = self.ws.sock  # the reader thread, woken by the shutdown, sets ws.sock to None
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def sockets_on(node):
    """Socket.IO sockets connected to `node` now (its /metrics, read from loopback)."""
    text = requests.get(node.url + "/metrics", timeout=TIMEOUT).text
    return int(float(re.search(r"^chatr_sockets_connected(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M).group(1)))


def settled_sockets_on(node, quiet=0.5):
    """`sockets_on(node)` once it has not changed for `quiet` seconds: sockets of the tests before
    (closed at their teardown, some across a PostgreSQL restart) may still be leaving, and a count
    that moves for them says nothing about the socket a test drops."""
    deadline = time.monotonic() + TIMEOUT
    last, since = sockets_on(node), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, f"{node.name}'s socket count never settled (last {last})"
        time.sleep(0.05)
        now = sockets_on(node)
        if now != last:
            last, since = now, time.monotonic()
    return last


def test_a_socket_back_on_its_node_is_recovered_with_what_other_nodes_sent(cluster, nodes):
    one, two, three = nodes
    settled_sockets_on(one)
    ann, bob = cluster.register(one, "ann"), cluster.register(two, "bob")
    bob_phone = cluster.device(two, bob.token)
    cursor = requests.get(three.url + "/api/sync", headers=ann.auth, timeout=TIMEOUT).json()["cursor"]

    first = RawSocket(one, {"token": ann.token, "recover": True})
    sid, pid = first.connect["sid"], first.connect["pid"]
    assert bob_phone.call("message:send", {"recipientId": ann.id, "content": "before"})["ok"]
    wait_until(lambda: first.received("message:received"), TIMEOUT, "the message from node 2")
    event = first.received("message:received")[0]
    assert len(event) == 3 and event[1]["content"] == "before", event
    offset = event[2]

    before_drop = sockets_on(one)
    first.drop()
    dropped = time.monotonic()
    # Node 1 has noticed once its socket count goes down (presence is not the signal: it depends
    # on the cluster's view of node 1, which the fault tests before this one shake).
    wait_until(lambda: sockets_on(one) <= before_drop - 1, TIMEOUT, f"node 1 to see the connection go (it had {before_drop} sockets)")
    assert sockets_on(one) == before_drop - 1, f"node 1 lost more sockets than the one dropped: {before_drop} → {sockets_on(one)}"
    note(f"recovery: node 1 saw the dropped connection after {time.monotonic() - dropped:.2f} s")
    for text in ("missed 1", "missed 2"):
        assert bob_phone.call("message:send", {"recipientId": ann.id, "content": text})["ok"]

    back = RawSocket(one, {"token": ann.token, "pid": pid, "offset": offset})
    assert (back.connect["sid"], back.connect["pid"]) == (sid, pid), "the same socket, taken back"
    wait_until(lambda: len(back.received("message:received")) >= 2, TIMEOUT, "the replay of what node 2 sent")
    time.sleep(0.3)  # nothing else must follow
    assert [e[1]["content"] for e in back.received("message:received")] == ["missed 1", "missed 2"]
    back.drop()

    # The feed brings the same, read from a third node.
    page = requests.get(three.url + "/api/sync", params={"since": cursor}, headers=ann.auth, timeout=TIMEOUT).json()
    contents = [c["message"]["content"] for c in page["changes"] if c["type"] == "message"]
    assert contents == ["before", "missed 1", "missed 2"], contents
