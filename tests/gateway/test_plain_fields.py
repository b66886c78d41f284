"""The short path for plain fields (`gateway.execution`) answers exactly as
graphql-core's own execution does: same data, same errors at the same paths, for every shape of
field and every bad value a source object can hold; and it is really taken."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from graphql import GraphQLField, GraphQLFormattedError, GraphQLObjectType
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from gateway.api.scalars import SCALAR_MAP
from gateway.execution import PLAIN_FIELDS_KEY, Leaf, Nested, PlainFields, attach_plain_fields
from gateway.schema import build_schema


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@strawberry.interface
class Thing:
    id: strawberry.ID


@strawberry.type
class Item(Thing):
    name: str
    count: int
    ratio: float
    ready: bool
    color: Color
    at: datetime
    maybe: str | None
    tags: list[str]
    colors: list[Color]
    maybe_tags: list[str] | None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    async def later(self) -> str:
        """Async, and failing for a count over 8: errors that surface only when awaited."""
        await asyncio.sleep(0)
        if isinstance(self.count, int) and self.count > 8:
            raise ValueError("too late")
        return self.name


@strawberry.type
class Box:
    label: str
    item: Item
    items: list[Item]
    maybe_item: Item | None


def good_item(number: int) -> Item:
    return Item(
        id=strawberry.ID(f"i{number}"),
        name=f"item {number}",
        count=number,
        ratio=number / 4,
        ready=number % 2 == 0,
        color=Color.GREEN,
        at=datetime(2026, 3, 1, 9, number, tzinfo=UTC),
        maybe=None if number % 2 else "here",
        tags=["a", f"t{number}"],
        colors=[Color.RED, Color.GREEN],
        maybe_tags=None,
    )


def broken(**changes: Any) -> Item:
    """An Item whose attributes hold what the schema forbids (a resolver's bug)."""
    item = good_item(9)
    for name, value in changes.items():
        object.__setattr__(item, name, value)
    return item


def _without(name: str) -> Item:
    item = good_item(8)
    object.__delattr__(item, name)
    return item


class Unreadable(Item):
    """An Item whose `name` raises when read, as a property of a resolver's object may."""

    @property
    def name(self) -> str:  # type: ignore[override]  # read-only on purpose
        raise RuntimeError("unreadable")


def unreadable() -> Item:
    item = Unreadable.__new__(Unreadable)
    vars(item).update(vars(good_item(4)))
    return item


SOURCES: dict[str, Callable[[], Box]] = {
    "good": lambda: Box(
        label="box", item=good_item(1), items=[good_item(2), good_item(3)], maybe_item=None
    ),
    "null in non-null": lambda: Box(
        label="box", item=broken(name=None), items=[broken(count=None)], maybe_item=None
    ),
    "wrong scalar": lambda: Box(
        label="box",
        item=broken(count="many", ratio="half", ready="yes"),
        items=[broken(at="yesterday")],
        maybe_item=broken(id=["not", "an", "id"]),
    ),
    "wrong enum": lambda: Box(
        label="box",
        item=broken(color="BLUE"),
        items=[broken(colors=["RED", "pink"])],
        maybe_item=None,
    ),
    "bad list": lambda: Box(
        label="box",
        item=broken(tags="not a list"),
        items=[broken(tags=["ok", None]), broken(maybe_tags=[1, 2])],
        maybe_item=broken(maybe_tags=["x"]),
    ),
    "missing attribute": lambda: Box(
        label="box", item=_without("name"), items=[], maybe_item=_without("maybe")
    ),
    "object of another class": lambda: Box(
        label="box",
        item=Box(label="inner", item=good_item(1), items=[], maybe_item=None),  # type: ignore[arg-type]
        items=[good_item(2)],
        maybe_item={"id": "i3", "name": "a dict"},  # type: ignore[arg-type]
    ),
    "cast object": lambda: Box(
        label="box",
        item=strawberry.cast(Item, good_item(1)),
        items=[good_item(2)],
        maybe_item=strawberry.cast(Box, good_item(3)),
    ),
    "error inside an object": lambda: Box(
        label="box",
        item=broken(name=None),
        items=[good_item(2)],
        maybe_item=broken(count="many"),
    ),
    "unreadable attribute": lambda: Box(
        label="box", item=unreadable(), items=[unreadable()], maybe_item=unreadable()
    ),
    "int out of range": lambda: Box(
        label="box", item=broken(count=2**40), items=[broken(ratio=float("nan"))], maybe_item=None
    ),
}

ALL_FIELDS = "id name count ratio ready color at maybe tags colors maybeTags shout later __typename"
DOCUMENTS = [
    f"{{ box {{ label item {{ {ALL_FIELDS} }} items {{ {ALL_FIELDS} }} maybeItem {{ id }} }} }}",
    "{ box { item { a: name b: name name count } items { n: count, c: color } } }",
    "{ box { ...B } } fragment B on Box { item { ...I id } items { ... on Item { tags } } }"
    " fragment I on Item { name color }",
    "query($no: Boolean!) { box { item { name count @include(if: $no) at @skip(if: $no) } } }",
    "{ box { item { name } item { count } items { name } items { colors } } }",
    "{ box { maybeItem { ... on Thing { id } name maybe } item { __typename ... on Item { id } } } }",
    "{ box { __typename items { __typename name tags } maybeItem { __typename at } } }",
]


def schema_for(
    source: Box, *, short_path: bool, extensions: list[type[SchemaExtension]] | None = None
) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def box(self) -> Box:
            return source

    schema = strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=extensions or [],
        execution_context_class=PlainFields if short_path else None,
    )
    if short_path:
        attach_plain_fields(schema._schema, schema.config.default_resolver)
    return schema


