import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from privacyvault.v1 import token_pb2 as _token_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportAuditKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExportAuditKeysResponse(_message.Message):
    __slots__ = ("pem", "key_ids")
    PEM_FIELD_NUMBER: _ClassVar[int]
    KEY_IDS_FIELD_NUMBER: _ClassVar[int]
    pem: bytes
    key_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, pem: _Optional[bytes] = ..., key_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetKeyStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetKeyStatusResponse(_message.Message):
    __slots__ = ("classes",)
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    classes: _containers.RepeatedCompositeFieldContainer[ClassKeyStatus]
    def __init__(self, classes: _Optional[_Iterable[_Union[ClassKeyStatus, _Mapping]]] = ...) -> None: ...

class ClassKeyStatus(_message.Message):
    __slots__ = ("mode", "current_version", "min_decryption_version", "versions", "fpe_key_version")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_DECRYPTION_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    FPE_KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    mode: str
    current_version: int
    min_decryption_version: int
    versions: _containers.RepeatedCompositeFieldContainer[KeyVersionStatus]
    fpe_key_version: int
    def __init__(self, mode: _Optional[str] = ..., current_version: _Optional[int] = ..., min_decryption_version: _Optional[int] = ..., versions: _Optional[_Iterable[_Union[KeyVersionStatus, _Mapping]]] = ..., fpe_key_version: _Optional[int] = ..., **kwargs) -> None: ...

class KeyVersionStatus(_message.Message):
    __slots__ = ("version", "records", "current", "retired", "subject_keys")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KEYS_FIELD_NUMBER: _ClassVar[int]
    version: int
    records: int
    current: bool
    retired: bool
    subject_keys: int
    def __init__(self, version: _Optional[int] = ..., records: _Optional[int] = ..., current: _Optional[bool] = ..., retired: _Optional[bool] = ..., subject_keys: _Optional[int] = ...) -> None: ...

class RotateKeyRequest(_message.Message):
    __slots__ = ()
    CLASS_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class RotateKeyResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: ClassKeyStatus
    def __init__(self, status: _Optional[_Union[ClassKeyStatus, _Mapping]] = ...) -> None: ...

class RewrapKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RewrapKeysResponse(_message.Message):
    __slots__ = ("rewrapped",)
    REWRAPPED_FIELD_NUMBER: _ClassVar[int]
    rewrapped: int
    def __init__(self, rewrapped: _Optional[int] = ...) -> None: ...

class StartReencryptRequest(_message.Message):
    __slots__ = ()
    CLASS_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class StartReencryptResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: ReencryptJob
    def __init__(self, job: _Optional[_Union[ReencryptJob, _Mapping]] = ...) -> None: ...

class GetReencryptRequest(_message.Message):
    __slots__ = ()
    CLASS_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class GetReencryptResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: ReencryptJob
    def __init__(self, job: _Optional[_Union[ReencryptJob, _Mapping]] = ...) -> None: ...

