import datetime
import time
import uuid

import grpc
import pytest

import privacyvault
from privacyvault import CallError, DetokenizeItem, ItemError, RevealLevel, TokenizeItem

from conftest import CHECKOUT, MAX_BATCH


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize(
    "data_class,value",
    [
        ("card_number", "4111 1111 1111 1111"),  # random
        ("email", "alice@example.com"),  # deterministic
        ("account_number", "12345678901"),  # fpe
    ],
)
def test_round_trip(client, data_class, value):
    tok = client.tokenize(data_class, value)
    assert value not in tok
    got = client.detokenize("payment", data_class, tok)
    assert (got.value, got.level) == (value.encode(), RevealLevel.PLAIN)


def test_deterministic_lookup_and_fpe_format(client):
    tok = client.tokenize("email", "carol@example.com")
    assert client.tokenize("email", "carol@example.com") == tok
    assert client.lookup("email", "carol@example.com") == tok
    fpe = client.tokenize("account_number", "12345678901", context="tenant-a")
    assert len(fpe) == 11 and fpe.isdigit()
    assert client.detokenize("payment", "account_number", fpe, context="tenant-a").value == b"12345678901"


def test_denied_purpose(client):
    tok = client.tokenize("card_number", "4111111111111111")
    with pytest.raises(ItemError) as e:
        client.detokenize("analytics", "card_number", tok)
    assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert e.value.index == 0


def test_consent_required(client, dpo):
    subject = unique("cust")
    tok = client.tokenize("email", f"{subject}@example.com", subject=subject)
    with pytest.raises(ItemError) as e:
        client.detokenize("marketing", "email", tok)
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.PERMISSION_DENIED, privacyvault.CONSENT_REQUIRED)
    rec = dpo.set_consent(subject, "marketing", lawful_basis="consent")
    assert rec.live
    assert client.detokenize("marketing", "email", tok).value == f"{subject}@example.com".encode()


def test_subject_export_and_rectification(client, dpo):
    subject = unique("dsar")
    tok = client.tokenize("card_number", "4111111111111111", subject=subject)
    dpo.rectify_token("card_number", tok, "5555555555554444")
    got = [(t.__getattribute__("class"), t.token, t.value) for t in dpo.export_subject(subject)]
    assert got == [("card_number", tok, b"5555555555554444")]


def test_batch_with_one_bad_item(client):
    res = client.tokenize_batch(
        [
            TokenizeItem("card_number", "4111111111111111"),
            TokenizeItem("no_such_class", "x"),
            TokenizeItem("email", "dave@example.com"),
        ]
    )
    assert res[0].token and res[2].token and res[1].token is None
    err = res[1].error
    assert isinstance(err, ItemError)
    assert (err.index, err.code) == (1, grpc.StatusCode.INVALID_ARGUMENT)
    assert [f for f, _ in err.field_violations] == ["items[1].class"]


@pytest.mark.parametrize("max_batch", [privacyvault.DEFAULT_MAX_BATCH, 2])
def test_batch_split(addr, max_batch):
    # The sidecar's limit is MAX_BATCH; the default client learns it from
    # the refusal, the other never sends more than 2.
    n = 3 * MAX_BATCH + 1
    values = [f"user{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(n)]
    with privacyvault.Client(addr, insecure=True, bearer_token=CHECKOUT, max_batch=max_batch) as c:
        items = [TokenizeItem("email", v) for v in values]
        items[7] = TokenizeItem("no_such_class", "x")
        res = c.tokenize_batch(items)
        assert len(res) == n
        assert isinstance(res[7].error, ItemError) and res[7].error.index == 7
        det = [DetokenizeItem("email", r.token) for i, r in enumerate(res) if i != 7]
        got = c.detokenize_batch("payment", det)
        assert [g.value for g in got] == [v.encode() for i, v in enumerate(values) if i != 7]


def test_bearer_auth(addr):
    for token in (None, "not-a-token"):
        with privacyvault.Client(addr, insecure=True, bearer_token=token) as c:
            with pytest.raises(CallError) as e:
                c.tokenize("email", "eve@example.com")
            assert e.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_admin_call(ops, client):
    classes = {s.__getattribute__("class"): s for s in ops.key_status()}
    assert {"card_number", "email", "account_number"} <= classes.keys()
    assert ops.verify_audit().ok
    with pytest.raises(CallError) as e:
        client.key_status()
    assert e.value.code == grpc.StatusCode.PERMISSION_DENIED


def test_expired_and_not_found(client, dpo):
    tok = client.tokenize("card_number", "4111111111111111", ttl=datetime.timedelta(milliseconds=1))
    err = None
    deadline = time.monotonic() + 30  # poll, bounded, until the TTL passed on the server
    while time.monotonic() < deadline:
        try:
            client.detokenize("payment", "card_number", tok)
        except ItemError as e:
            err = e
            break
        time.sleep(0.01)
    assert err is not None and err.is_token_expired and not err.is_token_not_found
    assert err.code == grpc.StatusCode.NOT_FOUND

    subject = unique("gone")
    tok = client.tokenize("card_number", "4111111111111111", subject=subject)
    dpo.erase_subject(subject)
    with pytest.raises(ItemError) as e:
        client.detokenize("payment", "card_number", tok)
    assert e.value.is_token_not_found and not e.value.is_token_expired


def test_requires_transport_choice():
    with pytest.raises(ValueError):
        privacyvault.Client("127.0.0.1:1")
