"""The golden table (`table.ROWS`): every line gives exactly the fields it lists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.quickadd.table import ROWS, Row
from todo_quickadd import parse_quick_add


def _instant(text: str) -> tuple[datetime, object]:
    """The UTC instant and the local offset: aware datetimes in a repeated hour compare unequal
    to any other zone's (PEP 495), so the pair is what is compared."""
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC), value.utcoffset()


def _seen(value: datetime) -> tuple[datetime, object]:
    return value.astimezone(UTC), value.utcoffset()


def test_the_table_is_big_enough() -> None:
    assert len(ROWS) >= 150
    assert len({(row.line, row.zone.key) for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.zone.key}:{row.line!r}" for row in ROWS])
def test_line(row: Row) -> None:
    parsed = parse_quick_add(row.line, row.zone, row.now)
    assert parsed.title == row.title
    if row.due is not None:
        assert parsed.due is not None
        assert _seen(parsed.due) == _instant(row.due)
    elif row.rule is None:
        assert parsed.due is None
    assert parsed.recurrence_rule == row.rule
    assert parsed.tags == row.tags
    assert parsed.priority == row.priority
    assert parsed.remind_minutes_before == row.minutes
    assert [_seen(r) for r in parsed.remind_at] == [_instant(r) for r in row.remind_at]
