"""Real JavaScript clients against the served gateway: the GraphQL-over-HTTP audit, Apollo Client."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.support.gateway.gateway_harness import (
    GET,
    JWT_SECRET,
    LIST,
    GatewayClient,
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


def user_errors(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    """A payload's userErrors as (field, code) pairs, in field order."""
    errors = payload["userErrors"]
    assert all(error["__typename"] == "UserError" and error["message"] for error in errors)
    return sorted(((error["field"], error["code"]) for error in errors), key=str)


async def test_apollo_client_gets_a_forms_refusals_as_data_and_keeps_what_succeeded(
    clients: Path, tasks_service: RunningTasks, gateway_client: GatewayClient
) -> None:
    """Refused input is data, bound to the input's fields: Apollo Client's result has no error
    (its default errorPolicy would reject on any), and in a document of several mutations the
    one refused leaves the others' results and their cached objects whole."""
    config = make_config(tasks_service.address, internal_secret=tasks_service.secret)
    async with serving(config) as ws_url:
        output = await run_node(
            clients / "apollo_mutation_forms.mjs",
            ws_url.replace("ws://", "http://"),
            env={"GRAPHQL_AUTHORIZATION": f"Bearer {token_for(gateway_client.user)}"},
        )
    run = json.loads(output)

    refused = run["refused"]
    assert refused["error"] is None
    payload = refused["data"]["createTask"]
    assert (payload["clientMutationId"], payload["task"]) == ("form-1", None)
    assert user_errors(payload) == [
        (["input", "recurrence"], "INVALID"),
        (["input", "tags", "1"], "INVALID"),
        (["input", "title"], "INVALID"),
    ]
    form = refused["form"]  # forms/task_form.ts: a message under each wrong field
    assert (form["kind"], sorted(form["fields"]), form["form"]) == (
        "refused",
        ["recurrence", "tags", "title"],
        [],
    )
    assert form["fields"]["tags"].startswith("1: ")
    assert refused["cachedTasks"] == []

    deleted = run["deleted"]
    assert deleted["error"] is None
    assert deleted["data"]["deleteTask"] == {
        "__typename": "DeleteTaskPayload",
        "deletedTaskId": deleted["id"],
        "userErrors": [],
    }
    assert deleted["cachedTasks"] == []  # evicted by the mutation's update hook

    both = run["addAndRename"]
    assert both["error"] is None
    added, renamed = both["data"]["added"], both["data"]["renamed"]
    assert (added["clientMutationId"], added["userErrors"]) == ("add-1", [])
    task = added["task"]
    assert (task["title"], task["status"], task["version"]) == ("apollo added", "OPEN", 1)
    assert (renamed["clientMutationId"], renamed["task"]) == ("rename-1", None)
    assert user_errors(renamed) == [(["input", "id"], "NOT_FOUND")]
    assert both["cached"] == task  # the successful mutation's task, normalized
    assert both["cachedTasks"] == [f"Task:{task['id']}"]

    complete_and_retitle = run["completeAndRetitle"]
    assert complete_and_retitle["error"] is None
    completed = complete_and_retitle["data"]["completeTask"]
    assert completed["userErrors"] == []
    assert (completed["task"]["status"], completed["task"]["version"]) == ("COMPLETED", 2)
    retitled = complete_and_retitle["data"]["updateTask"]
    assert retitled["task"] is None
    assert user_errors(retitled) == [
        (["input", "tags", "1"], "INVALID"),
        (["input", "title"], "INVALID"),
    ]
    assert complete_and_retitle["cached"] == {
        **task,
        "status": "COMPLETED",
        "version": 2,
    }  # completed; the refused retitle changed nothing

    assert run["requests"] == [  # refusals are data: no top-level error in any response
        {"operationName": name, "status": 200, "errors": None}
        for name in ["CreateTask", "CreateTask", "DeleteTask", "AddAndRename", "CompleteAndRetitle"]
    ]
    stored = (await gateway_client.data(GET, {"id": task["id"]}))["task"]
    assert (stored["title"], stored["status"], stored["tags"]) == (
        "apollo added",
        "COMPLETED",
        ["apollo"],
    )
    assert (await gateway_client.data(LIST, {}))["tasks"]["totalCount"] == 1
