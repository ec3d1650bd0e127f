"""The VAPID key pair that signs every push request (RFC 8292), kept under the keys directory with mode 0600."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from server.ownership import keep_owner

__all__ = ["VAPID_FILE", "VapidError", "VapidKeys", "load_or_create"]

VAPID_FILE = "vapid_private.pem"


class VapidError(RuntimeError):
    """The VAPID key file is unreadable, malformed or open to other users."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class VapidKeys:
    """The loaded key pair: ``signer`` for pywebpush, ``public_key`` for the browser's ``applicationServerKey``."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self.signer = Vapid02()
        self.signer.private_key = private_key
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = b64url(point)


def load_or_create(keys_dir: Path, *, create: bool = True) -> VapidKeys:
    """Read ``keys_dir/vapid_private.pem``; create it (0600) on first start."""
    path = keys_dir / VAPID_FILE
    if not path.exists():
        if not create:
            raise VapidError(f"no VAPID key at {path.name}; run `doorstep vapid-keys`")
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        keep_owner(fd, path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return VapidKeys(key)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise VapidError(f"{path.name} is readable by other users; chmod 600 it")
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        raise VapidError(f"{path.name} is not a PEM private key") from None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(loaded.curve, ec.SECP256R1):
        raise VapidError(f"{path.name} is not a P-256 key")
    return VapidKeys(loaded)
