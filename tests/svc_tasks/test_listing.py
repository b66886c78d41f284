from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from svc_tasks import listing
from svc_tasks.listing import OrderField, OrderKey, TaskQuery
from todo_contracts.tasks.v1 import task_pb2
from todo_contracts.tasks.v1 import tasks_service_pb2 as svc
from todo_runtime.errors import InvalidArgument
from todo_runtime.page_tokens import PageTokens


def test_order_defaults_to_newest_first() -> None:
    assert listing.order_keys([]) == (OrderKey(OrderField.CREATE_TIME, descending=True),)


@pytest.mark.parametrize(
    ("pairs", "keys"),
    [
        (
            [(svc.TASK_ORDER_FIELD_DUE_TIME, svc.ORDER_DIRECTION_UNSPECIFIED)],
            (OrderKey(OrderField.DUE_TIME, descending=False),),
        ),
        (
            [
                (svc.TASK_ORDER_FIELD_PRIORITY, svc.ORDER_DIRECTION_DESCENDING),
                (svc.TASK_ORDER_FIELD_TITLE, svc.ORDER_DIRECTION_ASCENDING),
            ],
            (
                OrderKey(OrderField.PRIORITY, descending=True),
                OrderKey(OrderField.TITLE, descending=False),
            ),
        ),
        (
            [(svc.TASK_ORDER_FIELD_UPDATE_TIME, svc.ORDER_DIRECTION_DESCENDING)],
            (OrderKey(OrderField.UPDATE_TIME, descending=True),),
        ),
    ],
)
def test_order_keys_follow_the_contract(
    pairs: list[tuple[int, int]], keys: tuple[OrderKey, ...]
) -> None:
    assert listing.order_keys(pairs) == keys


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ([(0, 1)], "order_by[0].field"),
        ([(6, 1)], "order_by[0].field"),
        ([(1, 1), (1, 2)], "order_by[1].field"),
        ([(1, 3)], "order_by[0].direction"),
    ],
)
def test_order_rejects_unspecified_unknown_and_repeated_fields(
    pairs: list[tuple[int, int]], field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        listing.order_keys(pairs)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("query", "fingerprint"),
    [
        (TaskQuery(owner_id="alice"), "0eefa512f8e0028e"),
        (
            TaskQuery(
                owner_id="alice",
                status=task_pb2.TASK_STATUS_OPEN,
                priorities=(task_pb2.PRIORITY_HIGH,),
                tags=("home",),
                overdue=True,
                search="milk",
                order=(
                    OrderKey(OrderField.PRIORITY, descending=True),
                    OrderKey(OrderField.DUE_TIME, descending=False),
                ),
            ),
            "3957e73ebcdebfb8",
        ),
    ],
)
def test_a_query_fingerprint_names_order_fields_by_their_contract_numbers(
    query: TaskQuery, fingerprint: str
) -> None:
    """Pinned: a changed fingerprint refuses every page token clients hold."""
    assert query.fingerprint == fingerprint


@pytest.mark.parametrize(
    ("status", "wanted"),
    [
        (task_pb2.TASK_STATUS_UNSPECIFIED, None),
        (task_pb2.TASK_STATUS_OPEN, task_pb2.TASK_STATUS_OPEN),
        (task_pb2.TASK_STATUS_COMPLETED, task_pb2.TASK_STATUS_COMPLETED),
    ],
)
def test_a_status_filter_is_open_completed_or_any(status: int, wanted: int | None) -> None:
    assert listing.status_filter(status) == wanted


