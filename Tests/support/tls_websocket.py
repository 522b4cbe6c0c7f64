"""One OpenSSL connection used by one thread at a time, for python-socketio's threaded client.

python-socketio (through python-engineio and websocket-client) reads a WebSocket in one thread
while another writes it. Over TLS both calls go into the same OpenSSL connection, which is not
safe for that: a read that comes back empty-handed while a write is under way can take the
writer's state for its own, and Python's ssl module then reports end of file. websocket-client
closes the socket as "connection lost" and a healthy connection is gone. The cluster suite saw
exactly this through nginx ("Unexpected connection error" a millisecond after an upgrade, the
server receiving nothing wrong): strace showed the client's read thread get EAGAIN and close
its own socket while the write thread was sending. Browsers and the server are not involved.

`serialise_tls_sockets()` makes every read and write of a TLS socket hold one lock per socket,
and waits for incoming data outside the lock, so a blocked reader never holds up a writer.
"""
import selectors
import ssl
import threading
import time
import weakref

import websocket._core as websocket_core
from websocket._exceptions import WebSocketConnectionClosedException, WebSocketTimeoutException

_locks = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()
_plain_recv, _plain_send = websocket_core.recv, websocket_core.send


def _lock_of(sock):
    with _locks_guard:
        lock = _locks.get(sock)
        if lock is None:
            lock = _locks[sock] = threading.Lock()
        return lock


def _recv(sock, bufsize):
    if not isinstance(sock, ssl.SSLSocket):
        return _plain_recv(sock, bufsize)
    timeout = sock.gettimeout()
    deadline = None if timeout is None else time.monotonic() + timeout
    lock = _lock_of(sock)
    while True:
        with lock:
            sock.setblocking(False)
            try:
                data = sock.recv(bufsize)
                if not data:
                    raise WebSocketConnectionClosedException("Connection to remote host was lost.")
                return data
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                pass  # no whole TLS record yet: wait below, without the lock
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError) as error:
                raise WebSocketConnectionClosedException("Connection to remote host was lost.") from error
            finally:
                sock.settimeout(timeout)
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise WebSocketTimeoutException("Connection timed out waiting for data")
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            selector.select(left)


def _send(sock, data):
    if not isinstance(sock, ssl.SSLSocket):
        return _plain_send(sock, data)
    with _lock_of(sock):
        return _plain_send(sock, data)


def serialise_tls_sockets():
    """Routes websocket-client's reads and writes through the functions above (idempotent)."""
    websocket_core.recv, websocket_core.send = _recv, _send
