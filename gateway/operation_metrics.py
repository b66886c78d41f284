"""Per-operation Prometheus metrics for GraphQL: count and time by root field, errors by code.

Operations are labelled `<type> <first root field>` (e.g. `mutation createTask`): the schema
bounds that set, where operation names come from clients and are unbounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from todo_runtime import metrics

INVALID = "invalid"  # a document that did not parse or validate


class OperationMetrics(SchemaExtension):
    """Counts every operation once it is answered (listed first: it sees the masked errors)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        label = operation_label(context)
        metrics.GRAPHQL_OPERATIONS.labels(label).inc()
        metrics.GRAPHQL_SECONDS.labels(label).observe(time.perf_counter() - started)
        for error in _errors(context):
            metrics.GRAPHQL_ERRORS.labels(
                str((error.extensions or {}).get("code", "INTERNAL"))
            ).inc()


def operation_label(context: ExecutionContext) -> str:
    document = context.graphql_document
    if document is None or context.pre_execution_errors:
        return INVALID
    operation = get_operation_ast(document, context.operation_name)
    if operation is None:
        return INVALID
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            return f"{operation.operation.value} {selection.name.value}"
    return operation.operation.value  # only fragments at the root


def _errors(context: ExecutionContext) -> list[GraphQLError]:
    if context.result is not None and context.result.errors:
        return list(context.result.errors)
    return list(context.pre_execution_errors or [])
