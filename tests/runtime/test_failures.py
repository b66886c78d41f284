"""What is worth waiting for (transient) and what is dead-lettered (permanent)."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from confluent_kafka import KafkaError, KafkaException

from todo_runtime.backoff import Backoff
from todo_runtime.failures import PermanentError, TransientError, describe, is_transient
from todo_runtime.received_event import UnexpectedMessageError


class _RpcError(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), "x", None)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError("refused"), True),
        (TimeoutError(), True),
        (asyncpg.CannotConnectNowError("starting up"), True),
        (asyncpg.ConnectionDoesNotExistError("closed"), True),
        (asyncpg.SerializationError("race"), True),
        (asyncpg.DeadlockDetectedError("deadlock"), True),
        (asyncpg.AdminShutdownError("shutdown"), True),
        (_RpcError(grpc.StatusCode.UNAVAILABLE), True),
        (_RpcError(grpc.StatusCode.DEADLINE_EXCEEDED), True),
        (KafkaException(KafkaError(KafkaError._TRANSPORT, "down", retriable=True)), True),
        (TransientError("wait"), True),
        (_RpcError(grpc.StatusCode.INVALID_ARGUMENT), False),
        (_RpcError(grpc.StatusCode.INTERNAL), False),
        (asyncpg.UniqueViolationError("dup"), False),
        (ValueError("bad"), False),
        (UnexpectedMessageError("wrong type"), False),
        (PermanentError("poison"), False),
        (KafkaException(KafkaError(KafkaError.INVALID_MSG, "bad")), False),
    ],
)
def test_classification(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_describe_is_one_bounded_line() -> None:
    assert describe(ValueError("two\nlines")) == "ValueError: two lines"
    assert len(describe(ValueError("x" * 5000))) < 600
    assert describe(TimeoutError()) == "TimeoutError"


def test_backoff_grows_to_its_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(0.1, 1.0)
    delays = [backoff.next_delay() for _ in range(8)]
    assert 0.05 <= delays[0] <= 0.1
    assert all(0.5 <= delay <= 1.0 for delay in delays[4:])
    backoff.reset()
    assert backoff.next_delay() <= 0.1
    with pytest.raises(ValueError, match="initial"):
        Backoff(0, 1)