class ReencryptJob(_message.Message):
    __slots__ = ("target_version", "state", "total", "moved", "scanned", "error", "started", "updated")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[ReencryptJob.State]
        STATE_RUNNING: _ClassVar[ReencryptJob.State]
        STATE_DONE: _ClassVar[ReencryptJob.State]
        STATE_FAILED: _ClassVar[ReencryptJob.State]
    STATE_UNSPECIFIED: ReencryptJob.State
    STATE_RUNNING: ReencryptJob.State
    STATE_DONE: ReencryptJob.State
    STATE_FAILED: ReencryptJob.State
    CLASS_FIELD_NUMBER: _ClassVar[int]
    TARGET_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MOVED_FIELD_NUMBER: _ClassVar[int]
    SCANNED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    target_version: int
    state: ReencryptJob.State
    total: int
    moved: int
    scanned: int
    error: str
    started: _timestamp_pb2.Timestamp
    updated: _timestamp_pb2.Timestamp
    def __init__(self, target_version: _Optional[int] = ..., state: _Optional[_Union[ReencryptJob.State, str]] = ..., total: _Optional[int] = ..., moved: _Optional[int] = ..., scanned: _Optional[int] = ..., error: _Optional[str] = ..., started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class RetireKeyVersionsRequest(_message.Message):
    __slots__ = ("below",)
    CLASS_FIELD_NUMBER: _ClassVar[int]
    BELOW_FIELD_NUMBER: _ClassVar[int]
    below: int
    def __init__(self, below: _Optional[int] = ..., **kwargs) -> None: ...

class RetireKeyVersionsResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: ClassKeyStatus
    def __init__(self, status: _Optional[_Union[ClassKeyStatus, _Mapping]] = ...) -> None: ...

class RetokenizeFPERequest(_message.Message):
    __slots__ = ("from_version", "to_version", "items")
    CLASS_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    from_version: int
    to_version: int
    items: _containers.RepeatedCompositeFieldContainer[_token_pb2.DetokenizeItem]
    def __init__(self, from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., items: _Optional[_Iterable[_Union[_token_pb2.DetokenizeItem, _Mapping]]] = ..., **kwargs) -> None: ...

class RetokenizeFPEResponse(_message.Message):
    __slots__ = ("pairs",)
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[RetokenizePair]
    def __init__(self, pairs: _Optional[_Iterable[_Union[RetokenizePair, _Mapping]]] = ...) -> None: ...

class RetokenizePair(_message.Message):
    __slots__ = ("old_token", "new_token", "error")
    OLD_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NEW_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    old_token: str
    new_token: str
    error: _status_pb2.Status
    def __init__(self, old_token: _Optional[str] = ..., new_token: _Optional[str] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class VerifyAuditRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyAuditResponse(_message.Message):
    __slots__ = ("ok", "events", "checkpoints", "last_seq", "last_checkpoint_seq", "kind", "line", "message", "unverifiable", "head_seq", "head_hash", "chains", "instance")
    OK_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECKPOINT_SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UNVERIFIABLE_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    CHAINS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    events: int
    checkpoints: int
    last_seq: int
    last_checkpoint_seq: int
    kind: str
    line: int
    message: str
    unverifiable: bool
    head_seq: int
    head_hash: str
    chains: _containers.RepeatedCompositeFieldContainer[AuditChain]
    instance: str
    def __init__(self, ok: _Optional[bool] = ..., events: _Optional[int] = ..., checkpoints: _Optional[int] = ..., last_seq: _Optional[int] = ..., last_checkpoint_seq: _Optional[int] = ..., kind: _Optional[str] = ..., line: _Optional[int] = ..., message: _Optional[str] = ..., unverifiable: _Optional[bool] = ..., head_seq: _Optional[int] = ..., head_hash: _Optional[str] = ..., chains: _Optional[_Iterable[_Union[AuditChain, _Mapping]]] = ..., instance: _Optional[str] = ...) -> None: ...

class AuditChain(_message.Message):
    __slots__ = ("instance", "ok", "events", "checkpoints", "last_seq", "last_checkpoint_seq", "kind", "line", "message", "unverifiable")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_CHECKPOINT_SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UNVERIFIABLE_FIELD_NUMBER: _ClassVar[int]
    instance: str
    ok: bool
    events: int
    checkpoints: int
    last_seq: int
    last_checkpoint_seq: int
    kind: str
    line: int
    message: str
    unverifiable: bool
    def __init__(self, instance: _Optional[str] = ..., ok: _Optional[bool] = ..., events: _Optional[int] = ..., checkpoints: _Optional[int] = ..., last_seq: _Optional[int] = ..., last_checkpoint_seq: _Optional[int] = ..., kind: _Optional[str] = ..., line: _Optional[int] = ..., message: _Optional[str] = ..., unverifiable: _Optional[bool] = ...) -> None: ...

class GetSubjectAccessReportRequest(_message.Message):
    __slots__ = ("subject_id",)
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    subject_id: str
    def __init__(self, subject_id: _Optional[str] = ...) -> None: ...

class GetSubjectAccessReportResponse(_message.Message):
    __slots__ = ("accesses",)
    ACCESSES_FIELD_NUMBER: _ClassVar[int]
    accesses: _containers.RepeatedCompositeFieldContainer[SubjectAccess]
    def __init__(self, accesses: _Optional[_Iterable[_Union[SubjectAccess, _Mapping]]] = ...) -> None: ...

class SubjectAccess(_message.Message):
    __slots__ = ("seq", "time", "caller", "purpose", "op", "count", "decision", "instance")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    time: _timestamp_pb2.Timestamp
    caller: str
    purpose: str
    op: str
    count: int
    decision: str
    instance: str
    def __init__(self, seq: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., caller: _Optional[str] = ..., purpose: _Optional[str] = ..., op: _Optional[str] = ..., count: _Optional[int] = ..., decision: _Optional[str] = ..., instance: _Optional[str] = ..., **kwargs) -> None: ...

class TailAuditRequest(_message.Message):
    __slots__ = ("from_seq",)
    FROM_SEQ_FIELD_NUMBER: _ClassVar[int]
    from_seq: int
    def __init__(self, from_seq: _Optional[int] = ...) -> None: ...

class TailAuditResponse(_message.Message):
    __slots__ = ("lines", "instance")
    LINES_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedScalarFieldContainer[str]
    instance: str
    def __init__(self, lines: _Optional[_Iterable[str]] = ..., instance: _Optional[str] = ...) -> None: ...

class PurgeExpiredRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PurgeExpiredResponse(_message.Message):
    __slots__ = ("deleted",)
    class DeletedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.ScalarMap[str, int]
    def __init__(self, deleted: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ExplainPolicyRequest(_message.Message):
    __slots__ = ("identity", "purpose")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    identity: str
    purpose: str
    def __init__(self, identity: _Optional[str] = ..., purpose: _Optional[str] = ..., **kwargs) -> None: ...

class ExplainPolicyResponse(_message.Message):
    __slots__ = ("reveal", "reason", "grant", "grant_index", "requires_consent")
    REVEAL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    GRANT_FIELD_NUMBER: _ClassVar[int]
    GRANT_INDEX_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_CONSENT_FIELD_NUMBER: _ClassVar[int]
    reveal: str
    reason: str
    grant: str
    grant_index: int
    requires_consent: bool
    def __init__(self, reveal: _Optional[str] = ..., reason: _Optional[str] = ..., grant: _Optional[str] = ..., grant_index: _Optional[int] = ..., requires_consent: _Optional[bool] = ...) -> None: ...

class GetAccessReportRequest(_message.Message):
    __slots__ = ("identity", "since", "until", "subject_ids")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    identity: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    subject_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, identity: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subject_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAccessReportResponse(_message.Message):
    __slots__ = ("rows", "events", "values_revealed", "denied")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    VALUES_REVEALED_FIELD_NUMBER: _ClassVar[int]
    DENIED_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[AccessReportRow]
    events: int
    values_revealed: int
    denied: int
    def __init__(self, rows: _Optional[_Iterable[_Union[AccessReportRow, _Mapping]]] = ..., events: _Optional[int] = ..., values_revealed: _Optional[int] = ..., denied: _Optional[int] = ...) -> None: ...

class AccessReportRow(_message.Message):
    __slots__ = ("subject_fp", "purpose", "values", "first", "last", "subject_id")
    SUBJECT_FP_FIELD_NUMBER: _ClassVar[int]
    CLASS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    subject_fp: str
    purpose: str
    values: int
    first: _timestamp_pb2.Timestamp
    last: _timestamp_pb2.Timestamp
    subject_id: str
    def __init__(self, subject_fp: _Optional[str] = ..., purpose: _Optional[str] = ..., values: _Optional[int] = ..., first: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., subject_id: _Optional[str] = ..., **kwargs) -> None: ...
