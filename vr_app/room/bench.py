"""`memorial room bench`: many simulated members on loopback against real room server processes.

The bench makes a throwaway subject in a temporary $MEMORIAL_HOME (one family member per
client slot), starts `memorial room serve` process(es) on loopback, and drives R rooms x C
clients from a few worker processes: poses at 20 Hz, a candle every 2 s per client. At the
end a checker joins every room and looks for each acknowledged candle: one that is missing
is a lost op. Latency is measured from a pose's send time to its arrival at each other member
(same machine, same clock). With --processes N --redis URL one server process is killed
half-way; its rooms move to the survivors once their Redis lease expires.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing as mp
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assets.errors import UsageError

from .access import RoomKeys, make_invite
from .bench_client import LeanMember
from .client import HEARTBEAT_S, RoomClient, RoomError
from .loop import run_loop

BENCH_SUBJECT = "bench"
BENCH_PASS = "bench-passphrase-1"
POSE_HZ = 20.0
OP_EVERY_S = 2.0


@dataclass
class BenchResult:
    rooms: int
    clients: int
    seconds: float
    processes: int
    latencies_ms: np.ndarray
    acked: int
    lost: int
    unacked: int
    joined: int
    server_cpu: float  # fraction of one core, all server processes together
    upload_bps: float  # per user (median over users)
    members_cpu: float = float("nan")  # fraction of one core, all simulated members together
    poses_per_s: float = float("nan")  # pose frames the server(s) received per second
    rooms_back_s: float | None = None  # scaled out: the slowest room, from the kill to its first member's rejoin
    errors: list[str] = field(default_factory=list)
    server_warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        lat = self.latencies_ms
        p50, p99 = (np.percentile(lat, 50), np.percentile(lat, 99)) if len(lat) else (float("nan"),) * 2
        back = f" rooms back after kill {self.rooms_back_s:.2f} s" if self.rooms_back_s is not None else ""
        cpu = f"{100 * self.server_cpu:.0f}% of a core" if np.isfinite(self.server_cpu) else "not measured (--url)"
        if np.isfinite(self.server_cpu) and self.poses_per_s > 0:
            cpu += f" ({1e6 * self.server_cpu / self.poses_per_s:.0f} us per pose received)"
        return (f"room bench: {self.rooms} rooms x {self.clients} clients, {self.seconds:.0f} s, "
                f"{self.processes} process(es): pose latency p50 {p50:.1f} ms p99 {p99:.1f} ms "
                f"({len(lat)} samples); ops acked {self.acked} lost {self.lost} (unacked in flight {self.unacked}); "
                f"joined {self.joined}/{self.rooms * self.clients}; server CPU {cpu}; "
                f"members' CPU {100 * self.members_cpu:.0f}% of a core; "
                f"upload {self.upload_bps / 1000:.2f} KB/s per user;{back}")


def _make_subject(home: Path, members: int) -> RoomKeys:
    from generation.vault import create_vault
    from generation.vault.consent import parse_consent

    from .access import room_keys

    os.environ["MEMORIAL_HOME"] = str(home)
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    consent = parse_consent(f"""
[subject]
name = "Bench Example"
[given_by]
name = "Bench"
relation = "self"
basis = "next_of_kin"
[permissions]
face = true
voice = false
scopes = ["shared_room"]
expires = {until}
""")
    vault = create_vault(BENCH_SUBJECT, consent, "owner", BENCH_PASS)
    for i in range(members):
        vault.add_member(f"m{i}", "family", BENCH_PASS)
    keys = room_keys(vault, create=True)
    vault.close()
    return keys


def _start_server(home: Path, redis_url: str | None, index: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "MEMORIAL_HOME": str(home), "MEMORIAL_PASSPHRASE": BENCH_PASS, "MEMORIAL_MEMBER": "owner"}
    cmd = [sys.executable, "-m", "generation.cli", "room", "serve", BENCH_SUBJECT, "--port", "0"]
    if redis_url:
        cmd += ["--redis", redis_url]
    with open(home / f"server-{index}.log", "w") as errors:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
    line = proc.stdout.readline()
    if " on ws://" not in line:
        proc.kill()
        raise UsageError(f"bench: the room server did not start ({line.strip() or 'no output'})")
    return proc, line.split(" on ")[1].split()[0]


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pose(t: float, k: int) -> tuple[float, ...]:
    x, y = 0.8 * np.cos(0.3 * t + k), 0.8 * np.sin(0.3 * t + k)
    return (x, y, 1.6, 0.0, 0.0, 0.0, 1.0, x - 0.2, y, 1.2, 0.0, 0.0, 0.0, 1.0, x + 0.2, y, 1.2, 0.0, 0.0, 0.0, 1.0)


class SimMember:
    """One simulated member: poses at 20 Hz, a heartbeat a second and a candle every 2 s (driven by its
    worker's ticker), and a rejoin (following RoomBusy redirects) when its connection is cut."""

    def __init__(self, urls: list[str], room: str, member: str, keys: RoomKeys, home_index: int, stop_at: float,
                 subject: str = BENCH_SUBJECT):
        self.urls, self.room, self.member, self.keys, self.subject = urls, room, member, keys, subject
        self.url_index = home_index
        self.stop_at = stop_at
        self.client: LeanMember | None = None
        self.acked: list[int] = []
        self.unacked = 0
        self.latencies = array("d")
        self.bytes_up = 0
        self.lost_at: float | None = None
        self.back_after: list[tuple[str, float]] = []
        self.rejoining = False
        self.poses = 0
        self.k = random.random() * 6.28
        self.next_op = time.time() + random.random() * OP_EVERY_S

    async def connect(self, deadline: float) -> bool:
        while time.time() < deadline:
            url = self.urls[self.url_index % len(self.urls)]
            try:
                self.client = await LeanMember.connect(url, self.member, self.room,
                                                       make_invite(self.keys, self.subject, self.member))
                return True
            except RoomError as exc:
                holder = getattr(exc, "url", "")
                if holder in self.urls and holder != url:
                    self.url_index = self.urls.index(holder)  # go where the room lives
                else:
                    self.url_index += 1  # a dead process, or a lease not yet expired: try the next one
                await asyncio.sleep(RETRY_S + RETRY_S * random.random())
        return False

    async def rejoin(self) -> None:
        self.rejoining = True
        self.harvest()
        self.client = None
        self.lost_at = time.time()
        if await self.connect(self.stop_at):
            self.back_after.append((self.room, time.time() - self.lost_at))
        self.rejoining = False

    def step(self, now: float) -> None:
        client = self.client
        if client is None or client.closed:
            if not self.rejoining:
                asyncio.create_task(self.rejoin())
            return
        client.send_pose(_pose(now, self.k))
        self.poses += 1
        client.heartbeat(now)
        if now >= self.next_op:
            self.next_op = now + OP_EVERY_S
            client.light_candle([float(np.cos(now)), float(np.sin(now)), 0.0])

    def harvest(self) -> None:
        client = self.client
        if client is not None:
            self.latencies.extend(client.latencies)
            client.latencies.clear()
            self.bytes_up += client.bytes_up
            client.bytes_up = 0
            self.acked.extend(client.acked)
            client.acked.clear()
            self.unacked += client.unacked
            client.unacked = 0


SPREAD = 5  # each 50 ms pose period is split in this many slices, so members do not all send at once
RETRY_S = 0.05  # base wait before a refused join tries again (plus up to as much again, at random)


async def _drive(sims: list[SimMember], stop_at: float) -> None:
    """One ticker for all of a worker's members (cheaper than a task per member)."""
    groups = [sims[i::SPREAD] for i in range(SPREAD)]
    period = 1.0 / POSE_HZ / SPREAD
    tick, n = time.time(), 0
    while time.time() < stop_at:
        now = time.time()
        for sim in groups[n % SPREAD]:
            sim.step(now)
        n += 1
        tick += period
        await asyncio.sleep(max(0.0, tick - time.time()))
        if time.time() - tick > 0.5:
            tick = time.time()  # far behind: drop the backlog instead of bursting


def _worker(plan: list[tuple[str, str, int]], urls: list[str], subject: str, invite_key: bytes, start_at: float,
            stop_at: float, out: mp.Queue) -> None:
    keys = RoomKeys(store=b"", invite=invite_key)

    async def main():
        sims = [SimMember(urls, room, member, keys, home, stop_at, subject) for room, member, home in plan]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(s.connect(stop_at) for s in sims))
        joined = sum(1 for s in sims if s.client is not None)
        for s in sims:  # measure from the common start, not from the joins
            if s.client is not None:
                s.client.latencies.clear()
                s.client.bytes_up = 0
                s.client.next_heartbeat = time.time() + random.random() * HEARTBEAT_S
        for s in sims:
            s.poses = 0
        measured_from, cpu_from = time.time(), time.process_time()
        await _drive(sims, stop_at)
        measured, cpu = time.time() - measured_from, time.process_time() - cpu_from
        await asyncio.sleep(0.5)  # let the last acks arrive
        for s in sims:
            s.harvest()
            if s.client is not None:
                s.client.close()
        acked = {}
        for s in sims:
            acked.setdefault(s.room, []).extend(s.acked)
        out.put({"latencies": s_bytes([s.latencies for s in sims]), "acked": acked, "joined": joined,
                 "unacked": sum(s.unacked for s in sims), "upload_bps": [s.bytes_up / measured for s in sims],
                 "cpu": cpu / measured, "poses_per_s": sum(s.poses for s in sims) / measured,
                 "back": [b for s in sims for b in s.back_after]})

    try:
        run_loop(main())
    except BaseException as exc:  # report instead of leaving the parent waiting
        out.put({"latencies": b"", "acked": {}, "joined": 0, "unacked": 0, "upload_bps": [], "back": [],
                 "error": f"{type(exc).__name__}: {exc}"})
        raise


