"""Calendar feeds end to end: the GraphQL mutations, then `GET /calendar/{token}.ics` parsed back
with icalendar, against the real svc_tasks and the gateway's own PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

import httpx
import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar, Component
from starlette.applications import Starlette

from gateway import ids
from gateway.transport.calendar import CalendarFeedEndpoint, RedactedFeedTokens, _matches
from tests.support.gateway.gateway_harness import (
    COMPLETE,
    UPDATE,
    USER_ERRORS,
    GatewayClient,
    changed,
    create_task,
    graphql_view,
    make_config,
    new_user,
    running_client,
)
from tests.support.infra import RunningTasks
from todo_recurrence import Basis, Recurrence, occurrences
from todo_recurrence.zones import lookup_zone
from todo_runtime.config import DatabaseConfig

CREATE_FEED = f"""mutation($input: CreateCalendarFeedInput!) {{
  createCalendarFeed(input: $input) {{
    calendarFeed {{ id kind name createdAt }} url clientMutationId {USER_ERRORS}
  }}
}}"""
REVOKE_FEED = f"""mutation($id: ID!) {{
  revokeCalendarFeed(input: {{id: $id}}) {{ revokedCalendarFeedId {USER_ERRORS} }}
}}"""
LIST_FEEDS = "{ calendarFeeds { id kind name createdAt } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on CalendarFeed { kind name } } }"
UNKNOWN_TOKEN = "A" * 43


@pytest.fixture
async def client(tasks_service: RunningTasks) -> AsyncIterator[GatewayClient]:
    """The gateway in front of the real svc_tasks, with its own database (the same server)."""
    config = make_config(
        tasks_service.address,
        internal_secret=tasks_service.secret,
        database=DatabaseConfig(tasks_service.config.database.url, 1, 2),
    )
    async with running_client(config) as gateway:
        yield gateway


async def _create_feed(
    client: GatewayClient, kind: str = "VTODO", user: str | None = None, **fields: Any
) -> tuple[dict[str, Any], str]:
    data = await client.data(CREATE_FEED, {"input": {"kind": kind, **fields}}, user=user)
    feed = changed(data, "createCalendarFeed", "calendarFeed")
    url: str = data["createCalendarFeed"]["url"]
    return feed, url


async def _calendar(client: GatewayClient, url: str) -> Calendar:
    response = await client.http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"].startswith("private, max-age=")
    return Calendar.from_ical(response.content)


def _by_uid(calendar: Calendar, kind: str = "VTODO") -> dict[str, Component]:
    return {str(component["UID"]): component for component in calendar.walk(kind)}


def _moment(component: Component, name: str) -> datetime:
    value = component.decoded(name)
    assert isinstance(value, datetime)
    return value


def _tzid(component: Component, name: str) -> str | None:
    prop: Any = component[name]
    tzid: str | None = prop.params.get("TZID")
    return tzid


def _ical(component: Component, name: str) -> str:
    prop: Any = component[name]
    text: str = prop.to_ical().decode()
    return text


def _uid(task: dict[str, Any]) -> str:
    """The UID of a task in a feed: its service id (the local id inside the global one)."""
    local = ids.task_id(task["id"])
    assert local is not None
    return f"{local}@todo"


async def test_a_feed_lists_open_tasks_with_a_due_time_as_vtodos(client: GatewayClient) -> None:
    berlin = await create_task(
        client,
        title="Pay rent",
        description="by transfer",
        priority="HIGH",
        tags=["home", "money"],
        dueAt="2030-03-01T09:00:00+01:00",
        timeZone="Europe/Berlin",
        remindMinutesBefore=[30],
        remindAt=["2030-02-28T18:00:00Z"],
    )
    utc = await create_task(client, title="Call", dueAt="2030-03-02T12:00:00Z", priority="URGENT")
    await create_task(client, title="Someday")  # no due time: not in the feed
    done = await create_task(client, title="Done", dueAt="2030-03-03T12:00:00Z")
    await client.data(COMPLETE, {"id": done["id"]})

    feed, url = await _create_feed(client, name="  Work  ", clientMutationId="cal-1")
    assert (feed["kind"], feed["name"]) == ("VTODO", "Work")
    assert url.startswith("http://gateway/calendar/")
    assert url.endswith(".ics")
    token = url.removeprefix("http://gateway/calendar/").removesuffix(".ics")
    assert len(token) == 43  # 256 bits, URL-safe base64
    calendar = await _calendar(client, url)

    assert str(calendar["X-WR-CALNAME"]) == "Work"
    todos = _by_uid(calendar)
    assert set(todos) == {_uid(berlin), _uid(utc)}
    assert calendar.walk("VEVENT") == []
    rent = todos[_uid(berlin)]
    assert str(rent["SUMMARY"]) == "Pay rent"
    assert str(rent["DESCRIPTION"]) == "by transfer"
    assert rent.decoded("PRIORITY") == 3
    assert rent.decoded("CATEGORIES") == ["home", "money"]
    assert rent.decoded("SEQUENCE") == 0
    assert _tzid(rent, "DTSTART") == "Europe/Berlin"
    assert _tzid(rent, "DUE") == "Europe/Berlin"
    assert _moment(rent, "DUE") == datetime(2030, 3, 1, 8, tzinfo=UTC)
    assert _moment(rent, "DUE").replace(tzinfo=None) == datetime(2030, 3, 1, 9)  # the wall clock
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert calendar.get_missing_tzids() == set()
    triggers = sorted(
        (str(alarm["ACTION"]), _ical(alarm, "TRIGGER")) for alarm in rent.walk("VALARM")
    )
    assert triggers == [("DISPLAY", "-PT30M"), ("DISPLAY", "20300228T180000Z")]
    call = todos[_uid(utc)]
    assert _tzid(call, "DTSTART") is None
    assert _ical(call, "DTSTART") == "20300302T120000Z"  # UTC needs no VTIMEZONE
    assert call.decoded("PRIORITY") == 1
    assert "RRULE" not in call
    assert call.walk("VALARM") == []


async def test_a_vevent_feed_lists_events(client: GatewayClient) -> None:
    task = await create_task(
        client, title="Dentist", dueAt="2030-05-05T14:00:00Z", timeZone="America/New_York"
    )
    _, url = await _create_feed(client, kind="VEVENT")
    calendar = await _calendar(client, url)
    assert calendar.walk("VTODO") == []
    event = _by_uid(calendar, "VEVENT")[_uid(task)]
    assert _tzid(event, "DTSTART") == "America/New_York"
    assert _moment(event, "DTSTART").replace(tzinfo=None) == datetime(2030, 5, 5, 10)
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["America/New_York"]


async def test_sequence_rises_with_an_update_and_etag_answers_304(client: GatewayClient) -> None:
    task = await create_task(client, title="Draft", dueAt="2030-04-01T09:00:00Z")
    _, url = await _create_feed(client)
    first = await client.http.get(url)
    tag = first.headers["etag"]
    assert tag.startswith('"')
    assert tag.endswith('"')
    again = await client.http.get(url)
    assert again.content == first.content  # nothing changed, nothing differs (DTSTAMP included)
    unchanged = await client.http.get(url, headers={"If-None-Match": tag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == tag
    assert unchanged.headers["cache-control"].startswith("private")
    weak = await client.http.get(url, headers={"If-None-Match": f'"other", W/{tag}'})
    assert weak.status_code == 304

    await client.data(UPDATE, {"input": {"id": task["id"], "title": "Final"}})
    changed_feed = await client.http.get(url, headers={"If-None-Match": tag})
    assert changed_feed.status_code == 200
    assert changed_feed.headers["etag"] != tag
    todo = _by_uid(Calendar.from_ical(changed_feed.content))[_uid(task)]
    assert str(todo["SUMMARY"]) == "Final"
    assert todo.decoded("SEQUENCE") == 1

    await client.data(COMPLETE, {"id": task["id"]})  # completed: out of the feed
    emptied = await client.http.get(url, headers={"If-None-Match": changed_feed.headers["etag"]})
    assert emptied.status_code == 200
    assert Calendar.from_ical(emptied.content).walk("VTODO") == []


async def test_a_revoked_or_unknown_token_is_404_alike(client: GatewayClient) -> None:
    await create_task(client, title="Secret", dueAt="2030-04-01T09:00:00Z")
    feed, url = await _create_feed(client)
    assert (await client.http.get(url)).status_code == 200
    data = await client.data(REVOKE_FEED, {"id": feed["id"]})
    assert changed(data, "revokeCalendarFeed", "revokedCalendarFeedId") == feed["id"]
    revoked = await client.http.get(url)
    unknown = await client.http.get(f"/calendar/{UNKNOWN_TOKEN}.ics")
    malformed = await client.http.get("/calendar/not-a-token.ics")
    for answer in (revoked, unknown, malformed):
        assert answer.status_code == 404
        assert answer.content == revoked.content
    assert (await client.data(LIST_FEEDS))["calendarFeeds"] == []
    again = await client.data(REVOKE_FEED, {"id": feed["id"]})
    assert again["revokeCalendarFeed"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_another_users_feed_is_not_theirs_to_see_or_revoke(client: GatewayClient) -> None:
    feed, url = await _create_feed(client, kind="VEVENT", name="mine")
    mallory = new_user()
    data = await client.data(REVOKE_FEED, {"id": feed["id"]}, user=mallory)
    payload = data["revokeCalendarFeed"]
    assert payload["revokedCalendarFeedId"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "id"],
            "message": payload["userErrors"][0]["message"],
            "code": "NOT_FOUND",
        }
    ]
    assert (await client.data(LIST_FEEDS, user=mallory))["calendarFeeds"] == []
    body = await client.execute(NODE, {"id": feed["id"]}, user=mallory)
    assert body["data"]["node"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await client.http.get(url)).status_code == 200  # still served
    mine = await client.data(NODE, {"id": feed["id"]})
    assert mine["node"] == {"id": feed["id"], "kind": "VEVENT", "name": "mine"}
    assert (await client.data(LIST_FEEDS))["calendarFeeds"] == [feed]


async def test_a_user_may_hold_ten_feeds(client: GatewayClient) -> None:
    made = [(await _create_feed(client, name=f"feed {n}"))[0] for n in range(10)]
    data = await client.data(CREATE_FEED, {"input": {"kind": "VTODO"}})
    payload = data["createCalendarFeed"]
    assert (payload["calendarFeed"], payload["url"]) == (None, None)
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (None, "TOO_MANY_CALENDAR_FEEDS")
    assert (await client.data(LIST_FEEDS))["calendarFeeds"] == made
    await client.data(REVOKE_FEED, {"id": made[0]["id"]})
    await _create_feed(client)  # room again
    too_long = await client.data(CREATE_FEED, {"input": {"kind": "VTODO", "name": "x" * 101}})
    [error] = too_long["createCalendarFeed"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "name"], "INVALID")


# Rules whose first occurrences cross a DST change of their zone (Berlin: 2030-03-31 and
# 2030-10-27; New York: 2030-03-10 and 2030-11-03), with COUNT, UNTIL and INTERVAL.
RECURRING = [
    ("every day at 9am", "Europe/Berlin", "2030-03-27T09:00:00+01:00"),
    (
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=18;BYMINUTE=30",
        "Europe/Berlin",
        "2030-10-21T18:30:00+02:00",
    ),
    ("FREQ=DAILY;INTERVAL=2;COUNT=7", "America/New_York", "2030-03-06T07:15:00-05:00"),
    ("every month on the last sunday at 10am", "Europe/Berlin", "2030-01-27T10:00:00+01:00"),
    ("daily until 2030-11-06", "America/New_York", "2030-10-30T23:00:00-04:00"),
    ("FREQ=HOURLY;INTERVAL=5;BYMINUTE=15", "Europe/Berlin", "2030-03-30T20:15:00+01:00"),
]
FIRST = 12


@pytest.mark.parametrize(("text", "zone", "due"), RECURRING)
async def test_each_rrule_expands_to_the_platforms_occurrences(
    client: GatewayClient, text: str, zone: str, due: str
) -> None:
    task = await create_task(client, title="series", recurrence=text, timeZone=zone, dueAt=due)
    _, url = await _create_feed(client)
    todo = _by_uid(await _calendar(client, url))[_uid(task)]
    start = _moment(todo, "DTSTART")
    assert _tzid(todo, "DTSTART") == zone
    assert str(start.tzinfo) == zone
    rule = _ical(todo, "RRULE")
    theirs = [moment.astimezone(UTC) for moment in islice(rrulestr(rule, dtstart=start), FIRST)]

    place = lookup_zone(zone)
    assert place is not None
    stored = Recurrence(task["recurrence"]["rule"], "", Basis.SCHEDULE)
    ours = [start, *occurrences(stored, start, place, after=start, count=FIRST - 1)]
    assert theirs == [moment.astimezone(UTC) for moment in ours]
    assert len({moment.utcoffset() for moment in ours}) == 2, "the rule crosses a DST change"


async def test_a_completion_based_rule_has_no_rrule(client: GatewayClient) -> None:
    task = await create_task(
        client,
        title="water",
        recurrence="every 3 days after completion",
        dueAt="2030-06-01T08:00:00Z",
    )
    _, url = await _create_feed(client)
    todo = _by_uid(await _calendar(client, url))[_uid(task)]
    assert "RRULE" not in todo  # its next due time depends on when it is done


async def test_a_feed_is_rate_limited_by_its_own_bucket(tasks_service: RunningTasks) -> None:
    config = make_config(
        tasks_service.address,
        internal_secret=tasks_service.secret,
        database=DatabaseConfig(tasks_service.config.database.url, 1, 2),
        rate_points=100,
        max_cost=100,
        rate_restore=0.01,
    )
    async with running_client(config) as client:
        _, url = await _create_feed(client)
        answers = [(await client.http.get(url)).status_code for _ in range(11)]
        assert answers == [200] * 10 + [429]
        refused = await client.http.get(url)
        assert int(refused.headers["retry-after"]) >= 1
        # The owner's own GraphQL budget is untouched by the feed's fetches.
        await _create_feed(client)


async def test_the_feed_pages_through_tasks_up_to_its_cap(client: GatewayClient) -> None:
    base = datetime(2030, 7, 1, 9, tzinfo=UTC)
    dues = [base + timedelta(days=n) for n in (4, 0, 3, 1, 2)]
    tasks = [
        await create_task(client, title=f"t{n}", dueAt=due.isoformat())
        for n, due in enumerate(dues)
    ]
    await create_task(client, title="no due")
    _, url = await _create_feed(client)
    path = httpx.URL(url).path
    services = graphql_view(client.app)._services
    by_due = [_uid(task) for _, task in sorted(zip(dues, tasks, strict=True), key=lambda p: p[0])]
    for cap, expected in ((100, by_due), (3, by_due[:3])):
        app = Starlette(routes=[CalendarFeedEndpoint(services, max_tasks=cap, page_size=2).route])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as http:
            response = await http.get(path)
        assert response.status_code == 200
        uids = [str(todo["UID"]) for todo in Calendar.from_ical(response.content).walk("VTODO")]
        assert uids == expected


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abcd"', False),
        ("abc", False),
    ],
)
def test_if_none_match_is_compared_weakly(header: str | None, matches: bool) -> None:
    assert _matches(header, '"abc"') is matches


def test_the_access_log_never_shows_a_feed_token() -> None:
    """uvicorn's access line, as the gateway's filter leaves it (the path is the credential)."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/calendar/s3cr3t-T0ken_x.ics?x=1", "1.1", 200),
        None,
    )
    assert RedactedFeedTokens().filter(record)
    line = record.getMessage()
    assert "s3cr3t" not in line
    assert line == '127.0.0.1:5000 - "GET /calendar/REDACTED.ics?x=1 HTTP/1.1" 200'
