"""Query cost from the shape, the per-operation limit, and the per-user bucket shared by replicas."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from gateway.query_cost import operation_cost
from gateway.schema import build_schema
from tests.gateway.gateway_harness import GatewayClient, make_config, new_user, running_client
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
        ('mutation { createTask(input: {title: "x"}) { id } }', None, 11),
        ('mutation { a: deleteTask(id: "x") b: deleteTask(id: "y") }', None, 20),
    ],
)
def test_cost_counts_the_objects_a_response_can_hold(
    document: str, variables: dict[str, Any] | None, expected: int
) -> None:
    assert cost(document, variables) == expected


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
        "maximumCost": 100,
        "throttleStatus": {
            "maximumAvailable": 100,
            "currentlyAvailable": 99.0,
            "restoreRate": 500.0,
        },
    }


async def test_a_user_over_budget_is_rate_limited_across_replicas(database_url: str) -> None:
    database = DatabaseConfig(database_url, 1, 2)
    config = make_config(database=database, rate_points=25, max_cost=25, rate_restore=1.0)
    mutation = 'mutation { createTask(input: {title: "x"}) { id } }'  # costs 11
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
    # 22 points used of 25, draining 1 a second: 11 more fit in about 8 s.
    assert 6.0 <= limited["extensions"]["retryAfter"] <= 8.0
    assert third["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 11


async def test_without_a_database_there_is_no_bucket(app_client: GatewayClient) -> None:
    body = await app_client.execute("{ tasks { totalCount } }")
    assert "throttleStatus" not in body["extensions"]["cost"]
