"""Checks on a whole request before anything runs: which operation, and text every service can store.

Strawberry runs the first operation of a document that holds several when no
`operationName` is given; the GraphQL specification requires a request error.
And no string may carry NUL or a lone surrogate (`validation.text_problem`):
PostgreSQL cannot store the one and no protocol can encode the other, so they
are refused here, once, for every field, with the path of the offending value.
String literals in the document are checked by a validation rule
(`StorableStringLiterals`), so the result is cached with the document's
validation; variables and the operation name change per request and are checked
here every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, StringValueNode, ValidationRule
from strawberry.extensions import SchemaExtension

from gateway.errors import BAD_USER_INPUT
from todo_runtime.validation import text_problem


class EdgeChecks(SchemaExtension):
    """Adds request errors for an ambiguous operation and for unstorable text."""

    def on_validate(self) -> Iterator[None]:
        # Before validation: errors set here stand in for its result and end the request.
        self._check()
        yield

    def _check(self) -> None:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.pre_execution_errors:
            return
        errors: list[GraphQLError] = []
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        # Strawberry keeps the name the client sent only here; `operation_name` falls back.
        if len(operations) > 1 and context._provided_operation_name is None:
            errors.append(
                _request_error("Must provide operationName: the document holds several operations")
            )
        errors += [
            _request_error(f"variables.{path}: {problem}")
            for path, problem in _bad_text(context.variables or {}, "")
        ]
        if errors:
            context.pre_execution_errors = errors


def _request_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BAD_USER_INPUT})


def _bad_text(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) for every string inside `value` that cannot be stored."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                yield where, problem
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and text_problem(key) is not None:
                    yield where, "has a key that is not valid text"
                stack.append((child, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))


class StorableStringLiterals(ValidationRule):
    """A validation rule: every string literal in the document is text a service can store."""

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        problem = text_problem(node.value)
        if problem is not None:
            self.report_error(_request_error(f"a string in the document {problem}"))
