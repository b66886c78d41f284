"""parseRecurrence and recurring tasks through GraphQL, with the real svc_tasks and svc_recur."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.gateway.gateway_harness import (
    COMPLETE,
    GatewayClient,
    changed,
    make_config,
    running_client,
)
from tests.support.infra import RunningTasks

PREVIEW = """query($text: String!, $zone: String, $count: Int) {
  parseRecurrence(text: $text, timeZone: $zone, count: $count) { rule text basis occurrences }
}"""


@pytest.fixture
async def client(tasks_service: RunningTasks, recur_service: str) -> AsyncIterator[GatewayClient]:
    config = make_config(
        tasks_service.address, internal_secret=tasks_service.secret, recur_address=recur_service
    )
    async with running_client(config) as gateway:
        yield gateway


async def test_preview_lists_the_next_occurrences_in_the_zone(client: GatewayClient) -> None:
    data = await client.data(
        PREVIEW,
        {"text": "every month on the last friday at 17:30", "zone": "America/New_York", "count": 4},
    )
    preview = data["parseRecurrence"]
    assert preview["basis"] == "SCHEDULE"
    assert "FREQ=MONTHLY" in preview["rule"]
    assert "BYDAY=-1FR" in preview["rule"]
    assert preview["text"]
    local = [
        datetime.fromisoformat(o).astimezone(ZoneInfo("America/New_York"))
        for o in preview["occurrences"]
    ]
    assert len(local) == 4
    assert all((d.weekday(), d.hour, d.minute) == (4, 17, 30) for d in local)
    assert all(
        (d + timedelta(days=7)).month != d.month for d in local
    )  # the last Friday of its month
    assert local == sorted(local)


async def test_completion_basis_is_reported(client: GatewayClient) -> None:
    data = await client.data(PREVIEW, {"text": "every 3 days after completion"})
    assert data["parseRecurrence"]["basis"] == "COMPLETION"


async def test_unparseable_text_is_bad_user_input(client: GatewayClient) -> None:
    body = await client.execute(PREVIEW, {"text": "whenever I feel like it"})
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "whenever" in error["message"]


async def test_bad_zone_is_bad_user_input(client: GatewayClient) -> None:
    body = await client.execute(PREVIEW, {"text": "daily", "zone": "Atlantis/Capital"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


PLAN = """query($text: String!, $zone: String, $due: DateTime) {
  parseRecurrence(text: $text, timeZone: $zone, dueAt: $due, count: 3) { rule occurrences }
}"""
CREATE_RECURRING = """mutation($text: String!, $zone: String, $due: DateTime) {
  createTask(input: {title: "series", recurrence: $text, timeZone: $zone, dueAt: $due}) {
    task { id dueAt recurrence { rule final } } userErrors { field message code }
  }
}"""
RULES = [
    "every weekday at 9am",
    "every 2 weeks on monday and thursday",
    "every month on the last friday",
    "every 3 days after completion",
    "every year on feb 29",
    "daily until 2027-03-01",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=HOURLY;INTERVAL=5;BYMINUTE=15",
    "every day for 3 times",
]


@pytest.mark.parametrize("text", RULES)
@pytest.mark.parametrize(
    ("zone", "due"),
    [("Europe/Berlin", None), ("Australia/Lord_Howe", "2027-10-03T02:15:00+10:30")],
)
async def test_preview_and_create_agree_on_the_first_due(
    client: GatewayClient, text: str, zone: str, due: str | None
) -> None:
    variables = {"text": text, "zone": zone, "due": due}
    preview = (await client.data(PLAN, variables))["parseRecurrence"]
    created = changed(await client.data(CREATE_RECURRING, variables), "createTask", "task")
    assert created["dueAt"] == preview["occurrences"][0]
    assert created["recurrence"]["rule"] == preview["rule"]
    assert created["recurrence"]["final"] is (len(preview["occurrences"]) < 2)


async def test_a_rule_too_expensive_to_expand_is_bad_user_input_and_others_are_served(
    client: GatewayClient,
) -> None:
    hostile = "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=23;BYMINUTE=59;BYSECOND=7,8"
    storm = [
        asyncio.create_task(client.execute(CREATE_RECURRING, {"text": hostile}, user="mallory"))
        for _ in range(6)
    ]
    started = time.monotonic()
    listed = await client.data("{ tasks(first: 5) { totalCount } }")  # another user, meanwhile
    waited = time.monotonic() - started
    answers = await asyncio.gather(*storm)
    print(f"another user's list answered in {waited * 1000:.0f} ms during the storm")
    assert listed["tasks"]["totalCount"] == 0
    for body in answers:
        assert "errors" not in body, body
        for error in body["data"]["createTask"]["userErrors"]:
            assert (error["field"], error["code"]) == (["input", "recurrence"], "INVALID"), error
            assert "search budget" in error["message"]


async def test_a_series_at_the_end_of_the_calendar_is_final_and_ends_cleanly(
    client: GatewayClient,
) -> None:
    variables = {
        "text": "every year",
        "zone": "Pacific/Kiritimati",
        "due": "9999-06-01T09:00:00+14:00",
    }
    created = changed(await client.data(CREATE_RECURRING, variables), "createTask", "task")
    assert created["recurrence"]["final"] is True
    done = await client.data(COMPLETE, {"id": created["id"]})
    assert changed(done, "completeTask", "task")["status"] == "COMPLETED"


async def test_a_preview_needs_no_token_and_nothing_else_is_public(client: GatewayClient) -> None:
    """parseRecurrence reads and keeps nothing of a user's: asked without a token, svc_recur
    answers it (callers without one share one turn and one rate bucket); anything else is 401."""
    anonymous = await client.http.post(
        "/graphql", json={"query": PREVIEW, "variables": {"text": "every day at 9am"}}
    )
    assert anonymous.status_code == 200, anonymous.text
    assert (
        anonymous.json()["data"]["parseRecurrence"]["rule"]
        == "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"
    )
    both = 'query { parseRecurrence(text: "daily") { rule } tasks { totalCount } }'
    refused = await client.http.post("/graphql", json={"query": both})
    assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
