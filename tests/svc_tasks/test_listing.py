from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from svc_tasks import listing
from svc_tasks.listing import OrderField, OrderKey, TaskQuery
from todo_runtime.errors import InvalidArgument
from todo_runtime.page_tokens import PageTokens


def test_page_size_follows_aip_158() -> None:
    assert listing.page_size(0) == 50
    assert listing.page_size(7) == 7
    assert listing.page_size(10_000) == listing.MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument) as caught:
        listing.page_size(-1)
    assert caught.value.field == "page_size"


def test_order_defaults_to_newest_first() -> None:
    assert listing.order_keys([]) == (OrderKey(OrderField.CREATE_TIME, descending=True),)


def test_order_rejects_unspecified_and_repeated_fields() -> None:
    with pytest.raises(InvalidArgument) as caught:
        listing.order_keys([(0, 1)])
    assert caught.value.field == "order_by[0].field"
    with pytest.raises(InvalidArgument) as caught:
        listing.order_keys([(1, 1), (1, 2)])
    assert caught.value.field == "order_by[1].field"


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
    payload = {"q": query.fingerprint(), "k": [value], "id": str(uuid.uuid4())}
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
