"""The client's connection to the console: it connects out (the client's machine opens no
port), pairs with the one-time code, then a background thread queues what arrives."""

from __future__ import annotations

import queue
import threading

from ..errors import UsageError
from . import protocol as p


class SessionRefused(UsageError):
    """The console refused the pairing (or could not be reached)."""


class SessionLink:
    def __init__(self, url: str, code: str, display: str, open_timeout: float = 5.0):
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        self.inbox: queue.Queue = queue.Queue()
        self.closed = threading.Event()
        self._send_lock = threading.Lock()
        try:
            self.ws = connect(url, proxy=None, compression=None, open_timeout=open_timeout,
                              ping_interval=None, max_size=p.MAX_MESSAGE, legacy=True)
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise SessionRefused(f"cannot reach the console at {url}: {exc}") from None
        try:
            self.ws.send(p.encode(p.Hello(code=code, display=display)))
            reply = p.decode(self.ws.recv(timeout=open_timeout))
        except (OSError, WebSocketException, TimeoutError, p.ProtocolError) as exc:
            self.ws.close()
            raise SessionRefused(f"the console did not answer the pairing: {exc}") from None
        if isinstance(reply, p.Refused):
            self.ws.close()
            raise SessionRefused(f"the console refused the pairing code: {reply.reason}")
        if not isinstance(reply, p.Welcome):
            self.ws.close()
            raise SessionRefused("the console answered the pairing with something unexpected")
        self.welcome: p.Welcome = reply
        self._thread = threading.Thread(target=self._receive, name="session-link", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        try:
            for text in self.ws:
                try:
                    self.inbox.put(p.decode(text))
                except p.ProtocolError:
                    continue
        except Exception:  # any end of the connection: the controller's link timeout takes over
            pass
        finally:
            self.closed.set()

    def poll(self) -> list:
        out = []
        while True:
            try:
                out.append(self.inbox.get_nowait())
            except queue.Empty:
                return out

    def send(self, msg) -> bool:
        if self.closed.is_set():
            return False
        try:
            with self._send_lock:
                self.ws.send(p.encode(msg))
            return True
        except Exception:
            return False

    def close(self) -> None:
        self.ws.close()
        self._thread.join(timeout=2)
