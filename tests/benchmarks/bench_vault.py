"""Vault throughput (put/get MB/s for 1 MB and 50 MB blobs) and the cost of opening a vault.

Run: python -m tests.benchmarks.bench_vault   (targets: >= 200 MB/s, open <= 0.5 s on 2 cores)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from generation.vault import create_vault, open_vault
from generation.vault.consent import parse_consent
from tests.conftest import consent_toml

PASS = "benchmark-passphrase"


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["MEMORIAL_HOME"] = home
        vault = create_vault("bench", parse_consent(consent_toml()), "owner", PASS)
        print(f"{'blob':>6} {'put MB/s':>10} {'get MB/s':>10}   (median of runs; put includes fsync)")
        for size_mb, repeats in ((1, 20), (50, 5)):
            data = os.urandom(size_mb * 1024 * 1024)
            put = _median_time(lambda: vault.put("bench/blob", data), repeats)
            get = _median_time(lambda: vault.get("bench/blob"), repeats)
            print(f"{size_mb:>4}MB {size_mb / put:>10.0f} {size_mb / get:>10.0f}")
        open_s = _median_time(lambda: open_vault("bench", PASS, log_open=False), 7)
        open_logged = _median_time(lambda: open_vault("bench", PASS), 7)
        print(f"open (scrypt n=2^16, r=8, p=1): {open_s * 1000:.0f} ms median; with audit line: {open_logged * 1000:.0f} ms")


if __name__ == "__main__":
    main()
