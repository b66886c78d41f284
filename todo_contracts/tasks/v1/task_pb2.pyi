import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_OPEN: _ClassVar[TaskStatus]
    TASK_STATUS_COMPLETED: _ClassVar[TaskStatus]

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_NONE: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]
    PRIORITY_MEDIUM: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]
    PRIORITY_URGENT: _ClassVar[Priority]

class RecurrenceBasis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECURRENCE_BASIS_UNSPECIFIED: _ClassVar[RecurrenceBasis]
    RECURRENCE_BASIS_SCHEDULE: _ClassVar[RecurrenceBasis]
    RECURRENCE_BASIS_COMPLETION: _ClassVar[RecurrenceBasis]

class ChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_KIND_UNSPECIFIED: _ClassVar[ChangeKind]
    CHANGE_KIND_CREATED: _ClassVar[ChangeKind]
    CHANGE_KIND_UPDATED: _ClassVar[ChangeKind]
    CHANGE_KIND_COMPLETED: _ClassVar[ChangeKind]
    CHANGE_KIND_REOPENED: _ClassVar[ChangeKind]
    CHANGE_KIND_DELETED: _ClassVar[ChangeKind]
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_OPEN: TaskStatus
TASK_STATUS_COMPLETED: TaskStatus
PRIORITY_UNSPECIFIED: Priority
PRIORITY_NONE: Priority
PRIORITY_LOW: Priority
PRIORITY_MEDIUM: Priority
PRIORITY_HIGH: Priority
PRIORITY_URGENT: Priority
RECURRENCE_BASIS_UNSPECIFIED: RecurrenceBasis
RECURRENCE_BASIS_SCHEDULE: RecurrenceBasis
RECURRENCE_BASIS_COMPLETION: RecurrenceBasis
CHANGE_KIND_UNSPECIFIED: ChangeKind
CHANGE_KIND_CREATED: ChangeKind
CHANGE_KIND_UPDATED: ChangeKind
CHANGE_KIND_COMPLETED: ChangeKind
CHANGE_KIND_REOPENED: ChangeKind
CHANGE_KIND_DELETED: ChangeKind

class Recurrence(_message.Message):
    __slots__ = ("rule", "text", "basis", "final")
    RULE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    rule: str
    text: str
    basis: RecurrenceBasis
    final: bool
    def __init__(self, rule: _Optional[str] = ..., text: _Optional[str] = ..., basis: _Optional[_Union[RecurrenceBasis, str]] = ..., final: _Optional[bool] = ...) -> None: ...

class Reminder(_message.Message):
    __slots__ = ("id", "minutes_before", "remind_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    MINUTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    REMIND_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    minutes_before: int
    remind_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., minutes_before: _Optional[int] = ..., remind_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("id", "owner_id", "title", "description", "status", "priority", "tags", "due_time", "time_zone", "recurrence", "reminders", "series_id", "series_index", "version", "create_time", "update_time", "complete_time", "delete_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_FIELD_NUMBER: _ClassVar[int]
    SERIES_ID_FIELD_NUMBER: _ClassVar[int]
    SERIES_INDEX_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    title: str
    description: str
    status: TaskStatus
    priority: Priority
    tags: _containers.RepeatedScalarFieldContainer[str]
    due_time: _timestamp_pb2.Timestamp
    time_zone: str
    recurrence: Recurrence
    reminders: _containers.RepeatedCompositeFieldContainer[Reminder]
    series_id: str
    series_index: int
    version: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    delete_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., priority: _Optional[_Union[Priority, str]] = ..., tags: _Optional[_Iterable[str]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_zone: _Optional[str] = ..., recurrence: _Optional[_Union[Recurrence, _Mapping]] = ..., reminders: _Optional[_Iterable[_Union[Reminder, _Mapping]]] = ..., series_id: _Optional[str] = ..., series_index: _Optional[int] = ..., version: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
