"""Opaque, signed page tokens (cursors): a forged or altered token never reaches a query.

A token is `<base64url JSON payload>.<base64url HMAC-SHA256 tag>`; the tag covers
the payload and a scope (who may use it, for which list), so a token from
another user or another list fails verification like a forged one. The key is
the services' internal secret, so every replica accepts every other's tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from todo_runtime.errors import InvalidArgument

T = TypeVar("T")

_TAG_BYTES: Final = 16
MAX_TOKEN_LENGTH: Final = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Signs and verifies tokens with `secret` under a `domain` (e.g. "tasks.v1.list")."""

    def __init__(self, secret: str, domain: str) -> None:
        self._key = hashlib.sha256(f"{domain}\x00{secret}".encode()).digest()

    def _tag(self, scope: str, body: str) -> str:
        digest = hmac.new(self._key, f"{scope}\x00{body}".encode(), hashlib.sha256).digest()
        return _b64(digest[:_TAG_BYTES])

    def encode(self, scope: str, payload: Mapping[str, Any]) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._tag(scope, body)}"

    def decode(self, scope: str, token: str, field: str = "page_token") -> dict[str, Any]:
        """The payload of a token this signer issued for `scope`; InvalidArgument otherwise."""
        invalid = InvalidArgument(field, "is not a token this list returned (for you)")
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise invalid
        body, tag = token.split(".")
        if not hmac.compare_digest(tag.encode(), self._tag(scope, body).encode()):
            raise invalid
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            raise invalid from None
        if not isinstance(payload, dict):
            raise invalid
        return payload


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paged list: its items, each item's cursor (a token to page on from
    it), whether more follow, and the total (0 when not counted)."""

    items: list[T]
    cursors: list[str]
    has_next: bool
    total: int
