"""The pages' files go out gzipped to a client that accepts it, the same bytes once unpacked,
with caching headers that keep the two representations apart."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from gateway.transport import board, playground
from tests.support.gateway.gateway_harness import GatewayClient

[GRAPHIQL] = (playground.DIRECTORY / "assets").glob("graphiql.*.js")
BUNDLE_URL = f"{playground.ASSETS_PATH}/{GRAPHIQL.name}"
GZIP = {"accept-encoding": "gzip"}
IDENTITY = {"accept-encoding": "identity"}


async def raw_get(
    client: GatewayClient, url: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body as sent (not decoded by the client)."""
    async with client.http.stream("GET", url, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, dict(response.headers), body


async def test_the_graphiql_bundle_is_gzipped_and_unpacks_to_the_file(
    app_client: GatewayClient,
) -> None:
    file = GRAPHIQL.read_bytes()
    status, plain_headers, plain = await raw_get(app_client, BUNDLE_URL, IDENTITY)
    assert status == 200
    assert plain == file
    assert plain_headers["content-length"] == str(len(file))
    assert "content-encoding" not in plain_headers

    status, headers, packed = await raw_get(app_client, BUNDLE_URL, GZIP)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert len(packed) < len(file) / 3, (len(packed), len(file))
    assert gzip.decompress(packed) == file
    assert headers["content-type"] == plain_headers["content-type"]
    assert headers["cache-control"] == plain_headers["cache-control"] == playground.IMMUTABLE
    for sent in (headers, plain_headers):
        assert "accept-encoding" in sent["vary"].lower()
    # Another representation, another validator: weak, of the same file's tag.
    assert not plain_headers["etag"].startswith("W/")
    assert headers["etag"] == f"W/{plain_headers['etag']}"


async def test_a_revalidation_with_the_gzip_tag_is_not_modified(app_client: GatewayClient) -> None:
    _, headers, _ = await raw_get(app_client, BUNDLE_URL, GZIP)
    response = await app_client.http.get(
        BUNDLE_URL, headers={**GZIP, "if-none-match": headers["etag"]}
    )
    assert response.status_code == 304
    assert response.headers["etag"] == headers["etag"]
    assert "accept-encoding" in response.headers["vary"].lower()
    plain = await app_client.http.get(
        BUNDLE_URL, headers={**IDENTITY, "if-none-match": headers["etag"].removeprefix("W/")}
    )
    assert plain.status_code == 304
    assert plain.headers["etag"] == headers["etag"].removeprefix("W/")


@pytest.mark.parametrize("name", ["board.js", "board.css"])
async def test_the_boards_files_are_gzipped_too(app_client: GatewayClient, name: str) -> None:
    url, path = f"{board.ASSETS_PATH}/{name}", board.DIRECTORY / name
    status, headers, packed = await raw_get(app_client, url, GZIP)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed) == await asyncio.to_thread(path.read_bytes)
    assert headers["cache-control"] == "no-cache"
    assert "accept-encoding" in headers["vary"].lower()


async def test_fonts_are_sent_as_they_are(app_client: GatewayClient) -> None:
    """woff2 is compressed already: gzip would only cost time."""
    font = next((playground.DIRECTORY / "assets").glob("*.woff2"))
    status, headers, body = await raw_get(app_client, f"{playground.ASSETS_PATH}/{font.name}", GZIP)
    assert status == 200
    assert "content-encoding" not in headers
    assert body == font.read_bytes()
    assert not headers["etag"].startswith("W/")
