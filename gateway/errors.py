"""Every error a client sees carries `extensions.code`; this module alone decides which.

Codes: NOT_FOUND, BAD_USER_INPUT, CONFLICT, UNAUTHENTICATED, FORBIDDEN, INTERNAL,
UNAVAILABLE (a service or its database is down for now: retry with backoff), and the two that
come with their protocols: RATE_LIMITED (`limits.cost`) and PERSISTED_QUERY_NOT_FOUND
(`limits.persisted_queries`), and SLOW_CONSUMER (a subscription whose client read slower than its
updates came ended: resubscribe with the last cursor, see `api.live_stream`) and
TOO_MANY_OPERATIONS (a WebSocket connection runs as many operations as it may,
`transport.ws_protocol`). gRPC statuses from the services map through `rpc()`, which every
call goes through (`GatewayContext.call`); anything unexpected is masked to INTERNAL by
`ErrorMasking` with no message or trace of the cause.

A mutation answers the user's own mistakes as data instead (`UserError` in its payload, see
`api.payloads`): an error that is about the input (BAD_USER_INPUT, CONFLICT, NOT_FOUND) carries
its `problems`, one per wrong input field, each with a `UserErrorCode`; the service's ErrorInfo
reason decides the code, its BadRequest the fields.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final, TypeVar

import grpc
import strawberry
from graphql import GraphQLError
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import MaskErrors

from todo_runtime import error_details

log = logging.getLogger(__name__)

NOT_FOUND: Final = "NOT_FOUND"
BAD_USER_INPUT: Final = "BAD_USER_INPUT"
CONFLICT: Final = "CONFLICT"
UNAUTHENTICATED: Final = "UNAUTHENTICATED"
FORBIDDEN: Final = "FORBIDDEN"
INTERNAL: Final = "INTERNAL"
UNAVAILABLE: Final = "UNAVAILABLE"
SLOW_CONSUMER: Final = "SLOW_CONSUMER"
TOO_MANY_OPERATIONS: Final = "TOO_MANY_OPERATIONS"

INTERNAL_MESSAGE: Final = "Internal server error."
UNAVAILABLE_MESSAGE: Final = "A service is temporarily unavailable; retry shortly."

_T = TypeVar("_T")

_STATUS_CODES: Final = {
    grpc.StatusCode.NOT_FOUND: NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: BAD_USER_INPUT,
    grpc.StatusCode.OUT_OF_RANGE: BAD_USER_INPUT,
    # A rule about the request, not our fault: services raise it as a DomainError for callers.
    grpc.StatusCode.FAILED_PRECONDITION: BAD_USER_INPUT,
    grpc.StatusCode.ABORTED: CONFLICT,
    grpc.StatusCode.UNAUTHENTICATED: UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED: FORBIDDEN,
    # The service or what it depends on is down or overloaded; the same call can succeed later.
    grpc.StatusCode.UNAVAILABLE: UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED: UNAVAILABLE,
}
# Proto field names whose GraphQL name is not just the camelCase of the proto one.
_RENAMED_FIELDS: Final = {
    "due_time": "dueAt",
    "remind_time": "at",
    "create_time": "createdAt",
    "update_time": "updatedAt",
    "complete_time": "completedAt",
    "page_size": "first",
    "page_token": "after",
    "before_page_token": "before",
    "order_by": "orderBy",
    "expected_version": "expectedVersion",
}


@strawberry.enum(
    description="Why a mutation refused its input. The same refusal always has the same code."
)
class UserErrorCode(Enum):
    INVALID = strawberry.enum_value(
        "INVALID", description="The field breaks a rule; `message` says which."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="The id names nothing of yours (or is no id at all)."
    )
    STALE_VERSION = strawberry.enum_value(
        "STALE_VERSION",
        description="The task changed since `expectedVersion`: the payload's `task` is the "
        "current one. Apply the change to it and send that version.",
    )
    TASK_DELETED = strawberry.enum_value(
        "TASK_DELETED",
        description="The task this `requestId` created was deleted since; creating it again would "
        "undo that. Use a new requestId for a new task.",
    )
    TASK_DONE = strawberry.enum_value(
        "TASK_DONE", description="The notification's task is completed or deleted."
    )
    TOO_MANY_WEBHOOKS = strawberry.enum_value(
        "TOO_MANY_WEBHOOKS", description="You have as many endpoints as you may: delete one."
    )
    DELIVERY_IN_FLIGHT = strawberry.enum_value(
        "DELIVERY_IN_FLIGHT",
        description="The delivery is being sent right now: redeliver it once that attempt is "
        "listed.",
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="The object changed under the request: read it again and retry."
    )
    CHANGED_SINCE = strawberry.enum_value(
        "CHANGED_SINCE",
        description="A field the change set changed again since (`message` names them), or "
        "its task was deleted since: undo the later change first.",
    )
    TASK_EXISTS = strawberry.enum_value(
        "TASK_EXISTS",
        description="The deleted task was restored already and changed since: it exists again.",
    )
    NOT_REVERTIBLE = strawberry.enum_value(
        "NOT_REVERTIBLE",
        description="The entry records no change of yours to a task (a reminder, a system "
        "entry): there is nothing to undo.",
    )
    TOO_MANY_CALENDAR_FEEDS = strawberry.enum_value(
        "TOO_MANY_CALENDAR_FEEDS",
        description="You have as many calendar feeds as you may: revoke one.",
    )


@strawberry.type(
    description="Why a mutation refused (part of) its input, bound to the input field at fault."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description='The path to the input field at fault, e.g. ["input", "dueAt"] or ["input", '
        '"tags", "2"]; null when no single field is.'
    )
    message: str = strawberry.field(description="For people: what is wrong with the field.")
    code: UserErrorCode = strawberry.field(description="For programs: which rule was broken.")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a mutation's input: a `UserError` once its payload is built."""

    code: UserErrorCode
    field: tuple[str, ...] | None
    message: str


