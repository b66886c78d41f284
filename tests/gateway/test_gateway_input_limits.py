"""Every list argument has a documented maximum; a longer list is refused before anything runs."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
)

from gateway.limits.list_maxima import LIST_MAXIMA
from gateway.schema import build_schema
from tests.support.gateway.gateway_harness import GatewayClient

SCHEMA = build_schema()._schema

LIST = "query($f: TaskFilter, $o: [TaskOrder!]) { tasks(filter: $f, orderBy: $o) { totalCount } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CREATE = (
    "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } "
    "userErrors { field message code } } }"
)
UPDATE = (
    "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id } "
    "userErrors { field message code } } }"
)
ORDER = {"field": "TITLE"}


def _is_list(value: GraphQLArgument | GraphQLInputField) -> bool:
    kind = value.type.of_type if isinstance(value.type, GraphQLNonNull) else value.type
    return isinstance(kind, GraphQLList)


def _list_inputs() -> dict[str, str]:
    """Every list argument and list input field of the schema: coordinate → description."""
    found: dict[str, str] = {}
    for named in SCHEMA.type_map.values():
        if named.name.startswith("__"):
            continue
        if isinstance(named, GraphQLObjectType):
            for name, field in named.fields.items():
                for argument_name, argument in field.args.items():
                    if _is_list(argument):
                        coordinate = f"{named.name}.{name}({argument_name}:)"
                        found[coordinate] = argument.description or ""
        elif isinstance(named, GraphQLInputObjectType):
            for name, input_field in named.fields.items():
                if _is_list(input_field):
                    found[f"{named.name}.{name}"] = input_field.description or ""
    return found


def test_every_list_argument_has_a_maximum_its_description_states() -> None:
    lists = _list_inputs()
    assert set(lists) == set(LIST_MAXIMA)
    for coordinate, description in lists.items():
        assert f"at most {LIST_MAXIMA[coordinate]}" in description.lower(), coordinate


def _tags(count: int) -> list[str]:
    return [f"t{index}" for index in range(count)]


def _minutes(count: int) -> list[int]:
    return list(range(count))


def _instants(count: int) -> list[str]:
    return [f"2030-01-01T00:{index % 60:02d}:00Z" for index in range(count)]


OVER_THE_MAXIMUM = [
    (LIST, {"o": [ORDER] * 6}, "orderBy", 5),
    (LIST, {"f": {"tags": _tags(21)}}, "filter.tags", 20),
    (LIST, {"f": {"tags": _tags(100_000)}}, "filter.tags", 20),
    (LIST, {"f": {"priorities": ["LOW"] * 6}}, "filter.priorities", 5),
    (
        "{ tasks(filter: {priorities: [LOW, LOW, LOW, LOW, LOW, LOW]}) { totalCount } }",
        {},
        "filter.priorities",
        5,
    ),
    (NODES, {"ids": ["x"] * 101}, "ids", 100),
    (
        "query($ids: [ID!]!) { ...F } fragment F on Query { nodes(ids: $ids) { id } }",
        {"ids": ["x"] * 101},
        "ids",
        100,
    ),
    (
        'query($t: [String!] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", '
        '"o", "p", "q", "r", "s", "t", "u"]) { tasks(filter: {tags: $t}) { totalCount } }',
        {},
        "filter.tags",
        20,
    ),
    (CREATE, {"i": {"title": "x", "tags": _tags(21)}}, "input.tags", 20),
    (
        CREATE,
        {"i": {"title": "x", "remindMinutesBefore": _minutes(11)}},
        "input.remindMinutesBefore",
        10,
    ),
    (CREATE, {"i": {"title": "x", "remindAt": _instants(11)}}, "input.remindAt", 10),
    (UPDATE, {"i": {"id": "x", "tags": _tags(21)}}, "input.tags", 20),
    (
        UPDATE,
        {"i": {"id": "x", "remindMinutesBefore": _minutes(11)}},
        "input.remindMinutesBefore",
        10,
    ),
    (UPDATE, {"i": {"id": "x", "remindAt": _instants(1000)}}, "input.remindAt", 10),
]


@pytest.mark.parametrize(("document", "variables", "field", "maximum"), OVER_THE_MAXIMUM)
async def test_a_list_over_its_maximum_is_refused_naming_the_argument(
    app_client: GatewayClient, document: str, variables: dict[str, Any], field: str, maximum: int
) -> None:
    body = await app_client.execute(document, variables)
    # Refused before any service is asked: none runs behind this gateway (that is UNAVAILABLE).
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"].startswith(f"{field}: must hold at most {maximum} items")
    assert "cost" not in body.get("extensions", {})  # nothing was charged


AT_THE_MAXIMUM = [
    (LIST, {"o": [ORDER] * 5, "f": {"tags": _tags(20), "priorities": ["LOW"] * 5}}),
    (NODES, {"ids": ["x"] * 100}),
    (CREATE, {"i": {"title": "x", "tags": _tags(20), "remindAt": _instants(10)}}),
    (UPDATE, {"i": {"id": "x", "remindMinutesBefore": _minutes(10)}}),
]


@pytest.mark.parametrize(("document", "variables"), AT_THE_MAXIMUM)
async def test_a_list_at_its_maximum_goes_through(
    app_client: GatewayClient, document: str, variables: dict[str, Any]
) -> None:
    body = await app_client.execute(document, variables)
    # It ran, and met no service (UNAVAILABLE) or no object ("x" is no id: NOT_FOUND).
    codes = {error["extensions"]["code"] for error in body.get("errors", [])}
    payloads = [value for value in (body["data"] or {}).values() if isinstance(value, dict)]
    codes |= {error["code"] for payload in payloads for error in payload["userErrors"]}
    assert codes, body
    assert codes <= {"UNAVAILABLE", "NOT_FOUND"}, body


async def test_both_reminder_lists_together_hold_at_most_ten(app_client: GatewayClient) -> None:
    reminders = {"remindMinutesBefore": _minutes(6), "remindAt": _instants(5)}
    body = await app_client.execute(CREATE, {"i": {"title": "x", **reminders}})
    # Refused before svc_tasks is asked (none runs here: that would be UNAVAILABLE).
    assert "errors" not in body
    [error] = body["data"]["createTask"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "remindAt"], "INVALID")
    assert "at most 10 reminders, got 11" in error["message"]
