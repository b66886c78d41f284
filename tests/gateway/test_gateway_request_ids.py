"""Every response names the correlation id its request ran under: the client's, if valid."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.support.gateway.gateway_harness import GatewayClient, make_config, running_client

NEW_ID = re.compile(r"[0-9a-f]{32}")
QUERY = {"query": "{ __typename }"}


async def test_a_valid_request_id_is_kept_and_returned(app_client: GatewayClient) -> None:
    response = await app_client.http.post(
        "/graphql", json=QUERY, headers={"X-Request-Id": "req-2f1c:7"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-2f1c:7"


@pytest.mark.parametrize("sent", [None, "x" * 129, "two words", "<script>", "a/b"])
async def test_a_missing_or_invalid_request_id_is_replaced(
    app_client: GatewayClient, sent: str | None
) -> None:
    headers = {} if sent is None else {"X-Request-Id": sent}
    first = await app_client.http.post("/graphql", json=QUERY, headers=headers)
    second = await app_client.http.post("/graphql", json=QUERY, headers=headers)
    assert NEW_ID.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]  # one per request


async def test_every_route_returns_one_and_browsers_may_send_and_read_it() -> None:
    config = replace(make_config(), allowed_origins=("http://localhost:3000",))
    async with running_client(config) as client:
        health = await client.http.get("/healthz")
        assert NEW_ID.fullmatch(health.headers["x-request-id"])
        preflight = await client.http.options(
            "/graphql",
            headers={
                "Origin": "http://localhost:3000",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-request-id",
            },
        )
        assert preflight.status_code == 200
        answer = await client.http.post(
            "/graphql",
            json=QUERY,
            headers={"Origin": "http://localhost:3000", "X-Request-Id": "from-the-browser"},
        )
        assert answer.headers["x-request-id"] == "from-the-browser"
        assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
