import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from todo_contracts.events.v1 import reminder_events_pb2 as _reminder_events_pb2
from todo_contracts.events.v1 import task_events_pb2 as _task_events_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubscribeRequest(_message.Message):
    __slots__ = ("after_sequence", "task_updates", "reminders", "from_latest")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TASK_UPDATES_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_FIELD_NUMBER: _ClassVar[int]
    FROM_LATEST_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    task_updates: bool
    reminders: bool
    from_latest: bool
    def __init__(self, after_sequence: _Optional[int] = ..., task_updates: _Optional[bool] = ..., reminders: _Optional[bool] = ..., from_latest: _Optional[bool] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("task_update", "reminder_fired", "heartbeat")
    TASK_UPDATE_FIELD_NUMBER: _ClassVar[int]
    REMINDER_FIRED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    task_update: _task_events_pb2.TaskUpdate
    reminder_fired: _reminder_events_pb2.ReminderFired
    heartbeat: Heartbeat
    def __init__(self, task_update: _Optional[_Union[_task_events_pb2.TaskUpdate, _Mapping]] = ..., reminder_fired: _Optional[_Union[_reminder_events_pb2.ReminderFired, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("send_time", "sequence")
    SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    send_time: _timestamp_pb2.Timestamp
    sequence: int
    def __init__(self, send_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...
