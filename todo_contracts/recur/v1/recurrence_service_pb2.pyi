import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from todo_contracts.tasks.v1 import task_pb2 as _task_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParseRecurrenceRequest(_message.Message):
    __slots__ = ("text", "time_zone", "count", "start_time")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    text: str
    time_zone: str
    count: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, text: _Optional[str] = ..., time_zone: _Optional[str] = ..., count: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ParseRecurrenceResponse(_message.Message):
    __slots__ = ("recurrence", "occurrences")
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCES_FIELD_NUMBER: _ClassVar[int]
    recurrence: _task_pb2.Recurrence
    occurrences: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    def __init__(self, recurrence: _Optional[_Union[_task_pb2.Recurrence, _Mapping]] = ..., occurrences: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ...) -> None: ...
