"""Webhook endpoints and their delivery log, from `todo.notify.v1` messages."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Final

import strawberry

from gateway import ids
from gateway.types.node import Node, PageInfo
from gateway.types.scalars import from_timestamp
from todo_contracts.notify.v1 import notification_service_pb2 as pb


@strawberry.type(
    description="An endpoint that receives fired reminders as signed POSTs (Standard Webhooks)."
)
class Webhook(Node):
    id: strawberry.ID = strawberry.field(description="Global id.")
    url: str = strawberry.field(description="Where deliveries are POSTed.")
    enabled: bool = strawberry.field(description="A disabled endpoint receives nothing.")
    disabled_reason: str = strawberry.field(
        description="Why it was disabled automatically (the endpoint answered 410); empty otherwise."
    )
    created_at: datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def from_pb(cls, message: pb.Webhook) -> Webhook:
        return cls(
            id=ids.encode(ids.WEBHOOK, message.id),
            url=message.url,
            enabled=message.enabled,
            disabled_reason=message.disabled_reason,
            created_at=from_timestamp(message.create_time),
        )


@strawberry.type(description="A new endpoint and its signing secret.")
class WebhookCreated:
    webhook: Webhook = strawberry.field(description="The endpoint.")
    secret: str = strawberry.field(
        description="`whsec_...`: verify deliveries with it. Shown only here: keep it now."
    )


@strawberry.enum(description="Where a delivery stands after an attempt.")
class DeliveryState(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Will be retried.")
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="The endpoint answered 2xx.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Out of retries; `redeliverWebhook` sends it again."
    )


_STATES: Final = {
    pb.DELIVERY_STATE_PENDING: DeliveryState.PENDING,
    pb.DELIVERY_STATE_SUCCEEDED: DeliveryState.SUCCEEDED,
    pb.DELIVERY_STATE_FAILED: DeliveryState.FAILED,
}


@strawberry.type(description="One attempt to deliver one fired reminder to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Global id of the attempt.")
    delivery_id: strawberry.ID = strawberry.field(
        description="The delivery (every attempt of one event to one endpoint): pass it to "
        "redeliverWebhook."
    )
    event_id: strawberry.ID = strawberry.field(description="The fired reminder's event id.")
    message_id: str = strawberry.field(description="The `webhook-id` header, same on retries.")
    attempt: int = strawberry.field(description="1 for the first attempt.")
    status: int | None = strawberry.field(description="The HTTP status; null without an answer.")
    error: str | None = strawberry.field(description="Why it failed; null on success.")
    at: datetime = strawberry.field(description="When the attempt was made.")
    latency_ms: int | None = strawberry.field(description="How long the endpoint took.")
    state: DeliveryState = strawberry.field(description="The delivery's state after it.")

    @classmethod
    def from_pb(cls, message: pb.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=ids.encode(ids.WEBHOOK_DELIVERY, message.id),
            delivery_id=ids.encode(ids.DELIVERY, message.delivery_id),
            event_id=strawberry.ID(message.event_id),
            message_id=message.message_id,
            attempt=message.attempt,
            status=message.status_code or None,
            error=message.error or None,
            at=from_timestamp(message.attempt_time),
            latency_ms=message.latency_ms if message.status_code else None,
            state=_STATES.get(message.state, DeliveryState.PENDING),
        )


@strawberry.type(description="One attempt in a WebhookDeliveryConnection page.")
class WebhookDeliveryEdge:
    cursor: str = strawberry.field(description="This attempt's position in the log.")
    node: WebhookDelivery = strawberry.field(description="The attempt.")


@strawberry.type(description="An endpoint's delivery log, newest first (Relay cursor connection).")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="This page, newest first.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the log.")
    total_count: int = strawberry.field(description="Attempts logged, counted only when selected.")

    @classmethod
    def from_pb(cls, response: pb.ListWebhookDeliveriesResponse) -> WebhookDeliveryConnection:
        edges = [
            WebhookDeliveryEdge(cursor=cursor, node=WebhookDelivery.from_pb(delivery))
            for cursor, delivery in zip(response.cursors, response.deliveries, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.forward(response.cursors, response.next_page_token),
            total_count=response.total_size,
        )
