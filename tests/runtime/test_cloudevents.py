"""CloudEvents binary-mode headers: what producers write is what consumers read back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from todo_runtime.cloudevents import EventHeaders, EventHeadersError, event_headers, read_headers

TIME = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))


def headers() -> list[tuple[str, bytes]]:
    return event_headers(
        event_id="e-1",
        source="/svc_tasks",
        type="todo.task.completed",
        subject="task-42",
        time=TIME,
        message_name="todo.events.v1.TaskEvent",
    )


def test_headers_are_cloudevents_binary_mode() -> None:
    assert dict(headers()) == {
        "ce_specversion": b"1.0",
        "ce_id": b"e-1",
        "ce_source": b"/svc_tasks",
        "ce_type": b"todo.task.completed",
        "ce_time": b"2026-03-28T23:30:15.123456Z",
        "ce_subject": b"task-42",
        "content-type": b"application/protobuf",
        "proto_message": b"todo.events.v1.TaskEvent",
    }


def test_read_headers_round_trips() -> None:
    parsed = read_headers(headers())
    assert parsed == EventHeaders(
        id="e-1",
        source="/svc_tasks",
        type="todo.task.completed",
        subject="task-42",
        time=TIME,
        message_name="todo.events.v1.TaskEvent",
    )
    assert parsed.time.utcoffset() == timedelta(0)


def test_read_headers_accepts_text_values_and_ignores_unknown_headers() -> None:
    pairs: list[tuple[str, bytes | str | None]] = [
        ("traceparent", b"00-abc"),
        *((name, value.decode()) for name, value in headers()),
        ("ce_id", "a later duplicate"),
    ]
    assert read_headers(pairs).id == "e-1"
    assert read_headers(dict(headers())).type == "todo.task.completed"


@pytest.mark.parametrize(
    "missing",
    ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "proto_message"],
)
def test_missing_required_header_is_named(missing: str) -> None:
    pairs = [(name, value) for name, value in headers() if name != missing]
    with pytest.raises(EventHeadersError, match=missing):
        read_headers(pairs)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ce_specversion", b"0.3", "specversion"),
        ("ce_time", b"yesterday", "RFC 3339"),
        ("ce_time", b"2026-03-28T23:30:15", "offset"),
        ("ce_id", b"\xff\xfe", "UTF-8"),
        ("ce_id", b"", "ce_id"),
    ],
)
def test_malformed_header_is_rejected(name: str, value: bytes, message: str) -> None:
    pairs = [(name, value), *headers()]
    with pytest.raises(EventHeadersError, match=message):
        read_headers(pairs)


def test_no_headers_at_all() -> None:
    with pytest.raises(EventHeadersError, match="missing"):
        read_headers(None)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        event_headers(
            event_id="e",
            source="/s",
            type="t",
            subject="x",
            time=datetime(2026, 1, 1),  # naive: the case under test
            message_name="m",
        )
