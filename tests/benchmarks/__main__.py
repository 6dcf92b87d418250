"""Run every benchmark module in this folder, one after another."""

import importlib
import pkgutil

import tests.benchmarks as pkg

for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
    if info.name.startswith("bench_"):
        print(f"\n=== {info.name} ===", flush=True)
        importlib.import_module(f"tests.benchmarks.{info.name}").main()
