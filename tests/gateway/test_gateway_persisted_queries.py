"""Automatic persisted queries: the store's rules, and the protocol over POST and GET."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gateway.errors import GatewayError
from gateway.limits.persisted_queries import PersistedQueries, requested_hash
from tests.support.gateway.served_http import served_http

QUERY = "query($name: String!) { __type(name: $name) { name } }"
VARIABLES = {"name": "Task"}
DATA = {"__type": {"name": "Task"}}
NOT_FOUND = {
    "message": "PersistedQueryNotFound",
    "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
}
APOLLO = "application/graphql-response+json,application/json;q=0.9"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(sha256_hash: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash}}


def request(query: str | None, sha256_hash: str | None = None) -> GraphQLRequestData:
    """An APQ request: `query` with its own hash (or `sha256_hash`), or the hash alone."""
    extensions = persisted(sha256_hash or sha256(query or ""))
    return GraphQLRequestData(
        query=query, variables=None, operation_name=None, extensions=extensions
    )


async def ran(data: GraphQLRequestData) -> ExecutionResult:
    """Stands in for the view: "ran" the document it was given."""
    return ExecutionResult(data={"ran": data.query}, errors=None)


async def refused(data: GraphQLRequestData) -> ExecutionResult:
    """Stands in for the view when the document fails to parse or validate."""
    return PreExecutionError(data=None, errors=[GatewayError("BAD_USER_INPUT", "invalid")])


@pytest.mark.parametrize(
    ("extensions", "expected"),
    [
        (None, None),
        ({}, None),
        ({"some": "value"}, None),
        ({"persistedQuery": None}, None),
        (persisted("abc"), "abc"),
    ],
)
def test_the_hash_comes_from_the_persisted_query_extension(
    extensions: dict[str, Any] | None, expected: str | None
) -> None:
    assert requested_hash(extensions) == expected


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (persisted("abc", version=2), "Unsupported persisted query version 2"),
        (persisted("abc", version=True), "Unsupported persisted query version True"),
        (persisted("abc", version="1"), "Unsupported persisted query version '1'"),
        ({"persistedQuery": {"version": 1}}, "sha256Hash must be a string"),
        ({"persistedQuery": "abc"}, "persistedQuery must be an object"),
    ],
)
def test_a_malformed_persisted_query_extension_is_bad_input(
    extensions: dict[str, Any], message: str
) -> None:
    with pytest.raises(GatewayError) as caught:
        requested_hash(extensions)
    assert caught.value.extensions == {"code": "BAD_USER_INPUT"}
    assert message in caught.value.message


async def test_the_store_forgets_the_least_recently_used_document_first() -> None:
    store = PersistedQueries(max_documents=2)
    for query in ("{ a }", "{ b }"):
        await store.execute(request(query), ran)
    assert (await store.execute(request(None, sha256("{ a }")), ran)).data == {"ran": "{ a }"}
    await store.execute(request("{ c }"), ran)
    assert len(store) == 2
    assert sha256("{ b }") not in store
    assert sha256("{ a }") in store
    assert sha256("{ c }") in store
    evicted = await store.execute(request(None, sha256("{ b }")), ran)
    assert evicted.errors is not None
    assert evicted.errors[0].extensions == {"code": "PERSISTED_QUERY_NOT_FOUND"}


async def test_the_store_keeps_neither_oversized_nor_invalid_documents() -> None:
    store = PersistedQueries(max_document_bytes=10)
    longer = "{ __typename }"
    assert (await store.execute(request(longer), ran)).data == {"ran": longer}
    await store.execute(request("{ bad }"), refused)
    assert len(store) == 0


async def test_a_document_is_sent_to_the_view_only_when_its_hash_matches() -> None:
    store = PersistedQueries()
    result = await store.execute(request("{ a }", sha256("{ b }")), ran)
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].formatted == {
        "message": "provided sha does not match query",
        "extensions": {"code": "BAD_USER_INPUT"},
    }
    assert len(store) == 0


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway served on a real port (no service behind it), signed in."""
    async with served_http() as client:
        yield client


async def post(
    http: httpx.AsyncClient, sha256_hash: str, query: str | None = None, accept: str = "*/*"
) -> httpx.Response:
    body: dict[str, Any] = {"variables": VARIABLES, "extensions": persisted(sha256_hash)}
    if query is not None:
        body["query"] = query
    return await http.post("/graphql", json=body, headers={"Accept": accept})


async def get(
    http: httpx.AsyncClient, sha256_hash: str, query: str | None = None, accept: str = "*/*"
) -> httpx.Response:
    """The GET Apollo Client sends with `useGETForHashedQueries` (Accept: */* in version 3)."""
    params = {"variables": json.dumps(VARIABLES), "extensions": json.dumps(persisted(sha256_hash))}
    if query is not None:
        params["query"] = query
    return await http.get("/graphql", params=params, headers={"Accept": accept})


async def test_an_unknown_hash_is_persisted_query_not_found(http: httpx.AsyncClient) -> None:
    for response in (await post(http, sha256(QUERY)), await get(http, sha256(QUERY))):
        assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
        assert response.json() == {"data": None, "errors": [NOT_FOUND]}
    modern = await post(http, sha256(QUERY), accept=APOLLO)
    assert modern.status_code == 400
    assert modern.json() == {"errors": [NOT_FOUND]}


async def test_a_query_sent_with_its_hash_is_then_served_by_hash_alone(
    http: httpx.AsyncClient,
) -> None:
    registered = await post(http, sha256(QUERY), QUERY)
    assert registered.json() == {"data": DATA}
    for response in (
        await post(http, sha256(QUERY)),
        await get(http, sha256(QUERY)),
        await post(http, sha256(QUERY), accept=APOLLO),
    ):
        assert response.status_code == 200
        assert response.json() == {"data": DATA}


async def test_a_query_registered_over_get_is_served_by_hash(http: httpx.AsyncClient) -> None:
    assert (await get(http, sha256(QUERY), QUERY)).json() == {"data": DATA}
    assert (await get(http, sha256(QUERY))).json() == {"data": DATA}


async def test_a_wrong_hash_is_refused_and_nothing_is_kept(http: httpx.AsyncClient) -> None:
    other = sha256("{ __typename }")
    refused = await post(http, other, QUERY)
    assert refused.json() == {
        "data": None,
        "errors": [
            {
                "message": "provided sha does not match query",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
    }
    for sha256_hash in (other, sha256(QUERY)):
        assert (await post(http, sha256_hash)).json()["errors"] == [NOT_FOUND]


async def test_an_unsupported_version_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": QUERY, "variables": VARIABLES, "extensions": persisted("x", 2)}
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith("Unsupported persisted query version 2")


async def test_a_document_that_fails_validation_is_not_kept(http: httpx.AsyncClient) -> None:
    invalid = "{ noSuchField }"
    response = await post(http, sha256(invalid), invalid, accept=APOLLO)
    assert response.status_code == 400
    assert "noSuchField" in response.json()["errors"][0]["message"]
    assert (await post(http, sha256(invalid))).json()["errors"] == [NOT_FOUND]


async def test_a_persisted_mutation_is_still_refused_over_get(http: httpx.AsyncClient) -> None:
    mutation = 'mutation { deleteTask(input: {id: "t"}) { userErrors { code } } }'
    kept = await post(http, sha256(mutation), mutation)
    # It ran ("t" is no task id), so it was kept.
    assert kept.json()["data"] == {"deleteTask": {"userErrors": [{"code": "NOT_FOUND"}]}}
    refused = await get(http, sha256(mutation))
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
