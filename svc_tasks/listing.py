"""ListTasks as query building (the store runs it): filters, multi-key ordering and keyset
page tokens.

Each order key is a non-null SQL expression (due times are coalesced so tasks
without one sort last in both directions) backed by an index in the
migrations; the task id is the final tie-breaker. A filter by one tag in
creation order reads that tag's tasks in that order from `task_tags` instead. A page token carries the
last row's key values and a hash of the filter and order, signed for its
owner (`PageTokens`), so it cannot be forged, used by another user or replayed
against a different query; paging stays stable while tasks are inserted
concurrently.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Final

from svc_tasks.domain import fields
from svc_tasks.messages import TASK_COLUMNS
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime.enum_maps import from_numbers, to_numbers
from todo_runtime.errors import InvalidArgument
from todo_runtime.page_tokens import (
    PageTokens,
    Payload,
    checked_instant,
    checked_integer,
    checked_text,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
SEARCH_MAX = 200
MAX_SEARCH_WORDS = 8
# A search word matches as a word prefix, or as one of the 10 words of the
# owner's own tasks most similar to it (a small typo away; threshold set on the
# connection). Only the owner's words: another user's vocabulary must neither
# change nor reveal itself in these results. Ties break by the word, not by
# where rows happen to lie.
_WORD_MATCH = (
    "search_document @@ (SELECT to_tsquery('simple', string_agg(quote_literal(t.term) || t.suffix, ' | '))"
    " FROM (SELECT $word::text AS term, ':*' AS suffix"
    " UNION ALL (SELECT word, '' FROM search_words WHERE owner_id = $owner AND word % $word"
    " ORDER BY word <-> $word, word LIMIT 10)) t)"
)


# A row's place in an ordering: its order-key values and its id (the final tie-breaker).
Position = tuple[list[Any], uuid.UUID]


class OrderField(Enum):
    """What a list is ordered by: the contract's TaskOrderField, matched by name."""

    DUE_TIME = "due_time"
    PRIORITY = "priority"
    TITLE = "title"
    CREATE_TIME = "create_time"
    UPDATE_TIME = "update_time"


_FIELD_NUMBERS: Final = to_numbers(OrderField, tasks_service_pb2.TaskOrderField)
_FIELDS: Final = from_numbers(OrderField, tasks_service_pb2.TaskOrderField)
_DIRECTIONS: Final = frozenset(tasks_service_pb2.OrderDirection.values())
_STATUSES: Final = (task_pb2.TASK_STATUS_OPEN, task_pb2.TASK_STATUS_COMPLETED)
# Written into the SQL as a literal, as the partial index on open tasks has it.
_OPEN: Final = int(task_pb2.TASK_STATUS_OPEN)

_EXPRESSIONS: dict[tuple[OrderField, bool], str] = {
    (OrderField.DUE_TIME, False): "coalesce(due_at, 'infinity'::timestamptz)",
    (OrderField.DUE_TIME, True): "coalesce(due_at, '-infinity'::timestamptz)",
}
_COLUMNS = {
    OrderField.PRIORITY: "priority",
    OrderField.TITLE: "lower(title)",
    OrderField.CREATE_TIME: "created_at",
    OrderField.UPDATE_TIME: "updated_at",
}


@dataclass(frozen=True)
class OrderKey:
    field: OrderField
    descending: bool

    @property
    def expression(self) -> str:
        return _EXPRESSIONS.get((self.field, self.descending)) or _COLUMNS[self.field]


@dataclass(frozen=True)
class TaskQuery:
    """A validated ListTasks request for one owner."""

    owner_id: str
    status: int | None = None
    priorities: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool | None = None
    search: str = ""
    order: tuple[OrderKey, ...] = (OrderKey(OrderField.CREATE_TIME, descending=True),)
    page_size: int = DEFAULT_PAGE_SIZE
    after: Position | None = field(default=None, compare=False)
    before: Position | None = field(default=None, compare=False)
    from_end: bool = False

    @functools.cached_property
    def fingerprint(self) -> str:
        """Identifies the filter and order a page token belongs to (once per query: a page signs
        one token per row)."""
        shape = [
            self.status,
            list(self.priorities),
            list(self.tags),
            self.due_before.isoformat() if self.due_before else None,
            self.due_after.isoformat() if self.due_after else None,
            self.overdue,
            self.search,
            [(_FIELD_NUMBERS[key.field], key.descending) for key in self.order],
        ]
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def status_filter(value: int) -> int | None:
    """The TaskStatus a filter asks for, or None (UNSPECIFIED: any)."""
    if value not in (task_pb2.TASK_STATUS_UNSPECIFIED, *_STATUSES):
        raise InvalidArgument("filter.status", "must be OPEN or COMPLETED")
    return value or None


