"""Synchronous privacyvault client."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Callable, Optional, Sequence, TypeVar

import grpc
from google.protobuf import timestamp_pb2

from privacyvault import _common as c
from privacyvault.errors import BATCH_TOO_LARGE, CallError, call_error
from privacyvault.v1 import admin_pb2, admin_pb2_grpc, subject_pb2, subject_pb2_grpc, token_pb2_grpc

T = TypeVar("T")
R = TypeVar("R")

_MAX_MESSAGE = 64 << 20  # the server's message cap


@dataclasses.dataclass
class TLS:
    """TLS settings. With certificate_chain and private_key the client
    presents a certificate (mTLS: the sidecar takes the caller's SPIFFE ID
    from it)."""

    root_certificates: Optional[bytes] = None
    certificate_chain: Optional[bytes] = None
    private_key: Optional[bytes] = None
    server_name: Optional[str] = None
    """Overrides the name checked against the server certificate."""


def channel_args(tls: Optional[TLS]) -> list[tuple[str, object]]:
    opts: list[tuple[str, object]] = [
        ("grpc.max_send_message_length", _MAX_MESSAGE),
        ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ]
    if tls is not None and tls.server_name:
        opts.append(("grpc.ssl_target_name_override", tls.server_name))
    return opts


def channel_credentials(tls: TLS) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(tls.root_certificates, tls.private_key, tls.certificate_chain)


def batch_limit(err: CallError, size: int) -> Optional[int]:
    """The server's limit when it refused a part of `size` items as too large."""
    if err.reason != BATCH_TOO_LARGE:
        return None
    try:
        limit = int(err.metadata.get("max_batch", ""))
    except ValueError:
        return None
    return limit if 0 < limit < size else None


def timestamp(t: Optional[datetime.datetime]) -> Optional[timestamp_pb2.Timestamp]:
    if t is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t)
    return ts


