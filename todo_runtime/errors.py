"""Domain errors: what a caller is told went wrong, in the words of the rules, not of a protocol.

Pure (the standard library only), so rules raise them without importing any I/O library. They
carry no status code: the gRPC server maps each kind to one in a single table
(`todo_runtime.grpc_server`), so no rule and no servicer chooses a status itself.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller is meant to see; its message is shown as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The caller has no such object (another user's objects are not found either)."""


class InvalidArgument(DomainError):
    """Bad input; `field` names the offending request field (e.g. "task.title")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class FailedPrecondition(DomainError):
    """The request is well formed but the object's state refuses it (say why)."""


class Conflict(DomainError):
    """The request contradicts what happened to the object: a stale expected version (AIP-154:
    re-read and retry), a repeated create of a task deleted since."""


class Unauthenticated(DomainError):
    """The caller's identity is missing or not to be trusted."""


class DataDamaged(DomainError):
    """Stored data contradicts itself or what was signed about it (tampering): say what."""


class TooSlow(DomainError):
    """The caller read a stream more slowly than it could be buffered for it: start again."""