def order_keys(pairs: list[tuple[int, int]]) -> tuple[OrderKey, ...]:
    """(TaskOrderField, OrderDirection) pairs → keys; each field at most once."""
    if not pairs:
        return (OrderKey(OrderField.CREATE_TIME, descending=True),)
    keys: list[OrderKey] = []
    for index, (field_number, direction) in enumerate(pairs):
        order_field = _FIELDS.get(field_number)
        if order_field is None:
            raise InvalidArgument(
                f"order_by[{index}].field", "must be a TaskOrderField other than UNSPECIFIED"
            )
        if direction not in _DIRECTIONS:
            raise InvalidArgument(f"order_by[{index}].direction", "must be ASCENDING or DESCENDING")
        if any(key.field is order_field for key in keys):
            raise InvalidArgument(
                f"order_by[{index}].field", f"{order_field.name} is already ordered by"
            )
        descending = direction == tasks_service_pb2.ORDER_DIRECTION_DESCENDING
        keys.append(OrderKey(order_field, descending=descending))
    return tuple(keys)


def _word_match(owner: str, word: str) -> str:
    """The clause matching one search word; `owner` and `word` are parameter placeholders."""
    return _WORD_MATCH.replace("$owner", owner).replace("$word", word)


def search_words(text: str) -> list[str]:
    if len(text) > SEARCH_MAX:
        raise InvalidArgument("filter.search", f"must be at most {SEARCH_MAX} characters")
    words = [
        word for word in "".join(ch if ch.isalnum() else " " for ch in text.lower()).split() if word
    ]
    if len(words) > MAX_SEARCH_WORDS:
        raise InvalidArgument("filter.search", f"at most {MAX_SEARCH_WORDS} words")
    return words


class _Params:
    def __init__(self) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _where(query: TaskQuery, params: _Params) -> list[str]:
    owner = params.add(query.owner_id)
    clauses = [f"owner_id = {owner}"]
    if query.status is not None:
        clauses.append(f"status = {params.add(query.status)}")
    if query.priorities:
        clauses.append(f"priority = ANY({params.add(list(query.priorities))}::smallint[])")
    if query.tags:
        clauses.append(f"tags @> {params.add(list(query.tags))}::text[]")
    if query.due_before is not None:
        clauses.append(f"due_at < {params.add(query.due_before)}")
    if query.due_after is not None:
        clauses.append(f"due_at >= {params.add(query.due_after)}")
    if query.overdue is True:
        clauses.append(f"(status = {_OPEN} AND due_at < now())")
    elif query.overdue is False:
        clauses.append(f"NOT (status = {_OPEN} AND due_at IS NOT NULL AND due_at < now())")
    for word in search_words(query.search):
        clauses.append(_word_match(owner, params.add(word)))
    return clauses


# Rows beyond a position, by (descending, complement): the complement is the position itself and
# every row on its other side.
_ROW_COMPARISONS: Final = {
    (True, False): "<",
    (False, False): ">",
    (True, True): ">=",
    (False, True): "<=",
}


def _beyond(
    keys: tuple[OrderKey, ...],
    position: Position,
    params: _Params,
    *,
    before: bool,
    columns: tuple[str, ...] | None = None,
    complement: bool = False,
) -> str:
    """Rows strictly after (`before`: strictly before) `position` in (keys..., id) order, or
    (`complement`) every other row; `columns` are where the keys and the id are read (default:
    the tasks table's).

    The id follows the first key's direction. In one direction the complement is a row
    comparison too (the keys are never null), which an index serves where `NOT` is a filter.
    """
    values, last_id = position
    columns = columns or (*(key.expression for key in keys), "id")
    descending = [key.descending != before for key in keys] + [keys[0].descending != before]
    placeholders = [params.add(value) for value in values] + [params.add(last_id)]
    if len(set(descending)) == 1:  # one direction: a row comparison the index can serve
        op = _ROW_COMPARISONS[descending[0], complement]
        return f"({', '.join(columns)}) {op} ({', '.join(placeholders)})"
    alternatives = []
    for index in range(len(columns)):
        equal = [f"{columns[i]} = {placeholders[i]}" for i in range(index)]
        op = "<" if descending[index] else ">"
        alternatives.append(" AND ".join([*equal, f"{columns[index]} {op} {placeholders[index]}"]))
    expanded = "(" + " OR ".join(f"({alt})" for alt in alternatives) + ")"
    return f"NOT {expanded}" if complement else expanded


def _window(query: TaskQuery, params: _Params) -> list[str]:
    """The filter, narrowed to the rows between the query's `after` and `before` positions."""
    clauses = _where(query, params)
    if query.after is not None:
        clauses.append(_beyond(query.order, query.after, params, before=False))
    if query.before is not None:
        clauses.append(_beyond(query.order, query.before, params, before=True))
    return clauses


def _direction(descending: bool) -> str:
    return "DESC" if descending else "ASC"


def page_sql(query: TaskQuery, columns: str = TASK_COLUMNS) -> tuple[str, list[Any]]:
    """SELECT of one page: page_size + 1 rows of the window (to know whether more follow), each
    with the tasks' `columns`.

    `from_end` takes them from the window's end, so they come back in reverse
    order (the caller turns them round). The order-key values are selected as
    columns k0..kn for the rows' positions.
    """
    params = _Params()
    keys_sql = ", ".join(f"{key.expression} AS k{index}" for index, key in enumerate(query.order))
    # Only code-defined expressions are interpolated; every value is a parameter.
    if _by_tag(query):
        where = " AND ".join(_where(query, params))
        tagged = " AND ".join(_tag_window(query, params))
        order_sql = _order_by(query, [_TAGGED[0]], _TAGGED[1])
        limit = params.add(query.page_size + 1)
        sql = (
            f"SELECT listed.* FROM task_tags AS tagged CROSS JOIN LATERAL (SELECT {columns}, "  # noqa: S608
            f"{keys_sql} FROM tasks WHERE id = tagged.task_id AND {where}) AS listed "
            f"WHERE {tagged} ORDER BY {order_sql} LIMIT {limit}"
        )
        return sql, params.values
    where = " AND ".join(_window(query, params))
    order_sql = _order_by(query, [key.expression for key in query.order], "id")
    limit = params.add(query.page_size + 1)
    sql = (
        f"SELECT {columns}, {keys_sql} FROM tasks WHERE {where} ORDER BY {order_sql} LIMIT {limit}"  # noqa: S608
    )
    return sql, params.values


# `task_tags`' columns holding a task's creation time and id (migration 0005).
_TAGGED: Final = ("tagged.created_at", "tagged.task_id")


def _by_tag(query: TaskQuery) -> bool:
    """Whether the query's rows are read from `task_tags` (the tag's rows, in creation order)
    rather than from the tasks table: a filter by one tag in an order by creation time alone.
    Several tags are matched together by the tasks' GIN index instead: read by one of them, a
    page would pass every task that has it without the others."""
    return len(query.tags) == 1 and [key.field for key in query.order] == [OrderField.CREATE_TIME]


def _tag_window(query: TaskQuery, params: _Params) -> list[str]:
    """`task_tags`' rows of the owner ($1, the first parameter `_where` adds) and the query's
    tag, narrowed to the window between its `after` and `before` positions."""
    clauses = ["tagged.owner_id = $1", f"tagged.tag = {params.add(query.tags[0])}"]
    if query.after is not None:
        clauses.append(_beyond(query.order, query.after, params, before=False, columns=_TAGGED))
    if query.before is not None:
        clauses.append(_beyond(query.order, query.before, params, before=True, columns=_TAGGED))
    return clauses


def page_with_latest_sql(query: TaskQuery, columns: str = TASK_COLUMNS) -> tuple[str, list[Any]]:
    """`page_sql`'s rows, each with the owner's change-log sequence (`latest_sequence`) read by
    the same statement, so in the same snapshot: the changes after it are exactly those the page
    does not show. An empty page is one row of NULLs but that sequence. One statement needs no
    transaction block around the page and the sequence."""
    sql, params = page_sql(query, columns)
    keys = [f"page.k{index}" for index in range(len(query.order))]
    latest = "coalesce((SELECT last_sequence FROM user_sequences WHERE owner_id = $1), 0)"
    return (
        f"SELECT latest.sequence AS latest_sequence, page.* FROM (SELECT {latest} AS sequence) "  # noqa: S608 - code-defined SQL, values are parameters
        f"AS latest LEFT JOIN ({sql}) AS page ON true "
        f"ORDER BY {_order_by(query, keys, 'page.id')}",
        params,
    )


def _order_by(query: TaskQuery, keys: list[str], id_column: str) -> str:
    """`keys` (the order's expressions, or the columns holding them) then the id, each in the
    direction the page reads them; the id follows the first key's."""
    flip = query.from_end
    directions = [_direction(key.descending != flip) for key in query.order]
    ordered = [f"{key} {direction}" for key, direction in zip(keys, directions, strict=True)]
    return ", ".join([*ordered, f"{id_column} {directions[0]}"])


def beyond_window_sql(query: TaskQuery, *, before: bool) -> tuple[str, list[Any]] | None:
    """Whether matching rows lie before the window's `after` position (`before` True) or after
    its `before` position; None when that side of the window is open (the page tells)."""
    position = query.after if before else query.before
    if position is None:
        return None
    params = _Params()
    clauses = _where(query, params)
    if _by_tag(query):
        where = " AND ".join(clauses)
        tagged = f"tagged.owner_id = $1 AND tagged.tag = {params.add(query.tags[0])}"
        outside = _beyond(
            query.order, position, params, before=not before, columns=_TAGGED, complement=True
        )
        return (
            f"SELECT EXISTS (SELECT 1 FROM task_tags AS tagged WHERE {tagged} AND {outside} "  # noqa: S608
            f"AND EXISTS (SELECT 1 FROM tasks WHERE id = tagged.task_id AND {where}))",
            params.values,
        )
    clauses.append(_beyond(query.order, position, params, before=not before, complement=True))
    where = " AND ".join(clauses)
    return f"SELECT EXISTS (SELECT 1 FROM tasks WHERE {where})", params.values  # noqa: S608


def count_sql(query: TaskQuery) -> tuple[str, list[Any]]:
    params = _Params()
    where = " AND ".join(_where(query, params))
    return f"SELECT count(*) FROM tasks WHERE {where}", params.values  # noqa: S608 - values are parameters


def _encode_value(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(key: OrderKey, value: object, payload: Payload) -> Any:
    """An order key's value from a token, of the type (and range) its column holds."""
    if key.field is OrderField.PRIORITY:
        return checked_integer(
            value, payload, minimum=min(fields.PRIORITIES), maximum=max(fields.PRIORITIES)
        )
    if key.field is OrderField.TITLE:
        return checked_text(value, payload)
    if not isinstance(value, dict):
        raise payload.invalid()
    return checked_instant(value.get("t"), payload, infinite=key.field is OrderField.DUE_TIME)


def encode_token(tokens: PageTokens, query: TaskQuery, position: Position) -> str:
    """A signed token for the rows after `position` in `query`, usable by its owner only."""
    values, last_id = position
    payload = {
        "q": query.fingerprint,
        "k": [_encode_value(v) for v in values],
        "id": str(last_id),
    }
    return tokens.encode(query.owner_id, payload)


def decode_token(
    tokens: PageTokens, query: TaskQuery, token: str, field: str = "page_token"
) -> Position:
    """The position in `token`; INVALID_ARGUMENT naming `field` when the token is forged, another
    user's, or from another filter or order."""
    payload = tokens.decode(query.owner_id, token, field)
    if payload.get("q") != query.fingerprint:
        raise InvalidArgument(
            field, "belongs to a different filter or order; start again without it"
        )
    values = payload.get("k")
    if not isinstance(values, list) or len(values) != len(query.order):
        raise payload.invalid()
    keys = [
        _decode_value(key, value, payload) for key, value in zip(query.order, values, strict=True)
    ]
    return keys, payload.identifier("id")
