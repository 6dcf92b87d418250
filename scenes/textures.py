"""Procedural textures (nothing downloaded): value noise shaped into grass, wood, plaster, stone...

Each maker returns RGB uint8 [S,S,3] and is deterministic for a seed, so renders repeat.
"""

from __future__ import annotations

import numpy as np


def value_noise(size: int, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth tileable noise in 0..1, [size,size], from a random grid of `cells`² bilinearly upsampled."""
    grid = rng.random((cells, cells)).astype(np.float32)
    x = np.arange(size, dtype=np.float32) * cells / size
    i = np.floor(x).astype(int)
    f = x - i
    f = f * f * (3 - 2 * f)  # smoothstep
    i0, i1 = i % cells, (i + 1) % cells
    rows = grid[i0] * (1 - f)[:, None] + grid[i1] * f[:, None]  # [size,cells]
    return rows[:, i0] * (1 - f)[None] + rows[:, i1] * f[None]


def fractal(size: int, rng: np.random.Generator, octaves=(4, 8, 16, 32)) -> np.ndarray:
    out = np.zeros((size, size), np.float32)
    total = 0.0
    for k, cells in enumerate(octaves):
        w = 0.5 ** k
        out += w * value_noise(size, cells, rng)
        total += w
    return out / total


def _mix(a, b, t: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    return a + (b - a) * t[..., None]


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(img, 0, 255).astype(np.uint8)


def grass(size: int, rng) -> np.ndarray:
    n = fractal(size, rng)
    blades = value_noise(size, 64, rng) ** 3
    return _u8(_mix((52, 74, 38), (96, 122, 62), n) * (0.8 + 0.4 * blades[..., None]))


def wood(size: int, rng) -> np.ndarray:
    n = fractal(size, rng, (2, 4, 8))
    u = np.linspace(0, 1, size, dtype=np.float32)[None, :]
    rings = 0.5 + 0.5 * np.sin((u * 22 + n * 5) * np.pi)
    return _u8(_mix((88, 54, 32), (140, 96, 60), rings * 0.7 + 0.3 * n))


def plaster(size: int, rng) -> np.ndarray:
    return _u8(_mix((196, 180, 156), (222, 210, 190), fractal(size, rng)))


def stone(size: int, rng) -> np.ndarray:
    n = fractal(size, rng)
    y, x = np.mgrid[0:size, 0:size]
    rows = 4
    h = size // rows
    offset = ((y // h) % 2) * (size // 4)
    grout = ((y % h) < 3) | (((x + offset) % (size // 2)) < 3)
    base = _mix((128, 120, 110), (170, 160, 146), n)
    base[grout] = (92, 86, 80)
    return _u8(base)


def fabric(size: int, rng) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    weave = 0.85 + 0.15 * ((x // 2 + y // 2) % 2)
    return _u8(_mix((120, 40, 38), (150, 60, 52), fractal(size, rng)) * weave[..., None])


def leaves(size: int, rng) -> np.ndarray:
    n = fractal(size, rng, (8, 16, 32, 64))
    return _u8(_mix((24, 46, 22), (70, 104, 46), n ** 1.5))


def bark(size: int, rng) -> np.ndarray:
    n = fractal(size, rng, (2, 4, 32, 64))
    x = np.linspace(0, 1, size, dtype=np.float32)[None, :]
    streak = 0.5 + 0.5 * np.sin((x * 30 + n * 3) * np.pi)
    return _u8(_mix((58, 42, 30), (104, 80, 58), 0.5 * streak + 0.5 * n))


def carpet(size: int, rng) -> np.ndarray:
    return _u8(_mix((92, 58, 50), (122, 82, 66), fractal(size, rng, (16, 32, 64))))


MAKERS = {"grass": grass, "wood": wood, "plaster": plaster, "stone": stone, "fabric": fabric,
          "leaves": leaves, "bark": bark, "carpet": carpet}


def make(name: str, size: int = 128, seed: int = 0) -> np.ndarray:
    """Texture `name` as RGB uint8 [size,size,3]."""
    if name not in MAKERS:
        raise KeyError(f"unknown texture {name!r} (known: {', '.join(sorted(MAKERS))})")
    return MAKERS[name](size, np.random.default_rng(seed))
