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
