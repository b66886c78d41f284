"""A consumed record as its handler sees it: the payload with its CloudEvents attributes.

Apart from the consumers that deliver it, so a handler depends on the event alone, whichever
kind of consumer (`consumer`, `fan_out`) calls it.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TypeVar

from confluent_kafka import Message
from google.protobuf import message as protobuf
from google.protobuf.message import DecodeError

from todo_runtime import request_context
from todo_runtime.cloudevents import EventHeaders, EventHeadersError, read_headers
from todo_runtime.failures import PermanentError

M = TypeVar("M", bound=protobuf.Message)


class UnexpectedMessageError(PermanentError):
    """The record holds another Protobuf message type than the handler expects."""


@dataclass(frozen=True)
class ReceivedEvent:
    """One consumed record with its CloudEvents attributes."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: EventHeaders
    # The correlation id and trace context it was published with (see `request_context`).
    propagation: tuple[tuple[str, str], ...] = ()

    def handling(self) -> contextlib.AbstractContextManager[None]:
        """The block handles this event as part of the request that caused it."""
        return request_context.handling(
            self.propagation, event_id=self.headers.id, topic=self.topic
        )

    def parse(self, message_type: type[M]) -> M:
        """Decodes the value, checking the `proto_message` header names `message_type`."""
        expected = message_type.DESCRIPTOR.full_name
        if self.headers.message_name != expected:
            raise UnexpectedMessageError(
                f"expected {expected}, the record holds {self.headers.message_name}"
            )
        message = message_type()
        try:
            message.ParseFromString(self.value)
        except DecodeError as error:
            raise PermanentError(f"cannot decode {expected}: {error}") from None
        return message


def received(message: Message) -> ReceivedEvent | EventHeadersError:
    """The record as an event, or why its headers are not CloudEvents."""
    try:
        headers = read_headers(message.headers())
    except EventHeadersError as exc:
        return exc
    return ReceivedEvent(
        message.topic() or "",
        message.partition() or 0,
        message.offset() or 0,
        message.key(),
        message.value() or b"",
        headers,
        tuple(request_context.pairs_of(message.headers() or ())),
    )


def position(message: Message) -> str:
    """Where a record is, for the log: `topic [partition]@offset`."""
    return f"{message.topic()} [{message.partition()}]@{message.offset()}"
