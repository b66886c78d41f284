"""Real JavaScript clients against the served gateway: the GraphQL-over-HTTP audit, Apollo Client."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import jwt
import pytest

from tests.support.gateway.gateway_harness import (
    JWT_SECRET,
    make_config,
    new_user,
    serving,
    token_for,
)
from tests.support.infra import RunningTasks
from tests.support.node_tools import npm_ci, run_node

# It starts the platform's own processes (or real JavaScript clients) itself.
pytestmark = pytest.mark.integration

CLIENTS = Path(__file__).parent.parent / "clients"
# Audits in the pinned graphql-http (tests/clients/package.json); fewer would mean some did not run.
AUDITS = 61


@pytest.fixture(scope="session")
def clients() -> Path:
    """tests/clients with its npm packages installed (once per session, shared by xdist workers)."""
    npm_ci(CLIENTS)
    return CLIENTS


async def run_client(script: Path, *args: str) -> object:
    """Runs a client script against a fresh gateway (no service behind it), signed in; its JSON."""
    async with serving(make_config()) as ws_url:
        output = await run_node(
            script,
            ws_url.replace("ws://", "http://"),
            *args,
            env={"GRAPHQL_AUTHORIZATION": f"Bearer {token_for(new_user())}"},
        )
    return json.loads(output)


async def test_the_graphql_over_http_audit_passes_without_warnings(clients: Path) -> None:
    results = await run_client(clients / "audit_server.mjs")
    assert isinstance(results, list)
    failed = [result for result in results if result["status"] in {"warn", "error"}]
    assert failed == []
    assert Counter(result["status"] for result in results) == {"ok": AUDITS}


@pytest.mark.parametrize(
    ("args", "not_found_status"),
    [
        (["get"], 400),  # Apollo Client 4 accepts application/graphql-response+json
        (["post"], 400),
        (["get", "*/*"], 200),  # as Apollo Client 3 did: legacy JSON, 200 with the error
    ],
    ids=["get", "post", "get-legacy-accept"],
)
async def test_apollo_clients_persisted_queries_link_registers_then_sends_hashes(
    clients: Path, args: list[str], not_found_status: int
) -> None:

    run = await run_client(clients / "apollo_persisted_queries.mjs", *args)
    assert isinstance(run, dict)
    assert run["data"] == [{"__type": {"__typename": "__Type", "name": "Task"}}] * 2
    hashed = "GET" if args[0] == "get" else "POST"
    assert run["requests"] == [
        {"method": hashed, "sentQuery": False, "status": not_found_status},  # unknown hash
        {"method": "POST", "sentQuery": True, "status": 200},  # the retry registers it
        {"method": hashed, "sentQuery": False, "status": 200},  # from now on, the hash alone
    ]


@pytest.mark.parametrize(
    ("accept", "seen"),
    [(None, "UNAUTHENTICATED"), ("application/json", "status 401")],
    ids=["graphql-response+json", "legacy-json"],
)
async def test_apollo_clients_error_link_refreshes_a_refused_token_on_401(
    clients: Path, tasks_service: RunningTasks, accept: str | None, seen: str
) -> None:
    """The usual token-refresh recipe: a stale token gets 401 with a Bearer challenge and a
    GraphQL error, under either media type, and the retry with a fresh token succeeds."""
    user = new_user()
    stale = jwt.encode({"sub": user, "exp": int(time.time()) - 5}, JWT_SECRET, algorithm="HS256")
    config = make_config(tasks_service.address, internal_secret=tasks_service.secret)
    async with serving(config) as ws_url:
        output = await run_node(
            clients / "apollo_token_refresh.mjs",
            ws_url.replace("ws://", "http://"),
            stale,
            token_for(user),
            *([accept] if accept else []),
        )
    run = json.loads(output)
    assert run["requests"] == [
        {
            "status": 401,
            "authorization": "stale",
            "wwwAuthenticate": 'Bearer error="invalid_token", error_description="token expired"',
        },
        {"status": 200, "authorization": "fresh", "wwwAuthenticate": None},
    ]
    assert run["seen"] == [seen]
    assert (run["data"], run["error"]) == (
        {"tasks": {"__typename": "TaskConnection", "totalCount": 0}},
        None,
    )
