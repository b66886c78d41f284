"""Real JavaScript clients against the served gateway: the GraphQL-over-HTTP audit, Apollo Client."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.support.gateway.gateway_harness import make_config, new_user, serving, token_for
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
