"""Cryptographic primitives of the vault, all from `cryptography`.

* Blobs, the index and audit lines: AES-256-GCM, random 96-bit nonces, associated data
  binding the vault id, the record's id and the format version.
* Member key slots: scrypt(passphrase) -> key-encryption key that wraps the data key.
* Failed passphrase attempts: sealed to the vault's X25519 public key, because the
  person who failed has no data key to write an encrypted audit line with.
"""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True)
class KdfParams:
    """scrypt parameters, recorded per key slot so they can be raised later."""

    algorithm: str = "scrypt"
    n: int = 2**16
    r: int = 8
    p: int = 1
    salt: str = ""

    @classmethod
    def fresh(cls) -> "KdfParams":
        return cls(salt=b64e(os.urandom(16)))

    def to_dict(self) -> dict:
        return asdict(self)


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def derive_kek(passphrase: str, params: KdfParams) -> bytes:
    if params.algorithm != "scrypt":
        raise ValueError(f"unknown key derivation {params.algorithm!r}")
    kdf = Scrypt(salt=b64d(params.salt), length=KEY_BYTES, n=params.n, r=params.r, p=params.p)
    return kdf.derive(passphrase.encode("utf-8"))


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """nonce || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, data: bytes, aad: bytes) -> bytes:
    """Raises InvalidTag when the data, the nonce or the associated data were changed."""
    if len(data) < NONCE_BYTES + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], aad)


def new_box_keypair() -> tuple[bytes, bytes]:
    """(private, public) raw X25519 keys."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw_private, raw_public


def _box_key(shared: bytes, ephemeral_public: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=ephemeral_public, info=b"memorial-box").derive(shared)


def box_seal(recipient_public: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Anonymous sealed box: ephemeral X25519 + HKDF + AES-GCM."""
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    return eph_pub + seal(_box_key(shared, eph_pub), plaintext, aad)


def box_open(recipient_private: bytes, data: bytes, aad: bytes) -> bytes:
    eph_pub, rest = data[:32], data[32:]
    shared = X25519PrivateKey.from_private_bytes(recipient_private).exchange(X25519PublicKey.from_public_bytes(eph_pub))
    return open_sealed(_box_key(shared, eph_pub), rest, aad)


__all__ = [
    "InvalidTag",
    "KdfParams",
    "b64d",
    "b64e",
    "box_open",
    "box_seal",
    "derive_kek",
    "new_box_keypair",
    "new_key",
    "open_sealed",
    "seal",
]