# ErrorInfo reasons a form needs told apart; every other refusal is INVALID, NOT_FOUND or
# CONFLICT by its status, and each names the input field at fault, if one is.
_REASON_CODES: Final = {
    "STALE_VERSION": (UserErrorCode.STALE_VERSION, ("input", "expectedVersion")),
    "TASK_DELETED": (UserErrorCode.TASK_DELETED, ("input", "requestId")),
    "TASK_DONE": (UserErrorCode.TASK_DONE, ("input", "notificationId")),
    "TOO_MANY_WEBHOOKS": (UserErrorCode.TOO_MANY_WEBHOOKS, None),
    "DELIVERY_IN_FLIGHT": (UserErrorCode.DELIVERY_IN_FLIGHT, ("input", "deliveryId")),
    "CHANGED_SINCE": (UserErrorCode.CHANGED_SINCE, ("input", "auditEntryId")),
    "TASK_EXISTS": (UserErrorCode.TASK_EXISTS, ("input", "auditEntryId")),
    "NOT_REVERTIBLE": (UserErrorCode.NOT_REVERTIBLE, ("input", "auditEntryId")),
}
_PROBLEM_CODES: Final = {
    BAD_USER_INPUT: UserErrorCode.INVALID,
    NOT_FOUND: UserErrorCode.NOT_FOUND,
    CONFLICT: UserErrorCode.CONFLICT,
}
_INDEX = re.compile(r"\[(\d+)\]")


def field_path(field: str) -> tuple[str, ...]:
    """`input.tags[2]` as a UserError's path: ("input", "tags", "2")."""
    return tuple(part for part in _INDEX.sub(r".\1", field).split(".") if part)


