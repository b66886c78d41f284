"""The proxy's SASL on the wire, for what librdkafka never sends: ApiVersions v0 to v3,
SaslAuthenticate v2 (flexible), SaslHandshake v0 (bare tokens), requests out of turn.

These tests run on pytest's event loop while the proxy runs on its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest
from scramp import ScramClient  # type: ignore[import-untyped]

from tests.support.kafka_security.clients import PASSWORD, USER, WAIT
from tests.support.kafka_security.sasl import MECHANISMS
from tests.support.kafka_security.secure_broker import SecureBroker
from tests.support.kafka_security.wire import (
    API_VERSIONS,
    NO_TAGGED_FIELDS,
    SASL_AUTHENTICATE,
    SASL_AUTHENTICATION_FAILED,
    SASL_HANDSHAKE,
    UNSUPPORTED_SASL_MECHANISM,
    Decoder,
    add_sasl_api_versions,
    bytes_field,
    compact_bytes,
    compact_nullable_string,
    frame,
    int16,
    int32,
    nullable_string,
    read_frame,
)

METADATA = 3


@pytest.fixture
def sasl_broker() -> Iterator[SecureBroker]:
    """SASL_PLAINTEXT with every mechanism: the exchanges are read in the clear."""
    with SecureBroker(tls=False, sasl_mechanisms=MECHANISMS, users={USER: PASSWORD}) as broker:
        yield broker


class Connection:
    """A raw Kafka-protocol client: one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._correlation_id = 0

    async def request(self, api_key: int, version: int, body: bytes, *, flexible: bool) -> Decoder:
        """Sends a request; its response, after the correlation id (checked)."""
        self._correlation_id += 1
        header = int16(api_key) + int16(version) + int32(self._correlation_id)
        header += nullable_string("raw-test") + (NO_TAGGED_FIELDS if flexible else b"")
        response = await self.exchange(frame(header + body))
        assert response.int32() == self._correlation_id
        return response

    async def exchange(self, data: bytes) -> Decoder:
        self.writer.write(data)
        await self.writer.drain()
        return Decoder(await asyncio.wait_for(read_frame(self.reader), WAIT))

    async def closed_by_peer(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), WAIT) == b""

    async def handshake(self, version: int, mechanism: str) -> tuple[int, list[str]]:
        response = await self.request(
            SASL_HANDSHAKE, version, nullable_string(mechanism), flexible=False
        )
        error = response.int16()
        return error, [response.string() for _ in range(response.int32())]

    async def authenticate(self, token: bytes) -> tuple[int, str | None, bytes]:
        """SaslAuthenticate v2: error code, error message, server token."""
        response = await self.request(
            SASL_AUTHENTICATE, 2, compact_bytes(token) + NO_TAGGED_FIELDS, flexible=True
        )
        response.tagged_fields()  # response header v1
        error, message, token = (
            response.int16(),
            response.compact_nullable_string(),
            response.compact_bytes(),
        )
        response.int64()  # session lifetime
        response.tagged_fields()
        assert response.rest() == b""
        return error, message, token

    async def metadata(self) -> bool:
        """Whether a Metadata request (v1, all topics) is answered by the broker."""
        response = await self.request(METADATA, 1, int32(-1), flexible=False)
        return len(response.rest()) > 0


