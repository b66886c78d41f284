"""The HTTP surface with no service behind it: probes, GraphiQL, authentication, limits, masking."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from prometheus_client import REGISTRY

from gateway.app import create_app
from tests.support.gateway.gateway_harness import (
    JWT_SECRET,
    OTHER_SECRET,
    GatewayClient,
    graphql_view,
    make_config,
    running_client,
    serving,
    token_for,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
QUERY = "{ tasks { totalCount } }"
MUTATION = 'mutation { createTask(input: {title: "x"}) { task { id } } }'
EXPIRED = jwt.encode({"sub": "alice", "exp": int(time.time()) - 5}, JWT_SECRET, algorithm="HS256")


async def test_healthz_is_always_ok(app_client: GatewayClient) -> None:
    response = await app_client.http.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


async def test_readyz_is_the_gateways_own_a_missing_service_is_said_per_request(
    app_client: GatewayClient,
) -> None:
    started = time.monotonic()
    response = await app_client.http.get("/readyz")
    assert (response.status_code, response.text) == (200, "ready")  # no cascade through svc_tasks
    assert time.monotonic() - started < 3
    body = await app_client.execute(QUERY)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAVAILABLE"]


async def test_graphiql_loads_in_a_browser_without_a_token(app_client: GatewayClient) -> None:
    response = await app_client.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_introspection_needs_no_token(app_client: GatewayClient) -> None:
    body = await app_client.execute("{ __schema { queryType { name } } }", authorization="")
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
@pytest.mark.parametrize("document", [QUERY, MUTATION, "{ __typename }"])
@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (f"Bearer {EXPIRED}", "token expired"),
        (f"Bearer {token_for('alice', secret=OTHER_SECRET)}", "invalid token"),
        ("Bearer not.a.jwt", "invalid token"),
        (f"Token {token_for('alice')}", "malformed Authorization header"),
    ],
    ids=["expired", "wrong-signature", "garbage", "wrong-scheme"],
)
async def test_a_refused_token_is_401_with_a_bearer_challenge(
    app_client: GatewayClient, accept: str, document: str, authorization: str, message: str
) -> None:
    """RFC 6750: whatever the operation asks for, as token-refresh recipes expect."""
    response = await app_client.http.post(
        "/graphql",
        json={"query": document},
        headers={"Authorization": authorization, "Accept": accept},
    )
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert message in challenge
    body = response.json()
    assert body.keys() == {"errors"}  # nothing ran: no data, under either media type
    [error] = body["errors"]
    assert error.keys() == {"message", "extensions"}
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert message in error["message"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
@pytest.mark.parametrize(
    ("document", "operation"),
    [
        (QUERY, None),
        (MUTATION, None),
        ("query A { __typename } query B { tasks { totalCount } }", "B"),
        ("{ ... on Query { tasks { totalCount } } }", None),
        (
            '{ ...F } fragment F on Query { parseRecurrence(text: "daily") { rule } notifications { totalCount } }',
            None,
        ),
        (
            'mutation { __typename }  mutation M { deleteTask(input: {id: "x"}) { deletedTaskId } }',
            "M",
        ),
    ],
)
async def test_no_token_for_a_field_that_needs_a_user_is_401(
    app_client: GatewayClient, accept: str, document: str, operation: str | None
) -> None:
    response = await app_client.http.post(
        "/graphql",
        json={"query": document, "operationName": operation},
        headers={"Accept": accept},
    )
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "missing bearer token" in error["message"]
    assert "data" not in response.json()


@pytest.mark.parametrize(
    ("document", "operation"),
    [
        ("{ __schema { queryType { name } } }", None),
        ("{ __typename }", None),
        ("query A { __typename } query B { tasks { totalCount } }", "A"),
        ('{ parseRecurrence(text: "daily") { rule } }', None),
        ('{ ... on Query { p: parseRecurrence(text: "daily") { rule } } }', None),
        ("{ tasks {", None),  # its own error, not a 401
        ("query A { tasks { totalCount } } query B { __typename }", None),  # which one?
    ],
)
async def test_no_token_for_public_fields_or_a_bad_document_is_not_401(
    app_client: GatewayClient, document: str, operation: str | None
) -> None:
    response = await app_client.http.post(
        "/graphql",
        json={"query": document, "operationName": operation},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code in {200, 400}, response.text
    assert "www-authenticate" not in response.headers
    codes = [e["extensions"]["code"] for e in response.json().get("errors", [])]
    assert "UNAUTHENTICATED" not in codes


async def test_unreachable_service_is_unavailable_without_details(
    app_client: GatewayClient,
) -> None:
    for document in (QUERY, '{ parseRecurrence(text: "daily") { rule } }'):
        body = await app_client.execute(document)
        [error] = body["errors"]
        assert error == {
            "message": "A service is temporarily unavailable; retry shortly.",
            "locations": error["locations"],
            "path": error["path"],
            "extensions": {"code": "UNAVAILABLE"},
        }
        assert "127.0.0.1" not in str(body)


async def test_query_via_get_works_and_mutation_via_get_is_refused(
    app_client: GatewayClient,
) -> None:
    response = await app_client.http.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}
    refused = await app_client.http.get("/graphql", params={"query": MUTATION})
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
    [error] = refused.json()["errors"]
    assert error == {
        "message": "mutations are not allowed when using GET",
        "extensions": {"code": "BAD_USER_INPUT"},
    }


async def test_too_many_aliases_are_rejected(app_client: GatewayClient) -> None:
    fifteen = " ".join(f"a{i}: __typename" for i in range(15))
    assert await app_client.data(f"{{ {fifteen} }}")
    body = await app_client.execute(f"{{ {fifteen} a15: __typename }}")
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "16 aliases found. Allowed: 15" in error["message"]


async def test_too_many_tokens_are_rejected(app_client: GatewayClient) -> None:
    body = await app_client.execute("{ " + "__typename " * 2001 + "}")
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "more than 2000 tokens" in error["message"]


async def test_too_deep_queries_are_rejected() -> None:
    async with running_client(make_config(max_depth=3)) as client:
        body = await client.execute("{ tasks { edges { node { reminders { id } } } } }")
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "exceeds maximum operation depth of 3" in error["message"]


async def test_page_size_is_bounded(app_client: GatewayClient) -> None:
    for first in (0, -1, 201):
        body = await app_client.execute(
            "query($n: Int) { tasks(first: $n) { totalCount } }", {"n": first}
        )
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
        assert error["message"] == f"first: must be between 1 and 200, got {first}"


async def test_preview_count_is_bounded(app_client: GatewayClient) -> None:
    body = await app_client.execute('{ parseRecurrence(text: "daily", count: 101) { rule } }')
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "count"}


async def test_datetime_without_offset_is_bad_input_before_any_call(
    app_client: GatewayClient,
) -> None:
    body = await app_client.execute(
        "mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } } }",
        {"input": {"title": "x", "dueAt": "2026-03-01T09:00:00"}},
    )
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "dueAt" in error["message"]
    assert "no UTC offset" in error["message"]
    literal = await app_client.execute(
        'mutation { createTask(input: {title: "x", dueAt: "2026-03-01T09:00"}) { task { id } } }'
    )
    assert literal["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_a_contradictory_update_is_refused_before_any_call(
    app_client: GatewayClient,
) -> None:
    body = await app_client.execute(
        'mutation { updateTask(input: {id: "t", dueAt: "2026-03-01T09:00:00Z", clearDueAt: true}) '
        "{ task { id } userErrors { field message code } } }"
    )
    assert body["data"]["updateTask"] == {
        "task": None,
        "userErrors": [
            {
                "field": ["input", "clearDueAt"],
                "message": "cannot be true together with dueAt",
                "code": "INVALID",
            }
        ],
    }
    labels = {"mutation": "updateTask", "code": "INVALID"}
    counted = REGISTRY.get_sample_value("todo_graphql_user_errors_total", labels) or 0.0
    empty = await app_client.execute(
        'mutation { updateTask(input: {id: "t"}) { userErrors { field code } } }'
    )
    assert empty["data"]["updateTask"]["userErrors"] == [{"field": ["input"], "code": "INVALID"}]
    # Counted for operators, by mutation and code.
    assert REGISTRY.get_sample_value("todo_graphql_user_errors_total", labels) == counted + 1


async def test_oversized_bodies_are_refused(app_client: GatewayClient) -> None:
    response = await app_client.http.post(
        "/graphql",
        content=b'{"query": "' + b" " * (1024 * 1024) + b'{ __typename }"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_cors_allows_only_configured_origins() -> None:
    async with running_client(make_config(allowed_origins=("http://localhost:3000",))) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        allowed = await client.http.options(
            "/graphql", headers={"Origin": "http://localhost:3000", **preflight}
        )
        refused = await client.http.options(
            "/graphql", headers={"Origin": "https://evil.example", **preflight}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"query": "\xff\xfe"}', "not valid UTF-8"),
        (b'"just a string"', "must be a JSON object"),
        (b"42", "must be a JSON object"),
        (b'{"query": "{ __typename }", "variables": ' + b'{"a":' * 40 + b"1" + b"}" * 41, "nested"),
        (b'{"query": "{ __typename }", "variables": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested"),
        (b'{"query":', "Unable to parse"),
    ],
)
async def test_malformed_bodies_are_400_and_the_connection_stays_usable(
    body: bytes, message: str
) -> None:
    async with serving(make_config()) as ws_url:
        base = ws_url.replace("ws://", "http://")
        async with httpx.AsyncClient(timeout=10) as http:  # one keep-alive connection
            refused = await http.post(
                base, content=body, headers={"content-type": "application/json"}
            )
            assert refused.status_code == 400
            assert message in refused.text
            fine = await http.post(base, json={"query": "{ __typename }"})
            assert fine.json() == {"data": {"__typename": "Query"}}


async def test_several_operations_need_an_operation_name(app_client: GatewayClient) -> None:
    document = "query A { __typename } query B { __typename }"
    body = await app_client.execute(document)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "operationName" in error["message"]
    named = await app_client.http.post(
        "/graphql",
        json={"query": document, "operationName": "B"},
        headers={"Authorization": f"Bearer {token_for('alice')}"},
    )
    assert named.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("variables", "path"),
    [
        ({"input": {"title": "a\x00b"}}, "variables.input.title"),
        ({"input": {"title": "ok", "tags": ["fine", "\ud800"]}}, "variables.input.tags[1]"),
    ],
)
async def test_unstorable_text_is_refused_before_any_call(
    app_client: GatewayClient, variables: dict[str, object], path: str
) -> None:
    query = "mutation($input: CreateTaskInput!) { createTask(input: $input) { task { id } } }"
    response = await app_client.http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}).encode(),
        headers={
            "content-type": "application/json",
            "Authorization": f"Bearer {token_for('alice')}",
        },
    )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith(path)


async def test_an_unknown_operation_name_with_a_lone_surrogate_is_400(
    app_client: GatewayClient,
) -> None:
    response = await app_client.http.post(
        "/graphql",
        content=json.dumps({"query": "query A { __typename }", "operationName": "\ud800"}).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.text == 'Unknown operation named "\\ud800".'


def test_what_orjson_refuses_to_encode_the_standard_encoder_does() -> None:
    view = graphql_view(create_app(make_config()))
    assert (
        view.encode_json({"a": "\ud800", "b": [1, 2**70]}) == b'{"a":"\\ud800","b":[1,%d]}' % 2**70
    )
    assert view.encode_json({"a": "é"}) == '{"a":"é"}'.encode()


@pytest.mark.parametrize(
    "instant",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z"],
)
async def test_instants_out_of_range_are_bad_input(app_client: GatewayClient, instant: str) -> None:
    body = await app_client.execute(
        'mutation($d: DateTime) { createTask(input: {title: "x", dueAt: $d}) { task { id } } }',
        {"d": instant},
    )
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "1970-01-01" in error["message"]
