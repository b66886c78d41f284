"""`GET /calendar/{token}.ics`: a user's open tasks with a due time, for calendar apps to poll.

The token in the path is the only credential (`calendar_feeds`): no Authorization header. The
feed lists the owner's OPEN tasks with a due time, earliest due first, read from svc_tasks as
the owner (the identity the gateway signs for them, as for their GraphQL calls), at most
`MAX_FEED_TASKS`: the earliest-due ones when there are more. It answers:

- 200 `text/calendar; charset=utf-8` (`calendar_ics`), with a strong ETag that is a hash of the
  listed tasks' ids and versions and the feed's kind and name, and `Cache-Control: private`;
- 304 when `If-None-Match` names that ETag: nothing is rendered, the poll costs one listing;
- 404 for a malformed, unknown or revoked token, one answer for all three;
- 429 with `Retry-After` when the feed is fetched faster than its bucket allows: each fetch pours
  a tenth of the rate limiter's bucket (`rate_buckets`) into one of the feed's own (never its
  owner's GraphQL budget), so a burst of 10, then one fetch per `capacity / 10 / restore`
  seconds (2 s by default), shared by every replica;
- 503 while the gateway's database or svc_tasks is away, or when the gateway has no database.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from gateway.calendar_feeds import CalendarFeeds, Feed
from gateway.context import GatewayContext
from gateway.errors import UNAVAILABLE, GatewayError, code_of
from gateway.services import Services
from gateway.transport.calendar_ics import ComponentCache, etag, render
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2
from todo_runtime.failures import describe, is_transient

log = logging.getLogger(__name__)

PATH: Final = "/calendar/{token}.ics"
PATH_PREFIX: Final = "/calendar/"
MAX_FEED_TASKS: Final = 5000
PAGE_SIZE: Final = 200  # svc_tasks' largest page
MEDIA_TYPE: Final = "text/calendar; charset=utf-8"
CACHE_CONTROL: Final = "private, max-age=300"
FETCHES_PER_BUCKET: Final = 10
_RETRY_SECONDS: Final = "5"
_ORDER: Final = tasks_service_pb2.TaskOrder(
    field=tasks_service_pb2.TASK_ORDER_FIELD_DUE_TIME,
    direction=tasks_service_pb2.ORDER_DIRECTION_ASCENDING,
)


_TOKEN_IN_PATH: Final = re.compile(rf"{re.escape(PATH_PREFIX)}[^/?\s]+")


class RedactedFeedTokens(logging.Filter):
    """Replaces a feed's token in the server's access log lines (the path is the credential):
    `GET /calendar/REDACTED.ics`. For the logger `uvicorn.access`, whose records carry the path
    among their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(arg, str) and PATH_PREFIX in arg for arg in record.args
        ):
            record.args = tuple(
                _TOKEN_IN_PATH.sub(f"{PATH_PREFIX}REDACTED.ics", arg)
                if isinstance(arg, str)
                else arg
                for arg in record.args
            )
        return True


class CalendarFeedEndpoint:
    """The feed route; its component cache lives as long as the app."""

    def __init__(
        self, services: Services, max_tasks: int = MAX_FEED_TASKS, page_size: int = PAGE_SIZE
    ) -> None:
        """`max_tasks`: the most tasks one feed lists; `page_size`: tasks per ListTasks call."""
        self._services = services
        self._max_tasks = max_tasks
        self._page_size = page_size
        self._cache = ComponentCache()
        self.route = Route(PATH, self.serve, methods=["GET"])

    async def serve(self, request: Request) -> Response:
        feed = await self._feed(request.path_params["token"])
        if isinstance(feed, Response):
            return feed
        refused = self._rate_limited(feed)
        if refused is not None:
            return refused
        try:
            tasks = await self._tasks(feed)
        except GatewayError as error:
            if code_of(error) == UNAVAILABLE:
                return _unavailable("svc_tasks is unavailable")
            raise
        headers = {"ETag": etag(tasks, feed.kind, feed.name), "Cache-Control": CACHE_CONTROL}
        if _matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        # A cold render takes about half a millisecond per task: off the event loop.
        body = await run_in_threadpool(render, tasks, feed.kind, feed.name, self._cache)
        headers["Content-Disposition"] = 'inline; filename="tasks.ics"'
        return Response(body, media_type=MEDIA_TYPE, headers=headers)

    async def _feed(self, token: str) -> Feed | Response:
        """The feed `token` opens, or the answer when there is none to serve."""
        pool = self._services.database
        if pool is None:
            return _unavailable("calendar feeds need the gateway's database")
        try:
            feed = await CalendarFeeds(pool).find(token)
        except Exception as error:
            if not is_transient(error):
                raise
            log.debug("calendar feed lookup failed: %s", describe(error))
            return _unavailable("the gateway's database is unreachable")
        if feed is None:
            return PlainTextResponse("no such calendar feed", status_code=404)
        return feed

    def _rate_limited(self, feed: Feed) -> Response | None:
        limiter = self._services.rate_limiter
        if limiter is None:
            return None
        decision = limiter.take(f"calendar-feed:{feed.id}", limiter.capacity / FETCHES_PER_BUCKET)
        if decision.allowed:
            return None
        return PlainTextResponse(
            "calendar feed fetched too often",
            status_code=429,
            headers={"Retry-After": str(max(1, math.ceil(decision.retry_after)))},
        )

    async def _tasks(self, feed: Feed) -> list[task_pb2.Task]:
        """The owner's open tasks with a due time, earliest first, at most `max_tasks`."""
        context = GatewayContext(
            services=self._services, max_page_size=PAGE_SIZE, user_id=feed.user_id
        )
        found: list[task_pb2.Task] = []
        token = ""
        while len(found) < self._max_tasks:
            request = tasks_service_pb2.ListTasksRequest(
                page_size=min(self._page_size, self._max_tasks - len(found)),
                page_token=token,
                filter=tasks_service_pb2.TaskFilter(status=task_pb2.TASK_STATUS_OPEN),
                order_by=[_ORDER],
                skip_total_size=True,
            )
            response = await context.call(context.tasks.ListTasks, request)
            for task in response.tasks:
                if not task.HasField("due_time"):
                    return found  # the tasks without a due time sort last: the rest are too
                found.append(task)
            token = response.next_page_token
            if not token:
                break
        return found


def _matches(if_none_match: str | None, tag: str) -> bool:
    """Whether `If-None-Match` names `tag` (weakly, as RFC 9110 compares for it) or is `*`."""
    if not if_none_match:
        return False
    candidates = [candidate.strip() for candidate in if_none_match.split(",")]
    return any(candidate in {"*", tag, f"W/{tag}"} for candidate in candidates)


def _unavailable(message: str) -> Response:
    return PlainTextResponse(message, status_code=503, headers={"Retry-After": _RETRY_SECONDS})
