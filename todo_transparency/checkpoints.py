"""Signed checkpoints: (origin, tree size, root hash, time) signed with Ed25519 (RFC 8032).

The signed bytes are a text body in the C2SP tlog-checkpoint layout (origin,
size, base64 root, then an extension line with the time), so the statement is
readable by people and tools alike. Keys travel as standard base64 of their
raw 32 bytes: the private key's seed in the service's configuration, the
public key wherever a verifier pins it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from todo_transparency.canonical import instant_text
from todo_transparency.merkle import HASH_SIZE

KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64


class BadKey(ValueError):
    """A key's text is not the base64 of 32 bytes."""


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadKey(f"{what} is not base64") from None
    if len(raw) != KEY_SIZE:
        raise BadKey(f"{what} must be {KEY_SIZE} bytes (base64), got {len(raw)}")
    return raw


def public_key_from_text(text: str) -> bytes:
    """The raw public key in `text` (base64 of 32 bytes); BadKey otherwise."""
    return _decode_key(text, "an Ed25519 public key")


def public_key_text(public_key: bytes) -> str:
    return base64.b64encode(public_key).decode()


def key_id(public_key: bytes) -> str:
    """Names a key in checkpoints: the hex of the first 4 bytes of SHA-256 over it."""
    return hashlib.sha256(public_key).digest()[:4].hex()


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint states: the log `origin` had `tree_size` entries with `root_hash`."""

    origin: str
    tree_size: int
    root_hash: bytes
    signed_at: datetime

    def __post_init__(self) -> None:
        if not self.origin or any(ch in self.origin for ch in "\r\n"):
            raise ValueError("a checkpoint origin is one non-empty line")
        if self.tree_size < 0:
            raise ValueError("a tree size is not negative")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"a root hash has {HASH_SIZE} bytes")

    def body(self) -> bytes:
        """The signed text (see `todo.audit.v1.Checkpoint`)."""
        root = base64.b64encode(self.root_hash).decode()
        text = f"{self.origin}\n{self.tree_size}\n{root}\ntime {instant_text(self.signed_at)}\n"
        return text.encode("utf-8")


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: bytes
    key_id: str

    @property
    def tree_size(self) -> int:
        return self.checkpoint.tree_size

    @property
    def root_hash(self) -> bytes:
        return self.checkpoint.root_hash

    def verifies_with(self, public_key: bytes) -> bool:
        """Whether `public_key` signed exactly this checkpoint (the key id is only a label)."""
        if len(public_key) != KEY_SIZE or len(self.signature) != SIGNATURE_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                self.signature, self.checkpoint.body()
            )
        except InvalidSignature:
            return False
        return True


class SigningKey:
    """An Ed25519 private key from configuration: base64 of its 32-byte seed."""

    def __init__(self, text: str) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(_decode_key(text, "the signing key"))
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id(self.public_key)

    @staticmethod
    def generate_text() -> str:
        """A new key as configuration text (for `todo up` and tests)."""
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return base64.b64encode(seed).decode()

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        return SignedCheckpoint(checkpoint, self._key.sign(checkpoint.body()), self.key_id)
