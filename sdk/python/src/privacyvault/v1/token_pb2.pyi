import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RevealLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVEAL_LEVEL_UNSPECIFIED: _ClassVar[RevealLevel]
    REVEAL_LEVEL_PLAIN: _ClassVar[RevealLevel]
    REVEAL_LEVEL_MASKED: _ClassVar[RevealLevel]
    REVEAL_LEVEL_REDACTED: _ClassVar[RevealLevel]
REVEAL_LEVEL_UNSPECIFIED: RevealLevel
REVEAL_LEVEL_PLAIN: RevealLevel
REVEAL_LEVEL_MASKED: RevealLevel
REVEAL_LEVEL_REDACTED: RevealLevel

class TokenizeRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[TokenizeItem]
    def __init__(self, items: _Optional[_Iterable[_Union[TokenizeItem, _Mapping]]] = ...) -> None: ...

class TokenizeItem(_message.Message):
    __slots__ = ("value", "context", "tweak", "subject_id", "ttl")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TWEAK_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    value: bytes
    context: str
    tweak: bytes
    subject_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, value: _Optional[bytes] = ..., context: _Optional[str] = ..., tweak: _Optional[bytes] = ..., subject_id: _Optional[str] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., **kwargs) -> None: ...

class TokenizeResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[TokenizeResult]
    def __init__(self, results: _Optional[_Iterable[_Union[TokenizeResult, _Mapping]]] = ...) -> None: ...

class TokenizeResult(_message.Message):
    __slots__ = ("token", "error")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    token: str
    error: _status_pb2.Status
    def __init__(self, token: _Optional[str] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class DetokenizeRequest(_message.Message):
    __slots__ = ("purpose", "items")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    purpose: str
    items: _containers.RepeatedCompositeFieldContainer[DetokenizeItem]
    def __init__(self, purpose: _Optional[str] = ..., items: _Optional[_Iterable[_Union[DetokenizeItem, _Mapping]]] = ...) -> None: ...

class DetokenizeItem(_message.Message):
    __slots__ = ("token", "context", "tweak", "subject_id")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TWEAK_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    token: str
    context: str
    tweak: bytes
    subject_id: str
    def __init__(self, token: _Optional[str] = ..., context: _Optional[str] = ..., tweak: _Optional[bytes] = ..., subject_id: _Optional[str] = ..., **kwargs) -> None: ...

class DetokenizeResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[DetokenizeResult]
    def __init__(self, results: _Optional[_Iterable[_Union[DetokenizeResult, _Mapping]]] = ...) -> None: ...

class DetokenizeResult(_message.Message):
    __slots__ = ("revealed", "error")
    REVEALED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    revealed: Revealed
    error: _status_pb2.Status
    def __init__(self, revealed: _Optional[_Union[Revealed, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class Revealed(_message.Message):
    __slots__ = ("value", "level")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    value: bytes
    level: RevealLevel
    def __init__(self, value: _Optional[bytes] = ..., level: _Optional[_Union[RevealLevel, str]] = ...) -> None: ...

class LookupRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LookupItem]
    def __init__(self, items: _Optional[_Iterable[_Union[LookupItem, _Mapping]]] = ...) -> None: ...

class LookupItem(_message.Message):
    __slots__ = ("value", "subject_id")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    value: bytes
    subject_id: str
    def __init__(self, value: _Optional[bytes] = ..., subject_id: _Optional[str] = ..., **kwargs) -> None: ...

class LookupResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[LookupResult]
    def __init__(self, results: _Optional[_Iterable[_Union[LookupResult, _Mapping]]] = ...) -> None: ...

class LookupResult(_message.Message):
    __slots__ = ("token", "error")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    token: str
    error: _status_pb2.Status
    def __init__(self, token: _Optional[str] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
