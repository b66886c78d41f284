"""`google.rpc.Status` details on every domain error (AIP-193), and reading them back.

A caller gets more than a code and a sentence: an `ErrorInfo` whose reason is stable
(`STALE_VERSION`, `TASK_NOT_FOUND`, ...) and whose domain is the refusing service, and for bad
input a `BadRequest` with one `FieldViolation` per wrong request field. They travel in the
`grpc-status-details-bin` trailer, which grpcurl prints and `grpc_status.rpc_status.from_call`
reads; the gateway builds its errors from them, never from message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, cast

import grpc
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from todo_runtime.errors import DomainError, InvalidArgument, Violation

# Trailers are metadata, a few kilobytes in all: a description quotes user input, so it is cut,
# and a request can break only so many rules (its lists are bounded before any rule runs).
_MAX_DESCRIPTION: Final = 300
_MAX_VIOLATIONS: Final = 20


def to_status(error: DomainError, code: grpc.StatusCode, message: str, domain: str) -> grpc.Status:
    """The status to end a call with: `code`, `message` and `error`'s details, `domain` being the
    refusing gRPC service (`todo.tasks.v1.TaskService`)."""
    details: list[Message] = [error_details_pb2.ErrorInfo(reason=error.reason, domain=domain)]
    if isinstance(error, InvalidArgument):
        shown = error.violations[:_MAX_VIOLATIONS]
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.problem[:_MAX_DESCRIPTION]
                    )
                    for v in shown
                ]
            )
        )
    packed = []
    for detail in details:
        wrapper = AnyMessage()
        wrapper.Pack(detail)
        packed.append(wrapper)
    status = status_pb2.Status(code=code.value[0], message=message, details=packed)
    result: grpc.Status = rpc_status.to_status(status)
    return result


def _details(call: grpc.aio.AioRpcError) -> Sequence[AnyMessage]:
    try:
        # An AioRpcError has what from_call reads (code, details, trailers); the stubs want a Call.
        status = rpc_status.from_call(cast("grpc.Call", call))
    except ValueError:  # a trailer that contradicts the call's status is not to be trusted
        return ()
    return () if status is None else list(status.details)


def violations(call: grpc.aio.AioRpcError) -> list[Violation]:
    """The wrong fields a failed call names (none when it carries no `BadRequest`)."""
    found: list[Violation] = []
    for detail in _details(call):
        request = error_details_pb2.BadRequest()
        if detail.Unpack(request):
            found.extend(Violation(v.field, v.description) for v in request.field_violations)
    return found


def reason(call: grpc.aio.AioRpcError) -> str | None:
    """The `ErrorInfo` reason a failed call carries, if any."""
    for detail in _details(call):
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return None
