"""GraphQL execution with a short path for the fields that only read an attribute.

Most of a page's fields (a task's `id`, `title`, `dueAt`, `tags`, an edge's `node`...) have no
resolver: Strawberry reads the attribute and graphql-core completes the value. graphql-core pays
the same price for them as for any field (resolve info, an awaitable check, completion by type),
about two thirds of the CPU a 50-task page costs (docs/performance.md). `PlainFields` reads such
a field directly: a scalar, an enum or a list of them is serialized with the type's own
serializer, and an object (or a list of objects) of the field's own Python class (not
`strawberry.cast` to another) has its selection read the same way, so an object whose whole
selection is plain, a page's edges with their tasks included, is read in one pass. It takes the
short path only where the result is certain to be the same: a Strawberry field without
resolver, extension or arguments, read with the configured default resolver, an object type
whose check (`is_type_of`) is Strawberry's own, no deferred fragment, and no field middleware (a
schema extension with a `resolve` hook, such as tracing's, turns it off). Anything else, a null
where the type forbids one or an object of another class included, goes through graphql-core's
own path, which reports the error as it always does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

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
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField

# Where the table of short-path fields lives: GraphQLSchema.extensions, made for such data.
PLAIN_FIELDS_KEY: Final = "gateway-plain-fields"
_MISSING: Final = object()
# A source's value for one field or one selection, or _MISSING where the long path must decide.
_Reader: TypeAlias = Callable[[Any], Any]
# graphql-core's serializers of String and ID give a string back as it is.
_GIVEN_AS_IS: Final = (serialize_string, serialize_id)


@dataclass(frozen=True, slots=True)
class Leaf:
    """How to read a scalar, an enum or a list of them: `read` gives a source's serialized value,
    or _MISSING for anything the long path must decide (`_leaf`, made once per field)."""

    read: _Reader


@dataclass(frozen=True, slots=True)
class Nested:
    """How to read one object-valued field: the attribute, the field's type and its object
    type, the Python class whose (uncast) instances are certainly of it, whether it may be null,
    whether it is a list of such objects (none of them null)."""

    attribute: str
    field_type: GraphQLOutputType
    object_type: GraphQLObjectType
    origin: type
    nullable: bool
    is_list: bool = False


def attach_plain_fields(schema: GraphQLSchema, default_resolver: Callable[..., Any]) -> None:
    """Records every short-path field of `schema` in its extensions (once, at build time)."""
    short: dict[tuple[str, str], Leaf | Nested] = {}
    if default_resolver is getattr:
        for named in schema.type_map.values():
            if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
                for name, field in named.fields.items():
                    found = _short_path(field)
                    if found is not None:
                        short[named.name, name] = found
    schema.extensions = {**(schema.extensions or {}), PLAIN_FIELDS_KEY: short}


def _short_path(field: GraphQLField) -> Leaf | Nested | None:
    definition = (field.extensions or {}).get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if field.args or not getattr(field.resolve, "_is_default", False):
        return None
    attribute = definition.python_name
    kind, nullable = _unwrap(field.type)
    if isinstance(kind, GraphQLObjectType):
        return _nested(attribute, field.type, kind, nullable)
    is_list = False
    if isinstance(kind, GraphQLList):
        kind, item_nullable = _unwrap(kind.of_type)
        if item_nullable:
            return None
        if isinstance(kind, GraphQLObjectType):
            return _nested(attribute, field.type, kind, nullable, is_list=True)
        is_list = True
    serialize = _serializer(kind)
    return None if serialize is None else Leaf(_leaf(attribute, serialize, nullable, is_list))


def _nested(
    attribute: str,
    field_type: GraphQLOutputType,
    kind: GraphQLObjectType,
    nullable: bool,
    *,
    is_list: bool = False,
) -> Nested | None:
    """An object field, when its type's check is Strawberry's own: an uncast instance of its
    class passes it, so the short path may skip it."""
    owner = (kind.extensions or {}).get("strawberry-definition")
    if not isinstance(owner, StrawberryObjectDefinition) or owner.is_type_of is not None:
        return None
    return Nested(attribute, field_type, kind, owner.origin, nullable, is_list)


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


class PlainFields(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the short path described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager; it wraps fields only when it holds middleware.
        wrapped = self.middleware_manager is not None and bool(self.middleware_manager.middlewares)
        extensions = self.schema.extensions or {}
        self._short: dict[tuple[str, str], Leaf | Nested] = (
            {} if wrapped else extensions.get(PLAIN_FIELDS_KEY, {})
        )
        # Each selection's plan, None where it is not plain through and through, by its
        # identity (kept alive with the plan, as graphql-core keeps its collected subfields, so
        # no id is reused meanwhile).
        self._plans: dict[int, tuple[GroupedFieldSet, _Reader | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """An object whose whole selection is plain is read in one pass."""
        read = self._plan(parent_type, grouped_field_set)
        if read is not None:
            results = read(source_value)
            if results is not _MISSING:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plan(
        self, object_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> _Reader | None:
        """How to read the selection when every field of it, and of the selections of its
        objects, takes the short path; None otherwise. Made once per selection, before any
        value is read."""
        known = self._plans.get(id(grouped_field_set))
        if known is not None:
            return known[1]
        steps = [
            self._step(object_type, response_name, field_details_list)
            for response_name, field_details_list in grouped_field_set.items()
        ]
        plain = [step for step in steps if step is not None]
        read = _object_reader(plain) if len(plain) == len(steps) else None
        self._plans[id(grouped_field_set)] = (grouped_field_set, read)
        return read

    def _step(
        self,
        object_type: GraphQLObjectType,
        response_name: str,
        field_details_list: FieldDetailsList,
    ) -> tuple[str, _Reader] | None:
        """Where one field of a plain selection goes and how it is read; None when it is not
        plain."""
        name = field_details_list[0].node.name.value
        found = self._short.get((object_type.name, name))
        if isinstance(found, Nested):
            grouped, defer_usages, _ = self.collect_subfields(found.object_type, field_details_list)
            below = None if defer_usages else self._plan(found.object_type, grouped)
            return None if below is None else (response_name, _nested_reader(found, below))
        if isinstance(found, Leaf):
            return response_name, found.read
        if name != "__typename":
            return None
        type_name = object_type.name
        return response_name, lambda source: type_name

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        found = self._short.get((parent_type.name, field_details_list[0].node.name.value))
        if isinstance(found, Leaf):
            value = found.read(source)
            if value is not _MISSING:
                return value
        elif found is not None and not found.is_list:
            value = _attribute(source, found.attribute)
            if value is None and found.nullable:
                return None
            if type(value) is found.origin and get_strawberry_type_cast(value) is None:
                return self._complete_nested(
                    found, field_details_list, path, value, position_context
                )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _complete_nested(
        self,
        nested: Nested,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """The object's selection, its errors handled as graphql-core's execute_field does."""
        try:
            completed = self.collect_and_execute_subfields(
                nested.object_type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, nested.field_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, nested.field_type, field_details_list, path)
                return None

        return await_completed()


def _leaf(
    attribute: str, serialize: Callable[[Any], Any], nullable: bool, is_list: bool
) -> _Reader:
    """A `Leaf`'s reader: its serialized value; a string for String or ID as it is, which is
    what their serializers return for it."""
    as_is = str if serialize in _GIVEN_AS_IS else None

    def one(value: Any) -> Any:
        if type(value) is as_is:
            return value
        try:
            serialized = serialize(value)
        except Exception:  # the long path raises it again, located and reported
            return _MISSING
        return _MISSING if _absent(serialized) else serialized

    def read(source: Any) -> Any:
        try:
            value = getattr(source, attribute)
        except Exception:  # reported by the long path, located
            return _MISSING
        if type(value) is as_is:
            return value
        if value is None:
            return None if nullable else _MISSING
        return one(value)

    def read_list(source: Any) -> Any:
        value = _attribute(source, attribute)
        if value is None:
            return None if nullable else _MISSING
        if not isinstance(value, list | tuple):
            return _MISSING
        items = [one(item) for item in value]
        return _MISSING if any(item is _MISSING for item in items) else items

    return read_list if is_list else read


def _object_reader(steps: list[tuple[str, _Reader]]) -> _Reader:
    """A plain selection's reader: each field's value under its response name."""

    def read(source: Any) -> Any:
        results: dict[str, Any] = {}
        for response_name, read_field in steps:
            value = read_field(source)
            if value is _MISSING:
                return _MISSING
            results[response_name] = value
        return results

    return read


def _nested_reader(nested: Nested, read_object: _Reader) -> _Reader:
    """An object field's reader: its selection read by `read_object`, from an uncast instance of
    the object type's class (or a list of them)."""
    origin, nullable, is_list = nested.origin, nested.nullable, nested.is_list

    def read_instance(value: Any) -> Any:
        if type(value) is not origin or get_strawberry_type_cast(value) is not None:
            return _MISSING
        return read_object(value)

    def read(source: Any) -> Any:
        value = _attribute(source, nested.attribute)
        if value is None:
            return None if nullable else _MISSING
        if not is_list:
            return read_instance(value)
        if not isinstance(value, list | tuple):
            return _MISSING
        items = []
        for item in value:
            read_item = read_instance(item)
            if read_item is _MISSING:
                return _MISSING
            items.append(read_item)
        return items

    return read


def _attribute(source: Any, name: str) -> Any:
    """`source`'s attribute, or _MISSING when reading it fails in any way (a property may raise):
    the long path reads it again and reports the error at the field."""
    try:
        return getattr(source, name)
    except Exception:  # reported by the long path, located
        return _MISSING


def _absent(serialized: Any) -> bool:
    return serialized is None or serialized is Undefined or serialized is _MISSING
