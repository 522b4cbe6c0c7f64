"""Helpers of the cluster tests: devices (python-socketio clients) with their events, users,
and the three nodes behind nginx. Fixtures and hooks are in conftest.py."""
import os
import random
import re
import sys
import threading
import time
import uuid

import requests
import socketio

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "support"))
from chatr_process import BIN, Server, base_env, free_port, wait_until  # noqa: E402,F401  (wait_until re-exported)
from nginx_site import NginxSite  # noqa: E402,F401  (re-exported for conftest)

DATABASE_URL = os.environ.get("CHATR_CLUSTER_DATABASE_URL")
SKIP_REASON = ("CHATR_CLUSTER_DATABASE_URL is not set: the cluster tests need a PostgreSQL database they may wipe, e.g. "
               "CHATR_CLUSTER_DATABASE_URL=$(bash scripts/start-postgres.sh chatr_cluster)")
JWT_SECRET = "chatr-cluster-tests-shared-secret-0123456789"  # ≥ 32 bytes, the same on every node
# Web Push's key pair, the same on every node (cluster mode generates none: each node's would differ).
VAPID_PRIVATE_KEY = "_Ppj8OtYjEqztoz5w3bYhRN33e3momjw6IWnsMxyAJU"
VAPID_PUBLIC_KEY = "BIIztcLj1WJe5I3WuZiqpGVHtqCirszdYp8SBDSSGLMnhM6hiS6t1cXBOXugEE5TMTBx7Ml3gSUX9NKBcrWPOBM"
PASSWORD = "Cluster-pass1!"
NODES = 3
TIMEOUT = 10  # seconds: every ordinary request and event wait

# What a device records (besides connect / disconnect / connect_error).
EVENTS = ("message:received", "message:sent", "message:status", "message:reaction", "message:edited", "message:unsent",
          "typing:status", "ghost:typing", "audio:recording", "audio:listening", "audio:waveform", "user:status",
          "presence:update", "presence:response", "error", "group:created", "group:updated", "group:deleted",
          "group:message:received", "group:user:joined", "group:user:left")

NOTES = []  # timings the tests report (kill -9, PostgreSQL restart), printed in the summary


def note(text):
    """A timing worth seeing in the summary (and in the test's own output)."""
    print(text)
    NOTES.append(text)


# --- events ------------------------------------------------------------------------------------

class Inbox:
    """Socket.IO events by name (the first argument of each), with bounded waits on conditions."""

    def __init__(self):
        self.events, self.cond = {}, threading.Condition()

    def add(self, name, args):
        with self.cond:
            self.events.setdefault(name, []).append(args[0] if len(args) == 1 else (args or None))
            self.cond.notify_all()

    def all(self, name, where=None):
        with self.cond:
            return [e for e in self.events.get(name, []) if where is None or where(e)]

    def count(self, name, where=None):
        return len(self.all(name, where))

    def wait(self, name, where=None, count=1, timeout=TIMEOUT, what=None):
        """The `count`-th event `name` that satisfies `where`; fails after `timeout` seconds."""
        with self.cond:
            matching = lambda: [e for e in self.events.get(name, []) if where is None or where(e)]
            ok = self.cond.wait_for(lambda: len(matching()) >= count, timeout)
            assert ok, f"no {what or name} within {timeout} s; {name} events: {self.events.get(name, [])!r:.2000}"
            return matching()[count - 1]


class Device:
    """One python-socketio client of a user (a phone, a tablet) and the events it received."""

    def __init__(self, url, token, http_session=None, transports=("websocket",), reconnection=False, label=""):
        self.url, self.token, self.label = url, token, label or url
        self.inbox = Inbox()
        options = dict(reconnection=reconnection)
        if reconnection:
            options.update(reconnection_delay=0.5, reconnection_delay_max=2, randomization_factor=0.2)
        if http_session is not None:
            options["http_session"] = http_session
        self.sio = socketio.Client(**options)
        for event in EVENTS:
            self.sio.on(event, (lambda name: lambda *args: self.inbox.add(name, args))(event))
        self.sio.on("connect", lambda: self.inbox.add("connect", ()))
        self.sio.on("disconnect", lambda *args: self.inbox.add("disconnect", args))
        self.sio.on("connect_error", lambda *args: self.inbox.add("connect_error", args))
        self.sio.connect(url, auth={"token": token}, transports=list(transports), wait_timeout=TIMEOUT)
        self.inbox.wait("presence:update", what=f"presence:update after connecting to {url}")

    @property
    def connected(self):
        return self.sio.connected

    def call(self, event, data, timeout=TIMEOUT):
        return self.sio.call(event, data, timeout=timeout)

    def emit(self, event, data):
        self.sio.emit(event, data)

    def send(self, recipient_id, content, **extra):
        """`message:send` with a fresh clientMessageId; returns the ack."""
        body = {"recipientId": recipient_id, "content": content, "clientMessageId": str(uuid.uuid4()), **extra}
        return self.call("message:send", body)

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:
            pass
        # With reconnection on, a client between attempts is not "connected": stop its loop too.
        try:
            self.sio.shutdown()
        except Exception:
            pass


