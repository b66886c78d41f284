"""parseRecurrence and recurring tasks through GraphQL, with the real svc_tasks and svc_recur."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.gateway.gateway_harness import GatewayClient, make_config, running_client
from tests.infra import RunningTasks

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
