"""Parse and validation results are kept for small documents only: distinct large documents
(near the 1 MiB limit) would otherwise make every gateway hold gigabytes."""

from __future__ import annotations

import gc
from functools import _lru_cache_wrapper
from typing import Any, cast

from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from gateway.context import GatewayContext
from gateway.limits.documents import DOCUMENT_CACHE_SIZE, MAX_CACHED_CHARACTERS
from tests.support.gateway.gateway_harness import GatewayClient


def cached() -> tuple[int, int]:
    """Entries in the gateway's parse and validation caches (strawberry's LRU caches)."""
    caches = [_get_parse_cache(DOCUMENT_CACHE_SIZE), _get_validate_cache(DOCUMENT_CACHE_SIZE)]
    parsed, validated = (cast("_lru_cache_wrapper[Any]", c).cache_info().currsize for c in caches)
    return parsed, validated


async def test_large_documents_are_answered_but_never_kept(app_client: GatewayClient) -> None:
    before = cached()
    for index in range(5):
        padding = "# " + "x" * MAX_CACHED_CHARACTERS + "\n"
        body = await app_client.execute(f"{padding}{{ a{index}: __typename }}")
        assert body["data"] == {f"a{index}": "Query"}
    assert cached() == before


async def test_small_documents_are_kept(app_client: GatewayClient) -> None:
    before = cached()
    for index in range(3):
        await app_client.execute(f"{{ small{index}: __typename }}")
    parsed, validated = cached()
    assert parsed >= min(before[0] + 3, DOCUMENT_CACHE_SIZE)
    assert validated >= min(before[1] + 3, DOCUMENT_CACHE_SIZE)


async def test_a_document_kept_with_its_errors_keeps_nothing_of_its_request(
    app_client: GatewayClient,
) -> None:
    """A literal a scalar refuses is a validation error, cached with the document; the error's
    traceback once kept the request's whole context alive for as long as the entry lived."""
    before = _contexts()  # what an earlier test in this worker left is not this one's
    body = await app_client.execute(
        'mutation { createTask(input: {title: "x", dueAt: "2026-03-01T09:00"}) { task { id } } }'
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert not _contexts() - before


def _contexts() -> set[int]:
    gc.collect()
    return {id(item) for item in gc.get_objects() if isinstance(item, GatewayContext)}
