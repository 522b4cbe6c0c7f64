"""The shipped nginx site (deploy/nginx/chatr.conf), run for real in front of `chatr` instances.

Used by Tests/deploy (the site's own checks) and Tests/cluster (three instances behind it).

The site file is copied with exactly three kinds of change — listen ports, certificate paths and
the upstream `server` lines — each made by a regex that must match the expected number of times,
so a test fails if the shipped file changes shape. nginx runs from a folder of the caller's (its
own main nginx.conf, pid, logs and temp paths) on free high ports with a throwaway certificate.
Needs `nginx` and `openssl` on PATH; Debian: `apt-get install nginx` (the packaged service need
not run: this starts its own nginx).

With ip_hash every request from 127.0.0.1 goes to the same upstream; the access log records which
one (`$upstream_addr`, before the request id), see `NginxSite.upstream_of`.
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
import uuid

import requests

from chatr_process import ROOT, free_port
from tls_websocket import serialise_tls_sockets

# The site's Socket.IO clients (python-socketio) speak TLS from two threads: see tls_websocket.
serialise_tls_sockets()

SITE = os.path.join(ROOT, "deploy", "nginx", "chatr.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TIMEOUT = 10  # seconds


def make_certificate(folder, addresses):
    """A throwaway self-signed certificate for localhost and these IP addresses: (cert, key)."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    # A subjectAltName so that clients can verify it (CN alone is not checked any more).
    names = ",".join(["DNS:localhost"] + [f"IP:{a}" for a in addresses])
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", f"subjectAltName={names}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def replace(pattern, replacement, text, expected):
    """re.subn that insists on the number of matches: the shipped file must keep its shape."""
    result, count = re.subn(pattern, replacement, text, flags=re.M)
    assert count == expected, f"{pattern!r} matched {count} times in {SITE}, expected {expected}"
    return result


def render_site(text, http_port, https_port, cert, key, upstream_ports):
    text = replace(r"^(\s*listen\s+(?:\[::\]:)?)80;", rf"\g<1>{http_port};", text, 2)
    text = replace(r"^(\s*listen\s+(?:\[::\]:)?)443( ssl http2;)", rf"\g<1>{https_port}\g<2>", text, 2)
    text = replace(r"^(\s*ssl_certificate\s+)/etc/ssl/chatr/fullchain\.pem;", rf"\g<1>{cert};", text, 1)
    text = replace(r"^(\s*ssl_certificate_key\s+)/etc/ssl/chatr/privkey\.pem;", rf"\g<1>{key};", text, 1)
    ours = "".join(f"    server 127.0.0.1:{port};\n" for port in upstream_ports)
    shipped = re.compile(r"^[ \t]*server[ \t]+127\.0\.0\.1:\d+;[ \t]*\n", re.M)
    block = re.search(r"^upstream chatr \{\n.*?^\}", text, re.M | re.S)
    assert block, f"no `upstream chatr {{ … }}` block in {SITE}"
    lines = shipped.findall(block.group(0))
    assert len(lines) == 3, f"expected the 3 example server lines in upstream chatr, found {lines}"
    new_block = replace(r"^(\s*ip_hash;\n)", lambda m: m.group(1) + ours, shipped.sub("", block.group(0)), 1)
    text = text[:block.start()] + new_block + text[block.end():]
    for leftover in ("/etc/ssl/chatr", "127.0.0.1:310", "listen 80", "listen 443", "]:80", "]:443"):
        assert leftover not in text, f"{leftover!r} left in the rendered site"
    return text


def main_conf(folder, site):
    # As root, nginx would hand its workers to `nobody`, who cannot enter our 0700 temp folder.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind}_temp;" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # The request id stays the last field (Tests/deploy matches it against the app's).
    return f"""{user}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format chatr_test '$remote_addr "$request" $status $upstream_addr $request_id';
    access_log {folder}/access.log chatr_test;
{temp}
    include {site};
}}
"""


def wait_for_port(port, proc, what, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} is not listening on {port}")


class NginxSite:
    """nginx with the shipped site in front of `upstream_ports`, run from `folder` (which must
    exist; the certificate, configuration and logs go there). Call `stop()` when done (also after
    a failed start: the constructor stops what it started before raising)."""

    def __init__(self, folder, upstream_ports, addresses=("127.0.0.1",), http_port=None, https_port=None):
        self.folder = folder
        self.proc = None
        self.cert, self.key = make_certificate(folder, list(addresses))
        self.http_port, self.https_port = http_port or free_port(), https_port or free_port()
        self.http = f"http://127.0.0.1:{self.http_port}"
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.site = os.path.join(folder, "chatr.conf")
        with open(SITE) as shipped, open(self.site, "w") as copy:
            copy.write(render_site(shipped.read(), self.http_port, self.https_port, self.cert, self.key, upstream_ports))
        self.conf = os.path.join(folder, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(main_conf(folder, self.site))
        command = [NGINX, "-p", folder, "-e", os.path.join(folder, "error.log"), "-c", self.conf]
        checked = subprocess.run(command + ["-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t failed:\n{checked.stderr}"
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.https_port, self.proc, "nginx")
            wait_for_port(self.http_port, self.proc, "nginx")
        except BaseException:
            self.stop()
            raise

    def session(self):
        """requests for the site: our certificate as CA, no proxies or CA bundle from the environment."""
        s = requests.Session()
        s.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins over `verify`
        s.verify = self.cert
        return s

    def log(self, name):
        path = os.path.join(self.folder, name)
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as f:
            return f.read()

    def upstream_of(self, path="/api/health", timeout=TIMEOUT):
        """The upstream port this client's requests go to now (ip_hash), read from the access log."""
        probe = uuid.uuid4().hex
        separator = "&" if "?" in path else "?"
        self.session().get(f"{self.url}{path}{separator}probe={probe}", timeout=timeout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            lines = [line for line in self.log("access.log").splitlines() if probe in line]
            if lines:
                # `$upstream_addr` lists every upstream tried ("a:1, b:2"): the last one answered.
                fields = lines[-1].split('"')[-1].split()
                return int(fields[-2].rstrip(",").rsplit(":", 1)[1])
            time.sleep(0.05)
        raise AssertionError(f"probe {probe} not in nginx's access log")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=TIMEOUT)
        self.proc = None