class GatewayError(GraphQLError):
    """An error meant for the client: its message is shown as is, with `extensions.code`.

    `problems` is the same error as a mutation's `userErrors`: empty when it is not about the
    input (UNAUTHENTICATED, UNAVAILABLE, ...), which a mutation then raises as a top-level error.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        extensions: dict[str, object] = {"code": code}
        if field is not None:
            extensions["field"] = field
        super().__init__(message, extensions=extensions)
        if problems is None and code in _PROBLEM_CODES:
            problems = [
                Problem(_PROBLEM_CODES[code], field_path(field) if field else None, message)
            ]
        self.problems: tuple[Problem, ...] = tuple(problems or ())


def bad_input(field: str, message: str) -> GatewayError:
    """BAD_USER_INPUT naming the GraphQL argument or input field at fault."""
    problem = Problem(UserErrorCode.INVALID, field_path(field), message)
    return GatewayError(BAD_USER_INPUT, f"{field}: {message}", field=field, problems=[problem])


def not_revertible(field: str, message: str) -> GatewayError:
    """BAD_USER_INPUT for an audit entry that records no change to undo (`api.undo`)."""
    problem = Problem(UserErrorCode.NOT_REVERTIBLE, field_path(field), message)
    return GatewayError(BAD_USER_INPUT, message, field=field, problems=[problem])


def unauthenticated(message: str) -> GatewayError:
    return GatewayError(UNAUTHENTICATED, message)


def not_found(global_id: str) -> GatewayError:
    """The one answer for a missing, malformed or foreign id: it must not tell them apart."""
    shown = global_id if len(global_id) <= 60 else global_id[:60] + "..."
    return GatewayError(NOT_FOUND, f"no object with id {shown!r}")


def code_of(error: GraphQLError) -> object:
    """The `extensions.code` an error carries, if any."""
    return (error.extensions or {}).get("code")


def graphql_field(proto_path: str) -> str:
    """The GraphQL name of a proto field path, as the client sent it.

    `task.due_time` → `dueAt`; `filter.due_before` → `filter.dueBefore`.
    """
    parts = [part for part in proto_path.split(".") if part]
    if parts and parts[0] in {"task", "webhook", "request"}:
        parts = parts[1:]
    renamed = []
    for part in parts:
        name, bracket, index = part.partition("[")
        head, *rest = _RENAMED_FIELDS.get(name, name).split("_")
        renamed.append(head + "".join(word.capitalize() for word in rest) + bracket + index)
    return ".".join(renamed) or proto_path


def from_rpc_error(error: grpc.aio.AioRpcError, about: str | None = None) -> GatewayError:
    """The GraphQL error for a failed call; details of server faults stay in the log.

    `about` is the id the client sent for the object the call is about: a NOT_FOUND names it,
    as `not_found` names every id that leads nowhere.
    """
    status = error.code()
    code = _STATUS_CODES.get(status, INTERNAL)
    details = error.details() or ""
    if code == NOT_FOUND and about is not None:
        return not_found(about)  # its problem names no field: the mutation knows which held it
    if code == INTERNAL:
        log.error("service call failed: %s %s", status.name, details)
        return GatewayError(INTERNAL, INTERNAL_MESSAGE)
    if code == UNAUTHENTICATED:
        # The service refused the identity we signed: a secret or clock fault, not the user's.
        log.error("service rejected the gateway's signed identity: %s", details)
        return GatewayError(UNAUTHENTICATED, "not authenticated")
    if code == UNAVAILABLE:
        log.debug("service unavailable: %s %s", status.name, details)
        return GatewayError(UNAVAILABLE, UNAVAILABLE_MESSAGE)
    return _refused_input(code, details or code.replace("_", " ").lower(), error)


def _refused_input(code: str, message: str, error: grpc.aio.AioRpcError) -> GatewayError:
    """A refusal of the request's input, with the problems its details name."""
    reason = error_details.reason(error)
    if reason in _REASON_CODES:
        user_code, path = _REASON_CODES[reason]
        return GatewayError(code, message, problems=[Problem(user_code, path, message)])
    # The wrong fields come from the status's BadRequest details, never from its text.
    violations = error_details.violations(error) if code == BAD_USER_INPUT else []
    if not violations:
        return GatewayError(code, message)
    problems = [
        Problem(UserErrorCode.INVALID, ("input", *field_path(graphql_field(v.field))), v.problem)
        for v in violations
    ]
    return GatewayError(code, message, field=graphql_field(violations[0].field), problems=problems)


async def rpc(call: Awaitable[_T], about: str | None = None) -> _T:
    """Awaits a gRPC call, turning a failed status into the client-facing GraphQL error."""
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error, about) from None


def is_unexpected(error: GraphQLError) -> bool:
    """True for a fault of ours (an exception raised while resolving): never shown to clients."""
    if "code" in (error.extensions or {}):
        return False
    original = error.original_error
    if error.path is None:
        # Parse, validation and variable errors are about the client's document; the rest is ours.
        return original is not None and not isinstance(original, GraphQLError)
    return not isinstance(original, StrawberryInputCoercionError)


class ErrorMasking(MaskErrors):
    """Strawberry's MaskErrors, extended so every error leaves with a code.

    Unexpected errors become INTERNAL with a fixed message and nothing of the
    original; errors that describe a bad document or variables (parse,
    validation, query limits, input coercion) keep their message and get
    BAD_USER_INPUT; errors that already carry a code pass through untouched.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: "code" not in (error.extensions or {}))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return anonymised(error)

    def _process_result(self, result: object) -> None:
        # Strawberry's asks `isinstance` of a runtime-checkable Protocol, which inspects the
        # result's every attribute: most of what this hook cost an operation without errors.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


def anonymised(error: GraphQLError) -> GraphQLError:
    """`error` as a client may see it: with a code, and nothing of a fault of ours."""
    if "code" in (error.extensions or {}):
        return error
    unexpected = is_unexpected(error)
    return GraphQLError(
        message=INTERNAL_MESSAGE if unexpected else error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={"code": INTERNAL if unexpected else BAD_USER_INPUT},
    )
