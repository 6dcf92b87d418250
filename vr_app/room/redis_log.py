"""Scale-out: a room's op log in a Redis stream, held by one process under a Redis lease.

Keys (`memorial:room:SUBJECT:ROOM:…`)::

    lease      JSON {token, url} with a short expiry, renewed by the serving process
    ops        stream; entry id "SEQ-1", field "op" = the same sealed line as the file log
    snapshot   sealed RoomState at some seq; the stream is trimmed below it
    presence   JSON list of who is in the room (for other processes and tools), short expiry

Every write runs in a WATCH/MULTI transaction on the lease: a process whose lease has
expired (paused, partitioned) cannot append after another process took the room over, and
explicit stream ids refuse an op number written twice. The op is acknowledged after Redis
replies; with `appendonly yes` and `appendfsync always` Redis has fsync'd it by then
(the server warns at start when Redis is configured otherwise).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid

from assets.errors import MemorialError

from . import store
from .state import RoomState

log = logging.getLogger("memorial.room")

LEASE_MS = 1200  # a dead host's rooms are free again after at most this long
PRESENCE_MS = 10_000


class LeaseLost(MemorialError):
    """This process no longer holds the room's lease: another may have taken it over."""


def connect_redis(url: str):
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        client.ping()
        fsync = client.config_get("appendfsync").get("appendfsync")
        aof = client.config_get("appendonly").get("appendonly")
    except redis.RedisError as exc:
        raise MemorialError(f"cannot use Redis at {url}: {exc}") from None
    if (aof, fsync) != ("yes", "always"):
        log.warning("Redis at %s has appendonly=%s appendfsync=%s: acknowledged ops survive a Redis crash only "
                    "with appendonly yes and appendfsync always", url, aof, fsync)
    return client


def _prefix(subject: str, room: str) -> str:
    return f"memorial:room:{subject}:{room}:"


def clear_subject(url: str, subject: str) -> None:
    """Remove every room key of `subject` (the bench's throwaway subject only)."""
    client = connect_redis(url)
    keys = list(client.scan_iter(match=f"memorial:room:{subject}:*"))
    if keys:
        client.delete(*keys)


class RedisOpLog:
    """Same interface as store.FileOpLog: acquire, load, append, maybe_snapshot, renew, close."""

    def __init__(self, client, subject: str, room: str, key: bytes, advertise=lambda: "", lease_ms: int = LEASE_MS):
        self.client, self.subject, self.room, self._key = client, subject, room, key
        self._advertise = advertise
        self.lease_ms = lease_ms
        p = _prefix(subject, room)
        self.k_lease, self.k_ops, self.k_snapshot, self.k_presence = p + "lease", p + "ops", p + "snapshot", p + "presence"
        self.token = uuid.uuid4().hex
        self._since_snapshot = 0
        self.held = False
        # Renewals (reaper) and appends (committer) come from different threads; both WATCH the
        # lease, and one's PEXPIRE would abort the other's transaction: take turns.
        self._turn = threading.Lock()

    def acquire(self) -> None:
        value = json.dumps({"token": self.token, "url": self._advertise()})
        if not self.client.set(self.k_lease, value, nx=True, px=self.lease_ms):
            holder = self.client.get(self.k_lease)
            url = json.loads(holder)["url"] if holder else ""
            raise store.RoomBusy(f"room '{self.room}' is served by another process{' at ' + url if url else ''}", url)
        self.held = True

    def holder_url(self) -> str:
        raw = self.client.get(self.k_lease)
        return json.loads(raw)["url"] if raw else ""

    def load(self) -> RoomState:
        snap = self.client.get(self.k_snapshot)
        state = store.open_snapshot(self._key, self.subject, self.room, snap) if snap else RoomState(room=self.room)
        for entry_id, fields in self.client.xrange(self.k_ops, min=f"{state.seq + 1}-0"):
            seq = state.seq + 1
            if int(entry_id.split(b"-")[0]) != seq:
                raise store.TamperError(f"room '{self.room}' stream jumps from op {state.seq} to {entry_id.decode()}")
            state.apply(seq, store.open_op(self._key, self.subject, self.room, seq, fields[b"op"]))
        return state

    def _fenced(self, write) -> None:
        """Run `write(pipe)` in a transaction that fails unless we still hold the lease; renews it."""
        import redis

        try:
            with self._turn, self.client.pipeline() as pipe:
                pipe.watch(self.k_lease)
                raw = pipe.get(self.k_lease)
                if raw is None or json.loads(raw)["token"] != self.token:
                    self.held = False
                    raise LeaseLost(f"lost the lease on room '{self.room}'")
                pipe.multi()
                write(pipe)
                pipe.pexpire(self.k_lease, self.lease_ms)
                pipe.execute()
        except redis.WatchError:
            self.held = False
            raise LeaseLost(f"lost the lease on room '{self.room}' during a write") from None

    def append(self, entries: list[tuple[int, dict]]) -> None:
        def write(pipe):
            for seq, record in entries:
                pipe.xadd(self.k_ops, {"op": store.seal_op(self._key, self.subject, self.room, seq, record)}, id=f"{seq}-1")

        self._fenced(write)
        self._since_snapshot += len(entries)

    def maybe_snapshot(self, state: RoomState) -> None:
        if self._since_snapshot < store.SNAPSHOT_EVERY:
            return
        sealed = store.seal_snapshot(self._key, self.subject, state)

        def write(pipe):
            pipe.set(self.k_snapshot, sealed)
            pipe.xtrim(self.k_ops, minid=f"{state.seq + 1}-0")

        self._fenced(write)
        self._since_snapshot = 0

    def renew(self) -> bool:
        try:
            self._fenced(lambda pipe: None)
            return True
        except LeaseLost:
            return False

    def publish_presence(self, members: list[dict]) -> None:
        self.client.set(self.k_presence, json.dumps(members), px=PRESENCE_MS)

    def close(self) -> None:
        if not self.held:
            return
        try:
            self._fenced(lambda pipe: pipe.delete(self.k_lease))
        except (LeaseLost, MemorialError):
            pass
        self.held = False
