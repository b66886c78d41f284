"""Transient or permanent: the one classification every retry decision uses.

A transient failure is a dependency that is down, busy or slow (Postgres, the
broker, another service): waiting helps, so the work is retried without limit
and never dead-lettered. Anything else is permanent (a payload that cannot be
decoded, a rule the event breaks, a bug): retrying will not help, so after a
few tries the event is dead-lettered with the reason.
"""

from __future__ import annotations

from typing import Final

import asyncpg
import grpc
from confluent_kafka import KafkaError, KafkaException


class TransientError(Exception):
    """Raised by a handler to say: a dependency is unavailable, try again later."""


class PermanentError(Exception):
    """Raised by a handler to say: this event can never be processed (dead-letter it)."""


# The database is unreachable, restarting, overloaded, or the transaction lost a race.
_POSTGRES: Final = (
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # asyncpg raises this for a connection the server dropped in the middle of an operation
    # ("cannot switch to state ...; another operation is in progress").
    asyncpg.InternalClientError,
)
_GRPC_TRANSIENT: Final = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
)


def is_transient(error: BaseException) -> bool:
    """True when `error` means a dependency failed, so the same work may succeed later.

    OSError counts: the inputs that reach a file (zone names) are validated
    against the bundled database first, so what remains are sockets.
    """
    if isinstance(error, PermanentError):
        return False
    if isinstance(error, (TransientError, TimeoutError, OSError, *_POSTGRES)):
        return True
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code() in _GRPC_TRANSIENT
    if isinstance(error, KafkaException):
        first = error.args[0] if error.args else None
        return isinstance(first, KafkaError) and bool(first.retriable())
    return False


def describe(error: BaseException) -> str:
    """`Type: message`, one line, for logs and dead-letter headers."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:500]}" if text else type(error).__name__
