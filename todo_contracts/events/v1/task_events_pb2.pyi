import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from todo_contracts.tasks.v1 import task_pb2 as _task_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskEvent(_message.Message):
    __slots__ = ("event_id", "kind", "user_id", "actor", "event_time", "task", "previous_task", "sequence")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TASK_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    kind: _task_pb2.ChangeKind
    user_id: str
    actor: str
    event_time: _timestamp_pb2.Timestamp
    task: _task_pb2.Task
    previous_task: _task_pb2.Task
    sequence: int
    def __init__(self, event_id: _Optional[str] = ..., kind: _Optional[_Union[_task_pb2.ChangeKind, str]] = ..., user_id: _Optional[str] = ..., actor: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., previous_task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class TaskUpdate(_message.Message):
    __slots__ = ("event_id", "sequence", "kind", "user_id", "task", "change_time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    sequence: int
    kind: _task_pb2.ChangeKind
    user_id: str
    task: _task_pb2.Task
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., sequence: _Optional[int] = ..., kind: _Optional[_Union[_task_pb2.ChangeKind, str]] = ..., user_id: _Optional[str] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
