"""HTTP 401 before anything runs (RFC 6750), as Bearer-token clients and their token-refresh
recipes expect: a token that was sent and refused (malformed, expired, badly signed) always
gets one, with `WWW-Authenticate: Bearer error="invalid_token"`; a request with no token gets
one (`WWW-Authenticate: Bearer`) only when its operation selects a field that needs a user.

Which fields need none is decided from the document alone: introspection (`__schema`,
`__type`, `__typename`) and the root query fields the API declares public (`parseRecurrence`),
through inline fragments and fragment spreads. A document that does not parse, or names no
operation it holds, gets no challenge: its own error follows, as without this check; so does a
mutation sent by GET (405, whoever sends it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Final

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)

INTROSPECTION: Final = frozenset({"__schema", "__type", "__typename"})


@dataclass(frozen=True)
class Challenge:
    """Why the request is refused, and the `WWW-Authenticate` value that says so."""

    message: str
    www_authenticate: str


def challenge(
    *,
    refused_token: str | None,
    missing_token: str,
    query: str | None,
    operation_name: str | None,
    public_fields: Set[str],
    max_tokens: int,
    by_get: bool = False,
) -> Challenge | None:
    """The 401 a request without a user gets, or None to let it run.

    `refused_token` is why a token that was sent was refused (None when none was sent);
    `missing_token` what to say when none was sent and the operation needs one.
    """
    if refused_token is not None:
        description = refused_token.replace("\\", "").replace('"', "'")
        return Challenge(
            refused_token, f'Bearer error="invalid_token", error_description="{description}"'
        )
    if query is None:
        return None
    operation = _operation(query, operation_name, max_tokens)
    if operation is None or (by_get and operation[0].operation != OperationType.QUERY):
        return None
    if not needs_user(*operation, public_fields):
        return None
    return Challenge(missing_token, "Bearer")


def needs_user(
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    public_fields: Set[str],
) -> bool:
    """Whether `operation` selects a root field that needs a user."""
    free = INTROSPECTION
    if operation.operation == OperationType.QUERY:
        free = free | public_fields
    selected = _root_fields(operation.selection_set, fragments, set())
    return any(name not in free for name in selected)


def _operation(
    query: str, operation_name: str | None, max_tokens: int
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]] | None:
    """The operation a request runs and the document's fragments; None when there is none."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operations[0], fragments


def _root_fields(
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    spread: set[str],
) -> Iterator[str]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, spread)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in spread and name in fragments:
                spread.add(name)
                yield from _root_fields(fragments[name].selection_set, fragments, spread)