async def outcome(
    schema: strawberry.Schema, document: str
) -> tuple[dict[str, Any] | None, list[GraphQLFormattedError]]:
    result = await schema.execute(document, variable_values={"no": False})
    errors = sorted(
        (error.formatted for error in result.errors or []), key=lambda e: str(e.get("path"))
    )
    return result.data, errors


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("source", list(SOURCES))
async def test_the_short_path_answers_as_graphql_core_does(source: str, document: str) -> None:
    box = SOURCES[source]()
    expected = await outcome(schema_for(box, short_path=False), document)
    assert await outcome(schema_for(box, short_path=True), document) == expected
    if source != "good" and document == DOCUMENTS[0]:  # the one document selecting every field
        assert expected[1], "each bad source must make the long path report an error"


def resolver_calls(schema: strawberry.Schema) -> list[str]:
    """From now on, records each call of a field resolver of `schema` (graphql-core's path)."""
    calls: list[str] = []
    for named in schema._schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for name, field in named.fields.items():
                _count_calls(field, f"{named.name}.{name}", calls)
    return calls


def _count_calls(field: GraphQLField, label: str, calls: list[str]) -> None:
    resolve = field.resolve
    if resolve is None:
        return

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(label)
        return resolve(*args, **kwargs)

    counted._is_default = getattr(resolve, "_is_default", False)  # type: ignore[attr-defined]
    field.resolve = counted


class Hooked(SchemaExtension):
    """An extension with a per-field hook, as tracing's: every field must pass through it."""

    def resolve(
        self,
        _next: Callable[..., object],
        root: object,
        info: object,
        *args: object,
        **kwargs: object,
    ) -> object:
        return _next(root, info, *args, **kwargs)


@pytest.mark.parametrize(
    ("document", "called"),
    [
        # Fields with resolvers inside a list of objects: the list takes graphql-core's path.
        (DOCUMENTS[0], ["Box.items", "Item.later", "Item.shout", "Query.box"]),
        # A selection plain through and through is read without any resolver of its own.
        (DOCUMENTS[1], ["Query.box"]),
    ],
)
async def test_plain_fields_skip_their_resolvers_and_the_others_do_not(
    document: str, called: list[str]
) -> None:
    schema = schema_for(SOURCES["good"](), short_path=True)
    calls = resolver_calls(schema)
    data, errors = await outcome(schema, document)
    assert data is not None
    assert not errors
    assert sorted(set(calls)) == called


async def test_a_field_hook_turns_the_short_path_off() -> None:
    schema = schema_for(SOURCES["good"](), short_path=True, extensions=[Hooked])
    calls = resolver_calls(schema)
    await outcome(schema, DOCUMENTS[0])
    assert {"Item.name", "Item.tags", "Item.color", "Box.label", "Box.item"} <= set(calls)


def test_the_gateway_schema_takes_the_short_path_for_a_pages_plain_fields() -> None:
    schema = build_schema()
    plain = schema._schema.extensions[PLAIN_FIELDS_KEY]
    task = {field: found for (type_name, field), found in plain.items() if type_name == "Task"}
    for name in ("id", "title", "dueAt", "priority", "tags", "status", "version"):
        assert isinstance(task[name], Leaf), name
    assert isinstance(task["recurrence"], Nested)
    assert isinstance(plain["TaskEdge", "node"], Nested)
    for listed in (task["reminders"], plain["TaskConnection", "edges"]):
        assert isinstance(listed, Nested)
        assert listed.is_list
    assert schema.execution_context_class is PlainFields
