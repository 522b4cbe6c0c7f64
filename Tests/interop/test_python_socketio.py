"""A real third-party client (python-socketio) against the SocketIO library's echo fixture."""
import threading
import time

import requests
import socketio

from conftest import Echo


class Inbox:
    """Collects events by name and waits for them."""

    def __init__(self):
        self.events = {}
        self.cond = threading.Condition()

    def add(self, name, args):
        with self.cond:
            self.events.setdefault(name, []).append(args)
            self.cond.notify_all()

    def wait(self, name, count=1, timeout=5):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.events.get(name, [])) >= count, timeout), f"no {name}: {self.events}"
            return self.events[name][count - 1]


def client(inbox=None, namespaces=("/",), **kwargs):
    sio = socketio.Client(reconnection=kwargs.pop("reconnection", False))
    inbox = inbox or Inbox()

    def record(event, namespace):
        def handler(*args):
            inbox.add(event if namespace == "/" else namespace + ":" + event, args)
        return handler

    for namespace in namespaces:
        for event in ("auth", "message-back", "relayed"):
            sio.on(event, record(event, namespace), namespace=namespace)
    sio.on("connect", lambda: inbox.add("connect", ()))
    sio.on("disconnect", lambda *a: inbox.add("disconnect", a))
    return sio, inbox


def test_polling_then_upgrade(echo):
    sio, inbox = client()
    sio.connect(echo.url, auth={"token": "abc"}, wait_timeout=5)
    assert inbox.wait("auth") == ({"token": "abc"},)
    time.sleep(0.5)
    assert sio.transport() == "websocket", "the client upgraded from polling"
    sio.emit("message", ("hello", 1, {"a": [True, None]}))
    assert inbox.wait("message-back") == ("hello", 1, {"a": [True, None]})
    sio.disconnect()


def test_polling_only(echo):
    sio, inbox = client()
    sio.connect(echo.url, transports=["polling"], wait_timeout=5)
    assert inbox.wait("auth") == ({},)
    sio.emit("message", "over polling")
    assert inbox.wait("message-back") == ("over polling",)
    assert sio.transport() == "polling"
    assert sio.call("anything", {"x": 1}, timeout=5) == {"x": 1}
    sio.disconnect()


def test_websocket_only_with_acks(echo):
    sio, inbox = client()
    sio.connect(echo.url, transports=["websocket"], wait_timeout=5)
    assert sio.transport() == "websocket"
    assert sio.call("message", "ack me", timeout=5) == "ack me"
    assert sio.call("whatever", [1, 2, 3], timeout=5) == [1, 2, 3]
    sio.disconnect()


def test_binary_both_ways(echo):
    sio, inbox = client()
    sio.connect(echo.url, transports=["websocket"], wait_timeout=5)
    payload = {"name": "file", "data": b"\x00\x01\x02\xff", "parts": [b"a", b"bc"]}
    sio.emit("message", payload)
    back = inbox.wait("message-back")[0]
    assert back["data"] == b"\x00\x01\x02\xff"
    assert back["parts"] == [b"a", b"bc"]
    assert sio.call("bin", b"\x10\x20", timeout=5) == b"\x10\x20"
    sio.disconnect()


def test_binary_over_polling(echo):
    sio, inbox = client()
    sio.connect(echo.url, transports=["polling"], wait_timeout=5)
    sio.emit("message", b"\xde\xad\xbe\xef")
    assert inbox.wait("message-back") == (b"\xde\xad\xbe\xef",)
    sio.disconnect()


def test_custom_namespace_and_unknown_namespace(echo):
    sio, inbox = client(namespaces=("/", "/custom"))
    sio.connect(echo.url, namespaces=["/custom"], auth={"k": "v"}, transports=["websocket"], wait_timeout=5)
    assert inbox.wait("/custom:auth") == ({"k": "v"},)
    sio.emit("message", "in custom", namespace="/custom")
    assert inbox.wait("/custom:message-back") == ("in custom",)
    sio.disconnect()

    bad = socketio.Client(reconnection=False)
    try:
        bad.connect(echo.url, namespaces=["/nope"], transports=["websocket"], wait_timeout=3)
        raise AssertionError("connected to an unknown namespace")
    except socketio.exceptions.ConnectionError as error:
        assert "Invalid namespace" in str(error) or "One or more namespaces failed" in str(error)


