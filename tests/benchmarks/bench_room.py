"""The shared room's knee: pose latency, lost ops, server CPU and upload per user as rooms grow
(8 members each, 20 Hz, one server process on loopback), then the scaled-out run with a kill
when a redis-server is on the PATH. Each point is the median of REPEATS runs.

Run: python -m tests.benchmarks.bench_room
     (--scaled: only the Redis run with a kill; --rooms 50 or --rooms 35,50: only those one-process points)
Targets (2 cores): 50 rooms x 8 at p99 <= 50 ms, 0 lost; scaled out: rooms back <= 3 s; <= 3 KB/s up per user.
The machine may be shared: the load average and the CPU pressure (Linux PSI: the share of time
some task waited for a CPU, over the point's runs) are printed with each point. CPU is the server's (% of
one core), us/pose its CPU per pose frame received (fan-out included), members the simulated
members' CPU (they share the machine with the server).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

import numpy as np

from tests.room.conftest import start_redis
from vr_app.room.bench import run_bench

ROOMS = (5, 10, 20, 35, 50)
CLIENTS = 8
SECONDS = 10.0
REPEATS = 3


def _cpu_pressure_us() -> float | None:
    """Linux PSI: microseconds some runnable task waited for a CPU (the machine's contention)."""
    try:
        with open("/proc/pressure/cpu") as pressure:
            line = pressure.readline()
    except OSError:
        return None
    return float(line.rsplit("total=", 1)[1])


def _point(rooms: int, **kw) -> str:
    waited, started = _cpu_pressure_us(), time.monotonic()
    runs = [run_bench(rooms, CLIENTS, SECONDS, echo=lambda line: None, **kw) for _ in range(REPEATS)]
    pressure = ""
    if waited is not None:
        share = (_cpu_pressure_us() - waited) / 1e6 / (time.monotonic() - started)
        pressure = f"   cpu pressure {100 * share:.0f}%"
    med = lambda values: statistics.median(values)  # noqa: E731
    p50 = med([float(np.percentile(r.latencies_ms, 50)) for r in runs])
    p99 = med([float(np.percentile(r.latencies_ms, 99)) for r in runs])
    back = [r.rooms_back_s for r in runs if r.rooms_back_s is not None]
    cpu = med([r.server_cpu for r in runs])
    per_pose = med([1e6 * r.server_cpu / r.poses_per_s for r in runs])
    return (f"{rooms:>5} {p50:>8.1f} {p99:>8.1f} {sum(r.lost for r in runs):>5} {cpu * 100:>6.0f}% {per_pose:>7.0f}"
            f" {med([r.members_cpu for r in runs]) * 100:>7.0f}%"
            f" {med([r.upload_bps for r in runs]) / 1000:>8.2f} {med(back) if back else float('nan'):>8.2f}"
            f"   load {os.getloadavg()[0]:.1f}{pressure}" + (f"   back each run: {', '.join(f'{b:.2f}' for b in back)}" if back else ""))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    scaled_only = "--scaled" in args  # only the Redis run with a kill
    rooms_only = [int(n) for n in args[args.index("--rooms") + 1].split(",")] if "--rooms" in args else None
    header = (f"{'rooms':>5} {'p50 ms':>8} {'p99 ms':>8} {'lost':>5} {'CPU':>7} {'us/pose':>7} {'members':>8}"
              f" {'up KB/s':>8} {'back s':>8}")
    if not scaled_only:
        print(f"one process, {CLIENTS} members per room, {SECONDS:.0f} s, median of {REPEATS}\n{header}", flush=True)
        for rooms in rooms_only or ROOMS:
            print(_point(rooms), flush=True)
    if rooms_only:
        return
    with tempfile.TemporaryDirectory() as folder:
        redis = start_redis(folder)
        if redis is None:
            print("scaled out: skipped (no redis-server on the PATH)")
            return
        proc, url = redis
        try:
            print(f"three processes + Redis, one killed half-way\n{header}", flush=True)
            print(_point(50, processes=3, redis_url=url), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
