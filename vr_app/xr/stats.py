"""Frame timing for `--stats`: CPU time per frame, missed display frames, and GPU time where a
display can measure it (None otherwise: this machine has no GPU timer to read)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FrameStats:
    cpu_ms: list[float] = field(default_factory=list)
    gpu_ms: list[float] = field(default_factory=list)
    missed: int = 0
    frames: int = 0
    budget_ms: float = 0.0

    def add(self, cpu_ms: float, gpu_ms: float | None = None) -> None:
        self.frames += 1
        self.cpu_ms.append(cpu_ms)
        if gpu_ms is not None:
            self.gpu_ms.append(gpu_ms)

    def summary(self) -> dict:
        cpu = np.array(self.cpu_ms or [np.nan])
        gpu = np.array(self.gpu_ms) if self.gpu_ms else None
        return {
            "frames": self.frames,
            "missed_frames": self.missed,
            "budget_ms": round(self.budget_ms, 2),
            "cpu_ms_median": round(float(np.median(cpu)), 3),
            "cpu_ms_p95": round(float(np.percentile(cpu, 95)), 3),
            "gpu_ms_median": None if gpu is None else round(float(np.median(gpu)), 3),
        }

    def line(self) -> str:
        s = self.summary()
        gpu = "n/a" if s["gpu_ms_median"] is None else f"{s['gpu_ms_median']:.2f} ms"
        return (f"frames {s['frames']}, missed {s['missed_frames']}, CPU median {s['cpu_ms_median']:.2f} ms "
                f"(p95 {s['cpu_ms_p95']:.2f}) of {s['budget_ms']:.1f} ms budget, GPU {gpu}")