def s_bytes(arrays: list[array]) -> bytes:
    merged = array("d")
    for a in arrays:
        merged.extend(a)
    return merged.tobytes()


async def _check(urls: list[str], subject: str, keys: RoomKeys, acked: dict[str, list[int]],
                 member: str) -> tuple[int, list[str]]:
    """Join every room once more and count acknowledged candles that are not in its state."""
    lost, errors = 0, []
    for room, seqs in acked.items():
        url = urls[0]
        for attempt in range(len(urls) * 20):
            try:
                client = await RoomClient.connect(url, member, room=room, invite=make_invite(keys, subject, member))
                break
            except RoomError as exc:
                url = getattr(exc, "url", "") or urls[(attempt + 1) % len(urls)]
                await asyncio.sleep(0.2)
        else:
            errors.append(f"room {room}: checker could not join")
            lost += len(seqs)
            continue
        lost += sum(1 for seq in seqs if f"i{seq}" not in client.state.items)
        await client.close()
    return lost, errors


@dataclass
class Target:
    """A server the bench does not start (--url): its subject, room keys and members to play."""

    url: str
    subject: str
    keys: RoomKeys
    members: list[str]


def run_bench(rooms: int, clients: int, seconds: float, processes: int = 1, redis_url: str | None = None,
              workers: int = 2, kill: bool | None = None, echo=print, target: Target | None = None) -> BenchResult:
    if rooms < 1 or clients < 1 or seconds <= 0:
        raise UsageError("bench needs at least 1 room, 1 client and a positive duration")
    if processes > 1 and not redis_url:
        raise UsageError("--processes above 1 needs --redis URL (rooms move between processes through Redis)")
    if rooms * clients > 2000:
        raise UsageError("bench is bounded to 2000 simulated clients")
    if target is not None and len(target.members) < clients:
        raise UsageError(f"--clients {clients} needs that many members of '{target.subject}' "
                         f"(it has {len(target.members)} besides viewers)")
    kill = (processes > 1 and target is None) if kill is None else kill
    home = Path(tempfile.mkdtemp(prefix="memorial-bench-"))
    saved_home = os.environ.get("MEMORIAL_HOME")
    servers: list[subprocess.Popen] = []
    try:
        if target is None:
            echo(f"bench: creating a throwaway subject with {clients} members (a few seconds)...")
            keys, subject, members = _make_subject(home, clients), BENCH_SUBJECT, [f"m{c}" for c in range(clients)]
            if redis_url:
                from .redis_log import clear_subject

                clear_subject(redis_url, BENCH_SUBJECT)
            started = [_start_server(home, redis_url, i) for i in range(processes)]
            servers = [proc for proc, _ in started]
            urls = [url for _, url in started]
        else:
            keys, subject, members, urls = target.keys, target.subject, target.members[:clients], [target.url]
            processes = 1
        plan = [(f"bench-r{r}", members[c], r % processes) for r in range(rooms) for c in range(clients)]
        chunks = [plan[i::workers] for i in range(workers)]
        start_at = time.time() + 1.0
        stop_at = start_at + 3.0 + seconds  # 3 s for everyone to join before the measured window
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(chunk, urls, subject, keys.invite, start_at, stop_at, out), daemon=True)
                 for chunk in chunks if chunk]
        for proc in procs:
            proc.start()
        echo(f"bench: {rooms} rooms x {clients} clients on {', '.join(urls)} for {seconds:.0f} s...")
        time.sleep(max(0.0, start_at + 3.0 - time.time()))
        cpu0, t0 = sum(_cpu_seconds(s.pid) for s in servers), time.time()
        killed_at = None
        if kill:
            time.sleep(seconds / 2)
            servers[0].send_signal(signal.SIGKILL)
            killed_at = time.time()
            echo(f"bench: killed server process {servers[0].pid} ({urls[0]}) with SIGKILL")
        time.sleep(max(0.0, stop_at - time.time()))
        # a killed process's CPU time is gone with it: the figure then covers the survivors only
        alive = [s for s in servers if s.poll() is None]
        cpu1, t1 = sum(_cpu_seconds(s.pid) for s in alive), time.time()
        if killed_at is not None:
            cpu0 = cpu0 * len(alive) / processes
        results = [out.get(timeout=120) for _ in procs]
        for proc in procs:
            proc.join(timeout=10)
        acked: dict[str, list[int]] = {}
        for res in results:
            for room, seqs in res["acked"].items():
                acked.setdefault(room, []).extend(seqs)
        live = [u for u, s in zip(urls, servers) if s.poll() is None]
        warnings = [line.split("room: ", 1)[-1] for i in range(len(servers))
                    for line in (home / f"server-{i}.log").read_text().splitlines() if "room: " in line]
        lost, errors = asyncio.run(_check(live if target is None else urls, subject, keys, acked, members[0]))
        errors += [r["error"] for r in results if "error" in r]
        latencies = np.frombuffer(b"".join(r["latencies"] for r in results), np.float64) * 1000.0
        first_back: dict[str, float] = {}  # a room is back when its first member is in again
        for r in results:
            for room, took in r["back"]:
                first_back[room] = min(took, first_back.get(room, took))
        back = list(first_back.values())
        return BenchResult(
            rooms=rooms, clients=clients, seconds=seconds, processes=processes, latencies_ms=latencies,
            acked=sum(len(s) for s in acked.values()), lost=lost, unacked=sum(r["unacked"] for r in results),
            joined=sum(r["joined"] for r in results),
            server_cpu=max(0.0, cpu1 - cpu0) / max(1e-9, t1 - t0) if servers else float("nan"),
            upload_bps=float(np.median([b for r in results for b in r["upload_bps"]])),
            members_cpu=sum(r.get("cpu", 0.0) for r in results),
            poses_per_s=sum(r.get("poses_per_s", 0.0) for r in results),
            rooms_back_s=max(back) if (kill and back) else None, errors=errors, server_warnings=warnings)
    finally:
        for proc in servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if saved_home is None:
            os.environ.pop("MEMORIAL_HOME", None)
        else:
            os.environ["MEMORIAL_HOME"] = saved_home
        shutil.rmtree(home, ignore_errors=True)
