"""Page tokens and cursors that verify but carry values out of range: BAD_USER_INPUT on GraphQL,
INVALID_ARGUMENT naming the field on gRPC, never INTERNAL.

Each kind of token is forged with the real signing key (the services' internal secret), as a
leaked key or a bug that signs a wrong value would make one. The first payload of each kind is
in range, and must be served: it proves the forgery is what the service issues, so the others
are refused for their values, not for a wrong signature.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final

import grpc
import pytest
from google.protobuf.message import Message

from gateway import ids
from gateway.api.tasks.change_cursors import ChangeCursors
from svc_audit.history import Query as AuditQuery
from svc_audit.service import SERVICE as AUDIT
from svc_notify.service import SERVICE as NOTIFY
from svc_tasks.listing import OrderField, OrderKey, TaskQuery
from tests.support.gateway.gateway_harness import make_config, running_client, serving, token_for
from tests.support.gateway.ws_client import TASK_UPDATES, client
from tests.support.infra import TEST_SECRET, RunningTasks, service_config
from tests.svc_audit.conftest import SIGNING_KEY
from todo_cli.broker import EmbeddedBroker
from todo_contracts.audit.v1 import audit_service_pb2 as audit
from todo_contracts.audit.v1 import audit_service_pb2_grpc
from todo_contracts.notify.v1 import notification_service_pb2 as notify
from todo_contracts.notify.v1 import notification_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2 as tasks
from todo_contracts.tasks.v1 import tasks_service_pb2_grpc
from todo_runtime import endpoints
from todo_runtime.identity import identity_metadata
from todo_runtime.page_tokens import PageTokens
from todo_runtime.runner import start_service

INT64: Final = 2**63
# Numbers no int64 column or message field holds, and values that are no number at all.
BAD_NUMBERS: Final[list[object]] = [-1, INT64, 2**64 + 5, 10**40, True, 1.5, "5", None]
BAD_INSTANTS: Final[list[object]] = [
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    "2027-01-01T00:00:00",  # no offset
    1_700_000_000,
    "not a time",
]
GOOD_INSTANT: Final = "2027-01-01T00:00:00+00:00"
PRIORITY_ORDER: Final = (OrderKey(OrderField.PRIORITY, descending=False),)


@dataclass(frozen=True)
class Kind:
    """A kind of token: who signs it, for which scope, and where it is sent.

    `payloads(user, bad)` is the forged payload holding `bad` (`good` for the in-range one);
    `grpc(token)` is (stub class, method, request) and `graphql(token)` (document, variables).
    """

    name: str
    domain: str
    scope: Callable[[str, str], str]  # (user, webhook id) -> scope
    payload: Callable[[str, object], dict[str, Any]]
    good: object
    bad: list[object]
    grpc: Callable[[str, str], tuple[Any, str, Message]]
    graphql: Callable[[str, str], tuple[str, dict[str, Any]]] | None = None
    field: str = "page_token"
    graphql_field: str = "after"
    address: str = "tasks"


def _tasks_query(user: str) -> TaskQuery:
    return TaskQuery(owner_id=user, order=PRIORITY_ORDER)


def _task_position(user: str, value: object) -> dict[str, Any]:
    return {"q": _tasks_query(user).fingerprint, "k": [value], "id": str(uuid.uuid4())}


def _newest_first(user: str, instant: object) -> dict[str, Any]:
    """A position in the default order (newest first): a creation time."""
    return {
        "q": TaskQuery(owner_id=user).fingerprint,
        "k": [{"t": instant}],
        "id": str(uuid.uuid4()),
    }


LIST_TASKS = """query($c: String) {
  tasks(orderBy: [{field: PRIORITY}], first: 5, after: $c) { totalCount } }"""
LIST_TASKS_BEFORE = """query($c: String) {
  tasks(orderBy: [{field: PRIORITY}], last: 5, before: $c) { totalCount } }"""
NEWEST_TASKS = "query($c: String) { tasks(first: 5, after: $c) { totalCount } }"
NOTIFICATIONS = "query($c: String) { notifications(after: $c) { totalCount } }"
DELIVERIES = """query($w: ID!, $c: String) {
  webhookDeliveries(webhookId: $w, after: $c) { totalCount } }"""
AUDIT_LOG = "query($c: String) { auditLog(after: $c) { totalCount } }"
ROTATIONS = "query($c: String) { auditTree { keyRotations(after: $c) { edges { cursor } } } }"

TASKS = tasks_service_pb2_grpc.TaskServiceStub
NOTIFY_STUB = notification_service_pb2_grpc.NotificationServiceStub
AUDIT_STUB = audit_service_pb2_grpc.AuditServiceStub

TASK_KINDS = [
    Kind(
        "ListTasks after, priority key",
        "todo.tasks.v1.ListTasks",
        lambda user, _: user,
        _task_position,
        3,
        [0, 6, -1, 2**15, INT64, True, 2.0, "3", None],
        lambda token, _: (
            TASKS,
            "ListTasks",
            tasks.ListTasksRequest(
                order_by=[tasks.TaskOrder(field=tasks.TASK_ORDER_FIELD_PRIORITY)], page_token=token
            ),
        ),
        lambda token, _: (LIST_TASKS, {"c": token}),
    ),
    Kind(
        "ListTasks before, priority key",
        "todo.tasks.v1.ListTasks",
        lambda user, _: user,
        _task_position,
        3,
        [0, INT64, False],
        lambda token, _: (
            TASKS,
            "ListTasks",
            tasks.ListTasksRequest(
                order_by=[tasks.TaskOrder(field=tasks.TASK_ORDER_FIELD_PRIORITY)],
                before_page_token=token,
                from_end=True,
            ),
        ),
        lambda token, _: (LIST_TASKS_BEFORE, {"c": token}),
        field="before_page_token",
        graphql_field="before",
    ),
    Kind(
        "ListTasks after, creation time key",
        "todo.tasks.v1.ListTasks",
        lambda user, _: user,
        _newest_first,
        GOOD_INSTANT,
        BAD_INSTANTS,
        lambda token, _: (TASKS, "ListTasks", tasks.ListTasksRequest(page_token=token)),
        lambda token, _: (NEWEST_TASKS, {"c": token}),
    ),
    Kind(
        "ListChanges",
        "todo.tasks.v1.ListChanges",
        lambda user, _: user,
        lambda _, value: {"from": 0, "after": value},
        5,
        BAD_NUMBERS,
        lambda token, _: (TASKS, "ListChanges", tasks.ListChangesRequest(page_token=token)),
    ),
]
NOTIFY_KINDS = [
    Kind(
        "ListNotifications",
        "todo.notify.v1.ListNotifications",
        lambda user, _: f"{user}\x000",
        lambda _, value: {"t": value, "id": str(uuid.uuid4())},
        GOOD_INSTANT,
        BAD_INSTANTS,
        lambda token, _: (
            NOTIFY_STUB,
            "ListNotifications",
            notify.ListNotificationsRequest(page_token=token),
        ),
        lambda token, _: (NOTIFICATIONS, {"c": token}),
        address="notify",
    ),
    Kind(
        "ListWebhooks",
        "todo.notify.v1.ListWebhooks",
        lambda user, _: user,
        lambda _, value: {"t": value, "id": str(uuid.uuid4())},
        GOOD_INSTANT,
        BAD_INSTANTS,
        lambda token, _: (
            NOTIFY_STUB,
            "ListWebhooks",
            notify.ListWebhooksRequest(page_token=token),
        ),
        address="notify",
    ),
    Kind(
        "ListWebhookDeliveries, attempt id",
        "todo.notify.v1.ListWebhookDeliveries",
        lambda user, webhook: f"{user}\x00{webhook}",
        lambda _, value: {"t": GOOD_INSTANT, "id": value},
        5,
        [0, *BAD_NUMBERS],
        lambda token, webhook: (
            NOTIFY_STUB,
            "ListWebhookDeliveries",
            notify.ListWebhookDeliveriesRequest(webhook_id=webhook, page_token=token),
        ),
        lambda token, webhook: (DELIVERIES, {"w": ids.encode(ids.WEBHOOK, webhook), "c": token}),
        address="notify",
    ),
    Kind(
        "ListWebhookDeliveries, attempt time",
        "todo.notify.v1.ListWebhookDeliveries",
        lambda user, webhook: f"{user}\x00{webhook}",
        lambda _, value: {"t": value, "id": 5},
        GOOD_INSTANT,
        BAD_INSTANTS,
        lambda token, webhook: (
            NOTIFY_STUB,
            "ListWebhookDeliveries",
            notify.ListWebhookDeliveriesRequest(webhook_id=webhook, page_token=token),
        ),
        lambda token, webhook: (DELIVERIES, {"w": ids.encode(ids.WEBHOOK, webhook), "c": token}),
        address="notify",
    ),
]
AUDIT_KINDS = [
    Kind(
        "ListAuditEntries",
        "todo.audit.v1.ListAuditEntries",
        lambda user, _: AuditQuery(None, None, None, newest_first=False).scope(user),
        lambda _, value: {"after": value},
        5,
        BAD_NUMBERS,
        lambda token, _: (
            AUDIT_STUB,
            "ListAuditEntries",
            audit.ListAuditEntriesRequest(page_token=token),
        ),
        lambda token, _: (AUDIT_LOG, {"c": token}),
        address="audit",
    ),
    Kind(
        "ListKeyRotations",
        "todo.audit.v1.ListKeyRotations",
        lambda _, __: "0\x000",
        lambda _, value: {"after": value},
        5,
        BAD_NUMBERS,
        lambda token, _: (
            AUDIT_STUB,
            "ListKeyRotations",
            audit.ListKeyRotationsRequest(page_token=token),
        ),
        lambda token, _: (ROTATIONS, {"c": token}),
        address="audit",
    ),
]


async def _status(address: str, user: str, kind: Kind, token: str, webhook: str) -> tuple[Any, str]:
    stub_class, method, request = kind.grpc(token, webhook)
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            await getattr(stub_class(channel), method)(
                request, metadata=identity_metadata(TEST_SECRET, user), timeout=10
            )
        except grpc.aio.AioRpcError as error:
            return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


async def _check(addresses: dict[str, str], kind: Kind, user: str, webhook: str = "") -> None:
    """The good payload is served, every bad one refused naming the field, on gRPC and GraphQL."""
    tokens = PageTokens(TEST_SECRET, kind.domain)
    services = {
        f"{name}_address": address for name, address in addresses.items() if name != "tasks"
    }
    config = make_config(addresses["tasks"], internal_secret=TEST_SECRET, **services)
    async with running_client(config) as gateway:
        for value in [kind.good, *kind.bad]:
            token = tokens.encode(kind.scope(user, webhook), kind.payload(user, value))
            code, details = await _status(addresses[kind.address], user, kind, token, webhook)
            body = None
            if kind.graphql is not None:
                document, variables = kind.graphql(token, webhook)
                body = await gateway.execute(document, variables, user=user)
            if value is kind.good:
                assert code == grpc.StatusCode.OK, (value, details)
                assert body is None or "errors" not in body, body
                continue
            assert code == grpc.StatusCode.INVALID_ARGUMENT, (value, code, details)
            assert details.startswith(f"{kind.field}: "), (value, details)
            if body is not None:
                [error] = body["errors"]
                assert error["extensions"] == {
                    "code": "BAD_USER_INPUT",
                    "field": kind.graphql_field,
                }


def _user() -> str:
    return f"forger-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("kind", TASK_KINDS, ids=lambda kind: kind.name)
async def test_svc_tasks_tokens_out_of_range(tasks_service: RunningTasks, kind: Kind) -> None:
    await _check({"tasks": tasks_service.address}, kind, _user())


@pytest.fixture
async def notify_address(database_url: str, broker: EmbeddedBroker) -> AsyncIterator[str]:
    config = service_config(
        endpoints.NOTIFY,
        database_url,
        broker.bootstrap_servers,
        TODO_WEBHOOK_ALLOW_PRIVATE="1",
    )
    service = await start_service(NOTIFY, config)
    try:
        yield f"127.0.0.1:{service.port}"
    finally:
        await service.stop()


@pytest.mark.parametrize("kind", NOTIFY_KINDS, ids=lambda kind: kind.name)
async def test_svc_notify_tokens_out_of_range(
    tasks_service: RunningTasks, notify_address: str, kind: Kind
) -> None:
    user = _user()
    async with grpc.aio.insecure_channel(notify_address) as channel:
        created = await NOTIFY_STUB(channel).CreateWebhook(
            notify.CreateWebhookRequest(webhook=notify.Webhook(url="http://127.0.0.1:9/hook")),
            metadata=identity_metadata(TEST_SECRET, user),
            timeout=10,
        )
    addresses = {"tasks": tasks_service.address, "notify": notify_address}
    await _check(addresses, kind, user, created.webhook.id)


@pytest.fixture
async def audit_address(database_url: str, broker: EmbeddedBroker) -> AsyncIterator[str]:
    config = service_config(
        endpoints.AUDIT,
        database_url,
        broker.bootstrap_servers,
        TODO_AUDIT_SIGNING_KEY=SIGNING_KEY,
    )
    service = await start_service(AUDIT, config)
    try:
        yield f"127.0.0.1:{service.port}"
    finally:
        await service.stop()


@pytest.mark.parametrize("kind", AUDIT_KINDS, ids=lambda kind: kind.name)
async def test_svc_audit_tokens_out_of_range(
    tasks_service: RunningTasks, audit_address: str, kind: Kind
) -> None:
    await _check({"tasks": tasks_service.address, "audit": audit_address}, kind, _user())


CHANGE_CURSORS = PageTokens(TEST_SECRET, "todo.gateway.ChangeCursor")


def test_a_change_cursor_is_forged_as_the_gateway_signs_it() -> None:
    user = _user()
    assert ChangeCursors(TEST_SECRET).decode(user, CHANGE_CURSORS.encode(user, {"s": 5})) == 5


@pytest.mark.parametrize("sequence", [INT64, 2**64, 10**40, -1, True, 1.5, "5", None])
async def test_a_change_cursor_out_of_range_is_bad_user_input(sequence: object) -> None:
    """Decoded by the gateway itself, before svc_live is asked (none runs here)."""
    user = _user()
    cursor = CHANGE_CURSORS.encode(user, {"s": sequence})
    async with (
        serving(make_config(internal_secret=TEST_SECRET)) as url,
        client(url, token_for(user)) as subscriber,
    ):
        operation = await subscriber.subscribe(TASK_UPDATES, {"since": cursor})
        ended = await subscriber.ended(operation)
    errors = [e for result in ended.results for e in result.get("errors", [])] + (ended.error or [])
    assert [error["extensions"] for error in errors] == [
        {"code": "BAD_USER_INPUT", "field": "since"}
    ]
