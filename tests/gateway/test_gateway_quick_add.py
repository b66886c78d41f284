"""parseQuickAdd and quickAddTask through GraphQL: svc_recur's RecurrenceService in-process (the
preview and the refusals need nothing else), and with the real svc_tasks for creation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.gateway.gateway_harness import (
    INTERNAL_SECRET,
    GatewayClient,
    changed,
    make_config,
    running_client,
)
from tests.support.infra import RunningTasks
from tests.support.recurrence_service import serving_recurrence

PREVIEW = """query($text: String!, $zone: String!) {
  parseQuickAdd(text: $text, timeZone: $zone) {
    title dueAt timeZone tags priority remindMinutesBefore remindAt
    recurrence { rule text basis }
    spans { start end text field }
  }
}"""
QUICK_ADD = """mutation($text: String!, $zone: String!, $id: String) {
  quickAddTask(input: {text: $text, timeZone: $zone, clientMutationId: $id}) {
    clientMutationId
    task { id title dueAt timeZone tags priority recurrence { rule } reminders { minutesBefore } }
    parsed { title spans { text field } }
    userErrors { field message code }
  }
}"""
LINE = "Pay rent every month on the 1st at 9am #home !high remind 1 day before"


@pytest.fixture
async def recur_only() -> AsyncIterator[str]:
    """RecurrenceService alone, in this process; yields its address."""
    async with serving_recurrence(INTERNAL_SECRET) as address:
        yield address


@pytest.fixture
async def client(recur_only: str) -> AsyncIterator[GatewayClient]:
    async with running_client(make_config(recur_address=recur_only)) as gateway:
        yield gateway


async def test_preview_shows_every_field_and_its_words(client: GatewayClient) -> None:
    preview = (await client.data(PREVIEW, {"text": LINE, "zone": "Europe/Berlin"}))["parseQuickAdd"]
    assert preview["title"] == "Pay rent"
    assert preview["tags"] == ["home"]
    assert preview["priority"] == "HIGH"
    assert preview["remindMinutesBefore"] == [1440]
    assert preview["remindAt"] == []
    assert preview["timeZone"] == "Europe/Berlin"
    assert preview["recurrence"]["rule"].startswith("FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9")
    assert preview["recurrence"]["basis"] == "SCHEDULE"
    due = datetime.fromisoformat(preview["dueAt"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert (due.day, due.hour, due.minute) == (1, 9, 0)
    assert [(s["text"], s["field"]) for s in preview["spans"]] == [
        ("Pay rent", "TITLE"),
        ("every month on the 1st at 9am", "RECURRENCE"),
        ("#home", "TAG"),
        ("!high", "PRIORITY"),
        ("remind 1 day before", "REMINDER"),
    ]
    assert all(LINE[s["start"] : s["end"]] == s["text"] for s in preview["spans"])


async def test_preview_of_a_relative_due(client: GatewayClient) -> None:
    preview = (await client.data(PREVIEW, {"text": "Call mom in 3 hours p1", "zone": "UTC"}))[
        "parseQuickAdd"
    ]
    due = datetime.fromisoformat(preview["dueAt"])
    assert abs(due - (datetime.now(due.tzinfo) + timedelta(hours=3))) < timedelta(minutes=1)
    assert (preview["title"], preview["priority"], preview["recurrence"]) == (
        "Call mom",
        "URGENT",
        None,
    )


async def test_preview_with_a_bad_zone_is_bad_user_input_naming_it(client: GatewayClient) -> None:
    body = await client.execute(PREVIEW, {"text": "x tomorrow", "zone": "Atlantis/Capital"})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "timeZone"


async def test_preview_needs_a_signed_in_user(client: GatewayClient) -> None:
    response = await client.http.post(
        "/graphql", json={"query": '{ parseQuickAdd(text: "x", timeZone: "UTC") { title } }'}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("text", "zone", "field"),
    [
        ("#home !high tomorrow", "Europe/Berlin", ["input", "text"]),  # nothing left for a title
        ("   ", "Europe/Berlin", ["input", "text"]),
        ("Call mom tomorrow", "Atlantis/Capital", ["input", "timeZone"]),
        ("x" * 1001, "UTC", ["input", "text"]),
    ],
)
async def test_quick_add_refusals_are_user_errors(
    client: GatewayClient, text: str, zone: str, field: list[str]
) -> None:
    payload = (await client.data(QUICK_ADD, {"text": text, "zone": zone, "id": "m1"}))[
        "quickAddTask"
    ]
    assert payload["task"] is None
    assert payload["clientMutationId"] == "m1"
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "INVALID")]
    if field == ["input", "text"] and text.strip() and len(text) < 1000:
        assert payload["parsed"]["title"] == ""  # how it was read, to show why


async def test_quick_add_creates_the_previewed_task(
    tasks_service: RunningTasks, recur_service: str
) -> None:
    config = make_config(
        tasks_service.address, internal_secret=tasks_service.secret, recur_address=recur_service
    )
    async with running_client(config) as gateway:
        preview = (await gateway.data(PREVIEW, {"text": LINE, "zone": "Europe/Berlin"}))[
            "parseQuickAdd"
        ]
        data = await gateway.data(QUICK_ADD, {"text": LINE, "zone": "Europe/Berlin", "id": "q"})
        task = changed(data, "quickAddTask", "task")
        assert data["quickAddTask"]["clientMutationId"] == "q"
        assert data["quickAddTask"]["parsed"]["title"] == "Pay rent"
        assert task["title"] == "Pay rent"
        assert task["tags"] == ["home"]
        assert task["priority"] == "HIGH"
        assert task["timeZone"] == "Europe/Berlin"
        assert task["dueAt"] == preview["dueAt"]
        assert task["recurrence"]["rule"] == preview["recurrence"]["rule"]
        assert task["reminders"] == [{"minutesBefore": 1440}]

        # svc_tasks' own checks, bound to the line: a tag over 50 characters.
        long_tag = "Call mom #" + "t" * 60
        refused = await gateway.data(QUICK_ADD, {"text": long_tag, "zone": "UTC"})
        errors = refused["quickAddTask"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(["input", "text"], "INVALID")]
        assert errors[0]["message"].startswith("tags")
        assert refused["quickAddTask"]["task"] is None