@contextlib.asynccontextmanager
async def connected(broker: SecureBroker) -> AsyncIterator[Connection]:
    host, port = broker.bootstrap_servers.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        yield Connection(reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.parametrize("version", [0, 1, 2, 3])
async def test_api_versions_lists_the_sasl_apis(sasl_broker: SecureBroker, version: int) -> None:
    body = compact_nullable_string("raw-test") + compact_nullable_string("1.0") + NO_TAGGED_FIELDS
    async with connected(sasl_broker) as connection:
        response = await connection.request(
            API_VERSIONS, version, body if version >= 3 else b"", flexible=version >= 3
        )
    assert response.int16() == 0
    count = response.uvarint() - 1 if version >= 3 else response.int32()
    listed: dict[int, tuple[int, int]] = {}
    for _ in range(count):
        key = response.int16()
        listed[key] = (response.int16(), response.int16())
        if version >= 3:
            response.tagged_fields()
    assert listed[SASL_HANDSHAKE] == (0, 1)
    assert listed[SASL_AUTHENTICATE] == (0, 2)
    assert METADATA in listed  # the broker's own entries are kept
    assert list(listed) == sorted(listed)
    if version >= 1:
        response.int32()  # throttle time
    if version >= 3:
        response.tagged_fields()
    assert response.rest() == b""


def test_an_api_versions_error_passes_unchanged() -> None:
    """An unsupported ApiVersions version is answered in v0 with an error; nothing to add."""
    unsupported_version = int32(7) + int16(35) + int32(1) + int16(API_VERSIONS) + int16(0) * 2
    assert add_sasl_api_versions(unsupported_version, 9) == unsupported_version


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_scram_over_flexible_sasl_authenticate(
    sasl_broker: SecureBroker, mechanism: str
) -> None:
    client = ScramClient([mechanism], USER, PASSWORD)
    async with connected(sasl_broker) as connection:
        assert await connection.handshake(1, mechanism) == (0, list(MECHANISMS))
        error, message, server_first = await connection.authenticate(
            client.get_client_first().encode()
        )
        assert (error, message) == (0, None)
        client.set_server_first(server_first.decode())
        error, message, server_final = await connection.authenticate(
            client.get_client_final().encode()
        )
        assert (error, message) == (0, None)
        client.set_server_final(server_final.decode())  # checks the server's signature
        assert await connection.metadata()
    assert sasl_broker.authentications(USER) == 1


async def test_a_wrong_scram_proof_is_answered_then_the_connection_closes(
    sasl_broker: SecureBroker,
) -> None:
    client = ScramClient(["SCRAM-SHA-512"], USER, "not-the-password")
    async with connected(sasl_broker) as connection:
        assert (await connection.handshake(1, "SCRAM-SHA-512"))[0] == 0
        _, _, server_first = await connection.authenticate(client.get_client_first().encode())
        client.set_server_first(server_first.decode())
        error, message, _ = await connection.authenticate(client.get_client_final().encode())
        assert error == SASL_AUTHENTICATION_FAILED
        assert message == (
            "Authentication failed during authentication due to invalid credentials with SASL "
            "mechanism SCRAM-SHA-512"
        )
        assert await connection.closed_by_peer()
    assert sasl_broker.authentications(USER) == 0


async def test_plain_over_sasl_authenticate_v0(sasl_broker: SecureBroker) -> None:
    async with connected(sasl_broker) as connection:
        assert (await connection.handshake(1, "PLAIN"))[0] == 0
        token = f"\0{USER}\0{PASSWORD}".encode()
        response = await connection.request(
            SASL_AUTHENTICATE, 0, bytes_field(token), flexible=False
        )
        assert response.int16() == 0
        assert response.nullable_string() is None
        assert response.bytes_field() == b""
        assert response.rest() == b""  # v0 has no session lifetime
        assert await connection.metadata()
    assert sasl_broker.authentications(USER) == 1


async def test_handshake_v0_exchanges_bare_tokens(sasl_broker: SecureBroker) -> None:
    async with connected(sasl_broker) as connection:
        assert (await connection.handshake(0, "PLAIN"))[0] == 0
        answer = await connection.exchange(frame(f"\0{USER}\0{PASSWORD}".encode()))
        assert answer.rest() == b""
        assert await connection.metadata()
    assert sasl_broker.authentications(USER) == 1


async def test_an_unknown_mechanism_is_refused_with_the_enabled_ones(
    sasl_broker: SecureBroker,
) -> None:
    async with connected(sasl_broker) as connection:
        refused = await connection.handshake(1, "GSSAPI")
        assert refused == (UNSUPPORTED_SASL_MECHANISM, list(MECHANISMS))
        assert await connection.closed_by_peer()


@pytest.mark.parametrize(
    ("api_key", "body"),
    [(METADATA, int32(-1)), (SASL_AUTHENTICATE, bytes_field(b"\0todo\0secret"))],
    ids=["metadata", "sasl-authenticate-without-handshake"],
)
async def test_a_request_before_authentication_closes_the_connection(
    sasl_broker: SecureBroker, api_key: int, body: bytes
) -> None:
    async with connected(sasl_broker) as connection:
        connection.writer.write(
            frame(int16(api_key) + int16(1) + int32(1) + nullable_string("raw-test") + body)
        )
        assert await connection.closed_by_peer()
    assert sasl_broker.authentications(USER) == 0
