"""Registering, listing, enabling and deleting webhook endpoints over gRPC, per user."""

from __future__ import annotations

from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from standardwebhooks import Webhook

from tests.support.svc_notify.receiver import Receiver
from tests.svc_notify.conftest import RunningNotify, StartNotify, new_user
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_runtime import error_details


async def status_of(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code(), caught.value.details() or ""


async def test_registration_returns_a_secret_once(
    notify: RunningNotify, receiver: Receiver
) -> None:
    user = new_user()
    created = await notify.create_webhook(user, receiver.url)
    assert created.secret.startswith("whsec_")
    Webhook(created.secret)  # a key the standard library accepts
    assert created.webhook.url == receiver.url
    assert created.webhook.enabled
    assert created.webhook.create_time.seconds > 0
    other = await notify.create_webhook(user, receiver.url)
    assert other.secret != created.secret

    listed = await notify.call(user, "ListWebhooks", pb.ListWebhooksRequest())
    assert [w.id for w in listed.webhooks] == [created.webhook.id, other.webhook.id]
    assert created.secret not in str(listed)
    got = await notify.call(user, "GetWebhook", pb.GetWebhookRequest(id=created.webhook.id))
    assert got.webhook == created.webhook


async def test_listing_pages_with_signed_tokens(notify: RunningNotify, receiver: Receiver) -> None:
    user = new_user()
    ids = [(await notify.create_webhook(user, receiver.url)).webhook.id for _ in range(5)]
    seen: list[str] = []
    token = ""
    while True:
        page = await notify.call(
            user, "ListWebhooks", pb.ListWebhooksRequest(page_size=2, page_token=token)
        )
        seen += [w.id for w in page.webhooks]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
    first = await notify.call(user, "ListWebhooks", pb.ListWebhooksRequest(page_size=2))
    code, details = await status_of(
        notify.call(
            new_user(), "ListWebhooks", pb.ListWebhooksRequest(page_token=first.next_page_token)
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith("page_token:")
    code, _ = await status_of(
        notify.call(user, "ListWebhooks", pb.ListWebhooksRequest(page_size=-1))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_disable_enable_and_delete(notify: RunningNotify, receiver: Receiver) -> None:
    user = new_user()
    webhook = (await notify.create_webhook(user, receiver.url)).webhook
    disabled = await notify.call(
        user, "SetWebhookEnabled", pb.SetWebhookEnabledRequest(id=webhook.id, enabled=False)
    )
    assert not disabled.webhook.enabled
    enabled = await notify.call(
        user, "SetWebhookEnabled", pb.SetWebhookEnabledRequest(id=webhook.id, enabled=True)
    )
    assert enabled.webhook.enabled
    deleted = await notify.call(user, "DeleteWebhook", pb.DeleteWebhookRequest(id=webhook.id))
    assert deleted.id == webhook.id
    listed = await notify.call(user, "ListWebhooks", pb.ListWebhooksRequest())
    assert list(listed.webhooks) == []
    code, _ = await status_of(
        notify.call(user, "DeleteWebhook", pb.DeleteWebhookRequest(id=webhook.id))
    )
    assert code == grpc.StatusCode.NOT_FOUND


async def test_another_users_webhook_is_not_found(
    notify: RunningNotify, receiver: Receiver
) -> None:
    owner, intruder = new_user(), new_user()
    webhook_id = (await notify.create_webhook(owner, receiver.url)).webhook.id
    for method, request in [
        ("GetWebhook", pb.GetWebhookRequest(id=webhook_id)),
        ("SetWebhookEnabled", pb.SetWebhookEnabledRequest(id=webhook_id, enabled=False)),
        ("DeleteWebhook", pb.DeleteWebhookRequest(id=webhook_id)),
        ("ListWebhookDeliveries", pb.ListWebhookDeliveriesRequest(webhook_id=webhook_id)),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await notify.call(intruder, method, request)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND, method
        assert error_details.reason(caught.value) == "WEBHOOK_NOT_FOUND", method
    listed = await notify.call(intruder, "ListWebhooks", pb.ListWebhooksRequest())
    assert list(listed.webhooks) == []
    still = await notify.call(owner, "GetWebhook", pb.GetWebhookRequest(id=webhook_id))
    assert still.webhook.enabled


@pytest.mark.parametrize(
    ("method", "request_", "field"),
    [
        ("GetWebhook", pb.GetWebhookRequest(id="not-a-uuid"), "id"),
        ("ListWebhookDeliveries", pb.ListWebhookDeliveriesRequest(webhook_id="42"), "webhook_id"),
        ("RedeliverWebhook", pb.RedeliverWebhookRequest(delivery_id="x"), "delivery_id"),
        ("MarkNotificationRead", pb.MarkNotificationReadRequest(id="x"), "id"),
        (
            "SnoozeReminder",
            pb.SnoozeReminderRequest(notification_id="x", minutes=5),
            "notification_id",
        ),
    ],
)
async def test_a_malformed_id_is_an_invalid_argument_with_a_field_violation(
    notify: RunningNotify, method: str, request_: object, field: str
) -> None:
    """As in every service (AIP-193): the status, and google.rpc details a client reads with
    grpcio-status: a BadRequest naming the field, an ErrorInfo naming the service."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await notify.call(new_user(), method, request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(cast("grpc.Call", caught.value))  # the stubs want a Call
    assert status is not None
    assert status.message == caught.value.details()
    [violation] = error_details.violations(caught.value)
    assert violation.field == field
    assert "is not a" in violation.problem
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == (
        "INVALID_ARGUMENT",
        "todo.notify.v1.NotificationService",
    )


async def test_bad_urls_are_invalid_arguments_naming_the_field(notify: RunningNotify) -> None:
    for url, says in [  # the whole table of malformed URLs: test_webhook_rules
        ("", "is required"),
        ("ftp://example.com/hook", "must be an http:// or https:// URL"),
        ("http://exa mple.com/", "must not contain spaces or control characters"),
        ("http://127.0.0.1/\x00", "must not contain NUL characters"),
        ("http://127.0.0.1/" + "a" * 2000, "must be at most 2000 characters, got 2017"),
    ]:
        code, details = await status_of(notify.create_webhook(new_user(), url))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert details == f"webhook.url: {says}"


async def test_private_targets_are_refused_unless_the_operator_allows_them(
    start_notify: StartNotify, receiver: Receiver
) -> None:
    strict = await start_notify(TODO_WEBHOOK_ALLOW_PRIVATE="0")
    user = new_user()
    for url, says in [
        (receiver.url, "127.0.0.1, a loopback address"),
        ("http://localhost:8080/hook", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://2130706433/hook", "resolves to 127.0.0.1, a loopback address"),
        ("http://[::1]/hook", "::1, a loopback address"),
        ("http://[::ffff:10.0.0.1]/hook", "a private address"),
        ("http://10.1.2.3/hook", "a private address"),
        ("http://192.168.0.10/hook", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://169.254.1.1/", "a link-local address"),
        ("http://[fd00:ec2::254]/", "a cloud metadata address"),
        ("http://[fc00::1]/", "a private address"),
        ("http://0.0.0.0/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),
    ]:
        code, details = await status_of(strict.create_webhook(user, url))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, url
        assert details.startswith("webhook.url:"), details
        assert says in details, details

    relaxed = await start_notify()  # TODO_WEBHOOK_ALLOW_PRIVATE=1
    assert (await relaxed.create_webhook(user, receiver.url)).webhook.url == receiver.url
    assert (await relaxed.create_webhook(user, "http://localhost:8080/hook")).secret
    code, details = await status_of(relaxed.create_webhook(user, "http://169.254.169.254/"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "a cloud metadata address" in details


async def test_a_user_has_a_bounded_number_of_webhooks(
    notify: RunningNotify, receiver: Receiver
) -> None:
    user = new_user()
    for _ in range(20):
        await notify.create_webhook(user, receiver.url)
    code, details = await status_of(notify.create_webhook(user, receiver.url))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "at most 20" in details