@pytest.mark.parametrize("status", [3, -1])
def test_a_status_filter_of_no_status_is_refused(status: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        listing.status_filter(status)
    assert caught.value.field == "filter.status"


TOKENS = PageTokens("test-internal-secret-0123456789", "todo.tasks.v1.ListTasks")


def test_page_token_round_trips_and_is_tied_to_the_query_and_the_user() -> None:
    query = TaskQuery(owner_id="alice", tags=("home",))
    moment = datetime(2027, 3, 1, 12, tzinfo=UTC)
    last = uuid.uuid4()
    token = listing.encode_token(TOKENS, query, ([moment], last))
    assert listing.decode_token(TOKENS, query, token) == ([moment], last)
    with pytest.raises(InvalidArgument, match="different filter") as caught:
        listing.decode_token(TOKENS, TaskQuery(owner_id="alice", tags=("work",)), token)
    assert caught.value.field == "page_token"
    with pytest.raises(InvalidArgument, match="not a token"):
        listing.decode_token(TOKENS, TaskQuery(owner_id="bob", tags=("home",)), token)
    other_key = PageTokens("another-internal-secret-012345", "todo.tasks.v1.ListTasks")
    with pytest.raises(InvalidArgument, match="not a token"):
        listing.decode_token(other_key, query, token)


def test_a_token_changed_in_any_character_is_refused() -> None:
    query = TaskQuery(owner_id="alice")
    token = listing.encode_token(TOKENS, query, ([datetime(2027, 3, 1, tzinfo=UTC)], uuid.uuid4()))
    for index in range(len(token)):
        forged = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
        with pytest.raises(InvalidArgument):
            listing.decode_token(TOKENS, query, forged)


@pytest.mark.parametrize(
    "token", ["garbage", "e30", "!!!", "eyJ2IjoxfQ", "a.b", "x" * 5000, "\x00.\x00"]
)
def test_malformed_page_tokens_are_invalid_argument(token: str) -> None:
    with pytest.raises(InvalidArgument):
        listing.decode_token(TOKENS, TaskQuery(owner_id="alice"), token)


def test_mixed_directions_expand_the_keyset_predicate() -> None:
    order = (
        OrderKey(OrderField.PRIORITY, descending=True),
        OrderKey(OrderField.DUE_TIME, descending=False),
    )
    query = TaskQuery(
        owner_id="alice", order=order, after=([3, datetime(2027, 1, 1, tzinfo=UTC)], uuid.uuid4())
    )
    sql, params = listing.page_sql(query)
    assert "priority < $2" in sql
    assert "coalesce(due_at, 'infinity'::timestamptz) > $3" in sql
    assert len(params) == 5


def test_search_words_are_bounded() -> None:
    assert listing.search_words("Buy, milk!") == ["buy", "milk"]
    with pytest.raises(InvalidArgument):
        listing.search_words("x" * 201)


def _forged(query: TaskQuery, value: object) -> str:
    """A token signed with the real key for `query`, its one order-key value `value`."""
    payload = {"q": query.fingerprint, "k": [value], "id": str(uuid.uuid4())}
    return TOKENS.encode(query.owner_id, payload)


@pytest.mark.parametrize(
    ("order_field", "value"),
    [
        (OrderField.PRIORITY, 2**63),
        (OrderField.PRIORITY, 0),
        (OrderField.PRIORITY, 6),
        (OrderField.PRIORITY, True),
        (OrderField.PRIORITY, "3"),
        (OrderField.TITLE, 5),
        (OrderField.TITLE, "a\x00b"),
        (OrderField.CREATE_TIME, {"t": "0001-01-01T00:00:00+14:00"}),
        (OrderField.CREATE_TIME, {"t": "2027-01-01T00:00:00"}),
        (OrderField.CREATE_TIME, {"t": "9999-12-31T23:59:59.999999"}),
        (OrderField.DUE_TIME, {"t": "2027-01-01T00:00:00"}),
        (OrderField.DUE_TIME, 5),
        (OrderField.UPDATE_TIME, {"x": 1}),
    ],
)
def test_a_token_holding_what_its_column_cannot_take_is_invalid_argument(
    order_field: OrderField, value: object
) -> None:
    query = TaskQuery(owner_id="alice", order=(OrderKey(order_field, descending=False),))
    with pytest.raises(InvalidArgument) as caught:
        listing.decode_token(TOKENS, query, _forged(query, value), "before_page_token")
    assert caught.value.field == "before_page_token"


@pytest.mark.parametrize(
    ("order_field", "value", "decoded"),
    [
        (OrderField.PRIORITY, 5, 5),
        (OrderField.TITLE, "water", "water"),
        (OrderField.DUE_TIME, {"t": datetime.max.isoformat()}, datetime.max),  # no due time
        (OrderField.DUE_TIME, {"t": datetime.min.isoformat()}, datetime.min),
        (
            OrderField.DUE_TIME,
            {"t": "2027-03-01T09:00:00+01:00"},
            datetime(2027, 3, 1, 8, tzinfo=UTC),
        ),
    ],
)
def test_a_token_holding_what_its_column_takes_is_read(
    order_field: OrderField, value: object, decoded: object
) -> None:
    query = TaskQuery(owner_id="alice", order=(OrderKey(order_field, descending=True),))
    values, _ = listing.decode_token(TOKENS, query, _forged(query, value))
    assert values == [decoded]
