"""Originals in the vault, in parts when large, so a long video never sits whole in memory.

A small original or a photo is one blob `original/<sha>`. A large video is stored as parts
`original-part/<sha>/<n>` written first, then `original/<sha>` (empty, meta `parts`) last:
its presence means every part is there.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO, Iterator

from ..vault.store import ORIGINAL_PREFIX

PART_BYTES = 32 * 1024**2
PART_PREFIX = "original-part/"
CHUNK = 1024**2


def file_sha256(fh: BinaryIO) -> tuple[str, int]:
    """SHA-256 hex and size of a binary stream, read in 1 MB chunks (rewound afterwards)."""
    h, n = hashlib.sha256(), 0
    fh.seek(0)
    while chunk := fh.read(CHUNK):
        h.update(chunk)
        n += len(chunk)
    fh.seek(0)
    return h.hexdigest(), n


def store_original(vault, sha: str, fh: BinaryIO, size: int, meta: dict, in_parts: bool = True) -> bool:
    """Store once; False when it was already there. Photos (`in_parts=False`) stay one blob,
    as readers of family photos expect; they are read whole to be decoded anyway."""
    key = ORIGINAL_PREFIX + sha
    if vault.exists(key):
        return False
    fh.seek(0)
    if size <= PART_BYTES or not in_parts:
        vault.put(key, fh.read(), kind="original", meta=meta)
        return True
    n = 0
    while part := fh.read(PART_BYTES):
        vault.put(f"{PART_PREFIX}{sha}/{n:05d}", part, kind="original-part", meta={"original": key})
        n += 1
    vault.put(key, b"", kind="original", meta={**meta, "parts": n, "bytes": size})
    return True


def original_chunks(vault, key: str) -> Iterator[bytes]:
    """The original's bytes, part by part (one part for small originals)."""
    parts = vault.info(key).meta.get("parts")
    if not parts:
        yield vault.get(key)
        return
    sha = key[len(ORIGINAL_PREFIX):]
    for n in range(parts):
        yield vault.get(f"{PART_PREFIX}{sha}/{n:05d}")


def read_original(vault, key: str) -> bytes:
    """The original's whole bytes, joined from its parts when it was stored in parts."""
    return b"".join(original_chunks(vault, key))
