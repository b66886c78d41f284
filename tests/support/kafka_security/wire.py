"""Kafka's wire encoding, as much of it as the secured proxy reads and writes.

The proxy answers SaslHandshake and SaslAuthenticate itself and edits one
response (ApiVersions); everything else passes through as bytes. Classic
versions use int16/int32 length prefixes; flexible versions use compact ones
(unsigned varint of length + 1) and end each structure with tagged fields.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

API_VERSIONS = 18
SASL_HANDSHAKE = 17
SASL_AUTHENTICATE = 36

UNSUPPORTED_SASL_MECHANISM = 33
SASL_AUTHENTICATION_FAILED = 58

# What the proxy adds to the broker's ApiVersions answer: (min, max) version per API key.
SASL_API_VERSIONS = {SASL_HANDSHAKE: (0, 1), SASL_AUTHENTICATE: (0, 2)}

MAX_FRAME = 100 * 1024 * 1024  # Kafka's socket.request.max.bytes
NO_TAGGED_FIELDS = b"\x00"


class MalformedMessage(ValueError):
    """A frame or field that does not decode: the connection is closed, as Kafka does."""


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    """One length-prefixed message (without its prefix); IncompleteReadError at end of stream."""
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    if not 0 <= size <= MAX_FRAME:
        raise MalformedMessage(f"frame size {size}")
    return await reader.readexactly(size)


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


class Decoder:
    """Reads fields one after another from a message."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def _take(self, size: int) -> bytes:
        if size < 0 or self._offset + size > len(self._data):
            raise MalformedMessage(f"{size} bytes wanted at offset {self._offset}")
        chunk = self._data[self._offset : self._offset + size]
        self._offset += size
        return chunk

    def _text(self, size: int) -> str:
        try:
            return self._take(size).decode()
        except UnicodeDecodeError as error:
            raise MalformedMessage("a string that is not UTF-8") from error

    def _unpack(self, fmt: str) -> int:
        value: int = struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]
        return value

    def int16(self) -> int:
        return self._unpack(">h")

    def int32(self) -> int:
        return self._unpack(">i")

    def int64(self) -> int:
        return self._unpack(">q")

    def uvarint(self) -> int:
        value = 0
        for shift in range(0, 35, 7):
            byte = self._take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise MalformedMessage("unsigned varint longer than 5 bytes")

    def nullable_string(self) -> str | None:
        size = self.int16()
        return None if size == -1 else self._text(size)

    def string(self) -> str:
        value = self.nullable_string()
        if value is None:
            raise MalformedMessage("null where a string is required")
        return value

    def compact_nullable_string(self) -> str | None:
        size = self.uvarint() - 1
        return None if size == -1 else self._text(size)

    def bytes_field(self) -> bytes:
        return self._take(self.int32())

    def compact_bytes(self) -> bytes:
        size = self.uvarint() - 1
        if size < 0:
            raise MalformedMessage("null where bytes are required")
        return self._take(size)

    def tagged_fields(self) -> bytes:
        """The tagged fields section, undecoded (the proxy reads none of them)."""
        start = self._offset
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self._take(self.uvarint())
        return self._data[start : self._offset]

    def rest(self) -> bytes:
        return self._take(len(self._data) - self._offset)


def int16(value: int) -> bytes:
    return struct.pack(">h", value)


def int32(value: int) -> bytes:
    return struct.pack(">i", value)


def int64(value: int) -> bytes:
    return struct.pack(">q", value)


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def nullable_string(value: str | None) -> bytes:
    if value is None:
        return int16(-1)
    data = value.encode()
    return int16(len(data)) + data


def compact_nullable_string(value: str | None) -> bytes:
    if value is None:
        return uvarint(0)
    data = value.encode()
    return uvarint(len(data) + 1) + data


def bytes_field(value: bytes) -> bytes:
    return int32(len(value)) + value


def compact_bytes(value: bytes) -> bytes:
    return uvarint(len(value) + 1) + value


@dataclass(frozen=True)
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None


def _flexible_request(api_key: int, api_version: int) -> bool:
    """Whether the request uses header v2 and a flexible body; known for the APIs the proxy
    reads, the others only ever have their header's first fields looked at."""
    if api_key == API_VERSIONS:
        return api_version >= 3
    if api_key == SASL_AUTHENTICATE:
        return api_version >= 2
    return False


def parse_request(message: bytes) -> tuple[RequestHeader, Decoder]:
    """The request header, and a decoder positioned at the request's body."""
    decoder = Decoder(message)
    header = RequestHeader(
        api_key=decoder.int16(),
        api_version=decoder.int16(),
        correlation_id=decoder.int32(),
        client_id=decoder.nullable_string(),  # int16-prefixed even in header v2
    )
    if _flexible_request(header.api_key, header.api_version):
        decoder.tagged_fields()
    return header, decoder


def add_sasl_api_versions(response: bytes, api_version: int) -> bytes:
    """The broker's ApiVersions response (header v0 whatever the version) with the SASL APIs
    listed; an error answer (an unsupported version is answered in v0) passes unchanged."""
    decoder = Decoder(response)
    correlation_id = decoder.int32()
    if decoder.int16() != 0:
        return response
    flexible = api_version >= 3
    count = decoder.uvarint() - 1 if flexible else decoder.int32()
    entries: dict[int, bytes] = {}
    for _ in range(count):
        key, low, high = decoder.int16(), decoder.int16(), decoder.int16()
        tags = decoder.tagged_fields() if flexible else b""
        entries[key] = int16(key) + int16(low) + int16(high) + tags
    for key, (low, high) in SASL_API_VERSIONS.items():
        entries[key] = (
            int16(key) + int16(low) + int16(high) + (NO_TAGGED_FIELDS if flexible else b"")
        )
    size = uvarint(len(entries) + 1) if flexible else int32(len(entries))
    listed = b"".join(entries[key] for key in sorted(entries))
    # What follows the list (throttle time from v1, tagged fields from v3) is kept as it is.
    return int32(correlation_id) + int16(0) + size + listed + decoder.rest()


def sasl_handshake_response(correlation_id: int, error_code: int, mechanisms: list[str]) -> bytes:
    """SaslHandshake v0/v1 (same layout), response header v0."""
    names = b"".join(nullable_string(name) for name in mechanisms)
    return frame(int32(correlation_id) + int16(error_code) + int32(len(mechanisms)) + names)


def sasl_authenticate_token(header: RequestHeader, body: Decoder) -> bytes:
    """The SASL token a SaslAuthenticate request carries."""
    return body.compact_bytes() if header.api_version >= 2 else body.bytes_field()


def sasl_authenticate_response(
    header: RequestHeader, error_code: int, error_message: str | None, token: bytes
) -> bytes:
    """SaslAuthenticate v0 to v2 (v2 flexible, response header v1); a session lifetime of 0:
    the client never has to authenticate again on this connection."""
    if header.api_version >= 2:
        body = (
            int16(error_code)
            + compact_nullable_string(error_message)
            + compact_bytes(token)
            + int64(0)
            + NO_TAGGED_FIELDS
        )
        return frame(int32(header.correlation_id) + NO_TAGGED_FIELDS + body)
    body = int16(error_code) + nullable_string(error_message) + bytes_field(token)
    if header.api_version >= 1:
        body += int64(0)
    return frame(int32(header.correlation_id) + body)
