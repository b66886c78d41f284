import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from todo_contracts.tasks.v1 import task_pb2 as _task_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QuickAddField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUICK_ADD_FIELD_UNSPECIFIED: _ClassVar[QuickAddField]
    QUICK_ADD_FIELD_TITLE: _ClassVar[QuickAddField]
    QUICK_ADD_FIELD_DUE: _ClassVar[QuickAddField]
    QUICK_ADD_FIELD_RECURRENCE: _ClassVar[QuickAddField]
    QUICK_ADD_FIELD_TAG: _ClassVar[QuickAddField]
    QUICK_ADD_FIELD_PRIORITY: _ClassVar[QuickAddField]
    QUICK_ADD_FIELD_REMINDER: _ClassVar[QuickAddField]
QUICK_ADD_FIELD_UNSPECIFIED: QuickAddField
QUICK_ADD_FIELD_TITLE: QuickAddField
QUICK_ADD_FIELD_DUE: QuickAddField
QUICK_ADD_FIELD_RECURRENCE: QuickAddField
QUICK_ADD_FIELD_TAG: QuickAddField
QUICK_ADD_FIELD_PRIORITY: QuickAddField
QUICK_ADD_FIELD_REMINDER: QuickAddField

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

class ParseQuickAddRequest(_message.Message):
    __slots__ = ("text", "time_zone", "language")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    text: str
    time_zone: str
    language: str
    def __init__(self, text: _Optional[str] = ..., time_zone: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class QuickAddSpan(_message.Message):
    __slots__ = ("start", "end", "field")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    field: QuickAddField
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., field: _Optional[_Union[QuickAddField, str]] = ...) -> None: ...

class ParseQuickAddResponse(_message.Message):
    __slots__ = ("task", "recurrence", "spans")
    TASK_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    recurrence: _task_pb2.Recurrence
    spans: _containers.RepeatedCompositeFieldContainer[QuickAddSpan]
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., recurrence: _Optional[_Union[_task_pb2.Recurrence, _Mapping]] = ..., spans: _Optional[_Iterable[_Union[QuickAddSpan, _Mapping]]] = ...) -> None: ...
