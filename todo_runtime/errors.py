"""Domain errors and the gRPC status each one becomes.

Services raise these; one interceptor turns them into statuses, so no
servicer method maps errors itself.
"""

from __future__ import annotations

import grpc


class DomainError(Exception):
    """Base of every error a caller is meant to see, with its gRPC status code."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND


class InvalidArgument(DomainError):
    """Bad input; `field` names the offending request field (e.g. "task.title")."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class FailedPrecondition(DomainError):
    """The request is well formed but the object's state refuses it (say why)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Conflict(DomainError):
    """A stale expected version (AIP-154): re-read and retry."""

    code = grpc.StatusCode.ABORTED


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED
