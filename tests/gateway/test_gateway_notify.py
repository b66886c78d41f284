"""Notifications and webhooks through GraphQL, in front of the real svc_tasks and svc_notify."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook as Verifier

from svc_notify.service import SERVICE as NOTIFY
from tests.support.gateway.gateway_harness import (
    GatewayClient,
    create_task,
    make_config,
    new_user,
    running_client,
)
from tests.support.infra import RunningTasks, eventually, service_config
from tests.support.svc_notify.receiver import Receiver, receiving
from todo_runtime import endpoints
from todo_runtime.runner import start_service

WITHIN = 30.0

NOTIFICATIONS = """query($unread: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unread, first: $first, after: $after) {
    edges { cursor node { id taskId title scheduledAt firedAt readAt reminderId } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Notification { title } ... on Webhook { url enabled } } }"""
CREATE_WEBHOOK = """mutation($url: String!) {
  createWebhook(input: {url: $url}) {
    secret webhook { id url enabled disabledReason createdAt } userErrors { field message code }
  }
}"""
DELIVERIES = """query($id: ID!) {
  webhookDeliveries(webhookId: $id) {
    edges { node { id deliveryId attempt status error messageId } }
    totalCount
  }
}"""


@pytest.fixture
async def client(tasks_service: RunningTasks) -> AsyncIterator[GatewayClient]:
    """The gateway in front of svc_tasks and svc_notify (local webhook targets allowed),
    returned once svc_notify consumes task events (joining its group takes seconds)."""
    notify_config = service_config(
        endpoints.NOTIFY,
        tasks_service.config.database.url,
        tasks_service.config.kafka.bootstrap_servers,
        TODO_WEBHOOK_ALLOW_PRIVATE="1",
    )
    notify = await start_service(NOTIFY, notify_config)
    try:
        config = make_config(
            tasks_service.address,
            internal_secret=tasks_service.secret,
            notify_address=f"127.0.0.1:{notify.port}",
        )
        async with running_client(config) as gateway:
            await _joined(gateway)
            yield gateway
    finally:
        await notify.stop()


async def _joined(client: GatewayClient) -> None:
    probe = new_user()
    await create_task(client, user=probe, dueAt=_soon(2), remindMinutesBefore=[0])

    async def fired() -> bool:
        return len(await _notifications(client, user=probe)) == 1

    await eventually(fired, WITHIN)


def _soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def _notifications(client: GatewayClient, **kwargs: Any) -> list[dict[str, Any]]:
    data = await client.data(NOTIFICATIONS, {"first": 50}, **kwargs)
    return [edge["node"] for edge in data["notifications"]["edges"]]


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def _refused(body: dict[str, Any], mutation: str) -> list[tuple[str, list[str] | None]]:
    """The user errors of a mutation that answered (no top-level error): (code, field) each."""
    assert "errors" not in body, body
    return [(error["code"], error["field"]) for error in body["data"][mutation]["userErrors"]]


async def test_a_fired_reminder_reaches_the_inbox_once(client: GatewayClient) -> None:
    task = await create_task(
        client, title="Water the plants", dueAt=_soon(1), remindMinutesBefore=[0]
    )

    async def fired() -> bool:
        return len(await _notifications(client)) == 1

    await eventually(fired, WITHIN)
    [notification] = await _notifications(client)
    assert notification["taskId"] == task["id"]
    assert notification["title"] == "Water the plants"
    assert notification["readAt"] is None
    assert notification["firedAt"] >= notification["scheduledAt"]

    node = await client.data(NODE, {"id": notification["id"]})
    assert node["node"] == {
        "__typename": "Notification",
        "id": notification["id"],
        "title": "Water the plants",
    }
    foreign = await client.execute(NODE, {"id": notification["id"]}, user=new_user())
    assert foreign["data"] == {"node": None}
    assert _codes(foreign) == ["NOT_FOUND"]
    assert await _notifications(client, user=new_user()) == []


async def test_read_and_snooze(client: GatewayClient) -> None:
    for title in ("a", "b"):
        await create_task(client, title=title, dueAt=_soon(1), remindMinutesBefore=[0])

    async def both() -> bool:
        return len(await _notifications(client)) == 2

    await eventually(both, WITHIN)
    first, _ = await _notifications(client)
    read = await client.data(
        "mutation($id: ID!) { markNotificationRead(input: {id: $id}) "
        "{ notification { id readAt } userErrors { code } } }",
        {"id": first["id"]},
    )
    assert read["markNotificationRead"]["notification"]["readAt"] is not None
    unread = await client.data(NOTIFICATIONS, {"unread": True})
    assert unread["notifications"]["totalCount"] == 1
    assert first["id"] not in [edge["node"]["id"] for edge in unread["notifications"]["edges"]]

    snooze = """mutation($id: ID!, $m: Int!) {
      snoozeReminder(input: {notificationId: $id, minutes: $m}) {
        notification { id snoozedUntil } userErrors { field message code }
      }
    }"""
    snoozed = await client.data(snooze, {"id": first["id"], "m": 5})
    until = datetime.fromisoformat(snoozed["snoozeReminder"]["notification"]["snoozedUntil"])
    assert timedelta(minutes=4) < until - datetime.now(UTC) <= timedelta(minutes=5)
    for minutes in (0, 10_081):
        refused = await client.execute(snooze, {"id": first["id"], "m": minutes})
        assert _refused(refused, "snoozeReminder") == [("INVALID", ["input", "minutes"])]
    foreign = await client.execute(snooze, {"id": first["id"], "m": 5}, user=new_user())
    assert _refused(foreign, "snoozeReminder") == [("NOT_FOUND", ["input", "notificationId"])]
    malformed = await client.execute(snooze, {"id": "not-an-id", "m": 5})
    assert _refused(malformed, "snoozeReminder") == [("NOT_FOUND", ["input", "notificationId"])]


async def test_a_webhook_receives_signed_reminders(client: GatewayClient) -> None:
    async with receiving() as receiver:
        created = (await client.data(CREATE_WEBHOOK, {"url": receiver.url}))["createWebhook"]
        webhook = created["webhook"]
        assert created["secret"].startswith("whsec_")
        assert (webhook["url"], webhook["enabled"], webhook["disabledReason"]) == (
            receiver.url,
            True,
            "",
        )
        listed = await client.data("{ webhooks { id url } }")
        assert listed["webhooks"] == [{"id": webhook["id"], "url": receiver.url}]
        node = await client.data(NODE, {"id": webhook["id"]})
        assert node["node"]["__typename"] == "Webhook"

        await create_task(client, title="Call Ana", dueAt=_soon(1), remindMinutesBefore=[0])
        await eventually(lambda: len(receiver.received) == 1, WITHIN)
        delivered = _verified(receiver, created["secret"])
        assert delivered["data"]["title"] == "Call Ana"

        async def logged() -> bool:
            data = await client.data(DELIVERIES, {"id": webhook["id"]})
            return bool(data["webhookDeliveries"]["totalCount"] == 1)

        await eventually(logged, WITHIN)
        attempts = await client.data(DELIVERIES, {"id": webhook["id"]})
        [attempt] = [edge["node"] for edge in attempts["webhookDeliveries"]["edges"]]
        assert (attempt["attempt"], attempt["status"], attempt["error"]) == (1, 204, None)
        assert attempt["messageId"] == receiver.received[0].headers["webhook-id"]

        redelivered = await client.data(
            "mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) "
            "{ deliveryId userErrors { code } } }",
            {"id": attempt["deliveryId"]},
        )
        assert redelivered["redeliverWebhook"] == {
            "deliveryId": attempt["deliveryId"],
            "userErrors": [],
        }
        await eventually(lambda: len(receiver.received) == 2, WITHIN)
        assert _verified(receiver, created["secret"]) == delivered


async def test_webhook_management_is_per_user_and_validated(client: GatewayClient) -> None:
    for url in ("ftp://example.com/hook", "http://user:pw@example.com/", "not a url", ""):
        refused = await client.execute(CREATE_WEBHOOK, {"url": url})
        assert _refused(refused, "createWebhook") == [("INVALID", ["input", "url"])], url
        assert refused["data"]["createWebhook"]["webhook"] is None

    async with receiving() as receiver:
        created = (await client.data(CREATE_WEBHOOK, {"url": receiver.url}))["createWebhook"]
    webhook_id = created["webhook"]["id"]
    toggle = """mutation($id: ID!, $on: Boolean!) {
      setWebhookEnabled(input: {id: $id, enabled: $on}) {
        webhook { id enabled } userErrors { field message code }
      }
    }"""
    paused = await client.data(toggle, {"id": webhook_id, "on": False})
    assert paused["setWebhookEnabled"]["webhook"]["enabled"] is False
    delete = """mutation($id: ID!) {
      deleteWebhook(input: {id: $id}) { deletedWebhookId userErrors { field message code } }
    }"""

    stranger = new_user()
    for document, mutation in ((toggle, "setWebhookEnabled"), (delete, "deleteWebhook")):
        body = await client.execute(document, {"id": webhook_id, "on": True}, user=stranger)
        assert _refused(body, mutation) == [("NOT_FOUND", ["input", "id"])], body
    for document in (DELIVERIES, NODE):
        body = await client.execute(document, {"id": webhook_id}, user=stranger)
        assert _codes(body) == ["NOT_FOUND"], (document, body)
    assert (await client.data("{ webhooks { id } }", user=stranger))["webhooks"] == []

    deleted = await client.data(delete, {"id": webhook_id})
    assert deleted["deleteWebhook"] == {"deletedWebhookId": webhook_id, "userErrors": []}
    assert (await client.data("{ webhooks { id } }"))["webhooks"] == []
    gone = await client.execute(NODE, {"id": webhook_id})
    assert _codes(gone) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("reminders", "refusal"),
    [
        # A rule a form can show next to the field: a user error.
        ({"remindMinutesBefore": [-5]}, ["input", "remindMinutesBefore", "0"]),
        ({"remindMinutesBefore": [10_000_000]}, ["input", "remindMinutesBefore", "0"]),
        # What GraphQL itself refuses (coercion) or the list bounds refuse before the operation
        # runs: a request error.
        ({"remindMinutesBefore": [2**31]}, "BAD_USER_INPUT"),  # not a GraphQL Int
        ({"remindMinutesBefore": list(range(11))}, "BAD_USER_INPUT"),
        ({"remindAt": ["tomorrow-ish"]}, "BAD_USER_INPUT"),
        ({"remindAt": ["2027-01-01T09:00:00"]}, "BAD_USER_INPUT"),  # no offset: not an instant
    ],
)
async def test_bad_reminders_are_refused_clearly(
    gateway_client: GatewayClient, reminders: dict[str, Any], refusal: list[str] | str
) -> None:
    create = (
        "mutation($input: CreateTaskInput!) { createTask(input: $input) "
        "{ task { id } userErrors { field message code } } }"
    )
    variables = {"input": {"title": "t", "dueAt": _soon(3600), **reminders}}
    body = await gateway_client.execute(create, variables)
    if isinstance(refusal, list):
        assert _refused(body, "createTask") == [("INVALID", refusal)]
    else:
        assert _codes(body) == [refusal], body
    listed = await gateway_client.data("{ tasks(first: 1) { totalCount } }")
    assert listed["tasks"]["totalCount"] == 0  # nothing half-created


async def test_notify_down_is_unavailable(gateway_client: GatewayClient) -> None:
    """The default test gateway points svc_notify at a port nothing listens on."""
    body = await gateway_client.execute(NOTIFICATIONS, {"first": 5})
    assert _codes(body) == ["UNAVAILABLE"], body
    tasks = await gateway_client.execute("{ tasks(first: 1) { totalCount } }")
    assert "errors" not in tasks  # the rest of the graph is unaffected


def _verified(receiver: Receiver, secret: str) -> dict[str, Any]:
    """The last delivery's payload, after checking its Standard Webhooks signature."""
    last = receiver.received[-1]
    verified: dict[str, Any] = Verifier(secret).verify(last.body, last.headers)
    assert verified == json.loads(last.body)
    return verified
