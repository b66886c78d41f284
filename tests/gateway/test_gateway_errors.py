"""Error codes: gRPC statuses map in one table; our own faults leave as INTERNAL with no detail."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import pytest
import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import (
    BAD_USER_INPUT,
    CONFLICT,
    FORBIDDEN,
    INTERNAL,
    INTERNAL_MESSAGE,
    NOT_FOUND,
    UNAUTHENTICATED,
    UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    ErrorMasking,
    GatewayError,
    from_rpc_error,
    graphql_field,
    rpc,
)
from gateway.schema import GatewaySchema, schema_extensions
from todo_runtime import error_details
from todo_runtime.errors import InvalidArgument, Violation


def _status(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details, debug_error_string=None
    )


@pytest.mark.parametrize(
    ("status", "details", "code", "message"),
    [
        (grpc.StatusCode.NOT_FOUND, "task t1 not found", NOT_FOUND, "task t1 not found"),
        (grpc.StatusCode.INVALID_ARGUMENT, "task.title: must not be empty", BAD_USER_INPUT, None),
        (grpc.StatusCode.OUT_OF_RANGE, "page_size: too large", BAD_USER_INPUT, None),
        (
            grpc.StatusCode.FAILED_PRECONDITION,
            "task.reminders: need a due time",
            BAD_USER_INPUT,
            None,
        ),
        (grpc.StatusCode.ABORTED, "version 3 is stale, current is 4", CONFLICT, None),
        (grpc.StatusCode.PERMISSION_DENIED, "not yours", FORBIDDEN, None),
        (
            grpc.StatusCode.UNAUTHENTICATED,
            "x-todo-signature expired",
            UNAUTHENTICATED,
            "not authenticated",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            "connect to 10.0.0.7:50051 failed",
            UNAVAILABLE,
            UNAVAILABLE_MESSAGE,
        ),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", UNAVAILABLE, UNAVAILABLE_MESSAGE),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "too busy", UNAVAILABLE, UNAVAILABLE_MESSAGE),
        (grpc.StatusCode.INTERNAL, "asyncpg: relation tasks missing", INTERNAL, INTERNAL_MESSAGE),
        (grpc.StatusCode.UNKNOWN, "Traceback (most recent call last)", INTERNAL, INTERNAL_MESSAGE),
    ],
)
def test_status_codes_map_to_graphql_codes(
    status: grpc.StatusCode, details: str, code: str, message: str | None
) -> None:
    error = from_rpc_error(_status(status, details))
    assert error.extensions is not None
    assert error.extensions["code"] == code
    assert error.message == (message or details)


def _refused(error: InvalidArgument) -> grpc.aio.AioRpcError:
    """The failed call a service answers `error` with: status, message and google.rpc details."""
    status = error_details.to_status(
        error, grpc.StatusCode.INVALID_ARGUMENT, error.message, "todo.tasks.v1.TaskService"
    )
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        details=status.details,
        debug_error_string=None,
    )


def test_bad_input_names_the_graphql_field_from_the_status_details() -> None:
    error = from_rpc_error(
        _refused(
            InvalidArgument(
                "task.time_zone",
                "unknown zone 'Mars/Base'",
                Violation("task.title", "must not be empty"),
            )
        )
    )
    assert (
        error.message == "task.time_zone: unknown zone 'Mars/Base'; task.title: must not be empty"
    )
    assert error.extensions == {"code": BAD_USER_INPUT, "field": "timeZone"}


def test_message_text_never_names_a_field() -> None:
    """Only a BadRequest in the details does: a message is for people, whatever it looks like."""
    looks_like_one = _status(grpc.StatusCode.INVALID_ARGUMENT, "task.time_zone: unknown zone")
    assert from_rpc_error(looks_like_one).extensions == {"code": BAD_USER_INPUT}


@pytest.mark.parametrize(
    ("proto_path", "graphql_name"),
    [
        ("task.title", "title"),
        ("task.due_time", "dueAt"),
        ("task.time_zone", "timeZone"),
        ("task.reminders[2].minutes_before", "reminders[2].minutesBefore"),
        ("task.reminders[0].remind_time", "reminders[0].at"),
        ("filter.due_before", "filter.dueBefore"),
        ("page_size", "first"),
        ("page_token", "after"),
        ("text", "text"),
    ],
)
def test_graphql_field_names(proto_path: str, graphql_name: str) -> None:
    assert graphql_field(proto_path) == graphql_name


async def test_rpc_translates_failed_calls() -> None:
    async def failing() -> None:
        raise _status(grpc.StatusCode.ABORTED, "stale version")

    async def succeeding() -> int:
        return 7

    assert await rpc(succeeding()) == 7
    with pytest.raises(GatewayError, match="stale version") as caught:
        await rpc(failing())
    assert caught.value.extensions == {"code": CONFLICT}


@strawberry.type
class _Query:
    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("password=hunter2 at /srv/app/secret.py line 3")

    @strawberry.field
    def refused(self) -> str:
        raise GatewayError(FORBIDDEN, "not yours")

    @strawberry.field
    def broken_contract(self) -> str:
        return None  # type: ignore[return-value]  # a non-null field giving null: our bug

    @strawberry.field
    def fine(self) -> str:
        return "ok"


_schema = GatewaySchema(query=_Query, extensions=schema_extensions())


async def test_unexpected_exceptions_are_masked_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway.schema"):
        result = await _schema.execute("{ boom }")
    assert result.errors is not None
    [error] = [error.formatted for error in result.errors]
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"] == {"code": INTERNAL}
    assert "hunter2" not in str(error)
    assert "Traceback" not in str(error)
    assert result.errors[0].original_error is None
    # Operators still see what happened.
    assert "hunter2" in caplog.text
    assert "RuntimeError" in caplog.text


async def test_non_null_violation_is_internal_and_other_fields_survive() -> None:
    result = await _schema.execute("{ fine brokenContract }")
    assert result.data is None  # the non-null root field nulls the whole result
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": INTERNAL}
    assert result.errors[0].message == INTERNAL_MESSAGE


async def test_client_errors_pass_through_with_their_code(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway.schema"):
        refused = await _schema.execute("{ refused }")
        invalid = await _schema.execute("{ nope }")
        unparsable = await _schema.execute("{ fine ")
    assert refused.errors is not None
    assert refused.errors[0].formatted["message"] == "not yours"
    assert refused.errors[0].extensions == {"code": FORBIDDEN}
    for result in (invalid, unparsable):
        assert result.errors is not None
        assert result.errors[0].extensions == {"code": BAD_USER_INPUT}
    assert caplog.text == ""  # client errors are not logged as server errors


def test_gateway_errors_are_graphql_errors() -> None:
    assert isinstance(GatewayError(NOT_FOUND, "x"), GraphQLError)


async def test_a_fault_in_an_extension_is_masked_too() -> None:
    """Strawberry hands an extension's exception past MaskErrors; the schema masks it anyway."""

    class Faulty(SchemaExtension):
        async def on_execute(self) -> AsyncIterator[None]:
            raise RuntimeError("connection string postgres://secret@db")
            yield  # pragma: no cover - a generator that fails before yielding

    @strawberry.type
    class Query:
        fine: int = 1

    schema = GatewaySchema(query=Query, extensions=[Faulty, ErrorMasking])
    result = await schema.execute("{ fine }")
    assert result.errors is not None
    [error] = result.errors
    assert (error.message, error.extensions) == (INTERNAL_MESSAGE, {"code": INTERNAL})
    assert "secret" not in str(result)