# --- the cluster ---------------------------------------------------------------------------------

class User:
    """`username` as registered; `handle` as the server shows it (`@name`)."""

    def __init__(self, id, email, username, token, handle=None):
        self.id, self.email, self.username, self.token = id, email, username, token
        self.handle = handle or "@" + username

    @property
    def auth(self):
        return {"Authorization": f"Bearer {self.token}"}

    def __repr__(self):
        return f"User({self.username})"


def fake_client_ip():
    """A client address for nginx-style X-Real-IP (trusted from 127.0.0.1): each registration
    counts against its own per-IP auth limit, as real users' would."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


class Cluster:
    def __init__(self, folder):
        self.folder = folder
        self.keep_folder = False
        self.nodes = []
        self.site = None
        self.devices = []
        self.killed = set()  # nodes a test killed on purpose (kill -9), until restarted

    def env(self, **extra):
        return base_env(CHATR_ENV="development", CLUSTER="postgres", DATABASE_URL=DATABASE_URL, JWT_SECRET=JWT_SECRET,
                        VAPID_PRIVATE_KEY=VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY=VAPID_PUBLIC_KEY, TRUSTED_PROXIES="127.0.0.1", PUBLIC_DIR=os.path.join(ROOT, "Public"), **extra)

    def start_node(self, n):
        workdir = os.path.join(self.folder, f"node{n}")
        os.mkdir(workdir)
        node = Server(self.env(), workdir)
        node.name = f"node {n}"
        return node

    def kill(self, node):
        """kill -9: the node crashes; `restart` (or the end of the test) brings it back."""
        self.killed.add(node.name)
        node.kill()

    def restart(self, node):
        node.log.write(f"\n----- restarted by the tests at {time.strftime('%H:%M:%S')} -----\n")
        node.log.flush()
        node.start()
        self.killed.discard(node.name)

    def check_nodes_alive(self):
        """After each test: a node that died without being killed by the test is a crash (a product
        bug): it is restarted, so later tests have three nodes, and reported. Killed nodes that
        the test left down are restarted too."""
        crashed, restarted = [], []
        for node in self.nodes:
            if node.proc.poll() is None:
                continue
            if node.name not in self.killed:
                with open(node.log_path, errors="replace") as f:
                    tail = "\n".join(f.read().splitlines()[-60:])
                crashed.append(f"{node.name} exited with {node.proc.returncode}; its last lines:\n{tail}")
            self.restart(node)
            restarted.append(node)
        if restarted:
            self.wait_ready()
        assert not crashed, "\n\n".join(crashed)

    def node_id(self, node):
        """The cluster id the node chose at its last start (from its log)."""
        with open(node.log_path, errors="replace") as f:
            ids = re.findall(r"cluster: node (\S+) listening", f.read())
        assert ids, f"no cluster node id in {node.name}'s log"
        return ids[-1]

    def node_for_port(self, port):
        return next(node for node in self.nodes if node.port == port)

    # Readiness

    def ready(self, node, timeout=5):
        """(HTTP status, body) of the node's /api/ready; (None, error) when it does not answer."""
        try:
            r = requests.get(node.url + "/api/ready", timeout=timeout)
            return r.status_code, r.json()
        except (requests.RequestException, ValueError) as error:
            return None, repr(error)

    def wait_ready(self, nodes=None, count=NODES, timeout=45):
        """Every node answers /api/ready 200 with `nodes == count`."""
        nodes = nodes or self.nodes
        last = {}

        def all_ready():
            for node in nodes:
                last[node.name] = self.ready(node)
            return all(status == 200 and isinstance(body, dict) and body.get("nodes") == count for status, body in last.values())
        try:
            wait_until(all_ready, timeout, f"{count} ready nodes", interval=0.1)
        except AssertionError:
            raise AssertionError(f"the cluster did not get back to {count} ready nodes within {timeout} s: {last}")

    # Users

    def register(self, node, name):
        """A verified user, registered and verified on `node` (its dev outbox holds the code)."""
        suffix = uuid.uuid4().hex[:6]
        email, username = f"{name}-{suffix}@example.com", f"{name}_{suffix}"
        ip = {"X-Real-IP": fake_client_ip()}
        r = requests.post(node.url + "/api/auth/register", headers=ip, timeout=TIMEOUT,
                          json={"email": email, "username": username, "password": PASSWORD, "displayName": name.title()})
        assert r.status_code == 201, f"register on {node.name}: {r.status_code} {r.text}"
        user_id = r.json()["userId"]
        r = requests.post(node.url + "/api/auth/verify-email", headers=ip, timeout=TIMEOUT,
                          json={"userId": user_id, "code": self.code_for(node, email)})
        assert r.status_code == 200, f"verify-email on {node.name}: {r.status_code} {r.text}"
        return User(user_id, email, username, r.json()["token"], handle=r.json()["user"]["username"])

    def code_for(self, node, email):
        r = requests.get(node.url + "/api/dev/outbox", params={"to": email}, timeout=TIMEOUT)
        assert r.status_code == 200, f"dev outbox on {node.name}: {r.status_code} {r.text[:200]}"
        entries = r.json()
        assert entries, f"no code sent to {email} by {node.name}"
        return entries[-1]["code"]

    def login(self, node, user):
        """A second session (another token) for `user`, signed in on `node`."""
        ip = {"X-Real-IP": fake_client_ip()}
        r = requests.post(node.url + "/api/auth/login", headers=ip, json={"email": user.email, "password": PASSWORD}, timeout=TIMEOUT)
        assert r.status_code == 200 and r.json().get("requiresLoginVerification") is True, f"login on {node.name}: {r.status_code} {r.text}"
        r = requests.post(node.url + "/api/auth/login/verify", headers=ip, timeout=TIMEOUT,
                          json={"userId": user.id, "code": self.code_for(node, user.email)})
        assert r.status_code == 200 and r.json()["token"], f"login/verify on {node.name}: {r.status_code} {r.text}"
        return r.json()["token"]

    def history(self, node, user, other_id):
        """The whole direct conversation of `user` with `other_id`, oldest first, over REST on `node`."""
        messages, before = [], None
        while True:
            params = {"otherUserId": other_id, "limit": 200}
            if before:
                params["before"] = before
            r = requests.get(node.url + "/api/messages/history", params=params, headers=user.auth, timeout=TIMEOUT)
            assert r.status_code == 200, f"history on {node.name}: {r.status_code} {r.text[:300]}"
            page = r.json()
            messages = page["messages"] + messages
            if not page.get("hasMore") or not page["messages"]:
                return messages
            before = page["messages"][0]["id"]

    # Devices

    def device(self, node_or_url, token, **options):
        """A device straight at a node (websocket), closed when the test ends."""
        url = node_or_url if isinstance(node_or_url, str) else node_or_url.url
        label = options.pop("label", None) or (url if isinstance(node_or_url, str) else node_or_url.name)
        device = Device(url, token, label=label, **options)
        self.devices.append(device)
        return device

    def device_via_nginx(self, token, **options):
        """A device through nginx: https with the throwaway certificate, polling then upgrade."""
        options.setdefault("transports", ("polling", "websocket"))
        return self.device(self.site.url, token, http_session=self.site.session(), label="nginx", **options)

    def close_devices(self):
        devices, self.devices = self.devices, []
        for device in devices:
            device.close()

    # Logs

    def log_paths(self):
        paths = [(node.name, node.log_path) for node in self.nodes]
        if self.site:
            paths.append(("nginx error", os.path.join(self.site.folder, "error.log")))
        return paths

    def log_marks(self):
        return {name: (os.path.getsize(path) if os.path.exists(path) else 0) for name, path in self.log_paths()}

    def logs_since(self, marks):
        out = []
        for name, path in self.log_paths():
            if not os.path.exists(path):
                continue
            with open(path, errors="replace") as f:
                f.seek(marks.get(name, 0))
                text = f.read()
            lines = text.splitlines()
            if len(lines) > 300:
                text = "\n".join([f"… {len(lines) - 300} earlier lines …"] + lines[-300:])
            out.append((name, text))
        return out

    def log_text(self, node):
        with open(node.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        self.close_devices()
        if self.site:
            self.site.stop()
        for node in self.nodes:
            try:
                node.stop()
            except Exception as error:  # keep stopping the others
                print(f"{node.name} did not stop cleanly: {error!r}")


