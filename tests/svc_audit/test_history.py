"""ListAuditEntries: by task or user, time range, newest or oldest first, AIP-158 paging, and
one user's entries invisible to every other user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from tests.svc_audit.conftest import (
    Publisher,
    RunningAudit,
    new_task,
    new_user,
    signed,
    task_event,
    task_record,
)
from todo_contracts.audit.v1 import audit_service_pb2 as pb
from todo_contracts.tasks.v1 import task_pb2
from todo_runtime.timestamps import timestamp

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def _history(audit: RunningAudit, publish: Publisher, user: str) -> list[task_pb2.Task]:
    """Two tasks of `user`, created an hour apart, each updated hourly: 7 entries in all."""
    tasks = [new_task(user, "first"), new_task(user, "second")]
    events = [
        task_event(tasks[0], task_pb2.CHANGE_KIND_CREATED, at=START),
        task_event(tasks[1], task_pb2.CHANGE_KIND_CREATED, at=START + timedelta(hours=1)),
    ]
    for hour in range(2, 7):
        task = tasks[hour % 2]
        later = task_pb2.Task()
        later.CopyFrom(task)
        later.description = f"hour {hour}"
        events.append(task_event(later, previous=task, at=START + timedelta(hours=hour)))
        tasks[hour % 2] = later
    await publish.send([task_record(event) for event in events])
    await signed(audit, user, 7)
    return tasks


def _hours(entries: list[pb.AuditEntry]) -> list[int]:
    return [
        int((entry.time.ToDatetime(tzinfo=UTC) - START).total_seconds()) // 3600
        for entry in entries
    ]


async def test_ordering_time_range_and_task(audit: RunningAudit, publish: Publisher) -> None:
    user = new_user()
    tasks = await _history(audit, publish, user)
    assert _hours(await audit.entries(user)) == [0, 1, 2, 3, 4, 5, 6]
    assert _hours(await audit.entries(user, order=pb.ENTRY_ORDER_OLDEST_FIRST)) == list(range(7))
    newest = await audit.entries(user, order=pb.ENTRY_ORDER_NEWEST_FIRST)
    assert _hours(newest) == [6, 5, 4, 3, 2, 1, 0]
    assert [entry.owner_sequence for entry in newest] == [7, 6, 5, 4, 3, 2, 1]
    assert _hours(await audit.entries(user, task_id=tasks[0].id)) == [0, 2, 4, 6]
    assert _hours(await audit.entries(user, task_id=tasks[1].id)) == [1, 3, 5]
    window = {
        "start_time": timestamp(START + timedelta(hours=2)),
        "end_time": timestamp(START + timedelta(hours=5)),
    }
    assert _hours(await audit.entries(user, **window)) == [2, 3, 4]  # start inclusive, end not
    assert _hours(
        await audit.entries(user, order=pb.ENTRY_ORDER_NEWEST_FIRST, task_id=tasks[0].id, **window)
    ) == [4, 2]


async def test_pages_follow_the_order_and_end_with_an_empty_token(
    audit: RunningAudit, publish: Publisher
) -> None:
    user = new_user()
    await _history(audit, publish, user)
    for order, expected in (
        (pb.ENTRY_ORDER_OLDEST_FIRST, [0, 1, 2, 3, 4, 5, 6]),
        (pb.ENTRY_ORDER_NEWEST_FIRST, [6, 5, 4, 3, 2, 1, 0]),
    ):
        pages: list[list[int]] = []
        token = ""
        while True:
            response: pb.ListAuditEntriesResponse = await audit.call(
                user,
                "ListAuditEntries",
                pb.ListAuditEntriesRequest(page_size=3, page_token=token, order=order),
            )
            pages.append(_hours(list(response.entries)))
            assert response.total_size == 7
            assert len(response.cursors) == len(response.entries)
            token = response.next_page_token
            if not token:
                break
        assert pages == [expected[:3], expected[3:6], expected[6:]]
    # page_size 0 is the default (50); more than the maximum is capped, not refused
    for size in (0, 10_000):
        response = await audit.call(
            user, "ListAuditEntries", pb.ListAuditEntriesRequest(page_size=size)
        )
        assert len(response.entries) == 7
        assert response.next_page_token == ""


@pytest.mark.parametrize(
    "bad",
    [
        pb.ListAuditEntriesRequest(page_size=-1),
        pb.ListAuditEntriesRequest(page_token="not-a-token"),
        pb.ListAuditEntriesRequest(task_id="not-a-uuid"),
    ],
    ids=["negative page size", "bad token", "bad task id"],
)
async def test_bad_requests_are_invalid_arguments(
    audit: RunningAudit, bad: pb.ListAuditEntriesRequest
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await audit.call(new_user(), "ListAuditEntries", bad)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_token_only_works_for_its_own_list(audit: RunningAudit, publish: Publisher) -> None:
    user = new_user()
    tasks = await _history(audit, publish, user)
    first: pb.ListAuditEntriesResponse = await audit.call(
        user, "ListAuditEntries", pb.ListAuditEntriesRequest(page_size=2)
    )
    token = first.next_page_token
    for other_user, request in (
        (user, pb.ListAuditEntriesRequest(page_token=token, order=pb.ENTRY_ORDER_NEWEST_FIRST)),
        (user, pb.ListAuditEntriesRequest(page_token=token, task_id=tasks[0].id)),
        (new_user(), pb.ListAuditEntriesRequest(page_token=token)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await audit.call(other_user, "ListAuditEntries", request)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_another_users_entries_are_never_shown(
    audit: RunningAudit, publish: Publisher
) -> None:
    owner, stranger = new_user(), new_user()
    tasks = await _history(audit, publish, owner)
    entries = await audit.entries(owner)
    assert await audit.entries(stranger) == []
    assert await audit.entries(stranger, task_id=tasks[0].id) == []
    for method, request in (
        ("GetAuditEntry", pb.GetAuditEntryRequest(id=entries[0].id)),
        ("GetInclusionProof", pb.GetInclusionProofRequest(entry_id=entries[0].id)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await audit.call(stranger, method, request)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert entries[0].event_id not in (error.value.details() or "")
    verification: pb.VerifyAuditLogResponse = await audit.call(
        stranger, "VerifyAuditLog", pb.VerifyAuditLogRequest()
    )
    assert verification.ok
    assert verification.entries == 0
