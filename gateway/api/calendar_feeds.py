"""Calendar feeds (docs/calendar.md): secret URLs that serve a user's open tasks to calendar apps.

The feeds live in the gateway's own database (`gateway.calendar_feeds`); the URL itself is
served by `transport.calendar`. A feed's token is shown once, in `createCalendarFeed`'s answer:
only its hash is kept, so no later read can show it again.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import Annotated, TypeVar

import strawberry

from gateway import ids
from gateway.api.node import Node
from gateway.api.payloads import MutationInput, Payload, answered
from gateway.arguments import given
from gateway.calendar_feeds import (
    MAX_FEEDS_PER_USER,
    MAX_NAME_LENGTH,
    CalendarFeeds,
    Feed,
    TooManyFeeds,
)
from gateway.context import GatewayContext, Info
from gateway.errors import (
    BAD_USER_INPUT,
    UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    GatewayError,
    Problem,
    UserErrorCode,
    bad_input,
    not_found,
)
from todo_runtime.failures import is_transient

_T = TypeVar("_T")


@strawberry.enum(description="What a calendar feed lists each task as.")
class CalendarFeedKind(Enum):
    VTODO = strawberry.enum_value(
        "VTODO",
        description="A to-do (VTODO) with its due time: Apple Calendar / Reminders, Thunderbird "
        "and other CalDAV-minded apps show these.",
    )
    VEVENT = strawberry.enum_value(
        "VEVENT",
        description="An event at the due time (VEVENT, zero length, free): what Google Calendar "
        "and Outlook show from a subscribed URL.",
    )


@strawberry.type(
    description="A secret URL serving your open tasks with a due time as an iCalendar feed. Its "
    "URL is shown once, by `createCalendarFeed`."
)
class CalendarFeed(Node):
    id: strawberry.ID = strawberry.field(description="Global id.")
    kind: CalendarFeedKind = strawberry.field(description="VTODO or VEVENT per task.")
    name: str = strawberry.field(
        description="Your label for it; also the calendar's name in apps (empty: `Tasks`)."
    )
    created_at: datetime = strawberry.field(description="When it was made.")

    @classmethod
    def from_feed(cls, feed: Feed) -> CalendarFeed:
        return cls(
            id=ids.encode(ids.CALENDAR_FEED, feed.id),
            kind=CalendarFeedKind(feed.kind),
            name=feed.name,
            created_at=feed.created_at,
        )


@strawberry.input(description="A calendar feed to make.")
class CreateCalendarFeedInput(MutationInput):
    kind: CalendarFeedKind = strawberry.field(description="VTODO or VEVENT per task.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"A label, at most {MAX_NAME_LENGTH} characters after trimming.",
    )


@strawberry.input(description="A calendar feed to revoke.")
class RevokeCalendarFeedInput(MutationInput):
    id: strawberry.ID = strawberry.field(description="The feed.")


@strawberry.type(description="What `createCalendarFeed` answers: the feed and its secret URL.")
class CreateCalendarFeedPayload(Payload):
    calendar_feed: CalendarFeed | None = strawberry.field(
        default=None, description="The feed; null when refused."
    )
    url: str | None = strawberry.field(
        default=None,
        description="`<origin>/calendar/<token>.ics`: subscribe to it. Anyone with it reads the "
        "feed, and it is shown only here: keep it now. Relative (`/calendar/...`) when the "
        "mutation came over WebSocket.",
    )


@strawberry.type(description="What `revokeCalendarFeed` answers.")
class RevokeCalendarFeedPayload(Payload):
    revoked_calendar_feed_id: strawberry.ID | None = strawberry.field(
        default=None, description="The revoked feed's id; null when refused."
    )


def _store(context: GatewayContext) -> CalendarFeeds:
    context.user()  # UNAUTHENTICATED first
    pool = context.services.database
    if pool is None:
        raise GatewayError(UNAVAILABLE, UNAVAILABLE_MESSAGE)
    return CalendarFeeds(pool)


async def _database(call: Awaitable[_T]) -> _T:
    """Awaits a query of the feeds table; UNAVAILABLE while the database is away."""
    try:
        return await call
    except Exception as error:
        if not is_transient(error):
            raise
        raise GatewayError(UNAVAILABLE, UNAVAILABLE_MESSAGE) from None


async def fetch_calendar_feed(context: GatewayContext, global_id: str) -> CalendarFeed:
    feed_id = ids.service_id(global_id, ids.CALENDAR_FEED)
    feed = await _database(_store(context).get(context.user(), feed_id))
    if feed is None:
        raise not_found(global_id)
    return CalendarFeed.from_feed(feed)


async def list_calendar_feeds(info: Info) -> list[CalendarFeed]:
    context = info.context
    feeds = await _database(_store(context).list(context.user()))
    return [CalendarFeed.from_feed(feed) for feed in feeds]


def _name(input: CreateCalendarFeedInput) -> str:
    name = (input.name if given(input.name) else None) or ""
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise bad_input("input.name", f"must be at most {MAX_NAME_LENGTH} characters")
    if any(ord(character) < 32 for character in name):
        raise bad_input("input.name", "must not hold control characters")
    return name


async def create_calendar_feed(
    info: Info,
    input: Annotated[CreateCalendarFeedInput, strawberry.argument(description="The feed.")],
) -> CreateCalendarFeedPayload | None:
    context = info.context

    async def perform() -> CreateCalendarFeedPayload:
        name = _name(input)
        try:
            feed, token = await _database(
                _store(context).create(context.user(), input.kind.name, name)
            )
        except TooManyFeeds:
            message = f"you have {MAX_FEEDS_PER_USER} calendar feeds: revoke one first"
            problem = Problem(UserErrorCode.TOO_MANY_CALENDAR_FEEDS, None, message)
            raise GatewayError(BAD_USER_INPUT, message, problems=[problem]) from None
        return CreateCalendarFeedPayload(
            calendar_feed=CalendarFeed.from_feed(feed),
            url=f"{context.origin}/calendar/{token}.ics",
        )

    return await answered(input, CreateCalendarFeedPayload, perform)


async def revoke_calendar_feed(
    info: Info,
    input: Annotated[RevokeCalendarFeedInput, strawberry.argument(description="The feed.")],
) -> RevokeCalendarFeedPayload | None:
    context = info.context

    async def perform() -> RevokeCalendarFeedPayload:
        feed_id = ids.service_id(input.id, ids.CALENDAR_FEED)
        if not await _database(_store(context).revoke(context.user(), feed_id)):
            raise not_found(input.id)
        return RevokeCalendarFeedPayload(revoked_calendar_feed_id=input.id)

    return await answered(input, RevokeCalendarFeedPayload, perform, id_field="id")


@strawberry.type
class CalendarFeedQueries:
    calendar_feeds: list[CalendarFeed] = strawberry.field(
        resolver=list_calendar_feeds,
        description=f"Your calendar feeds, oldest first (at most {MAX_FEEDS_PER_USER}), without "
        "their URLs.",
    )


@strawberry.type
class CalendarFeedMutations:
    create_calendar_feed: CreateCalendarFeedPayload | None = strawberry.mutation(
        resolver=create_calendar_feed,
        description="Makes a secret iCalendar URL of your open tasks with a due time, for a "
        "calendar app to subscribe to (docs/calendar.md); the URL is shown only in this answer. "
        f"At most {MAX_FEEDS_PER_USER} per user.",
    )
    revoke_calendar_feed: RevokeCalendarFeedPayload | None = strawberry.mutation(
        resolver=revoke_calendar_feed,
        description="Revokes a calendar feed: its URL answers 404 from now on.",
    )


__all__ = [
    "CalendarFeedMutations",
    "CalendarFeedQueries",
    "fetch_calendar_feed",
]
