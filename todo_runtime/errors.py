"""Domain errors: what a caller is told went wrong, in the words of the rules, not of a protocol.

Pure (the standard library only), so rules raise them without importing any I/O library. They
carry no status code: the gRPC server maps each kind to one in a single table
(`todo_runtime.grpc_server`), so no rule and no servicer chooses a status itself. Each carries a
`reason`, stable and UPPER_SNAKE_CASE (AIP-193), that callers may branch on: the kind's own, or
a more specific one where a caller needs it (`STALE_VERSION`, `TASK_NOT_FOUND`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar


class DomainError(Exception):
    """Base of every error a caller is meant to see; its message is shown as it is."""

    default_reason: ClassVar[str] = "DOMAIN_ERROR"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason


class NotFound(DomainError):
    """The caller has no such object (another user's objects are not found either)."""

    default_reason = "NOT_FOUND"


@dataclass(frozen=True)
class Violation:
    """One wrong request field: its path (`task.title`, `task.reminders[1].minutes_before`) and
    what is wrong with it."""

    field: str
    problem: str


class InvalidArgument(DomainError):
    """Bad input: every wrong request field a rule found, each with what is wrong with it."""

    default_reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, problem: str, *more: Violation) -> None:
        self.violations = (Violation(field, problem), *more)
        super().__init__("; ".join(f"{v.field}: {v.problem}" for v in self.violations))

    @property
    def field(self) -> str:
        """The first wrong field."""
        return self.violations[0].field

    @classmethod
    def of(cls, violations: list[Violation]) -> InvalidArgument:
        """One error for `violations` (at least one)."""
        first, *more = violations
        return cls(first.field, first.problem, *more)


def gather(*rules: Callable[[], object]) -> list[Violation]:
    """Runs every rule and keeps what each refuses, so a request hears of all its wrong fields at
    once rather than one per attempt."""
    found: list[Violation] = []
    for rule in rules:
        try:
            rule()
        except InvalidArgument as error:
            found.extend(error.violations)
    return found


class FailedPrecondition(DomainError):
    """The request is well formed but the object's state refuses it (say why)."""

    default_reason = "FAILED_PRECONDITION"


class Conflict(DomainError):
    """The request contradicts what happened to the object: a stale expected version (AIP-154:
    re-read and retry), a repeated create of a task deleted since."""

    default_reason = "CONFLICT"


class Unauthenticated(DomainError):
    """The caller's identity is missing or not to be trusted."""

    default_reason = "UNAUTHENTICATED"


class DataDamaged(DomainError):
    """Stored data contradicts itself or what was signed about it (tampering): say what."""

    default_reason = "DATA_DAMAGED"


class TooSlow(DomainError):
    """The caller read a stream more slowly than it could be buffered for it: start again."""

    default_reason = "SLOW_CONSUMER"
