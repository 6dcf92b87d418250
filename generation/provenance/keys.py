"""This installation's signing identity: a root CA and a signing certificate made on first use.

Files in `$MEMORIAL_HOME/provenance/` (folder 0700, files 0600)::

    secret.key        32 random bytes: the installation secret. Encrypts the two private
                      keys and the export log, and keys the log's hash chain.
    root.pem          root CA certificate (EC P-256, 10 years): the trust anchor `verify` uses
    root.key          root private key, PKCS#8 encrypted with a key derived from secret.key
    signer.pem        signing certificate + root (EC P-256, 2 years, EKU emailProtection as
                      C2PA requires for a claim signer), renewed from the root when it is
                      about to expire
    signer.key        signing private key, encrypted like root.key

Why a secret file and not a passphrase: every export (and the demo) must run unattended,
and `verify` must work without asking anything. The encryption keeps the private keys useless
when one of those files leaks on its own (a copied folder, a backup of the wrong files); it does
not stop someone who can read the whole folder as this user, which only an OS keyring or a
hardware token could. Permissions are checked on every load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from assets.errors import MemorialError, TamperError
from ..paths import memorial_home
from ..vault.files import atomic_write, vault_lock

ROOT_YEARS = 10
SIGNER_DAYS = 730
RENEW_BEFORE_DAYS = 30
ORG = "Memorial VR installation"


def provenance_dir(create: bool = True) -> Path:
    path = memorial_home(create) / "provenance"
    if create:
        path.mkdir(mode=0o700, exist_ok=True)
    return path


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, b"memorial-provenance|" + purpose.encode(), hashlib.sha256).digest()


def _check_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise MemorialError(f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}")


def load_secret(create: bool = True) -> bytes:
    folder = provenance_dir(create)
    path = folder / "secret.key"
    if not path.exists():
        if not create:
            raise MemorialError("this installation has no provenance keys yet (nothing was exported)")
        with vault_lock(folder):
            if not path.exists():
                atomic_write(path, os.urandom(32))
    _check_private(path)
    data = path.read_bytes()
    if len(data) != 32:
        raise TamperError(f"{path} is damaged (expected 32 bytes)")
    return data


def subkey(purpose: str, create: bool = True) -> bytes:
    """A 32-byte key for one purpose ("export-log", "root-key", ...) derived from the secret."""
    return _derive(load_secret(create), purpose)


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes  # signing certificate then root, PEM
    key_pem: bytes  # signing private key, PKCS#8 PEM, unencrypted, kept in memory only
    root_pem: bytes
    not_after: dt.datetime


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG)])


def make_root(now: dt.datetime | None = None, days: int = 365 * ROOT_YEARS):
    """(certificate, private key) of a fresh self-signed CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    now = now or dt.datetime.now(dt.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"Memorial VR root {os.urandom(4).hex()}")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_signer(root_cert, root_key, not_before: dt.datetime | None = None, lifetime: dt.timedelta | None = None):
    """(certificate, private key) of a claim-signing certificate issued by the root."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    not_before = not_before or (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    lifetime = lifetime or dt.timedelta(days=SIGNER_DAYS)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("Memorial VR content signer")).issuer_name(root_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_before + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    return cert, key


def pem(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, password: bytes | None = None) -> bytes:
    from cryptography.hazmat.primitives import serialization

    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def _load_key(path: Path, password: bytes):
    from cryptography.hazmat.primitives import serialization

    _check_private(path)
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=password)
    except (ValueError, TypeError):
        raise TamperError(f"{path} cannot be decrypted with this installation's secret: damaged or replaced") from None


def _write_signer(folder: Path, secret: bytes, root_cert, root_key) -> None:
    cert, key = make_signer(root_cert, root_key)
    atomic_write(folder / "signer.key", key_pem(key, _derive(secret, "signer-key")))
    atomic_write(folder / "signer.pem", pem(cert) + pem(root_cert))


def signing_identity(now: dt.datetime | None = None) -> SigningIdentity:
    """Load (creating on first use, renewing near expiry) this installation's signing identity."""
    from cryptography import x509

    now = now or dt.datetime.now(dt.timezone.utc)
    secret = load_secret(create=True)
    folder = provenance_dir()
    with vault_lock(folder):
        if not (folder / "root.pem").exists():
            root_cert, root_key = make_root(now)
            atomic_write(folder / "root.key", key_pem(root_key, _derive(secret, "root-key")))
            atomic_write(folder / "root.pem", pem(root_cert))
            _write_signer(folder, secret, root_cert, root_key)
        chain = (folder / "signer.pem").read_bytes()
        leaf = x509.load_pem_x509_certificates(chain)[0]
        if leaf.not_valid_after_utc - now < dt.timedelta(days=RENEW_BEFORE_DAYS):
            root_cert = x509.load_pem_x509_certificate((folder / "root.pem").read_bytes())
            if root_cert.not_valid_after_utc - now < dt.timedelta(days=RENEW_BEFORE_DAYS):
                raise MemorialError("this installation's root certificate expires soon; "
                                    "move $MEMORIAL_HOME/provenance aside to start a new one")
            _write_signer(folder, secret, root_cert, _load_key(folder / "root.key", _derive(secret, "root-key")))
            chain = (folder / "signer.pem").read_bytes()
            leaf = x509.load_pem_x509_certificates(chain)[0]
        key = _load_key(folder / "signer.key", _derive(secret, "signer-key"))
        return SigningIdentity(chain_pem=chain, key_pem=key_pem(key), root_pem=(folder / "root.pem").read_bytes(),
                               not_after=leaf.not_valid_after_utc)


def trust_anchor_pem() -> bytes | None:
    """The root certificate `verify` trusts, or None when this installation never exported."""
    path = provenance_dir(create=False) / "root.pem" if _home_exists() else None
    if path is None or not path.exists():
        return None
    return path.read_bytes()


def _home_exists() -> bool:
    try:
        return (memorial_home(create=False) / "provenance").is_dir()
    except MemorialError:
        return False
