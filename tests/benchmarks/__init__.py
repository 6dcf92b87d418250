"""Benchmarks: each `bench_<area>.py` runs with `python -m tests.benchmarks.bench_<area>` and prints figures.
`python -m tests.benchmarks` runs them all."""
