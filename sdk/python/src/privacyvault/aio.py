"""asyncio privacyvault client (grpc.aio), the same API as
:class:`privacyvault.Client` with coroutines."""

from __future__ import annotations

import datetime
from typing import Any, Awaitable, Callable, Optional, Sequence, TypeVar

import grpc
from grpc import aio

from privacyvault import _common as c
from privacyvault.client import TLS, batch_limit, channel_args, channel_credentials, timestamp
from privacyvault.errors import CallError, call_error
from privacyvault.v1 import admin_pb2, admin_pb2_grpc, subject_pb2, subject_pb2_grpc, token_pb2_grpc

T = TypeVar("T")
R = TypeVar("R")


class AsyncClient:
    """An asyncio client of one privacyvault sidecar; see
    :class:`privacyvault.Client` for the options."""

    def __init__(
        self,
        target: str,
        *,
        bearer_token: Optional[str] = None,
        tls: Optional[TLS] = None,
        insecure: bool = False,
        max_batch: int = c.DEFAULT_MAX_BATCH,
        channel: Optional[aio.Channel] = None,
    ) -> None:
        if channel is None:
            if tls is not None:
                channel = aio.secure_channel(target, channel_credentials(tls), options=channel_args(tls))
            elif insecure:
                channel = aio.insecure_channel(target, options=channel_args(None))
            else:
                raise ValueError("privacyvault: pass tls=TLS(...) or insecure=True")
        self._channel = channel
        self._md = c.bearer_metadata(bearer_token)
        self._max_batch = max_batch
        self._tokens = token_pb2_grpc.TokenServiceStub(channel)
        self._subjects = subject_pb2_grpc.SubjectServiceStub(channel)
        self._admin = admin_pb2_grpc.AdminServiceStub(channel)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, method: Callable[..., Any], request: object) -> Any:
        try:
            return await method(request, metadata=self._md)
        except grpc.RpcError as e:
            raise call_error(e) from None

    async def _in_batches(self, items: Sequence[T], call: Callable[[Sequence[T], int], Awaitable[list[R]]]) -> list[R]:
        if not items:
            return await call(items, 0)
        out: list[R] = []
        done = 0
        while done < len(items):
            end = min(done + self._max_batch, len(items))
            try:
                out += await call(items[done:end], done)
            except CallError as e:
                limit = batch_limit(e, end - done)
                if limit is not None:
                    self._max_batch = limit
                    continue
                if done:
                    e.partial_results = out  # type: ignore[attr-defined]
                raise
            done = end
        return out

    async def tokenize_batch(self, items: Sequence[c.TokenizeItem]) -> list[c.TokenResult]:
        async def call(part: Sequence[c.TokenizeItem], offset: int) -> list[c.TokenResult]:
            resp = await self._call(self._tokens.Tokenize, c.tokenize_request(part))
            return c.token_results(resp.results, len(part), offset)

        return await self._in_batches(items, call)

    async def tokenize(
        self,
        data_class: str,
        value: c.Value,
        *,
        subject: Optional[str] = None,
        context: Optional[str] = None,
        tweak: Optional[bytes] = None,
        ttl: Optional[datetime.timedelta] = None,
    ) -> str:
        r = (await self.tokenize_batch([c.TokenizeItem(data_class, value, subject, context, tweak, ttl)]))[0]
        c.raise_item(r.error)
        return r.token or ""

    async def detokenize_batch(self, purpose: str, items: Sequence[c.DetokenizeItem]) -> list[c.Revealed]:
        async def call(part: Sequence[c.DetokenizeItem], offset: int) -> list[c.Revealed]:
            resp = await self._call(self._tokens.Detokenize, c.detokenize_request(purpose, part))
            return c.revealed_results(resp.results, len(part), offset)

        return await self._in_batches(items, call)

    async def detokenize(
        self,
        purpose: str,
        data_class: str,
        token: str,
        *,
        context: Optional[str] = None,
        tweak: Optional[bytes] = None,
        subject: Optional[str] = None,
    ) -> c.Revealed:
        r = (await self.detokenize_batch(purpose, [c.DetokenizeItem(data_class, token, context, tweak, subject)]))[0]
        c.raise_item(r.error)
        return r

    async def lookup_batch(self, items: Sequence[c.TokenizeItem]) -> list[c.TokenResult]:
        async def call(part: Sequence[c.TokenizeItem], offset: int) -> list[c.TokenResult]:
            resp = await self._call(self._tokens.Lookup, c.lookup_request(part))
            return c.token_results(resp.results, len(part), offset)

        return await self._in_batches(items, call)

    async def lookup(self, data_class: str, value: c.Value, *, subject: Optional[str] = None) -> str:
        r = (await self.lookup_batch([c.TokenizeItem(data_class, value, subject)]))[0]
        c.raise_item(r.error)
        return r.token or ""

    async def set_consent(
        self, subject: str, purpose: str, lawful_basis: str = "", expires_at: Optional[datetime.datetime] = None
    ) -> subject_pb2.ConsentRecord:
        req = subject_pb2.SetConsentRequest(subject_id=subject, purpose=purpose, lawful_basis=lawful_basis, expires_at=timestamp(expires_at))
        return (await self._call(self._subjects.SetConsent, req)).consent

    async def revoke_consent(self, subject: str, purpose: str) -> subject_pb2.ConsentRecord:
        req = subject_pb2.RevokeConsentRequest(subject_id=subject, purpose=purpose)
        return (await self._call(self._subjects.RevokeConsent, req)).consent

    async def list_consents(self, subject: str) -> list[subject_pb2.ConsentRecord]:
        return list((await self._call(self._subjects.ListConsents, subject_pb2.ListConsentsRequest(subject_id=subject))).consents)

    async def export_subject(self, subject: str) -> list[subject_pb2.SubjectToken]:
        out: list[subject_pb2.SubjectToken] = []
        try:
            async for resp in self._subjects.ExportSubject(subject_pb2.ExportSubjectRequest(subject_id=subject), metadata=self._md):
                out += resp.tokens
        except grpc.RpcError as e:
            raise call_error(e) from None
        return out

    async def rectify_token(self, data_class: str, token: str, value: c.Value) -> None:
        req = subject_pb2.RectifyTokenRequest(token=token, value=c._bytes(value))
        c.setattr_class(req, data_class)
        await self._call(self._subjects.RectifyToken, req)

    async def erase_subject(self, subject: str) -> subject_pb2.ErasureReceipt:
        return (await self._call(self._subjects.EraseSubject, subject_pb2.EraseSubjectRequest(subject_id=subject))).receipt

    async def key_status(self) -> list[admin_pb2.ClassKeyStatus]:
        return list((await self._call(self._admin.GetKeyStatus, admin_pb2.GetKeyStatusRequest())).classes)

    async def verify_audit(self) -> admin_pb2.VerifyAuditResponse:
        return await self._call(self._admin.VerifyAudit, admin_pb2.VerifyAuditRequest())
