"""Rules about one field's value (svc_tasks.domain.fields): no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from svc_tasks.domain import fields
from svc_tasks.domain.fields import Reminder
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.errors import InvalidArgument


def test_title_is_trimmed_and_bounded() -> None:
    assert fields.title("  buy milk ") == "buy milk"
    assert fields.title("x" * 500) == "x" * 500
    for bad in ["", "   ", "x" * 501]:
        with pytest.raises(InvalidArgument) as caught:
            fields.title(bad)
        assert caught.value.field == "task.title"


def test_tags_are_normalized_case_insensitively() -> None:
    assert fields.tags([" Home", "home", "WORK ", "errands"]) == ["home", "work", "errands"]


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
        fields.tags(tags)
    assert caught.value.field == field


def test_tags_are_counted_as_sent_before_any_is_looked_at() -> None:
    assert fields.tags([f"t{i}" for i in range(18)] + ["T0", "t1"]) == [f"t{i}" for i in range(18)]
    with pytest.raises(InvalidArgument) as caught:
        fields.tags(["home"] * 100_000, "filter.tags")
    assert caught.value.field == "filter.tags"
    assert "at most 20" in str(caught.value)


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"])
def test_known_zones(name: str) -> None:
    assert fields.time_zone(name).key == name


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "Europe/berlin_x", "/etc/localtime", "../../etc/passwd", "+02:00"]
)
def test_unknown_zones_are_rejected(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        fields.time_zone(name)
    assert caught.value.field == "task.time_zone"


def test_empty_zone_means_utc() -> None:
    assert fields.time_zone("").key == "UTC"


@pytest.mark.parametrize("value", sorted(fields.PRIORITIES))
def test_every_priority_of_the_contract_is_accepted(value: int) -> None:
    assert fields.priority(value) == value


@pytest.mark.parametrize("value", [task_pb2.PRIORITY_UNSPECIFIED, 6, -1])
def test_priority_must_be_a_priority(value: int) -> None:
    with pytest.raises(InvalidArgument, match="NONE, LOW, MEDIUM, HIGH, URGENT") as caught:
        fields.priority(value)
    assert caught.value.field == "task.priority"


DUE = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reminders", "due", "field"),
    [
        ([Reminder(minutes_before=10)], None, "task.reminders[0].minutes_before"),
        ([Reminder()], None, "task.reminders[0]"),
        ([Reminder(minutes_before=525_601)], DUE, "task.reminders[0].minutes_before"),
        ([Reminder(minutes_before=-1)], DUE, "task.reminders[0].minutes_before"),
        (
            [Reminder(minutes_before=5), Reminder(at=datetime(1969, 12, 31, tzinfo=UTC))],
            DUE,
            "task.reminders[1].remind_time",
        ),
        ([Reminder(minutes_before=m) for m in range(11)], DUE, "task.reminders"),
    ],
)
def test_bad_reminders_name_the_field(
    reminders: list[Reminder], due: datetime | None, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        fields.reminders(reminders, due)
    assert caught.value.field == field


def test_reminders_are_deduplicated_by_id() -> None:
    at = datetime(2026, 12, 31, 12, tzinfo=UTC)
    result = fields.reminders(
        [
            Reminder(minutes_before=10),
            Reminder(minutes_before=10),
            Reminder(at=at),
        ],
        DUE,
    )
    assert [r.id for r in result] == ["before-10", f"at-{int(at.timestamp())}"]


SERIES = "6f1c2b9e-3d4a-4f5b-8c7d-9e0f1a2b3c4d"


@pytest.mark.parametrize(
    ("series_id", "index", "expected"),
    [
        ("", 0, (None, None)),
        (SERIES, 3, (uuid.UUID(SERIES), 3)),
    ],
)
def test_an_explicit_series_occurrence(
    series_id: str, index: int, expected: tuple[uuid.UUID | None, int | None]
) -> None:
    assert fields.series(series_id, index) == expected


@pytest.mark.parametrize(
    ("series_id", "index", "field"),
    [
        ("", 2, "task.series_index"),
        (SERIES, 0, "task.series_index"),
        ("not-a-uuid", 2, "task.series_id"),
    ],
)
def test_series_needs_an_id_for_an_index(series_id: str, index: int, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        fields.series(series_id, index)
    assert caught.value.field == field
