"""What a GraphQL operation may cost, from its shape alone, before anything runs.

The cost is the number of objects the response can hold, lists multiplied
out, plus a fixed price per mutation: `tasks(first: 50) { edges { node { id
reminders { id } } } }` can return 1 connection + 50 edges + 50 tasks + 50 x 10
reminders = 601 objects. A connection's size is its `first` or `last` (default
`DEFAULT_PAGE_SIZE`, 50), a list's the length of its `ids` argument or the most the schema
lets it hold. Scalars are free: their price is in the object that carries them, and so are a
mutation's `userErrors`.

A field whose work is more than the objects it returns also costs that work,
at the most it can be, as Shopify prices a query: a proof the tree nodes it
reads (its hashes), a search the words of yours it compares, `verifyAuditLog`
the entries it checks (at most `VERIFY_MAX_ENTRIES`). What a field's work
leaves unused is given back once it ran (`refunds.unused`), so the bucket
keeps what the work came to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)

from gateway.calendar_feeds import MAX_FEEDS_PER_USER
from gateway.paging import DEFAULT_PAGE_SIZE

MUTATION_COST: Final = 10
# Lists with no size argument, at the most the schema lets them hold.
# `changes`: an AuditEntry's diff has at most one change per task field svc_audit compares (14).
LIST_BOUNDS: Final = {"reminders": 10, "changes": 14, "calendarFeeds": MAX_FEEDS_PER_USER}
UNKNOWN_LIST_BOUND: Final = 100
# A mutation's refusal (at most 20 user errors, `api.payloads`) is in its fixed price.
FREE_FIELDS: Final = frozenset({"userErrors"})
VERIFY_MAX_ENTRIES: Final = 4000  # verifyAuditLog checks at most this many of your entries
# GraphQL's Int holds tree sizes below 2**31: an inclusion proof has at most 31 hashes, a
# consistency proof at most twice as many.
PROOF_HASHES_MAX: Final = 31
SEARCH_WORD_COST: Final = 10  # a search word is compared with up to 10 similar words of yours
_WORD: Final = re.compile(r"[^\W_]+")  # as svc_tasks splits a search into words


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """The cost of one (valid) operation; see the module docstring."""
    root = _root(schema, operation)
    if root is None:
        return 0
    walker = _Walker(schema, fragments, variables)
    cost = walker.selection_cost(operation.selection_set, root)
    if operation.operation is OperationType.MUTATION:
        cost += MUTATION_COST * len(walker.fields(operation.selection_set, root))
    return cost


def selected_fields(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> Iterator[tuple[FieldNode, GraphQLField, str]]:
    """Every field the operation selects, at any depth (fragments spread in, each once per
    path), with its definition and the name of the type it is selected on."""
    root = _root(schema, operation)
    walker = _Walker(schema, fragments, {})
    pending: list[tuple[SelectionSetNode | None, Any]] = []
    if root is not None:
        pending.append((operation.selection_set, root))
    while pending:
        selection_set, parent = pending.pop()
        for field, on in walker.fields(selection_set, parent):
            definition = getattr(on, "fields", {}).get(field.name.value)
            if definition is not None:  # not __typename
                yield field, definition, on.name
                pending.append((field.selection_set, get_named_type(definition.type)))


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    return {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables

    def fields(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        seen: frozenset[str] = frozenset(),
    ) -> list[tuple[FieldNode, Any]]:
        """(field, the type it is selected on), fragments spread in, each fragment once per path."""
        found: list[tuple[FieldNode, Any]] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append((selection, parent))
            elif isinstance(selection, InlineFragmentNode):
                on = self._on(selection.type_condition, parent)
                found += self.fields(selection.selection_set, on, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is not None and name not in seen:
                    on = self._on(fragment.type_condition, parent)
                    found += self.fields(fragment.selection_set, on, seen | {name})
        return found

    def _on(self, condition: NamedTypeNode | None, parent: Any) -> Any:
        return self._schema.get_type(condition.name.value) if condition else parent

    def selection_cost(
        self, selection_set: SelectionSetNode | None, parent: Any, page: int | None = None
    ) -> int:
        """Objects below `parent` for this selection; `page` sizes a connection's `edges`."""
        total = 0
        for field, on in self.fields(selection_set, parent):
            definition = getattr(on, "fields", {}).get(field.name.value)
            if definition is None:  # __typename
                continue
            named = get_named_type(definition.type)
            if not hasattr(named, "fields") or field.name.value in FREE_FIELDS:
                continue  # scalars and enums are priced in the object that holds them
            arguments = self._arguments(field)
            total += _field_work(field.name.value, arguments)
            if "first" in definition.args or "last" in definition.args:  # a connection
                size = _page_size(arguments)
                total += 1 + self.selection_cost(field.selection_set, named, page=size)
            elif _is_list(definition.type):
                size = self._list_size(field.name.value, arguments, page)
                total += size * (1 + self.selection_cost(field.selection_set, named))
            else:
                total += 1 + self.selection_cost(field.selection_set, named)
        return total

    def _arguments(self, field: FieldNode) -> dict[str, Any]:
        return {
            argument.name.value: value_from_ast_untyped(argument.value, dict(self._variables))
            for argument in field.arguments or ()
        }

    @staticmethod
    def _list_size(name: str, arguments: Mapping[str, Any], page: int | None) -> int:
        if name == "edges" and page is not None:
            return page
        ids = arguments.get("ids")
        if isinstance(ids, list):
            return len(ids)
        return LIST_BOUNDS.get(name, UNKNOWN_LIST_BOUND)


def _field_work(name: str, arguments: Mapping[str, Any]) -> int:
    """The most work a field does beyond the objects it returns, from its arguments."""
    if name == "verifyAuditLog":
        return VERIFY_MAX_ENTRIES
    if name == "inclusionProof":
        return _proof_hashes(arguments.get("treeSize"))
    if name == "consistencyProof":
        return 2 * _proof_hashes(arguments.get("toTreeSize"))
    if name == "tasks":
        words = _WORD.findall(_search(arguments.get("filter")))
        return SEARCH_WORD_COST * len(words)
    return 0


def _search(task_filter: object) -> str:
    search = task_filter.get("search") if isinstance(task_filter, dict) else None
    return search if isinstance(search, str) else ""


def _proof_hashes(tree_size: object) -> int:
    """The most hashes a proof in a tree of `tree_size` leaves holds (the maximum when unknown)."""
    if isinstance(tree_size, int) and not isinstance(tree_size, bool) and tree_size >= 1:
        return min(PROOF_HASHES_MAX, (tree_size - 1).bit_length())
    return PROOF_HASHES_MAX


def _page_size(arguments: Mapping[str, Any]) -> int:
    for name in ("first", "last"):
        value = arguments.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(0, value)
    return DEFAULT_PAGE_SIZE


def _is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)
