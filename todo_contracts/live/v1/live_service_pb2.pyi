from todo_contracts.events.v1 import reminder_events_pb2 as _reminder_events_pb2
from todo_contracts.events.v1 import task_events_pb2 as _task_events_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubscribeRequest(_message.Message):
    __slots__ = ("after_sequence", "task_updates", "reminders")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TASK_UPDATES_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    task_updates: bool
    reminders: bool
    def __init__(self, after_sequence: _Optional[int] = ..., task_updates: _Optional[bool] = ..., reminders: _Optional[bool] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("task_update", "reminder_fired")
    TASK_UPDATE_FIELD_NUMBER: _ClassVar[int]
    REMINDER_FIRED_FIELD_NUMBER: _ClassVar[int]
    task_update: _task_events_pb2.TaskUpdate
    reminder_fired: _reminder_events_pb2.ReminderFired
    def __init__(self, task_update: _Optional[_Union[_task_events_pb2.TaskUpdate, _Mapping]] = ..., reminder_fired: _Optional[_Union[_reminder_events_pb2.ReminderFired, _Mapping]] = ...) -> None: ...