def test_two_clients_in_a_room(echo):
    a, inbox_a = client()
    b, inbox_b = client()
    c, inbox_c = client()
    for sio in (a, b, c):
        sio.connect(echo.url, transports=["websocket"], wait_timeout=5)
    assert a.call("join", "room1", timeout=5) == "room1"
    assert b.call("join", "room1", timeout=5) == "room1"
    c.call("to-room", ("room1", "relayed", "hi room", 42), timeout=5)
    assert inbox_a.wait("relayed") == ("hi room", 42)
    assert inbox_b.wait("relayed") == ("hi room", 42)
    # The sender excludes itself; a socket outside the room gets nothing.
    a.call("to-room", ("room1", "relayed", "from a"), timeout=5)
    assert inbox_b.wait("relayed", count=2) == ("from a",)
    time.sleep(0.3)
    assert len(inbox_a.events.get("relayed", [])) == 1
    assert "relayed" not in inbox_c.events
    for sio in (a, b, c):
        sio.disconnect()


def test_reconnect_after_server_restart():
    echo = Echo()
    try:
        sio, inbox = client(reconnection=True)
        sio.connect(echo.url, transports=["websocket"], wait_timeout=5)
        inbox.wait("connect")
        echo.stop()
        inbox.wait("disconnect", timeout=10)
        echo.start()
        inbox.wait("connect", count=2, timeout=20)
        assert sio.call("message", "again", timeout=5) == "again"
        sio.disconnect()
    finally:
        echo.stop()


def test_heartbeat_keeps_an_idle_client(echo):
    sio, inbox = client()
    sio.connect(echo.url, transports=["websocket"], wait_timeout=5)
    time.sleep(1.5)  # several ping intervals of 300 ms
    assert sio.connected
    assert sio.call("message", "still here", timeout=5) == "still here"
    sio.disconnect()


def test_raw_protocol_errors(echo):
    base = echo.url + "/socket.io/"
    r = requests.get(base, params={"EIO": "3", "transport": "polling"}, timeout=5)
    assert r.status_code == 400 and r.json() == {"code": 5, "message": "Unsupported protocol version"}
    r = requests.get(base, params={"EIO": "4", "transport": "udp"}, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == 0
    r = requests.get(base, params={"EIO": "4", "transport": "polling", "sid": "unknown"}, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == 1
    r = requests.post(base, params={"EIO": "4", "transport": "polling"}, data="40", timeout=5)
    assert r.status_code == 400 and r.json()["code"] == 2
    # A session that sends garbage is closed; others carry on.
    open_packet = requests.get(base, params={"EIO": "4", "transport": "polling"}, timeout=5).text
    sid = open_packet[open_packet.index('"sid":"') + 7:].split('"')[0]
    assert requests.post(base, params={"EIO": "4", "transport": "polling", "sid": sid}, data="40", timeout=5).text == "ok"
    r = requests.post(base, params={"EIO": "4", "transport": "polling", "sid": sid}, data="42not json", timeout=5)
    time.sleep(0.2)
    r = requests.get(base, params={"EIO": "4", "transport": "polling", "sid": sid}, timeout=5)
    assert r.status_code == 400 or r.text.endswith("1"), r.text
    sio, _ = client()
    sio.connect(echo.url, transports=["websocket"], wait_timeout=5)
    assert sio.call("message", "unaffected", timeout=5) == "unaffected"
    sio.disconnect()


def test_connect_timeout_drops_silent_sessions(echo):
    open_packet = requests.get(echo.url + "/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=5).text
    sid = open_packet[open_packet.index('"sid":"') + 7:].split('"')[0]
    time.sleep(1.5)  # connect timeout is 1000 ms
    r = requests.get(echo.url + "/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid}, timeout=5)
    assert r.status_code == 400 and r.json()["code"] == 1


def test_sigterm_with_connected_clients_exits_promptly():
    echo = Echo()
    sio, inbox = client()
    sio.connect(echo.url, transports=["websocket"], wait_timeout=5)
    polling, _ = client()
    polling.connect(echo.url, transports=["polling"], wait_timeout=5)
    started = time.time()
    echo.proc.terminate()
    assert echo.proc.wait(timeout=10) == 0
    assert time.time() - started < 5, "open WebSockets and held polls do not delay shutdown"
    inbox.wait("disconnect", timeout=5)
