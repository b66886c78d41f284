"""GraphQL execution with a short path for the fields that read an attribute and return a scalar.

Most of a page's fields (a task's `id`, `title`, `dueAt`, `tags`...) have no resolver: Strawberry
reads the attribute and graphql-core completes the value. graphql-core pays the same price for
them as for any field (resolve info, an awaitable check, completion by type), about two thirds
of the CPU a 50-task page costs (docs/performance.md). `LeafFields` reads such a field and
serializes it directly, with the scalar's or enum's own serializer. It takes the short path only
where the result is certain to be the same: a Strawberry field without resolver, extension or
arguments, read with the configured default resolver, a leaf or a list of leaves, and no field
middleware (a schema extension with a `resolve` hook, such as tracing's, turns it off). Anything
else, a null where the type forbids one included, goes through graphql-core's own path, which
reports the error as it always does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

# Where the table of short-path fields lives: GraphQLSchema.extensions, made for such data.
LEAVES_KEY: Final = "gateway-leaf-fields"
_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class Leaf:
    """How to read and serialize one field: the attribute, the item serializer, whether the
    field (and, for a list, its items) may be null."""

    attribute: str
    serialize: Callable[[Any], Any]
    nullable: bool
    is_list: bool = False


def attach_leaves(schema: GraphQLSchema, default_resolver: Callable[..., Any]) -> None:
    """Records every short-path field of `schema` in its extensions (once, at build time)."""
    leaves: dict[tuple[str, str], Leaf] = {}
    if default_resolver is getattr:
        for named in schema.type_map.values():
            if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
                for name, field in named.fields.items():
                    leaf = _leaf(field)
                    if leaf is not None:
                        leaves[named.name, name] = leaf
    schema.extensions = {**(schema.extensions or {}), LEAVES_KEY: leaves}


def _leaf(field: GraphQLField) -> Leaf | None:
    definition = (field.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if field.args or not getattr(field.resolve, "_is_default", False):
        return None
    kind, nullable = _unwrap(field.type)
    if isinstance(kind, GraphQLList):
        item, item_nullable = _unwrap(kind.of_type)
        serialize = _serializer(item)
        if serialize is None or item_nullable:
            return None
        return Leaf(definition.python_name, serialize, nullable, is_list=True)
    serialize = _serializer(kind)
    return None if serialize is None else Leaf(definition.python_name, serialize, nullable)


def _unwrap(kind: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(kind, GraphQLNonNull):
        return kind.of_type, False
    return kind, True


def _serializer(kind: GraphQLOutputType) -> Callable[[Any], Any] | None:
    """The type's own serializer; for an enum, its members' names looked up once."""
    if isinstance(kind, GraphQLEnumType):
        names = _enum_names(kind)
        return lambda value: names.get(value, _MISSING)
    if isinstance(kind, GraphQLScalarType):
        return kind.serialize
    return None


def _enum_names(kind: GraphQLEnumType) -> dict[Any, str]:
    """Every Python value the enum's serializer accepts, with the name it gives it."""
    members: Iterable[Any] = getattr(kind, "wrapped_cls", ())
    candidates = [*members, *(value.value for value in kind.values.values())]
    names: dict[Any, str] = {}
    for candidate in candidates:
        try:
            names[candidate] = kind.serialize(candidate)
        except Exception:  # noqa: S112 - a value it refuses keeps to the long path
            continue
    return names


class LeafFields(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the short path described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager; it wraps fields only when it holds middleware.
        wrapped = self.middleware_manager is not None and bool(self.middleware_manager.middlewares)
        extensions = self.schema.extensions or {}
        self._leaves: dict[tuple[str, str], Leaf] = (
            {} if wrapped else extensions.get(LEAVES_KEY, {})
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """An object whose selected fields all take the short path is read in one loop."""
        results: dict[str, Any] = {}
        type_name = parent_type.name
        for response_name, field_details_list in grouped_field_set.items():
            leaf = self._leaves.get((type_name, field_details_list[0].node.name.value))
            value = _MISSING if leaf is None else _read(leaf, source_value)
            if value is _MISSING:
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            results[response_name] = value
        return results

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        leaf = self._leaves.get((parent_type.name, field_details_list[0].node.name.value))
        if leaf is not None:
            value = _read(leaf, source)
            if value is not _MISSING:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


def _read(leaf: Leaf, source: Any) -> Any:
    """The field's serialized value, or _MISSING for anything the long path must decide."""
    value = getattr(source, leaf.attribute, _MISSING)
    if value is None:
        return None if leaf.nullable else _MISSING
    if value is _MISSING:
        return _MISSING
    try:
        if leaf.is_list:
            if not isinstance(value, list | tuple):
                return _MISSING
            items = [leaf.serialize(item) for item in value]
            return _MISSING if any(_absent(item) for item in items) else items
        serialized = leaf.serialize(value)
    except Exception:  # the long path raises it again, located and reported
        return _MISSING
    return _MISSING if _absent(serialized) else serialized


def _absent(serialized: Any) -> bool:
    return serialized is None or serialized is Undefined or serialized is _MISSING
