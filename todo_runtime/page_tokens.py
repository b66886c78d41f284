"""Opaque, signed page tokens (cursors): a forged or altered token never reaches a query.

A token is `<base64url JSON payload>.<base64url HMAC-SHA256 tag>`; the tag covers
the payload and a scope (who may use it, for which list), so a token from
another user or another list fails verification like a forged one. The key is
the services' internal secret, so every replica accepts every other's tokens.

A verified payload is still read value by value (`Payload`), each checked for
the type and range of the column or message field it goes to: a signature says
who made a token, not that its numbers fit an int64 (a leaked key, or a bug
that signs a wrong value, must give INVALID_ARGUMENT, never a failed query).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar
from uuid import UUID

from todo_runtime.errors import InvalidArgument
from todo_runtime.validation import text_problem

T = TypeVar("T")

_TAG_BYTES: Final = 16
MAX_TOKEN_LENGTH: Final = 2048
INT64_MAX: Final = 2**63 - 1  # bigint columns and int64 message fields
# PostgreSQL's infinite timestamps, as asyncpg reads them (naive): a task without a due time
# sorts at one of them, so its position holds one.
INFINITIES: Final = (datetime.min, datetime.max)


# json.dumps with these options would build an encoder per call.
_JSON: Final = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Signs and verifies tokens with `secret` under a `domain` (e.g. "tasks.v1.list")."""

    def __init__(self, secret: str, domain: str) -> None:
        key = hashlib.sha256(f"{domain}\x00{secret}".encode()).digest()
        # Keyed once; each tag continues a copy (a page signs one token per task).
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def _tag(self, scope: str, body: str) -> str:
        mac = self._mac.copy()
        mac.update(f"{scope}\x00{body}".encode())
        return _b64(mac.digest()[:_TAG_BYTES])

    def encode(self, scope: str, payload: Mapping[str, Any]) -> str:
        body = _b64(_JSON(payload).encode())
        return f"{body}.{self._tag(scope, body)}"

    def decode(self, scope: str, token: str, field: str = "page_token") -> Payload:
        """The payload of a token this signer issued for `scope`; InvalidArgument naming `field`
        otherwise."""
        invalid = InvalidArgument(field, "is not a token this list returned (for you)")
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
            raise invalid
        body, tag = token.split(".")
        if not hmac.compare_digest(tag.encode(), self._tag(scope, body).encode()):
            raise invalid
        try:
            values = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            raise invalid from None
        if not isinstance(values, dict):
            raise invalid
        return Payload(values, field)


class Payload:
    """A verified token's values, each read with the type and range its destination takes;
    anything else is InvalidArgument naming the token's request field."""

    def __init__(self, values: Mapping[str, Any], field: str) -> None:
        self._values = values
        self.field = field

    def invalid(self, why: str = "is not a token this list returned") -> InvalidArgument:
        return InvalidArgument(self.field, why)

    def get(self, key: str) -> object:
        """The raw value (None when absent), for comparing with what the token must match."""
        return self._values.get(key)

    def integer(self, key: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
        """An integer in minimum..maximum (the range of the field it goes to)."""
        return checked_integer(self._values.get(key), self, minimum=minimum, maximum=maximum)

    def instant(self, key: str) -> datetime:
        return checked_instant(self._values.get(key), self)

    def identifier(self, key: str) -> UUID:
        value = self._values.get(key)
        if not isinstance(value, str):
            raise self.invalid()
        try:
            return UUID(value)
        except ValueError:
            raise self.invalid() from None


def checked_integer(
    value: object, payload: Payload, *, minimum: int = 0, maximum: int = INT64_MAX
) -> int:
    """`value` if it is an integer in minimum..maximum; InvalidArgument naming the token's field."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise payload.invalid()
    if not minimum <= value <= maximum:
        raise payload.invalid(f"holds a number out of range ({minimum}..{maximum})")
    return value


def checked_instant(value: object, payload: Payload, *, infinite: bool = False) -> datetime:
    """An ISO 8601 instant with an offset, in UTC (its conversion cannot overflow then);
    with `infinite`, also one of PostgreSQL's infinities."""
    if not isinstance(value, str):
        raise payload.invalid()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise payload.invalid() from None
    if moment.tzinfo is None:
        if infinite and moment in INFINITIES:
            return moment
        raise payload.invalid()
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise payload.invalid("holds an instant out of range") from None


def checked_text(value: object, payload: Payload) -> str:
    """Text a query parameter can carry (no NUL, no lone surrogate)."""
    if not isinstance(value, str) or text_problem(value) is not None:
        raise payload.invalid()
    return value


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paged list: its items, each item's cursor (a token to page on from
    it), whether more follow, and the total (0 when not counted)."""

    items: list[T]
    cursors: list[str]
    has_next: bool
    total: int
