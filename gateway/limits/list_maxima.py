"""The longest list each GraphQL argument takes, checked on the whole operation before it runs.

A client can send a list of any length. Every list argument and list input
field of the schema has a maximum here (`test_gateway_input_limits` fails on a
new one without), the same the services check on their request fields
(`todo_runtime.validation`). An operation over one is refused with
BAD_USER_INPUT naming the argument before anything runs: before its cost is
computed, before the rate limiter or any service is asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from graphql import (
    FragmentDefinitionNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    value_from_ast_untyped,
)

from gateway.errors import GatewayError, bad_input
from gateway.limits.query_cost import selected_fields
from todo_runtime.validation import ORDER_KEYS_MAX, PRIORITIES_MAX, REMINDERS_MAX, TAGS_MAX

NODES_MAX: Final = 100  # nodes(ids:): each id is a service call of its own

# By schema coordinate: `Type.field(argument:)` for an argument, `Input.field` for an input field.
LIST_MAXIMA: Final[Mapping[str, int]] = {
    "Query.tasks(orderBy:)": ORDER_KEYS_MAX,
    "Query.nodes(ids:)": NODES_MAX,
    "TaskFilter.priorities": PRIORITIES_MAX,
    "TaskFilter.tags": TAGS_MAX,
    "CreateTaskInput.tags": TAGS_MAX,
    "CreateTaskInput.remindMinutesBefore": REMINDERS_MAX,
    "CreateTaskInput.remindAt": REMINDERS_MAX,
    "UpdateTaskInput.tags": TAGS_MAX,
    "UpdateTaskInput.remindMinutesBefore": REMINDERS_MAX,
    "UpdateTaskInput.remindAt": REMINDERS_MAX,
}


def oversized_list(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> GatewayError | None:
    """BAD_USER_INPUT for the first list argument of the operation over its maximum, if any."""
    values = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    values.update(variables)
    for field, definition, parent in selected_fields(schema, operation, fragments):
        for argument in field.arguments or ():
            name = argument.name.value
            argument_definition = definition.args.get(name)
            if argument_definition is None:
                continue  # the document validated: only when the schema changed under a cache
            value = value_from_ast_untyped(argument.value, values)
            coordinate = f"{parent}.{field.name.value}({name}:)"
            for path, maximum, length in _lists(value, argument_definition.type, coordinate, name):
                if length > maximum:
                    return bad_input(path, f"must hold at most {maximum} items, got {length}")
    return None


def _lists(
    value: Any, value_type: GraphQLInputType, coordinate: str, path: str
) -> Iterator[tuple[str, int, int]]:
    """(path, maximum, length) of every bounded list in `value`, outermost first; the items of
    a list are only looked at once its length is known to be within bounds."""
    if isinstance(value_type, GraphQLNonNull):
        value_type = value_type.of_type
    if isinstance(value_type, GraphQLList) and isinstance(value, list):
        maximum = LIST_MAXIMA.get(coordinate, 0)  # none listed: no list is allowed at all
        yield path, maximum, len(value)
        if len(value) <= maximum:
            for index, item in enumerate(value):
                yield from _lists(item, value_type.of_type, coordinate, f"{path}[{index}]")
    elif isinstance(value_type, GraphQLInputObjectType) and isinstance(value, dict):
        for name, field in value_type.fields.items():
            if name in value:
                yield from _lists(
                    value[name], field.type, f"{value_type.name}.{name}", f"{path}.{name}"
                )
