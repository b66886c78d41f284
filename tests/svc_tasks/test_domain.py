from __future__ import annotations

from datetime import UTC, datetime

import pytest

from svc_tasks import domain
from todo_runtime.errors import InvalidArgument


def test_title_is_trimmed_and_bounded() -> None:
    assert domain.title("  buy milk ") == "buy milk"
    assert domain.title("x" * 500) == "x" * 500
    for bad in ["", "   ", "x" * 501]:
        with pytest.raises(InvalidArgument) as caught:
            domain.title(bad)
        assert caught.value.field == "task.title"


def test_tags_are_normalized_case_insensitively() -> None:
    assert domain.tags([" Home", "home", "WORK ", "errands"]) == ["home", "work", "errands"]


@pytest.mark.parametrize(
    ("tags", "field"),
    [
        ([f"t{i}" for i in range(21)], "task.tags"),
        (["ok", " "], "task.tags[1]"),
        (["x" * 51], "task.tags[0]"),
    ],
)
def test_bad_tags_name_the_field(tags: list[str], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.tags(tags)
    assert caught.value.field == field


def test_tags_are_counted_as_sent_before_any_is_looked_at() -> None:
    assert domain.tags([f"t{i}" for i in range(18)] + ["T0", "t1"]) == [f"t{i}" for i in range(18)]
    with pytest.raises(InvalidArgument) as caught:
        domain.tags(["home"] * 100_000, "filter.tags")
    assert caught.value.field == "filter.tags"
    assert "at most 20" in str(caught.value)


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"])
def test_known_zones(name: str) -> None:
    assert domain.time_zone(name).key == name


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "Europe/berlin_x", "/etc/localtime", "../../etc/passwd", "+02:00"]
)
def test_unknown_zones_are_rejected(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.time_zone(name)
    assert caught.value.field == "task.time_zone"


def test_empty_zone_means_utc() -> None:
    assert domain.time_zone("").key == "UTC"


def test_priority_must_be_a_priority() -> None:
    assert domain.priority(domain.PRIORITY_NONE) == domain.PRIORITY_NONE
    for bad in (0, 6, -1):
        with pytest.raises(InvalidArgument) as caught:
            domain.priority(bad)
        assert caught.value.field == "task.priority"


def test_relative_reminders_need_a_due_time() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.reminders([domain.Reminder(minutes_before=10)], None)
    assert caught.value.field == "task.reminders[0].minutes_before"


def test_reminders_are_deduplicated_by_id() -> None:
    due = datetime(2027, 1, 1, tzinfo=UTC)
    at = datetime(2026, 12, 31, 12, tzinfo=UTC)
    result = domain.reminders(
        [
            domain.Reminder(minutes_before=10),
            domain.Reminder(minutes_before=10),
            domain.Reminder(at=at),
        ],
        due,
    )
    assert [r.id for r in result] == ["before-10", f"at-{int(at.timestamp())}"]


def test_reminder_without_a_time_is_rejected() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.reminders([domain.Reminder()], None)
    assert caught.value.field == "task.reminders[0]"


def test_series_needs_an_id_for_an_index() -> None:
    assert domain.series("", 0) == (None, None)
    with pytest.raises(InvalidArgument):
        domain.series("", 2)
    with pytest.raises(InvalidArgument):
        domain.series("not-a-uuid", 2)
