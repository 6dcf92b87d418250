"""The bits a watermark carries: a content id plus a CRC-32, so a decoder knows when it read them right.

Images carry the whole 128-bit content id (a UUID); audio, which has far less room per
second, carries its first 64 bits ("short id") and `verify` completes it from the export log.
"""

from __future__ import annotations

import uuid
import zlib

import numpy as np

IMAGE_ID_BITS = 128
AUDIO_ID_BITS = 64
CRC_BITS = 32


def _to_bits(data: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8)).astype(np.uint8)


def encode(content_id: str, id_bits: int) -> np.ndarray:
    """[id_bits + 32] uint8 bits: the id's first `id_bits` bits, then CRC-32 of those bytes."""
    raw = uuid.UUID(content_id).bytes[: id_bits // 8]
    return np.concatenate([_to_bits(raw), _to_bits(zlib.crc32(raw).to_bytes(4, "big"))])


def decode(bits: np.ndarray, id_bits: int) -> str | None:
    """The id (full UUID text, or 16 hex digits for a short id) when the CRC matches, else None."""
    bits = np.asarray(bits).astype(np.uint8)
    assert bits.shape == (id_bits + CRC_BITS,), bits.shape
    raw = np.packbits(bits[:id_bits]).tobytes()
    crc = np.packbits(bits[id_bits:]).tobytes()
    if zlib.crc32(raw).to_bytes(4, "big") != crc:
        return None
    if id_bits == 128:
        return str(uuid.UUID(bytes=raw))
    return raw.hex()


def short_id(content_id: str) -> str:
    """The part of a content id that the audio watermark carries (16 hex digits)."""
    return uuid.UUID(content_id).bytes[: AUDIO_ID_BITS // 8].hex()


def chase_decode(scores: np.ndarray, id_bits: int, pool: int = 10, max_flips: int | None = None) -> str | None:
    """Soft-decision decoding: read the bits from the signs of `scores` (positive = 1); if the CRC
    fails, retry with flips among the `pool` least certain bits (every subset, or those of at
    most `max_flips` bits).

    pool=10 is 1,024 CRC-32 checks, pool=16 with max_flips=3 is 697: a chance of about 2.4e-7
    or 1.6e-7 that random noise passes; callers that try many alignments multiply that.
    """
    from itertools import combinations

    scores = np.asarray(scores, dtype=np.float64)
    assert scores.shape == (id_bits + CRC_BITS,), scores.shape
    hard = (scores > 0).astype(np.uint8)
    weakest = np.argsort(np.abs(scores))[:pool]
    most = pool if max_flips is None else max_flips
    for n in range(most + 1):
        for flips in combinations(weakest, n):
            bits = hard.copy()
            bits[list(flips)] ^= 1
            found = decode(bits, id_bits)
            if found:
                return found
    return None
