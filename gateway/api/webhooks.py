"""Webhooks (svc_notify): the endpoints fired reminders are delivered to, and their delivery log."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Final

import strawberry

from gateway import ids
from gateway.api.node import Node
from gateway.api.payloads import MutationInput, Payload, answered
from gateway.context import GatewayContext, Info
from gateway.paging import DEFAULT_PAGE_SIZE, Page, PageInfo, selects
from todo_contracts.notify.v1 import notification_service_pb2 as pb
from todo_runtime.enum_maps import from_numbers
from todo_runtime.timestamps import from_timestamp

MAX_WEBHOOKS: Final = 200


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


@strawberry.input(description="An endpoint to register.")
class CreateWebhookInput(MutationInput):
    url: str = strawberry.field(description="An http(s) URL that accepts POSTs.")


@strawberry.input(description="An endpoint to pause or resume.")
class SetWebhookEnabledInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The endpoint.")
    enabled: bool = strawberry.field(description="false stops deliveries.")


@strawberry.input(description="An endpoint to delete.")
class DeleteWebhookInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The endpoint.")


@strawberry.input(description="A delivery to send again.")
class RedeliverWebhookInput(MutationInput):
    delivery_id: strawberry.ID = strawberry.field(
        description="A delivery's id (WebhookDelivery.deliveryId)."
    )


@strawberry.type(description="What `createWebhook` answers: the endpoint and its signing secret.")
class CreateWebhookPayload(Payload):
    webhook: Webhook | None = strawberry.field(
        default=None, description="The endpoint; null when refused."
    )
    secret: str | None = strawberry.field(
        default=None,
        description="`whsec_...`: verify deliveries with it. Shown only here: keep it now.",
    )


@strawberry.type(description="What `setWebhookEnabled` answers.")
class SetWebhookEnabledPayload(Payload):
    webhook: Webhook | None = strawberry.field(
        default=None, description="The endpoint as the mutation left it; null when refused."
    )


@strawberry.type(description="What `deleteWebhook` answers.")
class DeleteWebhookPayload(Payload):
    deleted_webhook_id: strawberry.ID | None = strawberry.field(
        default=None, description="The deleted endpoint's id; null when refused."
    )


@strawberry.type(description="What `redeliverWebhook` answers.")
class RedeliverWebhookPayload(Payload):
    delivery_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The delivery sent again (its new attempt is listed under the same id); null "
        "when refused.",
    )


@strawberry.enum(description="Where a delivery stands after an attempt.")
class DeliveryState(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Will be retried.")
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="The endpoint answered 2xx.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Out of retries; `redeliverWebhook` sends it again."
    )


_STATES: Final = from_numbers(DeliveryState, pb.DeliveryState)


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


async def fetch_webhook(context: GatewayContext, global_id: str) -> Webhook:
    request = pb.GetWebhookRequest(id=ids.service_id(global_id, ids.WEBHOOK))
    response = await context.call(context.notify.GetWebhook, request, about=global_id)
    return Webhook.from_pb(response.webhook)


async def list_webhooks(info: Info) -> list[Webhook]:
    context = info.context
    request = pb.ListWebhooksRequest(page_size=MAX_WEBHOOKS)
    response = await context.call(context.notify.ListWebhooks, request)
    return [Webhook.from_pb(webhook) for webhook in response.webhooks]


async def list_deliveries(
    info: Info,
    webhook_id: Annotated[strawberry.ID, strawberry.argument(description="The endpoint's id.")],
    first: Annotated[
        int | None, strawberry.argument(description="Page size, 1..200.")
    ] = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None, strawberry.argument(description="An edge's cursor: what follows it.")
    ] = strawberry.UNSET,
) -> WebhookDeliveryConnection:
    context = info.context
    webhook = ids.service_id(webhook_id, ids.WEBHOOK)
    page = Page.forward(first, after, context.max_page_size)
    request = pb.ListWebhookDeliveriesRequest(
        webhook_id=webhook,
        page_size=page.size,
        page_token=page.token,
        skip_total_size=not selects(info, "totalCount"),
    )
    response = await context.call(context.notify.ListWebhookDeliveries, request, about=webhook_id)
    return WebhookDeliveryConnection.from_pb(response)


async def create_webhook(
    info: Info,
    input: Annotated[CreateWebhookInput, strawberry.argument(description="The endpoint.")],
) -> CreateWebhookPayload | None:
    context = info.context

    async def perform() -> CreateWebhookPayload:
        request = pb.CreateWebhookRequest(webhook=pb.Webhook(url=input.url))
        response = await context.call(context.notify.CreateWebhook, request)
        return CreateWebhookPayload(
            webhook=Webhook.from_pb(response.webhook), secret=response.secret
        )

    return await answered(input, CreateWebhookPayload, perform)


async def set_webhook_enabled(
    info: Info,
    input: Annotated[
        SetWebhookEnabledInput, strawberry.argument(description="The endpoint and its state.")
    ],
) -> SetWebhookEnabledPayload | None:
    context = info.context

    async def perform() -> SetWebhookEnabledPayload:
        webhook = ids.service_id(input.id, ids.WEBHOOK)
        request = pb.SetWebhookEnabledRequest(id=webhook, enabled=input.enabled)
        response = await context.call(context.notify.SetWebhookEnabled, request, about=input.id)
        return SetWebhookEnabledPayload(webhook=Webhook.from_pb(response.webhook))

    return await answered(input, SetWebhookEnabledPayload, perform, id_field="id")


async def delete_webhook(
    info: Info,
    input: Annotated[DeleteWebhookInput, strawberry.argument(description="The endpoint.")],
) -> DeleteWebhookPayload | None:
    context = info.context

    async def perform() -> DeleteWebhookPayload:
        request = pb.DeleteWebhookRequest(id=ids.service_id(input.id, ids.WEBHOOK))
        await context.call(context.notify.DeleteWebhook, request, about=input.id)
        return DeleteWebhookPayload(deleted_webhook_id=input.id)

    return await answered(input, DeleteWebhookPayload, perform, id_field="id")


async def redeliver_webhook(
    info: Info,
    input: Annotated[RedeliverWebhookInput, strawberry.argument(description="The delivery.")],
) -> RedeliverWebhookPayload | None:
    context = info.context

    async def perform() -> RedeliverWebhookPayload:
        delivery = ids.service_id(input.delivery_id, ids.DELIVERY)
        request = pb.RedeliverWebhookRequest(delivery_id=delivery)
        await context.call(context.notify.RedeliverWebhook, request, about=input.delivery_id)
        return RedeliverWebhookPayload(delivery_id=input.delivery_id)

    return await answered(input, RedeliverWebhookPayload, perform, id_field="deliveryId")


@strawberry.type
class WebhookQueries:
    webhooks: list[Webhook] = strawberry.field(
        resolver=list_webhooks, description="Your webhook endpoints, oldest first."
    )
    webhook_deliveries: WebhookDeliveryConnection = strawberry.field(
        resolver=list_deliveries,
        description="Every attempt to deliver to one of your endpoints, newest first. NOT_FOUND "
        "for an endpoint that is not yours.",
    )


@strawberry.type
class WebhookMutations:
    create_webhook: CreateWebhookPayload | None = strawberry.mutation(
        resolver=create_webhook,
        description="Registers an endpoint for signed reminder deliveries; the secret is shown "
        "only in this answer.",
    )
    set_webhook_enabled: SetWebhookEnabledPayload | None = strawberry.mutation(
        resolver=set_webhook_enabled,
        description="Pauses (false) or resumes (true) deliveries to an endpoint.",
    )
    delete_webhook: DeleteWebhookPayload | None = strawberry.mutation(
        resolver=delete_webhook, description="Deletes an endpoint and its delivery log."
    )
    redeliver_webhook: RedeliverWebhookPayload | None = strawberry.mutation(
        resolver=redeliver_webhook,
        description="Sends a delivery again, freshly signed, with its same webhook-id.",
    )
