"""The room server: asyncio + websockets, one authoritative RoomState per room.

Planes, kept apart:
* presence: `Room.conns`, one entry per member, renewed by any inbound frame; the reaper
  drops a member whose lease ran out (the only place presence ends besides leave/kick);
* poses: binary frames kept as "newest per member", sent out once per tick as one batch
  per room (the same bytes to every member, written straight to the sockets); never stored;
* durable ops: validated, role-checked by RoomState, numbered, written and fsync'd by the
  room's committer (live.py, group commit), and only then acknowledged and broadcast;
* voice: a WebRTC mesh between the members (voice.py); the server only relays the offers and
  answers, refusing a sending SDP from a viewer or a muted member.

Each connection has a bounded send queue; a client that stops reading fills it and is cut
off, so one slow member never holds back the others.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from assets.artifacts import KEYS
from assets.errors import MemorialError, UsageError, WrongPassphrase

from . import protocol as p
from .access import InviteError, RoomKeys, check_invite, check_joins, check_passphrase
from .live import Conn, Room, SlowConsumer
from .state import OpRefused

log = logging.getLogger("memorial.room")

CLOSE_LEASE = 4001
CLOSE_REPLACED = 4002
CLOSE_POLICY = 1008
PASS_FAILURES, PASS_WINDOW_S = 5, 60.0
AUDITED_OPS = frozenset({"kick", "mute", "close", "reopen", "end"})
TICK_SLICES = 4
LEASE_RENEW_S = 0.3  # a quarter of the Redis lease (redis_log.LEASE_MS)


@dataclass
class ServerConfig:
    subject: str
    host: str = "127.0.0.1"
    port: int = 8765
    tick_hz: float = 30.0  # pose batches per second; > 20 Hz so the wait for a tick stays well under 50 ms
    lease_s: float = 5.0  # presence lease, renewed by any frame (clients heartbeat every second)
    join_timeout_s: float = 10.0
    send_queue: int = 256  # frames waiting for one client before it counts as a slow consumer
    pose_backlog: int = 256 * 1024  # bytes unsent on one socket (~10 s of poses) before it counts as one too
    commit_batch: int = 32  # ops per group commit (bounds the burst each commit puts in a send queue)
    pose_rate: float = 25.0  # accepted pose frames per second per client (burst pose_burst)
    pose_burst: float = 10.0
    flood_limit: int = 100  # pose frames within one second that get a client dropped
    strikes: int = 10  # refused messages before a client is dropped
    recent_ops: int = 1000  # ops kept in memory for reconnects ("ops since N")
    certfile: str | None = None
    keyfile: str | None = None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ssl_context(config: ServerConfig) -> ssl.SSLContext | None:
    """TLS is required off loopback: the likeness and photos travel over this connection."""
    if config.certfile:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(config.certfile, config.keyfile)
        return ctx
    if not is_loopback(config.host):
        raise UsageError(f"serving on {config.host} needs TLS: pass --cert and --key (plain ws:// only on loopback)")
    return None


class RoomServer:
    """Serves every room of one subject. `open_log(room)` gives that room's op log backend."""

    def __init__(self, config: ServerConfig, vault, keys: RoomKeys, open_log: Callable[[str], object]):
        self.config, self.vault, self.keys, self._open_log = config, vault, keys, open_log
        self.rooms: dict[str, Room] = {}
        self._rooms_opened = 0
        self._room_locks: dict[str, asyncio.Lock] = {}
        self._vault_lock = asyncio.Lock()  # the Vault object is not thread-safe
        self._tasks: list[asyncio.Task] = []
        self._stopping = threading.Event()
        self._server = None
        self._likeness: bytes | None = None
        self._failures: dict[str, deque[float]] = {}  # member -> times of recent wrong passphrases
        self._tracks: dict[str, bytes] = {}
        self._photos: dict[str, bytes] = {}  # vault key -> JPEG thumbnail
        self._audit_pending: list[tuple[str, dict, asyncio.Future]] = []
        self._role_waiters: list[tuple[str, asyncio.Future]] = []
        # Op-log writes and lease renewals get threads of their own: joins that wait on the
        # vault's file lock must never delay an ack or let a Redis lease lapse.
        self._log_pool = ThreadPoolExecutor(4, thread_name_prefix="room-log")
        self.stats = {"dropped_slow": 0, "dropped_flood": 0, "refused": 0, "poses_in": 0, "poses_dropped": 0}

    # ----- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await serve(self._handle, self.config.host, self.config.port, ssl=ssl_context(self.config),
                                   compression=None, max_size=2 * p.MAX_TEXT_MESSAGE, ping_interval=None,
                                   close_timeout=2)
        self._tasks = [asyncio.create_task(self._ticker(), name="room-ticker"),
                       asyncio.create_task(self._reaper(), name="room-reaper")]
        self._renewer = threading.Thread(target=self._renew_leases, args=(asyncio.get_running_loop(),),
                                         name="room-leases", daemon=True)
        self._renewer.start()

    def _renew_leases(self, loop: asyncio.AbstractEventLoop) -> None:
        """Renew every room's lease from a thread of its own, so a busy event loop cannot let one lapse."""
        while not self._stopping.wait(LEASE_RENEW_S):
            for room in list(self.rooms.values()):
                if not _renew(room):
                    loop.call_soon_threadsafe(self._lease_lost, room)

    def _lease_lost(self, room: Room) -> None:
        if self.rooms.get(room.name) is room:
            log.warning("room %s: lease lost; leaving the room to another process", room.name)
            self.drop_room(room)
            room._committer.cancel()

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    @property
    def public_url(self) -> str:
        """Where clients reach this process (advertised in Redis leases)."""
        if self._server is None:
            return ""
        return f"{'wss' if self.config.certfile else 'ws'}://{self.config.host}:{self.port}"

    async def close(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for room in self.rooms.values():
            room._committer.cancel()
            room.log.close()
        self._log_pool.shutdown(wait=False)

    async def get_room(self, name: str) -> Room:
        if name in self.rooms:
            return self.rooms[name]
        lock = self._room_locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name not in self.rooms:
                oplog = self._open_log(name)
                await self.log_io(oplog.acquire)
                state = await self.log_io(oplog.load)
                self.rooms[name] = Room(name, state, oplog, self)
                self.rooms[name].tick_phase = self._rooms_opened % TICK_SLICES
                self._rooms_opened += 1
        return self.rooms[name]

    def drop_room(self, room: Room) -> None:
        for conn in list(room.conns.values()):
            self.close_conn(room, conn, 1011, "room stopped")
        self.rooms.pop(room.name, None)

    async def log_io(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._log_pool, fn, *args)

    async def _audit(self, action: str, **detail) -> None:
        """Wait until the audit line is written; lines that arrive together are written together."""
        fut = asyncio.get_running_loop().create_future()
        self._audit_pending.append((action, detail, fut))
        if len(self._audit_pending) == 1:
            asyncio.create_task(self._write_audit())
        await fut

    async def _write_audit(self) -> None:
        async with self._vault_lock:  # later lines gather here while this batch waits for the lock
            batch, self._audit_pending = self._audit_pending, []
            try:
                await asyncio.to_thread(self.vault.log_many, [(action, detail) for action, detail, _ in batch])
            except Exception as exc:
                for _, _, fut in batch:
                    fut.set_exception(exc if isinstance(exc, MemorialError) else MemorialError(f"audit log: {exc}"))
                return
        for _, _, fut in batch:
            fut.set_result(None)

    # ----- sending and dropping ------------------------------------------------------------------

    def send(self, room: Room, conn: Conn, frame: str | bytes) -> None:
        try:
            conn.send(frame)
        except SlowConsumer:
            self._drop_slow(room, conn)

    def send_poses(self, room: Room, conns: list[Conn], frame: bytes) -> None:
        """A pose batch goes straight to each socket (websockets' broadcast): no queue and no task
        wake-up per frame and receiver. Poses have no backpressure, so a socket that stops draining
        is checked here."""
        targets = []
        for conn in conns:
            transport = conn.ws.transport
            if conn.closed or transport is None:
                continue
            if transport.get_write_buffer_size() > self.config.pose_backlog:
                self._drop_slow(room, conn)
                continue
            targets.append(conn.ws)
        broadcast(targets, frame)

    def _drop_slow(self, room: Room, conn: Conn) -> None:
        self.stats["dropped_slow"] += 1
        log.warning("room %s: dropping %s: not reading (slow consumer)", room.name, conn.member)
        self.close_conn(room, conn, CLOSE_POLICY, "slow consumer", abort=True)

    def close_conn(self, room: Room, conn: Conn, code: int, reason: str, abort: bool = False) -> None:
        if conn.closed:
            return
        conn.closed = True
        if room.conns.get(conn.member) is conn:
            del room.conns[conn.member]
            room.broadcast_presence()
        conn.close_reason = (code, reason)
        if not abort:
            try:
                conn.queue.put_nowait(None)  # the writer sends what is queued, then the close frame
                return
            except asyncio.QueueFull:
                pass
        conn.ws.transport.abort()  # a client that does not read would stall a closing handshake

    async def _writer(self, conn: Conn) -> None:
        try:
            while True:
                frame = await conn.queue.get()
                if frame is None:
                    code, reason = conn.close_reason
                    await conn.ws.close(code, reason)
                    return
                await conn.ws.send(frame)
        except ConnectionClosed:
            return

    async def _error(self, ws: ServerConnection, code: str, message: str, url: str | None = None) -> None:
        body = {"type": "error", "code": code, "message": message}
        if url:
            body["url"] = url  # RoomBusy: where the room lives now
        await ws.send(p.encode(body))

    # ----- connection handling -------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            joined = await self._join(ws)
        except ConnectionClosed:
            return
        if joined is None:
            return
        room, conn = joined
        writer = asyncio.create_task(self._writer(conn))
        try:
            await self._serve_conn(room, conn)
        except ConnectionClosed:
            pass
        finally:
            if not conn.closed:
                self.close_conn(room, conn, 1000, "bye")
            await asyncio.wait([writer], timeout=3)
            writer.cancel()

    async def _join(self, ws: ServerConnection) -> tuple[Room, Conn] | None:
        try:
            raw = await asyncio.wait_for(ws.recv(), self.config.join_timeout_s)
            msg = p.parse_client(raw)
            if not isinstance(msg, p.Join):
                raise p.ProtocolError("join_first", "the first message must be a join")
            if msg.protocol != p.PROTOCOL:
                raise p.ProtocolError("protocol", f"server speaks protocol {p.PROTOCOL}, client {msg.protocol}")
        except asyncio.TimeoutError:
            await ws.close(CLOSE_POLICY, "no join")
            return None
        except p.ProtocolError as exc:
            self.stats["refused"] += 1
            await self._error(ws, exc.code, str(exc))
            await ws.close(CLOSE_POLICY, exc.code)
            return None
        try:
            if not msg.invite and not msg.passphrase:
                raise InviteError("a join needs an invite or the member's passphrase")
            # The cheap checks and the room's lease come before the vault: a client sent to
            # another process (RoomBusy) costs no vault work.
            nonce = check_invite(self.keys, self.config.subject, msg.member, msg.invite) if msg.invite else None
            room = await self.get_room(msg.room)
            role, via = await self._authenticate(msg)
            if msg.member in room.state.kicked:
                raise InviteError(f"'{msg.member}' was removed from this room by an owner")
            if room.state.closed and role != "owner":
                raise MemorialError("the room is closed")
            if nonce is not None:
                await room.submit(None, None, {"type": "invite_used", "nonce": nonce, "by": msg.member,
                                               "role": role, "time": time.time()})
            await self._audit("room_join", member=msg.member, role=role, room=msg.room, device=msg.device, via=via)
        except MemorialError as exc:
            self.stats["refused"] += 1
            code = type(exc).__name__
            log.warning("room %s: refused %s: %s", msg.room, msg.member, exc)
            await self._error(ws, code, str(exc), url=getattr(exc, "url", None))
            await ws.close(CLOSE_POLICY, "refused")
            return None
        except Exception as exc:  # the store (disk, Redis) failed: say so, keep serving the others
            log.error("room %s: join of %s failed: %s", msg.room, msg.member, exc)
            await self._error(ws, "ServerError", "the room server could not open this room; try again later")
            await ws.close(1011, "server error")
            return None
        now = time.monotonic()
        old = room.conns.get(msg.member)
        if old is not None:
            self.close_conn(room, old, CLOSE_REPLACED, "joined again from another connection")
        conn = Conn(ws, msg.member, role, msg.device, room.free_slot(), asyncio.Queue(self.config.send_queue),
                    lease_until=now + self.config.lease_s, tokens=self.config.pose_burst, token_time=now,
                    window_start=now)
        ops = room.ops_since(msg.since) if msg.since >= 0 else None
        welcome = {"type": "welcome", "member": conn.member, "role": role, "slot": conn.slot, "room": room.name,
                   "server_time": time.time(), "seq": room.state.seq, "lease_s": self.config.lease_s}
        welcome.update({"ops": ops} if ops is not None else {"snapshot": room.state.snapshot()})
        conn.send(p.encode(welcome))
        room.conns[conn.member] = conn
        room.broadcast_presence()
        return room, conn

    async def _authenticate(self, msg: p.Join) -> tuple[str, str]:
        """(role, how): an invite (already checked) or the passphrase, then consent and membership."""
        if msg.invite:
            via = "invite"
        else:
            self._check_guessing(msg.member)
            try:
                await asyncio.to_thread(check_passphrase, self.config.subject, msg.member, msg.passphrase)
            except WrongPassphrase:
                self._failures.setdefault(msg.member, deque(maxlen=PASS_FAILURES)).append(time.monotonic())
                raise
            via = "passphrase"
        return await self._current_role(msg.member), via

    async def _current_role(self, member: str) -> str:
        """The member's role from a read of the vault made after this join arrived. Joins that
        arrive together share one read (a takeover brings whole rooms back at once)."""
        fut = asyncio.get_running_loop().create_future()
        self._role_waiters.append((member, fut))
        if len(self._role_waiters) == 1:
            asyncio.create_task(self._read_roles())
        return await fut

    async def _read_roles(self) -> None:
        async with self._vault_lock:  # joins arriving meanwhile gather for this read
            batch, self._role_waiters = self._role_waiters, []
            try:
                outcomes = await asyncio.to_thread(check_joins, self.vault, [member for member, _ in batch])
            except Exception as exc:
                outcomes = [exc if isinstance(exc, MemorialError) else MemorialError(f"vault: {exc}")] * len(batch)
        for (_, fut), outcome in zip(batch, outcomes):
            if fut.done():
                continue  # that join was given up (its client went away) while the vault was read
            if isinstance(outcome, Exception):
                fut.set_exception(outcome)
            else:
                fut.set_result(outcome)

    def _check_guessing(self, member: str) -> None:
        """After PASS_FAILURES wrong passphrases within PASS_WINDOW_S, refuse that member's passphrase joins for a while."""
        failures = self._failures.get(member)
        if failures and len(failures) == PASS_FAILURES and time.monotonic() - failures[0] < PASS_WINDOW_S:
            raise WrongPassphrase(f"too many wrong passphrases for '{member}'; wait a minute or use an invite")

    async def _serve_conn(self, room: Room, conn: Conn) -> None:
        cfg = self.config
        async for frame in conn.ws:
            if conn.closed:
                continue  # keep reading until the client's close frame, so the closing handshake finishes
            now = time.monotonic()
            conn.lease_until = now + cfg.lease_s
            if isinstance(frame, bytes):
                self._on_pose(room, conn, frame, now)
                continue
            try:
                msg = p.parse_client(frame)
            except p.ProtocolError as exc:
                self._strike(room, conn, exc.code, str(exc))
                continue
            if isinstance(msg, p.Heartbeat):
                continue
            if isinstance(msg, p.Leave):
                self.close_conn(room, conn, 1000, "left")
                return
            if isinstance(msg, p.GetLikeness):
                asyncio.create_task(self._send_likeness(room, conn))
                continue
            if isinstance(msg, p.Rtc):
                self._relay_rtc(room, conn, msg)
                continue
            if isinstance(msg, p.GetPhoto):
                asyncio.create_task(self._send_photo(room, conn, msg.key))
                continue
            if isinstance(msg, p.ListPhotos):
                asyncio.create_task(self._list_photos(room, conn))
                continue
            if isinstance(msg, p.GetTrack):
                asyncio.create_task(self._send_track(room, conn, msg.name))
                continue
            if isinstance(msg, p.Join):
                self._strike(room, conn, "invalid", "already joined")
                continue
            asyncio.create_task(self._run_op(room, conn, msg))

    async def _run_op(self, room: Room, conn: Conn, msg: p.Msg) -> None:
        try:
            if isinstance(msg, (p.PlayLine, p.PlacePhoto)):
                room.state.check(msg, conn.member, conn.role, time.time())  # role and state first, then the vault
            if isinstance(msg, p.PlayLine) and await self._track(msg.track) is None:
                raise OpRefused("no_track", f"no line named '{msg.track}' in the vault")
            if isinstance(msg, p.PlacePhoto) and not await self._vault_has(msg.photo):
                raise OpRefused("no_photo", f"no photo '{msg.photo}' in the vault")
            seq = await room.submit(msg, conn)
        except (OpRefused, MemorialError) as exc:
            code = getattr(exc, "code", "failed")
            if not conn.closed:
                self._strike(room, conn, code, str(exc), rid=msg.rid)
            if code == "forbidden":
                await self._audit("room_refused", member=conn.member, role=conn.role, op=msg.type, room=room.name)
            return
        self.send(room, conn, p.encode({"type": "ack", "rid": msg.rid, "seq": seq}))
        if msg.type in AUDITED_OPS:  # who removed, silenced or closed is for the audit log too
            await self._audit(f"room_{msg.type}", member=conn.member, role=conn.role, room=room.name, seq=seq,
                              target=getattr(msg, "member", None))

    async def _track(self, name: str) -> bytes | None:
        """A line's ExpressionTrack bytes from the vault (cached: lines are short and few)."""
        if name not in self._tracks:
            data = await self._vault_get(KEYS["track"].format(name=name))
            if data is None:
                return None
            self._tracks[name] = data
        return self._tracks[name]

    async def _vault_get(self, key: str) -> bytes | None:
        async with self._vault_lock:
            try:
                return await asyncio.to_thread(self.vault.get, key)  # re-reads the index on a miss
            except KeyError:
                return None

    async def _vault_has(self, key: str) -> bool:
        """Without decrypting the blob (a photo is read once, when a member asks for it)."""
        async with self._vault_lock:
            if self.vault.exists(key):
                return True
            await asyncio.to_thread(self.vault.refresh)  # another process may have added it
            return self.vault.exists(key)

    def _relay_rtc(self, room: Room, conn: Conn, msg: p.Rtc) -> None:
        """Pass voice signalling to one member of the same room. Viewers and muted members may only
        receive: an SDP of theirs that offers to send audio is refused."""
        target = room.conns.get(msg.to)
        if target is None or target is conn:
            self._strike(room, conn, "no_member", f"'{msg.to}' is not in this room")
            return
        silent = conn.role == "viewer" or conn.member in room.state.muted
        if silent and any(f"a={d}" in msg.sdp for d in ("sendrecv", "sendonly")):
            self._strike(room, conn, "forbidden", "viewers and muted members may not send audio")
            return
        self.send(room, target, p.encode({"type": "rtc", "from": conn.member, "kind": msg.kind, "sdp": msg.sdp}))

    async def _send_photo(self, room: Room, conn: Conn, key: str) -> None:
        """Only photos placed in this room are sent, as thumbnails, to its joined members."""
        if not any(item.kind == "photo" and item.photo == key for item in room.state.items.values()):
            self._strike(room, conn, "no_photo", "that photo is not in this room")
            return
        if key not in self._photos:
            data = await self._vault_get(key)
            thumb = await asyncio.to_thread(_thumbnail, data) if data is not None else None
            if thumb is None:
                self._strike(room, conn, "no_photo", "that photo cannot be read")
                return
            self._photos[key] = thumb
        self.send(room, conn, p.encode_photo(key, self._photos[key]))

    async def _list_photos(self, room: Room, conn: Conn) -> None:
        """The vault's photos a member who may place them can choose from (keys only, at most MAX_LISTED)."""
        if conn.role not in ("owner", "family"):
            self._strike(room, conn, "forbidden", "only owners and family place photos")
            return
        async with self._vault_lock:
            await asyncio.to_thread(self.vault.refresh)  # photos added since the server started
            keys = [info.key for info in self.vault.list("original/")
                    if str(info.meta.get("media_type", "")).startswith("image/")][:MAX_LISTED]
        self.send(room, conn, p.encode({"type": "photos", "keys": keys}))

    async def _send_track(self, room: Room, conn: Conn, name: str) -> None:
        data = await self._track(name)
        if data is None:
            self._strike(room, conn, "no_track", f"no line named '{name}' in the vault")
            return
        self.send(room, conn, p.encode_track(name, data))

    async def _send_likeness(self, room: Room, conn: Conn) -> None:
        """The likeness travels only to joined members, over this connection, encoded once per server."""
        if self._likeness is None:
            try:
                async with self._vault_lock:
                    self._likeness = await asyncio.to_thread(_load_likeness, self.vault)
            except MemorialError as exc:
                self._strike(room, conn, "no_likeness", str(exc))
                return
        self.send(room, conn, self._likeness)

    def _strike(self, room: Room, conn: Conn, code: str, message: str, rid: int | None = None) -> None:
        self.stats["refused"] += 1
        conn.strikes += 1
        body = {"type": "error", "code": code, "message": message}
        if rid is not None:
            body["rid"] = rid
        self.send(room, conn, p.encode(body))
        if conn.strikes > self.config.strikes:
            log.warning("room %s: dropping %s after %d refused messages", room.name, conn.member, conn.strikes)
            self.close_conn(room, conn, CLOSE_POLICY, "too many invalid messages")

    def _on_pose(self, room: Room, conn: Conn, frame: bytes, now: float) -> None:
        cfg = self.config
        self.stats["poses_in"] += 1
        if now - conn.window_start >= 1.0:
            conn.window_start, conn.window_frames = now, 0
        conn.window_frames += 1
        if conn.window_frames > cfg.flood_limit:
            self.stats["dropped_flood"] += 1
            log.warning("room %s: dropping %s: pose flood", room.name, conn.member)
            self.close_conn(room, conn, CLOSE_POLICY, "pose flood")
            return
        conn.tokens = min(cfg.pose_burst, conn.tokens + (now - conn.token_time) * cfg.pose_rate)
        conn.token_time = now
        if conn.tokens < 1.0:
            self.stats["poses_dropped"] += 1
            return
        conn.tokens -= 1.0
        if conn.role == "viewer":
            return  # viewers are seen by nobody
        try:
            conn.pose_entry = p.pose_entry(conn.slot, frame)
        except p.ProtocolError as exc:
            self._strike(room, conn, exc.code, str(exc))
            return
        conn.pose_fresh = True

    async def _ticker(self) -> None:
        """Each room ticks at tick_hz, the rooms spread over TICK_SLICES phases of the period: the
        sends come in small bursts, and poses that arrive meanwhile are read between them."""
        period = 1.0 / (self.config.tick_hz * TICK_SLICES)
        next_tick, n = time.monotonic(), 0
        while True:
            next_tick += period
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
            now, phase = time.time(), n % TICK_SLICES
            n += 1
            for room in list(self.rooms.values()):
                if room.tick_phase == phase:
                    room.tick(now)
            if time.monotonic() - next_tick > period * TICK_SLICES:
                next_tick = time.monotonic()  # overloaded: skip ticks instead of bursting

    async def _reaper(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for room in list(self.rooms.values()):
                for conn in list(room.conns.values()):
                    if conn.lease_until < now:
                        log.info("room %s: %s's presence lease expired", room.name, conn.member)
                        self.close_conn(room, conn, CLOSE_LEASE, "presence lease expired")


def _renew(room: Room) -> bool:
    try:
        return room.log.renew()
    except Exception as exc:  # Redis unreachable: we cannot prove we still hold the room
        log.warning("room %s: lease renewal failed: %s", room.name, exc)
        return False


PHOTO_PX = 512
MAX_LISTED = 200  # photo keys in one listing


def _thumbnail(data: bytes) -> bytes | None:
    """A JPEG of at most PHOTO_PX a side, or None when the bytes are not an image."""
    import io

    from vr_app.inputs import thumbnail

    img = thumbnail(data, PHOTO_PX)
    if img is None:
        return None
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _load_likeness(vault) -> bytes:
    from vr_app.inputs import load_head, load_texture

    head = load_head(vault)
    stream, _ = load_texture(vault, None)
    try:
        title = vault.consent.subject_name
    except MemorialError:
        title = ""
    return p.encode_likeness(title, head.to_bytes(), stream.frames[0])
