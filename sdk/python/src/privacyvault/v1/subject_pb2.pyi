import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from privacyvault.v1 import admin_pb2 as _admin_pb2
from privacyvault.v1 import token_pb2 as _token_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportSubjectRequest(_message.Message):
    __slots__ = ("subject_id",)
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    def __init__(self, subject_id: _Optional[str] = ...) -> None: ...

class ExportSubjectResponse(_message.Message):
    __slots__ = ("tokens", "consents", "accesses")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    ACCESSES_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[SubjectToken]
    consents: _containers.RepeatedCompositeFieldContainer[ConsentRecord]
    accesses: _containers.RepeatedCompositeFieldContainer[_admin_pb2.SubjectAccess]
    def __init__(self, tokens: _Optional[_Iterable[_Union[SubjectToken, _Mapping]]] = ..., consents: _Optional[_Iterable[_Union[ConsentRecord, _Mapping]]] = ..., accesses: _Optional[_Iterable[_Union[_admin_pb2.SubjectAccess, _Mapping]]] = ...) -> None: ...

class SubjectToken(_message.Message):
    __slots__ = ("token", "value", "level", "created_at", "expires_at", "class_description", "binary")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CLASS_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BINARY_FIELD_NUMBER: _ClassVar[int]
    token: str
    value: bytes
    level: _token_pb2.RevealLevel
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    class_description: str
    binary: bool
    def __init__(self, token: _Optional[str] = ..., value: _Optional[bytes] = ..., level: _Optional[_Union[_token_pb2.RevealLevel, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., class_description: _Optional[str] = ..., binary: _Optional[bool] = ..., **kwargs) -> None: ...

class RectifyTokenRequest(_message.Message):
    __slots__ = ("token", "value")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    token: str
    value: bytes
    def __init__(self, token: _Optional[str] = ..., value: _Optional[bytes] = ..., **kwargs) -> None: ...

class RectifyTokenResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EraseSubjectRequest(_message.Message):
    __slots__ = ("subject_id",)
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    def __init__(self, subject_id: _Optional[str] = ...) -> None: ...

class EraseSubjectResponse(_message.Message):
    __slots__ = ("receipt",)
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    receipt: ErasureReceipt
    def __init__(self, receipt: _Optional[_Union[ErasureReceipt, _Mapping]] = ...) -> None: ...

class ErasureReceipt(_message.Message):
    __slots__ = ("subject_fp", "erased_at", "records", "subject_keys", "consents", "key_id", "signature", "kind", "token_fp", "remains")
    SUBJECT_FP_FIELD_NUMBER: _ClassVar[int]
    ERASED_AT_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KEYS_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FP_FIELD_NUMBER: _ClassVar[int]
    REMAINS_FIELD_NUMBER: _ClassVar[int]
    subject_fp: str
    erased_at: _timestamp_pb2.Timestamp
    records: int
    subject_keys: int
    consents: int
    key_id: str
    signature: bytes
    kind: str
    token_fp: str
    remains: str
    def __init__(self, subject_fp: _Optional[str] = ..., erased_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., records: _Optional[int] = ..., subject_keys: _Optional[int] = ..., consents: _Optional[int] = ..., key_id: _Optional[str] = ..., signature: _Optional[bytes] = ..., kind: _Optional[str] = ..., token_fp: _Optional[str] = ..., remains: _Optional[str] = ..., **kwargs) -> None: ...

class SetConsentRequest(_message.Message):
    __slots__ = ("subject_id", "purpose", "lawful_basis", "expires_at")
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    LAWFUL_BASIS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    purpose: str
    lawful_basis: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, subject_id: _Optional[str] = ..., purpose: _Optional[str] = ..., lawful_basis: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetConsentResponse(_message.Message):
    __slots__ = ("consent",)
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    consent: ConsentRecord
    def __init__(self, consent: _Optional[_Union[ConsentRecord, _Mapping]] = ...) -> None: ...

class RevokeConsentRequest(_message.Message):
    __slots__ = ("subject_id", "purpose")
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    purpose: str
    def __init__(self, subject_id: _Optional[str] = ..., purpose: _Optional[str] = ...) -> None: ...

class RevokeConsentResponse(_message.Message):
    __slots__ = ("consent",)
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    consent: ConsentRecord
    def __init__(self, consent: _Optional[_Union[ConsentRecord, _Mapping]] = ...) -> None: ...

class ListConsentsRequest(_message.Message):
    __slots__ = ("subject_id",)
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    def __init__(self, subject_id: _Optional[str] = ...) -> None: ...

class ListConsentsResponse(_message.Message):
    __slots__ = ("consents",)
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    consents: _containers.RepeatedCompositeFieldContainer[ConsentRecord]
    def __init__(self, consents: _Optional[_Iterable[_Union[ConsentRecord, _Mapping]]] = ...) -> None: ...

class ConsentRecord(_message.Message):
    __slots__ = ("subject_id", "purpose", "lawful_basis", "granted_at", "expires_at", "revoked_at", "live")
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    LAWFUL_BASIS_FIELD_NUMBER: _ClassVar[int]
    GRANTED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    purpose: str
    lawful_basis: str
    granted_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    live: bool
    def __init__(self, subject_id: _Optional[str] = ..., purpose: _Optional[str] = ..., lawful_basis: _Optional[str] = ..., granted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., live: _Optional[bool] = ...) -> None: ...

class DeleteTokenRequest(_message.Message):
    __slots__ = ("token",)
    CLASS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ..., **kwargs) -> None: ...

class DeleteTokenResponse(_message.Message):
    __slots__ = ("receipt",)
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    receipt: ErasureReceipt
    def __init__(self, receipt: _Optional[_Union[ErasureReceipt, _Mapping]] = ...) -> None: ...
