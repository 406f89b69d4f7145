"""Request building and result parsing shared by the sync and async clients."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Optional, Sequence, Union

from google.protobuf import duration_pb2

from privacyvault.errors import ItemError, PrivacyVaultError, item_error
from privacyvault.v1 import token_pb2

DEFAULT_MAX_BATCH = 10000
"""The server's default batch limit (server.max_batch)."""

Value = Union[bytes, str]


class RevealLevel(enum.IntEnum):
    """How much of a value the policy let the caller see."""

    UNSPECIFIED = 0
    PLAIN = 1
    MASKED = 2
    REDACTED = 3


@dataclasses.dataclass
class TokenizeItem:
    """One value to tokenize (or look up)."""

    data_class: str
    value: Value
    subject: Optional[str] = None
    """The data subject (customer id) the value belongs to."""
    context: Optional[str] = None
    """Mixed into the tweak of fpe and hash classes; detokenize needs it again."""
    tweak: Optional[bytes] = None
    """The 7-byte tweak of ff3-1 classes."""
    ttl: Optional[datetime.timedelta] = None
    """Retention shorter than the class's (vaulted classes)."""


@dataclasses.dataclass
class DetokenizeItem:
    """One token to resolve."""

    data_class: str
    token: str
    context: Optional[str] = None
    tweak: Optional[bytes] = None
    subject: Optional[str] = None
    """The subject of an fpe token, for consent-requiring purposes."""


@dataclasses.dataclass
class TokenResult:
    """The token of one item, or its error."""

    token: Optional[str] = None
    error: Optional[PrivacyVaultError] = None


@dataclasses.dataclass
class Revealed:
    """The value behind one token at the level policy allowed, or its error."""

    value: Optional[bytes] = None
    level: RevealLevel = RevealLevel.UNSPECIFIED
    error: Optional[PrivacyVaultError] = None


def _bytes(v: Value) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else v


def tokenize_request(items: Sequence[TokenizeItem]) -> token_pb2.TokenizeRequest:
    req = token_pb2.TokenizeRequest()
    for it in items:
        pi = req.items.add(value=_bytes(it.value), context=it.context or "", tweak=it.tweak or b"", subject_id=it.subject or "")
        setattr_class(pi, it.data_class)
        if it.ttl is not None:
            d = duration_pb2.Duration()
            d.FromTimedelta(it.ttl)
            pi.ttl.CopyFrom(d)
    return req


def lookup_request(items: Sequence[TokenizeItem]) -> token_pb2.LookupRequest:
    req = token_pb2.LookupRequest()
    for it in items:
        pi = req.items.add(value=_bytes(it.value), subject_id=it.subject or "")
        setattr_class(pi, it.data_class)
    return req


def detokenize_request(purpose: str, items: Sequence[DetokenizeItem]) -> token_pb2.DetokenizeRequest:
    req = token_pb2.DetokenizeRequest(purpose=purpose)
    for it in items:
        pi = req.items.add(token=it.token, context=it.context or "", tweak=it.tweak or b"", subject_id=it.subject or "")
        setattr_class(pi, it.data_class)
    return req


def setattr_class(msg: object, name: str) -> None:
    # "class" is a Python keyword, so the field cannot be a keyword argument.
    setattr(msg, "class", name)


def _check_len(results: Sequence[object], n: int) -> None:
    if len(results) != n:
        raise RuntimeError(f"privacyvault: server returned {len(results)} results for {n} items")


def token_results(results: Sequence[token_pb2.TokenizeResult], n: int, offset: int) -> list[TokenResult]:
    _check_len(results, n)
    out = []
    for i, r in enumerate(results):
        if r.HasField("error"):
            out.append(TokenResult(error=item_error(offset + i, r.error)))
        else:
            out.append(TokenResult(token=r.token))
    return out


def revealed_results(results: Sequence[token_pb2.DetokenizeResult], n: int, offset: int) -> list[Revealed]:
    _check_len(results, n)
    out = []
    for i, r in enumerate(results):
        if r.HasField("error"):
            out.append(Revealed(error=item_error(offset + i, r.error)))
        else:
            out.append(Revealed(value=r.revealed.value, level=RevealLevel(r.revealed.level)))
    return out


def raise_item(err: Optional[PrivacyVaultError]) -> None:
    if err is not None:
        raise err


def bearer_metadata(token: Optional[str]) -> tuple[tuple[str, str], ...]:
    return (("authorization", "Bearer " + token),) if token else ()


__all__ = [
    "DEFAULT_MAX_BATCH",
    "DetokenizeItem",
    "ItemError",
    "RevealLevel",
    "Revealed",
    "TokenResult",
    "TokenizeItem",
]
