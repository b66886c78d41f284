"""GraphQL over HTTP: media-type negotiation, status codes and GET, over a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gateway.transport.http_protocol import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    request_error_status,
    response_media_type,
)
from tests.support.gateway.served_http import served_http

MODERN = "application/graphql-response+json"
# What Apollo Client 4 and the draft's examples send.
APOLLO = "application/graphql-response+json,application/json;q=0.9"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("text/html", JSON),  # neither accepted: the header is disregarded, not 406
        (MODERN, GRAPHQL_RESPONSE_JSON),
        (APOLLO, GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0.5, application/json", JSON),
        ("application/json;q=0.5, */*", GRAPHQL_RESPONSE_JSON),
        ("application/json;q=0, */*;q=0.1", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=0", JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json;q=nan, application/json;q=0.1", JSON),
        ("application/graphql-response+json;q=2, application/json;q=0.1", JSON),
    ],
)
def test_the_media_type_follows_the_accept_header(accept: str | None, media_type: str) -> None:
    assert response_media_type(accept) == media_type


def test_a_request_error_is_400_and_our_fault_before_execution_is_500() -> None:
    parse = GraphQLError("Syntax Error", extensions={"code": "BAD_USER_INPUT"})
    internal = GraphQLError("Internal server error.", extensions={"code": "INTERNAL"})
    field = GraphQLError("down", path=["tasks"], extensions={"code": "UNAVAILABLE"})
    assert request_error_status(ExecutionResult(data=None, errors=[parse])) == 400
    assert request_error_status(ExecutionResult(data=None, errors=[internal])) == 500
    assert request_error_status(ExecutionResult(data=None, errors=[field])) is None
    assert request_error_status(ExecutionResult(data={"a": 1}, errors=None)) is None


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway served on a real port (no service behind it), signed in."""
    async with served_http() as client:
        yield client


async def post(http: httpx.AsyncClient, accept: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/graphql", json=body, headers={"Accept": accept})


REQUEST_ERRORS: dict[str, tuple[dict[str, Any], str]] = {
    "parse": ({"query": "{"}, "Syntax Error"),
    "validation": ({"query": "{ noSuchField }"}, "Cannot query field 'noSuchField'"),
    "variable coercion": (
        {"query": "query($n: Int) { tasks(first: $n) { totalCount } }", "variables": {"n": "x"}},
        "Variable '$n' has invalid value: Int cannot represent non-integer value",
    ),
    "missing variable": (
        {"query": "query($id: ID!) { task(id: $id) { id } }", "variables": {}},
        "Variable '$id' has invalid value: Expected a value of non-null type 'ID!'",
    ),
}


@pytest.mark.parametrize("case", REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_for_graphql_response_json(
    http: httpx.AsyncClient, case: str
) -> None:
    body, message = REQUEST_ERRORS[case]
    response = await post(http, APOLLO, body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    answer = response.json()
    assert "data" not in answer
    [error] = answer["errors"]
    assert message in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("case", REQUEST_ERRORS)
async def test_request_errors_stay_200_with_null_data_for_json(
    http: httpx.AsyncClient, case: str
) -> None:
    body, message = REQUEST_ERRORS[case]
    for accept in ("application/json", "*/*"):
        response = await post(http, accept, body)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        answer = response.json()
        assert answer["data"] is None
        assert message in answer["errors"][0]["message"]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [(APOLLO, "application/graphql-response+json; charset=utf-8"), (JSON, "application/json")],
)
async def test_success_and_field_errors_are_200_in_both_media_types(
    http: httpx.AsyncClient, accept: str, content_type: str
) -> None:
    fine = await post(http, accept, {"query": "{ __typename }"})
    assert (fine.status_code, fine.headers["content-type"]) == (200, content_type)
    assert fine.json() == {"data": {"__typename": "Query"}}
    # Execution began: a field error (no service behind the gateway) keeps `data`, null, and 200.
    field_error = await post(http, accept, {"query": "{ tasks { totalCount } }"})
    assert (field_error.status_code, field_error.headers["content-type"]) == (200, content_type)
    answer = field_error.json()
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"] == {"code": "UNAVAILABLE"}


async def test_a_request_without_accept_is_answered_in_json(http: httpx.AsyncClient) -> None:
    request = http.build_request("POST", "/graphql", json={"query": "{"})
    del request.headers["accept"]
    response = await http.send(request)
    assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
    assert response.json()["data"] is None


@pytest.mark.parametrize("accept", [APOLLO, JSON])
async def test_queries_run_over_get_and_mutations_are_405(
    http: httpx.AsyncClient, accept: str
) -> None:
    query = await http.get(
        "/graphql",
        params={
            "query": "query($name: String!) { __type(name: $name) { name } }",
            "variables": '{"name": "Task"}',
        },
        headers={"Accept": accept},
    )
    assert query.status_code == 200
    assert query.json() == {"data": {"__type": {"name": "Task"}}}
    mutation = await http.get(
        "/graphql",
        params={"query": 'mutation { deleteTask(input: {id: "t"}) { deletedTaskId } }'},
        headers={"Accept": accept},
    )
    assert (mutation.status_code, mutation.headers["allow"]) == (405, "POST")
    answer = mutation.json()
    assert answer["errors"] == [
        {
            "message": "mutations are not allowed when using GET",
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]
    assert ("data" in answer) is (accept == JSON)


async def test_graphiql_is_still_served_to_a_browser(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
