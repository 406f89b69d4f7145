import grpc
import pytest

import privacyvault
from privacyvault import CallError, DetokenizeItem, ItemError, RevealLevel, TokenizeItem

from conftest import CHECKOUT, DPO, MAX_BATCH, OPS


@pytest.mark.asyncio
async def test_async_round_trip_and_errors(addr):
    async with privacyvault.AsyncClient(addr, insecure=True, bearer_token=CHECKOUT) as c:
        for data_class, value in [("card_number", "4111111111111111"), ("email", "frank@example.com"), ("account_number", "98765432101")]:
            tok = await c.tokenize(data_class, value)
            got = await c.detokenize("payment", data_class, tok)
            assert (got.value, got.level) == (value.encode(), RevealLevel.PLAIN)
        with pytest.raises(ItemError) as e:
            await c.detokenize("analytics", "card_number", await c.tokenize("card_number", "4111111111111111"))
        assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(CallError) as ce:
            await c.key_status()
        assert ce.value.code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.asyncio
async def test_async_batch_split(addr):
    values = [f"async{i}@example.com" for i in range(2 * MAX_BATCH + 3)]
    async with privacyvault.AsyncClient(addr, insecure=True, bearer_token=CHECKOUT) as c:
        res = await c.tokenize_batch([TokenizeItem("email", v) for v in values])
        assert all(r.error is None for r in res)
        got = await c.detokenize_batch("payment", [DetokenizeItem("email", r.token) for r in res])
        assert [g.value for g in got] == [v.encode() for v in values]


@pytest.mark.asyncio
async def test_async_admin_and_subject(addr):
    async with privacyvault.AsyncClient(addr, insecure=True, bearer_token=OPS) as ops:
        assert len(await ops.key_status()) > 0
    async with privacyvault.AsyncClient(addr, insecure=True, bearer_token=CHECKOUT) as c, privacyvault.AsyncClient(
        addr, insecure=True, bearer_token=DPO
    ) as dpo:
        tok = await c.tokenize("card_number", "4111111111111111", subject="async-dsar-subject")
        exported = await dpo.export_subject("async-dsar-subject")
        assert [t.token for t in exported] == [tok]
        await dpo.erase_subject("async-dsar-subject")
        with pytest.raises(ItemError) as e:
            await c.detokenize("payment", "card_number", tok)
        assert e.value.is_token_not_found
