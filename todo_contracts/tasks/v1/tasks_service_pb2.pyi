import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from todo_contracts.tasks.v1 import task_pb2 as _task_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskOrderField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_ORDER_FIELD_UNSPECIFIED: _ClassVar[TaskOrderField]
    TASK_ORDER_FIELD_DUE_TIME: _ClassVar[TaskOrderField]
    TASK_ORDER_FIELD_PRIORITY: _ClassVar[TaskOrderField]
    TASK_ORDER_FIELD_TITLE: _ClassVar[TaskOrderField]
    TASK_ORDER_FIELD_CREATE_TIME: _ClassVar[TaskOrderField]
    TASK_ORDER_FIELD_UPDATE_TIME: _ClassVar[TaskOrderField]

class OrderDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_DIRECTION_UNSPECIFIED: _ClassVar[OrderDirection]
    ORDER_DIRECTION_ASCENDING: _ClassVar[OrderDirection]
    ORDER_DIRECTION_DESCENDING: _ClassVar[OrderDirection]
TASK_ORDER_FIELD_UNSPECIFIED: TaskOrderField
TASK_ORDER_FIELD_DUE_TIME: TaskOrderField
TASK_ORDER_FIELD_PRIORITY: TaskOrderField
TASK_ORDER_FIELD_TITLE: TaskOrderField
TASK_ORDER_FIELD_CREATE_TIME: TaskOrderField
TASK_ORDER_FIELD_UPDATE_TIME: TaskOrderField
ORDER_DIRECTION_UNSPECIFIED: OrderDirection
ORDER_DIRECTION_ASCENDING: OrderDirection
ORDER_DIRECTION_DESCENDING: OrderDirection

class CreateTaskRequest(_message.Message):
    __slots__ = ("task", "request_id")
    TASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    request_id: str
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class TaskFilter(_message.Message):
    __slots__ = ("status", "priorities", "tags", "due_before", "due_after", "overdue", "search")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRIORITIES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DUE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DUE_AFTER_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    SEARCH_FIELD_NUMBER: _ClassVar[int]
    status: _task_pb2.TaskStatus
    priorities: _containers.RepeatedScalarFieldContainer[_task_pb2.Priority]
    tags: _containers.RepeatedScalarFieldContainer[str]
    due_before: _timestamp_pb2.Timestamp
    due_after: _timestamp_pb2.Timestamp
    overdue: bool
    search: str
    def __init__(self, status: _Optional[_Union[_task_pb2.TaskStatus, str]] = ..., priorities: _Optional[_Iterable[_Union[_task_pb2.Priority, str]]] = ..., tags: _Optional[_Iterable[str]] = ..., due_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overdue: _Optional[bool] = ..., search: _Optional[str] = ...) -> None: ...

class TaskOrder(_message.Message):
    __slots__ = ("field", "direction")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    field: TaskOrderField
    direction: OrderDirection
    def __init__(self, field: _Optional[_Union[TaskOrderField, str]] = ..., direction: _Optional[_Union[OrderDirection, str]] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter", "order_by", "before_page_token", "from_end", "skip_total_size", "read_latest_sequence", "read_mask")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    BEFORE_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FROM_END_FIELD_NUMBER: _ClassVar[int]
    SKIP_TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    READ_LATEST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: TaskFilter
    order_by: _containers.RepeatedCompositeFieldContainer[TaskOrder]
    before_page_token: str
    from_end: bool
    skip_total_size: bool
    read_latest_sequence: bool
    read_mask: _field_mask_pb2.FieldMask
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[_Union[TaskFilter, _Mapping]] = ..., order_by: _Optional[_Iterable[_Union[TaskOrder, _Mapping]]] = ..., before_page_token: _Optional[str] = ..., from_end: _Optional[bool] = ..., skip_total_size: _Optional[bool] = ..., read_latest_sequence: _Optional[bool] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token", "total_size", "cursors", "has_next_page", "has_previous_page", "latest_sequence")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    CURSORS_FIELD_NUMBER: _ClassVar[int]
    HAS_NEXT_PAGE_FIELD_NUMBER: _ClassVar[int]
    HAS_PREVIOUS_PAGE_FIELD_NUMBER: _ClassVar[int]
    LATEST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[_task_pb2.Task]
    next_page_token: str
    total_size: int
    cursors: _containers.RepeatedScalarFieldContainer[str]
    has_next_page: bool
    has_previous_page: bool
    latest_sequence: int
    def __init__(self, tasks: _Optional[_Iterable[_Union[_task_pb2.Task, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., cursors: _Optional[_Iterable[str]] = ..., has_next_page: _Optional[bool] = ..., has_previous_page: _Optional[bool] = ..., latest_sequence: _Optional[int] = ...) -> None: ...

class UpdateTaskRequest(_message.Message):
    __slots__ = ("task", "update_mask", "expected_version")
    TASK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    update_mask: _field_mask_pb2.FieldMask
    expected_version: int
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class CompleteTaskRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CompleteTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class ReopenTaskRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ReopenTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ...) -> None: ...

class DeleteTaskRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteTaskResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class TaskChange(_message.Message):
    __slots__ = ("sequence", "kind", "task", "change_time")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    kind: _task_pb2.ChangeKind
    task: _task_pb2.Task
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., kind: _Optional[_Union[_task_pb2.ChangeKind, str]] = ..., task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListChangesRequest(_message.Message):
    __slots__ = ("after_sequence", "page_size", "page_token")
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    page_size: int
    page_token: str
    def __init__(self, after_sequence: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChangesResponse(_message.Message):
    __slots__ = ("changes", "next_page_token", "latest_sequence")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LATEST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[TaskChange]
    next_page_token: str
    latest_sequence: int
    def __init__(self, changes: _Optional[_Iterable[_Union[TaskChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., latest_sequence: _Optional[int] = ...) -> None: ...

class RevertChangeRequest(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class RevertChangeResponse(_message.Message):
    __slots__ = ("task", "kind", "kept_next_instance", "removed_next_instance_id")
    TASK_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEPT_NEXT_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    REMOVED_NEXT_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    task: _task_pb2.Task
    kind: _task_pb2.ChangeKind
    kept_next_instance: _task_pb2.Task
    removed_next_instance_id: str
    def __init__(self, task: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., kind: _Optional[_Union[_task_pb2.ChangeKind, str]] = ..., kept_next_instance: _Optional[_Union[_task_pb2.Task, _Mapping]] = ..., removed_next_instance_id: _Optional[str] = ...) -> None: ...
