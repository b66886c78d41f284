"""Query cost from the shape, the per-operation limit, and the per-user bucket shared by replicas."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from hypothesis import given
from hypothesis import strategies as st

from gateway.limits.cost import shown_wait
from gateway.limits.query_cost import operation_cost
from gateway.schema import build_schema
from tests.support.gateway.gateway_harness import (
    GatewayClient,
    make_config,
    new_user,
    running_client,
)
from todo_runtime.config import DatabaseConfig

SCHEMA = build_schema()._schema


def cost(document: str, variables: dict[str, Any] | None = None) -> int:
    parsed = parse(document)
    [operation] = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operation_cost(SCHEMA, operation, fragments, variables or {})


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        ("{ __typename }", None, 0),
        ("{ tasks { totalCount } }", None, 1),
        ("{ tasks(first: 50) { edges { node { id reminders { id } } } } }", None, 601),
        ("query($n: Int) { tasks(first: $n) { edges { node { id } } } }", {"n": 200}, 401),
        ("{ tasks(last: 3) { edges { cursor } pageInfo { hasNextPage } } }", None, 5),
        ('{ nodes(ids: ["a", "b"]) { id ... on Task { reminders { id } } } }', None, 22),
        ("{ ...F } fragment F on Query { tasks(first: 2) { edges { node { id } } } }", None, 5),
        ('{ task(id: "x") { recurrence { rule } } }', None, 2),
        ('mutation { createTask(input: {title: "x"}) { task { id } } }', None, 12),
        # A refusal's user errors are in the mutation's price.
        ('mutation { createTask(input: {title: "x"}) { userErrors { field code } } }', None, 11),
        (
            'mutation { a: deleteTask(input: {id: "x"}) { deletedTaskId } '
            'b: deleteTask(input: {id: "y"}) { deletedTaskId } }',
            None,
            22,
        ),
    ],
)
def test_cost_counts_the_objects_a_response_can_hold(
    document: str, variables: dict[str, Any] | None, expected: int
) -> None:
    assert cost(document, variables) == expected


PROOFS = """query($n: Int!) { auditLog(first: 2) { edges { node {
  inclusionProof(treeSize: $n) { hashes } } } } }"""


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        # The entries it may check, at most 4000, on top of the objects.
        ("{ verifyAuditLog { ok } }", None, 1 + 4000),
        ("{ verifyAuditLog { ok checkpoint { treeSize } } }", None, 2 + 4000),
        ("{ a: verifyAuditLog { ok } b: verifyAuditLog { ok } }", None, 2 * 4001),
        # A proof costs the hashes it can hold: ceil(log2(treeSize)), 31 when unknown.
        (PROOFS, {"n": 1024}, 1 + 2 * (1 + 1 + 1 + 10)),
        (PROOFS, {"n": 1025}, 1 + 2 * (1 + 1 + 1 + 11)),
        (PROOFS, {"n": 1}, 1 + 2 * (1 + 1 + 1)),
        (PROOFS, {}, 1 + 2 * (1 + 1 + 1 + 31)),
        (
            "{ auditTree { consistencyProof(fromTreeSize: 3, toTreeSize: 1000) { hashes } } }",
            None,
            22,
        ),
        (
            "{ auditTree { keyRotations(first: 2) { edges { node { inclusionProof { hashes } } } } } }",
            None,
            70,
        ),
        # A search word is compared with up to 10 similar words of yours.
        ('{ tasks(first: 1, filter: {search: "buy milk, eggs"}) { totalCount } }', None, 31),
        (
            "query($f: TaskFilter) { tasks(first: 1, filter: $f) { totalCount } }",
            {"f": {"search": "x"}},
            11,
        ),
        ("query($f: TaskFilter) { tasks(first: 1, filter: $f) { totalCount } }", {"f": ["x"]}, 1),
    ],
)
def test_fields_that_do_more_than_they_return_cost_their_work(
    document: str, variables: dict[str, Any] | None, expected: int
) -> None:
    assert cost(document, variables) == expected


@pytest.mark.parametrize(
    ("wait", "shown"),
    [(0.0, 0.1), (1e-9, 0.1), (0.1, 0.1), (0.10000001, 0.2), (0.31, 0.4), (7.0, 7.0), (7.01, 7.1)],
)
def test_a_wait_is_shown_rounded_up_to_a_tenth(wait: float, shown: float) -> None:
    assert shown_wait(wait) == shown


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_a_wait_shown_is_never_shorter_nor_zero(wait: float) -> None:
    shown = shown_wait(wait)
    assert shown >= wait
    assert shown >= 0.1
    assert shown <= wait + 0.1 + 1e-9 * max(1.0, wait)  # rounded up by at most a step


async def test_an_operation_over_the_limit_is_refused_before_it_runs() -> None:
    async with running_client(make_config(max_cost=150, rate_points=1000)) as client:
        body = await client.execute("{ tasks(first: 100) { edges { node { id } } } }")
    [error] = body["errors"]
    # Refused by cost: no service runs behind this gateway, so a run would be UNAVAILABLE.
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "cost": 201, "maxCost": 150}
    assert "201" in error["message"]
    assert "150" in error["message"]


async def test_answers_report_their_cost_and_the_bucket(database_url: str) -> None:
    config = make_config(database=DatabaseConfig(database_url, 1, 2), rate_points=100, max_cost=100)
    async with running_client(config) as client:
        body = await client.execute("{ __typename tasks { totalCount } }")
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": 1,
        "actualQueryCost": 1,
        "maximumCost": 100,
        "throttleStatus": {
            "maximumAvailable": 100,
            "currentlyAvailable": 99.0,
            "restoreRate": 500.0,
        },
    }


async def test_a_user_over_budget_is_rate_limited_across_replicas(database_url: str) -> None:
    database = DatabaseConfig(database_url, 1, 2)
    config = make_config(database=database, rate_points=27, max_cost=27, rate_restore=1.0)
    mutation = 'mutation { createTask(input: {title: "x"}) { task { id } } }'  # costs 12
    async with running_client(config) as one, running_client(config) as other:
        user = new_user()
        first = await one.execute(mutation, user=user)
        second = await other.execute(mutation, user=user)  # the other replica, the same bucket
        third = await one.execute(mutation, user=user)
        someone_else = await other.execute(mutation, user=new_user())
    codes = [
        [e["extensions"]["code"] for e in body.get("errors", [])]
        for body in (first, second, third, someone_else)
    ]
    # The first two ran (and failed for want of svc_tasks); the third is over the bucket.
    assert codes == [["UNAVAILABLE"], ["UNAVAILABLE"], ["RATE_LIMITED"], ["UNAVAILABLE"]]
    [limited] = third["errors"]
    # 24 points used of 27, draining 1 a second: 12 more fit in about 9 s.
    wait = limited["extensions"]["retryAfter"]
    assert 7.0 <= wait <= 9.0
    assert f"retry in {wait} s" in limited["message"]
    assert third["extensions"]["cost"]["actualQueryCost"] is None  # it did not run
    assert third["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 12


async def test_callers_without_a_token_share_one_bucket(database_url: str) -> None:
    """They may ask only for public fields (parseRecurrence); what they ask costs them all."""
    database = DatabaseConfig(database_url, 1, 2)
    config = make_config(database=database, rate_points=2, max_cost=2, rate_restore=0.01)
    preview = '{ parseRecurrence(text: "daily") { rule } }'  # costs 1
    async with running_client(config) as client:
        answers = [
            (await client.http.post("/graphql", json={"query": preview})).json() for _ in range(3)
        ]
        signed_in = await client.execute(preview)
    available = [a["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] for a in answers]
    assert available[:2] == [1.0, 0.0]  # one bucket, drained by every caller without a token
    assert [e["extensions"]["code"] for e in answers[2]["errors"]] == ["RATE_LIMITED"]
    assert signed_in["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1.0


async def test_without_a_database_there_is_no_bucket(app_client: GatewayClient) -> None:
    body = await app_client.execute("{ tasks { totalCount } }")
    assert "throttleStatus" not in body["extensions"]["cost"]


async def test_what_a_field_did_not_use_is_given_back(database_url: str) -> None:
    """verifyAuditLog is charged at the most it may check; with no svc_audit to ask, it checked
    nothing, and the bucket gets all of that back."""
    config = make_config(database=DatabaseConfig(database_url, 1, 2), rate_restore=0.001)
    async with running_client(config) as client:
        body = await client.execute("{ verifyAuditLog { ok } }")
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAVAILABLE"]
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 4001
    assert cost["actualQueryCost"] == 1
    assert 9998.9 <= cost["throttleStatus"]["currentlyAvailable"] <= 9999.0
