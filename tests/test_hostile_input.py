"""Hostile input, generated: every GraphQL field and gRPC method answers data or a documented error.

Never INTERNAL, UNKNOWN, a 500, a traceback in the logs, or a hang; and the
services still serve a canary request afterwards. Hypothesis drives strings
(NUL, lone surrogates, huge, right-to-left), numbers, instants, zones, rules,
cursors and ids at the real gateway, svc_tasks and svc_recur.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC
from typing import Any, Final, cast

import grpc
import httpx
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.errors import UserErrorCode
from tests.support.gateway.gateway_harness import make_config, token_for
from tests.support.infra import TEST_SECRET, RunningTasks
from todo_contracts.recur.v1 import recurrence_service_pb2 as recur
from todo_contracts.recur.v1 import recurrence_service_pb2_grpc
from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc
from todo_contracts.tasks.v1 import tasks_service_pb2 as tasks
from todo_runtime.identity import identity_metadata

# What a client may see: data, or one of these (services down is not part of this test).
DOCUMENTED_CODES: Final = {"NOT_FOUND", "BAD_USER_INPUT", "CONFLICT"}
USER_ERROR_CODES: Final = {code.value for code in UserErrorCode}
DOCUMENTED_STATUSES: Final = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
}
ANSWER_WITHIN: Final = 10.0  # seconds; a hang fails the example
FUZZ: Final = settings(
    max_examples=60,
    deadline=None,
    # One stack serves every example of a test: starting it per example would take minutes.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\ud800",
            "x\udfffy",
            "\u202etxet",
            "Ω" * 600,
            "a" * 20_000,
            "'; DROP TABLE tasks; --",
            "%s%n",
            "../../etc/passwd",
        ]
    ),
)
zones = st.one_of(
    st.sampled_from(
        [
            "UTC",
            "Europe/Berlin",
            "Asia/Calcutta",
            "US/Eastern",
            "Pacific/Kiritimati",
            "localtime",
            "posixrules",
            "America",
            "Etc",
            "/etc/localtime",
            "../../../../etc/passwd",
            "Europe/../Europe/Berlin",
            "UTC\x00",
            "Z" * 300,
            "",
        ]
    ),
    nasty_text,
)
instants = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00-14:00",
            "9999-12-31T23:59:59-14:00",
            "9999-12-31T23:59:59+00:00",
            "1969-12-31T23:59:59Z",
            "2027-03-01T09:00:00",
            "2027-02-30T09:00:00Z",
            "not a date",
            "2027-03-01T09:00:00+25:00",
        ]
    ),
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat()),
)
rules = st.one_of(
    st.sampled_from(
        [
            "every weekday at 9am",
            "every 2 weeks on monday and thursday",
            "every month on the last friday",
            "every 3 days after completion",
            "every year on feb 29",
            "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=23;BYMINUTE=59",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=DAILY;INTERVAL=99999999",
            "FREQ=MONTHLY;BYSETPOS=366;BYDAY=MO",
            "FREQ=DAILY;COUNT=999999999",
            "FREQ=DAILY;UNTIL=99991231T235959Z",
            "RRULE:FREQ=WEEKLY;BYDAY=MO;DTSTART=20270101",
            "FREQ=" + "DAILY;" * 3000,
        ]
    ),
    nasty_text,
)
ids = st.one_of(st.uuids().map(str), nasty_text)
cursors = st.one_of(st.sampled_from(["", "e30", "eyJxIjoiIn0.AAAA", "a.b.c", "." * 50]), nasty_text)
ints = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.sampled_from([0, -1, 1, 200, 201, 2**31 - 1]),
)


@pytest.fixture
async def client(
    tasks_service: RunningTasks, recur_service: str
) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config(
        tasks_service.address, internal_secret=TEST_SECRET, recur_address=recur_service
    )
    app = create_app(config)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://gateway",
            headers={"Authorization": f"Bearer {token_for('mallory')}"},
            timeout=ANSWER_WITHIN,
        ) as http,
    ):
        yield http


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Client-caused errors are logged without a traceback (if at all)."""
    caplog.set_level(logging.INFO)
    yield
    traced = [r for r in caplog.records if r.exc_info is not None]
    assert not traced, [f"{r.name}: {r.getMessage()}" for r in traced]


JSON: Final = {"content-type": "application/json"}