class Client:
    """A client of one privacyvault sidecar.

    ``target`` is ``host:port`` or ``unix:///path``. Choose ``tls`` or
    ``insecure=True`` (loopback and Unix sockets only), so that a plaintext
    connection is always a visible choice. ``bearer_token`` is sent as
    ``authorization: Bearer ...`` on every call. Batches larger than
    ``max_batch`` (default: the server's default limit) are split; a server
    with a lower limit says so when it refuses a part, and the client then
    splits to that.
    """

    def __init__(
        self,
        target: str,
        *,
        bearer_token: Optional[str] = None,
        tls: Optional[TLS] = None,
        insecure: bool = False,
        max_batch: int = c.DEFAULT_MAX_BATCH,
        channel: Optional[grpc.Channel] = None,
    ) -> None:
        if channel is None:
            if tls is not None:
                channel = grpc.secure_channel(target, channel_credentials(tls), options=channel_args(tls))
            elif insecure:
                channel = grpc.insecure_channel(target, options=channel_args(None))
            else:
                raise ValueError("privacyvault: pass tls=TLS(...) or insecure=True")
        self._channel = channel
        self._md = c.bearer_metadata(bearer_token)
        self._max_batch = max_batch
        self._tokens = token_pb2_grpc.TokenServiceStub(channel)
        self._subjects = subject_pb2_grpc.SubjectServiceStub(channel)
        self._admin = admin_pb2_grpc.AdminServiceStub(channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: Callable[..., R], request: object) -> R:
        try:
            return method(request, metadata=self._md)
        except grpc.RpcError as e:
            raise call_error(e) from None

    def _in_batches(self, items: Sequence[T], call: Callable[[Sequence[T], int], list[R]]) -> list[R]:
        """Sends items in parts of at most max_batch. If a part after the
        first fails, the CallError carries the results so far in
        ``partial_results``."""
        if not items:
            return call(items, 0)  # the server says why an empty batch is wrong
        out: list[R] = []
        done = 0
        while done < len(items):
            end = min(done + self._max_batch, len(items))
            try:
                out += call(items[done:end], done)
            except CallError as e:
                limit = batch_limit(e, end - done)
                if limit is not None:
                    self._max_batch = limit  # a refused call did nothing: retry split
                    continue
                if done:
                    e.partial_results = out  # type: ignore[attr-defined]
                raise
            done = end
        return out

    # Tokens.

    def tokenize_batch(self, items: Sequence[c.TokenizeItem]) -> list[c.TokenResult]:
        """Tokenizes items; per-item errors are in the results."""

        def call(part: Sequence[c.TokenizeItem], offset: int) -> list[c.TokenResult]:
            resp = self._call(self._tokens.Tokenize, c.tokenize_request(part))
            return c.token_results(resp.results, len(part), offset)

        return self._in_batches(items, call)

    def tokenize(
        self,
        data_class: str,
        value: c.Value,
        *,
        subject: Optional[str] = None,
        context: Optional[str] = None,
        tweak: Optional[bytes] = None,
        ttl: Optional[datetime.timedelta] = None,
    ) -> str:
        """Tokenizes one value; raises ItemError when the item fails."""
        r = self.tokenize_batch([c.TokenizeItem(data_class, value, subject, context, tweak, ttl)])[0]
        c.raise_item(r.error)
        return r.token or ""

    def detokenize_batch(self, purpose: str, items: Sequence[c.DetokenizeItem]) -> list[c.Revealed]:
        """Resolves tokens for purpose; per-item errors are in the results."""

        def call(part: Sequence[c.DetokenizeItem], offset: int) -> list[c.Revealed]:
            resp = self._call(self._tokens.Detokenize, c.detokenize_request(purpose, part))
            return c.revealed_results(resp.results, len(part), offset)

        return self._in_batches(items, call)

    def detokenize(
        self,
        purpose: str,
        data_class: str,
        token: str,
        *,
        context: Optional[str] = None,
        tweak: Optional[bytes] = None,
        subject: Optional[str] = None,
    ) -> c.Revealed:
        """Resolves one token; raises ItemError when the item fails."""
        r = self.detokenize_batch(purpose, [c.DetokenizeItem(data_class, token, context, tweak, subject)])[0]
        c.raise_item(r.error)
        return r

    def lookup_batch(self, items: Sequence[c.TokenizeItem]) -> list[c.TokenResult]:
        """Existing tokens of values in deterministic classes (NOT_FOUND
        items were never tokenized)."""

        def call(part: Sequence[c.TokenizeItem], offset: int) -> list[c.TokenResult]:
            resp = self._call(self._tokens.Lookup, c.lookup_request(part))
            return c.token_results(resp.results, len(part), offset)

        return self._in_batches(items, call)

    def lookup(self, data_class: str, value: c.Value, *, subject: Optional[str] = None) -> str:
        """The existing token of one value; raises ItemError when none."""
        r = self.lookup_batch([c.TokenizeItem(data_class, value, subject)])[0]
        c.raise_item(r.error)
        return r.token or ""

    # Data subjects (callers listed as subject managers or admins).

    def set_consent(
        self, subject: str, purpose: str, lawful_basis: str = "", expires_at: Optional[datetime.datetime] = None
    ) -> subject_pb2.ConsentRecord:
        req = subject_pb2.SetConsentRequest(subject_id=subject, purpose=purpose, lawful_basis=lawful_basis, expires_at=timestamp(expires_at))
        return self._call(self._subjects.SetConsent, req).consent

    def revoke_consent(self, subject: str, purpose: str) -> subject_pb2.ConsentRecord:
        return self._call(self._subjects.RevokeConsent, subject_pb2.RevokeConsentRequest(subject_id=subject, purpose=purpose)).consent

    def list_consents(self, subject: str) -> list[subject_pb2.ConsentRecord]:
        return list(self._call(self._subjects.ListConsents, subject_pb2.ListConsentsRequest(subject_id=subject)).consents)

    def export_subject(self, subject: str) -> list[subject_pb2.SubjectToken]:
        out: list[subject_pb2.SubjectToken] = []
        try:
            for resp in self._subjects.ExportSubject(subject_pb2.ExportSubjectRequest(subject_id=subject), metadata=self._md):
                out += resp.tokens
        except grpc.RpcError as e:
            raise call_error(e) from None
        return out

    def rectify_token(self, data_class: str, token: str, value: c.Value) -> None:
        req = subject_pb2.RectifyTokenRequest(token=token, value=c._bytes(value))
        c.setattr_class(req, data_class)
        self._call(self._subjects.RectifyToken, req)

    def erase_subject(self, subject: str) -> subject_pb2.ErasureReceipt:
        return self._call(self._subjects.EraseSubject, subject_pb2.EraseSubjectRequest(subject_id=subject)).receipt

    # Admin (callers listed as admins).

    def key_status(self) -> list[admin_pb2.ClassKeyStatus]:
        return list(self._call(self._admin.GetKeyStatus, admin_pb2.GetKeyStatusRequest()).classes)

    def rotate_key(self, data_class: str) -> admin_pb2.ClassKeyStatus:
        req = admin_pb2.RotateKeyRequest()
        c.setattr_class(req, data_class)
        return self._call(self._admin.RotateKey, req).status

    def verify_audit(self) -> admin_pb2.VerifyAuditResponse:
        return self._call(self._admin.VerifyAudit, admin_pb2.VerifyAuditRequest())

    def subject_access_report(self, subject: str) -> list[admin_pb2.SubjectAccess]:
        req = admin_pb2.GetSubjectAccessReportRequest(subject_id=subject)
        return list(self._call(self._admin.GetSubjectAccessReport, req).accesses)

    def purge_expired(self) -> dict[str, int]:
        return dict(self._call(self._admin.PurgeExpired, admin_pb2.PurgeExpiredRequest()).deleted)
