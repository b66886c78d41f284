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
    rate_limiter,
    running_client,
)
from tests.support.infra import PostgresProxy
from todo_runtime.config import DatabaseConfig
from todo_runtime.failures import is_transient

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


async def _settle(*clients: GatewayClient) -> None:
    """Settles each replica's buckets with the shared ones, in this order (each also does so by
    itself every TODO_RATE_LIMIT_SETTLE_SECONDS)."""
    for client in clients:
        await rate_limiter(client.app).settle()


async def test_a_user_over_budget_is_rate_limited_across_replicas(database_url: str) -> None:
    database = DatabaseConfig(database_url, 1, 2)
    config = make_config(
        database=database, rate_points=27, max_cost=27, rate_restore=1.0, rate_settle_interval=60.0
    )  # only the test settles
    mutation = 'mutation { createTask(input: {title: "x"}) { task { id } } }'  # costs 12
    async with running_client(config) as one, running_client(config) as other:
        user = new_user()
        first = await one.execute(mutation, user=user)
        await _settle(one, other)
        second = await other.execute(mutation, user=user)  # the other replica, the same bucket
        await _settle(other, one)
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


async def test_replicas_share_the_limit_within_one_settlement(database_url: str) -> None:
    """Before a settlement each replica decides alone, so a burst can spend one bucket on each;
    after it both know the excess and make the user wait it off."""
    database = DatabaseConfig(database_url, 1, 2)
    config = make_config(
        database=database, rate_points=30, max_cost=30, rate_restore=1.0, rate_settle_interval=60.0
    )  # only the test settles
    query = "{ tasks(first: 9) { edges { cursor } } }"  # costs 10
    async with running_client(config) as one, running_client(config) as other:
        user = new_user()
        burst = [await replica.execute(query, user=user) for replica in (one, one, other, other)]
        assert all("cost" in body["extensions"] for body in burst)
        assert ["RATE_LIMITED" in str(body.get("errors")) for body in burst] == [False] * 4
        await _settle(one, other, one)  # each now holds the shared level: 40 of 30
        after = [await replica.execute(query, user=user) for replica in (one, other)]
    for body in after:
        [error] = body["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        # 40 used of 30: 20 must drain before 10 more fit, at 1 a second.
        assert 18.0 <= error["extensions"]["retryAfter"] <= 20.1


async def test_points_poured_while_the_database_is_away_are_settled_later(
    database_url: str,
) -> None:
    """A settlement that fails keeps what it was to add for the next one: nothing is lost."""
    proxy = PostgresProxy(database_url)
    await proxy.start()
    limits: dict[str, Any] = {"rate_points": 100, "max_cost": 100, "rate_restore": 0.001}
    limits["rate_settle_interval"] = 60.0  # only the test settles
    query = "{ tasks(first: 9) { edges { cursor } } }"  # costs 10
    user = new_user()
    try:
        async with (
            running_client(make_config(database=DatabaseConfig(proxy.url, 1, 2), **limits)) as one,
            running_client(
                make_config(database=DatabaseConfig(database_url, 1, 2), **limits)
            ) as other,
        ):
            await other.execute(query, user=user)
            await one.execute(query, user=user)
            await proxy.cut()
            with pytest.raises(Exception) as failed:  # noqa: PT011 - whichever way the cut shows
                await rate_limiter(one.app).settle()
            assert is_transient(failed.value), failed.value
            await proxy.start()
            await _settle(other, one, other)  # the shared bucket: 10 from other, 10 kept by one
            seen = await other.execute(query, user=user)
    finally:
        await proxy.cut()  # its listener closes
    assert 69.9 <= seen["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] <= 70.0


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
