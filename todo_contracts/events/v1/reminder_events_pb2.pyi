import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from todo_contracts.tasks.v1 import task_pb2 as _task_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReminderFired(_message.Message):
    __slots__ = ("event_id", "notification_id", "user_id", "task_id", "reminder_id", "due_time", "scheduled_time", "fire_time", "task")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REMINDER_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    notification_id: str
    user_id: str
    task_id: str
    reminder_id: str
    due_time: _timestamp_pb2.Timestamp
    scheduled_time: _timestamp_pb2.Timestamp
    fire_time: _timestamp_pb2.Timestamp
    task: _task_pb2.Task
    def __init__(self, event_id: _Optional[str] = ..., notification_id: _Optional[str] = ..., user_id: _Optional[str] = ..., task_id: _Optional[str] = ..., reminder_id: _Optional[str] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...
