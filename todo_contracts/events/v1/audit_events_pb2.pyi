from todo_contracts.audit.v1 import checkpoint_pb2 as _checkpoint_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditCheckpointSigned(_message.Message):
    __slots__ = ("event_id", "checkpoint")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    checkpoint: _checkpoint_pb2.Checkpoint
    def __init__(self, event_id: _Optional[str] = ..., checkpoint: _Optional[_Union[_checkpoint_pb2.Checkpoint, _Mapping]] = ...) -> None: ...
