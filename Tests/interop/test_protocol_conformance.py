"""The edges of the Engine.IO / Socket.IO protocol, spoken by hand (raw HTTP and a raw WebSocket)
to `socketio-echo`, where the reference server's behaviour is the contract:
https://socket.io/docs/v4/engine-io-protocol/ and https://socket.io/docs/v4/socket-io-protocol/."""
import json
import threading
import time

import requests
import websocket

PATH = "/socket.io/"


def polling_session(echo):
    r = requests.get(echo.url + PATH, params={"EIO": "4", "transport": "polling"}, timeout=5)
    assert r.status_code == 200 and r.text.startswith("0{"), r.text
    return json.loads(r.text[1:])["sid"]


def ws_url(echo, sid=None):
    url = echo.url.replace("http://", "ws://") + PATH + "?EIO=4&transport=websocket"
    return url + (f"&sid={sid}" if sid else "")


def recv_skipping_pings(ws):
    """The next frame that is not a ping (pings are answered, as a client must)."""
    while True:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
            continue
        return frame


def test_methods_other_than_get_and_post_are_the_protocols_400(echo):
    for method in ("PUT", "DELETE", "PATCH"):
        r = requests.request(method, echo.url + PATH, params={"EIO": "4", "transport": "polling"}, timeout=5)
        assert r.status_code == 400, method
        assert r.json() == {"code": 2, "message": "Bad handshake method"}, method
    sid = polling_session(echo)
    r = requests.put(echo.url + PATH, params={"EIO": "4", "transport": "polling", "sid": sid}, data="4x", timeout=5)
    assert r.status_code == 400 and r.json() == {"code": 3, "message": "Bad request"}


def test_a_posted_close_gets_ok_and_the_waiting_poll_a_noop(echo):
    sid = polling_session(echo)
    params = {"EIO": "4", "transport": "polling", "sid": sid}
    held = {}

    def poll():
        held["response"] = requests.get(echo.url + PATH, params=params, timeout=10)

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.2)
    close = requests.post(echo.url + PATH, params=params, data="1", timeout=5)
    assert close.status_code == 200 and close.text == "ok"
    waiting.join(timeout=5)
    assert held["response"].status_code == 200 and held["response"].text == "6"
    later = requests.get(echo.url + PATH, params=params, timeout=5)
    assert later.status_code == 400 and later.json()["code"] == 1


def test_a_second_websocket_on_an_upgraded_session_is_refused(echo):
    sid = polling_session(echo)
    first = websocket.create_connection(ws_url(echo, sid), timeout=5)
    first.send("2probe")
    assert first.recv() == "3probe"
    first.send("5")
    time.sleep(0.1)
    try:
        second = websocket.create_connection(ws_url(echo, sid), timeout=5)
    except websocket.WebSocketBadStatusException as refused:
        assert refused.status_code == 400
    else:
        # Accepted at the HTTP level, then closed at once without a word.
        second.settimeout(2)
        try:
            frame = second.recv()
        except websocket.WebSocketConnectionClosedException:
            frame = ""
        assert frame == "", frame
    first.send("40")
    assert recv_skipping_pings(first).startswith('40{"sid":')
    first.close()


def test_leaving_the_main_namespace_keeps_the_connection(echo):
    ws = websocket.create_connection(ws_url(echo), timeout=5)
    assert ws.recv().startswith("0{")
    ws.send("40")
    first = recv_skipping_pings(ws)
    assert first.startswith('40{"sid":'), first
    assert recv_skipping_pings(ws).startswith('42["auth"')
    ws.send("41")
    # Several ping intervals (300 ms): pings keep coming and are answered; nothing else arrives.
    deadline = time.time() + 1.2
    pings = 0
    ws.settimeout(0.5)
    while time.time() < deadline:
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            continue
        assert frame == "2", frame
        pings += 1
        ws.send("3")
    assert pings >= 2
    ws.settimeout(5)
    ws.send("40")
    again = recv_skipping_pings(ws)
    assert again.startswith('40{"sid":') and again != first
    ws.close()