def body_of(query: str, variables: dict[str, Any], **extra: str) -> bytes:
    """JSON with \\u escapes, as JavaScript clients send it: a lone surrogate can travel."""
    return json.dumps({"query": query, "variables": variables, **extra}).encode()


async def answer(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The response body, failing on a 5xx, a hang or an undocumented error code."""
    async with asyncio.timeout(ANSWER_WITHIN):
        response = await http.post("/graphql", content=body_of(query, variables), headers=JSON)
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        return {}
    body: dict[str, Any] = response.json()
    codes = {error.get("extensions", {}).get("code") for error in body.get("errors", [])}
    assert codes <= DOCUMENTED_CODES, body
    if "mutation" in query:
        # A mutation answers what is wrong with its input as data; only a request GraphQL
        # itself refuses (coercion, list bounds) is an error, and then nothing ran.
        assert all("path" not in error for error in body.get("errors", [])), body
        payloads = [p for p in (body.get("data") or {}).values() if isinstance(p, dict)]
        user_codes = {error["code"] for p in payloads for error in p["userErrors"]}
        assert user_codes <= USER_ERROR_CODES, body
    return body


async def canary(http: httpx.AsyncClient) -> None:
    """A well-behaved user is still served after the storm."""
    body = await answer(
        http,
        "mutation($u: String!) { createTask(input: {title: $u}) { task { id } userErrors { code } } }",
        {"u": f"canary {uuid.uuid4()}"},
    )
    assert "errors" not in body
    assert body["data"]["createTask"]["userErrors"] == []
    listed = await answer(http, "{ tasks(first: 1) { totalCount } }", {})
    assert listed["data"]["tasks"]["totalCount"] >= 1


CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) {
  task { id title dueAt timeZone recurrence { rule text } reminders { id minutesBefore at } }
  userErrors { field message code } } }"""
UPDATE = """mutation($i: UpdateTaskInput!) {
  updateTask(input: $i) { task { id version } userErrors { field message code } } }"""
LIST = """query($f: TaskFilter, $first: Int, $after: String) {
  tasks(filter: $f, first: $first, after: $after) { totalCount edges { cursor node { id } } } }"""
PREVIEW = """query($t: String!, $z: String, $c: Int) {
  parseRecurrence(text: $t, timeZone: $z, count: $c) { rule text occurrences } }"""
BY_ID = """query Get($id: ID!) { task(id: $id) { id } }
mutation Complete($id: ID!) { completeTask(input: {id: $id}) { task { id } userErrors { code } } }
mutation Reopen($id: ID!) { reopenTask(input: {id: $id}) { task { id } userErrors { code } } }
mutation Delete($id: ID!) { deleteTask(input: {id: $id}) { deletedTaskId userErrors { code } } }"""

create_inputs = st.fixed_dictionaries(
    {"title": nasty_text},
    optional={
        "description": nasty_text,
        "tags": st.lists(nasty_text, max_size=25),
        "dueAt": instants,
        "timeZone": zones,
        "recurrence": rules,
        "remindMinutesBefore": st.lists(ints, max_size=12),
        "remindAt": st.lists(instants, max_size=3),
        "requestId": nasty_text,
        "priority": st.sampled_from(["NONE", "URGENT", "BOGUS"]),
    },
)


@FUZZ
@given(data=create_inputs)
async def test_create_task(client: httpx.AsyncClient, data: dict[str, Any]) -> None:
    await answer(client, CREATE, {"i": data})


@FUZZ
@given(
    task_id=ids,
    changes=create_inputs.map(lambda d: {k: v for k, v in d.items() if k != "requestId"}),
    version=st.one_of(st.none(), ints),
    clear=st.booleans(),
)
async def test_update_task(
    client: httpx.AsyncClient,
    task_id: str,
    changes: dict[str, Any],
    version: int | None,
    clear: bool,
) -> None:
    real = await answer(client, CREATE, {"i": {"title": "target", "dueAt": "2030-01-01T00:00:00Z"}})
    target = real["data"]["createTask"]["task"]["id"] if clear else task_id
    update = {**changes, "id": target, "clearDueAt": clear, "expectedVersion": version}
    await answer(client, UPDATE, {"i": update})


@FUZZ
@given(
    query=st.fixed_dictionaries(
        {
            "search": nasty_text,
            "tags": st.lists(nasty_text, max_size=3),
            "before": st.one_of(st.none(), instants),
            "first": st.one_of(st.none(), ints),
            "after": st.one_of(st.none(), cursors),
        }
    )
)
async def test_list_tasks(client: httpx.AsyncClient, query: dict[str, Any]) -> None:
    flt: dict[str, Any] = {"search": query["search"], "tags": query["tags"]}
    if query["before"] is not None:
        flt["dueBefore"] = query["before"]
    await answer(client, LIST, {"f": flt, "first": query["first"], "after": query["after"]})


@FUZZ
@given(text=rules, zone=st.one_of(st.none(), zones), count=st.one_of(st.none(), ints))
async def test_parse_recurrence(
    client: httpx.AsyncClient, text: str, zone: str | None, count: int | None
) -> None:
    await answer(client, PREVIEW, {"t": text, "z": zone, "c": count})


@FUZZ
@given(task_id=ids, operation=st.sampled_from(["Complete", "Reopen", "Delete"]))
async def test_operations_by_id(client: httpx.AsyncClient, task_id: str, operation: str) -> None:
    async with asyncio.timeout(ANSWER_WITHIN):
        response = await client.post(
            "/graphql",
            content=body_of(BY_ID, {"id": task_id}, operationName=operation),
            headers=JSON,
        )
    assert response.status_code == 200
    body = response.json()
    if "errors" in body:  # text no database stores (NUL): refused before anything ran
        assert body["data"] is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
        return
    # Any other id is refused as data: NOT_FOUND, bound to the input's id.
    [payload] = body["data"].values()
    assert payload["userErrors"] in ([], [{"code": "NOT_FOUND"}]), body


async def test_the_services_still_serve_after_the_storm(client: httpx.AsyncClient) -> None:
    """Runs after the fuzz tests in this module's order (and on its own)."""
    await canary(client)


# gRPC, below the gateway: what grpcurl users and other services can send.

timestamps = st.builds(
    Timestamp,
    seconds=st.one_of(
        st.integers(min_value=-(2**62), max_value=2**62),
        st.sampled_from([-62135596801, 253402300800, 0]),
    ),
    nanos=st.one_of(st.integers(min_value=0, max_value=999_999_999), st.just(-1)),
)


def _encodable(text: str) -> str:
    """Protobuf strings are UTF-8: lone surrogates cannot even be put in a request."""
    return text.encode("utf-8", "replace").decode("utf-8")


proto_text = nasty_text.map(_encodable)
enum_numbers = st.integers(min_value=-5, max_value=10)


def _task(fields: dict[str, Any]) -> task_pb2.Task:
    task = task_pb2.Task(
        title=fields["title"],
        time_zone=fields["zone"],
        tags=fields["tags"],
        series_id=fields["series_id"],
        series_index=fields["series_index"],
    )
    # Out-of-range enum numbers on purpose: a raw client can send any number.
    task.priority = cast("task_pb2.Priority", fields["priority"])
    if fields["due"] is not None:
        task.due_time.CopyFrom(fields["due"])
    if fields["rule"] is not None:
        task.recurrence.rule = fields["rule"]
        task.recurrence.basis = cast("task_pb2.RecurrenceBasis", fields["basis"])
    for value in fields["minutes"]:
        task.reminders.add(minutes_before=value)
    return task


task_messages = st.fixed_dictionaries(
    {
        "title": proto_text,
        "zone": proto_text,
        "due": st.one_of(st.none(), timestamps),
        "priority": enum_numbers,
        "tags": st.lists(proto_text, max_size=4),
        "rule": st.one_of(st.none(), proto_text),
        "basis": enum_numbers,
        "minutes": st.lists(st.integers(min_value=-(2**31), max_value=2**31 - 1), max_size=3),
        "series_id": proto_text,
        "series_index": st.integers(min_value=-(2**31), max_value=2**31 - 1),
    }
).map(_task)


@pytest.fixture
async def stubs(tasks_service: RunningTasks, recur_service: str) -> AsyncIterator[tuple[Any, Any]]:
    async with (
        grpc.aio.insecure_channel(tasks_service.address) as tasks_channel,
        grpc.aio.insecure_channel(recur_service) as recur_channel,
    ):
        yield (
            tasks_service_pb2_grpc.TaskServiceStub(tasks_channel),
            recurrence_service_pb2_grpc.RecurrenceServiceStub(recur_channel),
        )


async def status_of(rpc: Any, request: Message | bytes) -> None:
    """Calls as a signed-in user; fails on an undocumented status (a hang times out)."""
    try:
        await rpc(
            request, metadata=identity_metadata(TEST_SECRET, "mallory"), timeout=ANSWER_WITHIN
        )
        status, details = grpc.StatusCode.OK, ""
    except grpc.aio.AioRpcError as error:
        status, details = error.code(), error.details() or ""
    assert status in DOCUMENTED_STATUSES, (status, details)


@FUZZ
@given(task=task_messages, request_id=proto_text)
async def test_grpc_create_task(
    stubs: tuple[Any, Any], task: task_pb2.Task, request_id: str
) -> None:
    await status_of(stubs[0].CreateTask, tasks.CreateTaskRequest(task=task, request_id=request_id))


@FUZZ
@given(
    task=task_messages,
    paths=st.lists(st.sampled_from(["title", "due_time", "recurrence", "reminders", "x", ""])),
    version=st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
)
async def test_grpc_update_task(
    stubs: tuple[Any, Any], task: task_pb2.Task, paths: list[str], version: int | None
) -> None:
    request = tasks.UpdateTaskRequest(task=task)
    request.update_mask.paths.extend(paths)
    if version is not None:
        request.expected_version = version
    await status_of(stubs[0].UpdateTask, request)


@FUZZ
@given(
    query=st.fixed_dictionaries(
        {
            "size": st.integers(min_value=-(2**31), max_value=2**31 - 1),
            "token": cursors.map(_encodable),
            "search": proto_text,
            "before": st.one_of(st.none(), timestamps),
            "status": enum_numbers,
            "order": st.lists(st.tuples(enum_numbers, enum_numbers), max_size=7),
            "after_sequence": st.integers(min_value=-(2**63), max_value=2**63 - 1),
        }
    )
)
async def test_grpc_lists(stubs: tuple[Any, Any], query: dict[str, Any]) -> None:
    request = tasks.ListTasksRequest(page_size=query["size"], page_token=query["token"])
    request.filter.search = query["search"]
    request.filter.status = cast("task_pb2.TaskStatus", query["status"])
    if query["before"] is not None:
        request.filter.due_before.CopyFrom(query["before"])
    for field, direction in query["order"]:
        request.order_by.add(
            field=cast("tasks.TaskOrderField", field),
            direction=cast("tasks.OrderDirection", direction),
        )
    await status_of(stubs[0].ListTasks, request)
    changes = tasks.ListChangesRequest(
        after_sequence=query["after_sequence"], page_size=query["size"], page_token=query["token"]
    )
    await status_of(stubs[0].ListChanges, changes)


@FUZZ
@given(
    task_id=proto_text,
    method=st.sampled_from(["GetTask", "CompleteTask", "ReopenTask", "DeleteTask"]),
)
async def test_grpc_by_id(stubs: tuple[Any, Any], task_id: str, method: str) -> None:
    request_type = getattr(tasks, f"{method}Request")
    await status_of(getattr(stubs[0], method), request_type(id=task_id))


@FUZZ
@given(
    text=rules.map(_encodable),
    zone=proto_text,
    count=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    start=st.one_of(st.none(), timestamps),
)
async def test_grpc_parse_recurrence(
    stubs: tuple[Any, Any], text: str, zone: str, count: int, start: Timestamp | None
) -> None:
    request = recur.ParseRecurrenceRequest(text=text, time_zone=zone, count=count)
    if start is not None:
        request.start_time.CopyFrom(start)
    await status_of(stubs[1].ParseRecurrence, request)


@FUZZ
@given(payload=st.binary(max_size=200))
async def test_grpc_undecodable_bytes(tasks_service: RunningTasks, payload: bytes) -> None:
    async with grpc.aio.insecure_channel(tasks_service.address) as channel:
        call = channel.unary_unary(
            "/todo.tasks.v1.TaskService/CreateTask",
            request_serializer=None,
            response_deserializer=None,
        )
        await status_of(call, payload)


async def test_grpc_canary_after_the_storm(stubs: tuple[Any, Any]) -> None:
    created = await stubs[0].CreateTask(
        tasks.CreateTaskRequest(
            task=task_pb2.Task(title="canary", priority=task_pb2.PRIORITY_NONE)
        ),
        metadata=identity_metadata(TEST_SECRET, "mallory"),
        timeout=ANSWER_WITHIN,
    )
    assert created.task.title == "canary"
