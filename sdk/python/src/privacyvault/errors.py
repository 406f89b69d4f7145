"""Typed errors of the privacyvault client.

A failed call raises :class:`CallError`; a failed item of a batch carries an
:class:`ItemError` in its result (single-value calls raise it). Both hold the
gRPC status code, the message, the ``google.rpc.ErrorInfo`` reason
(``TOKEN_EXPIRED``, ``CONSENT_REQUIRED``, ...) and the field violations of a
``google.rpc.BadRequest``.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import grpc
from google.rpc import error_details_pb2, status_pb2

# ErrorInfo reasons set by privacyvault (domain "privacyvault.dev").
TOKEN_EXPIRED = "TOKEN_EXPIRED"
TOKEN_NOT_FOUND = "TOKEN_NOT_FOUND"
CONSENT_REQUIRED = "CONSENT_REQUIRED"
KEY_VERSION_RETIRED = "KEY_VERSION_RETIRED"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
BATCH_TOO_LARGE = "BATCH_TOO_LARGE"

_CODES = {c.value[0]: c for c in grpc.StatusCode}


class PrivacyVaultError(Exception):
    """An error from the sidecar: a gRPC status with its details."""

    def __init__(self, code: grpc.StatusCode, message: str, details: Sequence[object] = ()) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.reason: Optional[str] = None
        self.metadata: dict[str, str] = {}
        self.field_violations: list[Tuple[str, str]] = []
        for d in details:
            if isinstance(d, error_details_pb2.ErrorInfo):
                self.reason = d.reason
                self.metadata = dict(d.metadata)
            elif isinstance(d, error_details_pb2.BadRequest):
                self.field_violations += [(v.field, v.description) for v in d.field_violations]

    @property
    def is_token_expired(self) -> bool:
        """The token existed but its retention (class or TTL) has passed."""
        return self.reason == TOKEN_EXPIRED

    @property
    def is_token_not_found(self) -> bool:
        """The token is unknown: never issued here, deleted or erased."""
        return self.reason == TOKEN_NOT_FOUND


class CallError(PrivacyVaultError):
    """The call as a whole failed (credentials, permission, request shape)."""


class ItemError(PrivacyVaultError):
    """One item of a batch failed; ``index`` is its position in the batch."""

    def __init__(self, index: int, code: grpc.StatusCode, message: str, details: Sequence[object] = ()) -> None:
        super().__init__(code, message, details)
        self.index = index
        self.args = (f"item {index}: {code.name}: {message}",)


def _unpack(st: status_pb2.Status) -> list[object]:
    out: list[object] = []
    for any_ in st.details:
        for cls in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.QuotaFailure):
            if any_.Is(cls.DESCRIPTOR):
                msg = cls()
                any_.Unpack(msg)
                out.append(msg)
    return out


def item_error(index: int, st: status_pb2.Status) -> ItemError:
    """Builds the ItemError of a per-item google.rpc.Status."""
    return ItemError(index, _CODES.get(st.code, grpc.StatusCode.UNKNOWN), st.message, _unpack(st))


def call_error(err: grpc.RpcError) -> CallError:
    """Builds a CallError from a failed gRPC call, with the rich status
    details from the grpc-status-details-bin trailer."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    message = err.details() if hasattr(err, "details") else str(err)
    details: list[object] = []
    trailers = err.trailing_metadata() if hasattr(err, "trailing_metadata") else None
    for key, value in trailers or ():
        if key == "grpc-status-details-bin":
            details = _unpack(status_pb2.Status.FromString(value))
    return CallError(code, message or "", details)
