import grpc
import pytest

import privacyvault
from privacyvault import CallError, ItemError, RevealLevel


def test_mtls_identity(mtls):
    addr, tls = mtls
    with privacyvault.Client(addr, tls=tls("checkout")) as c:
        tok = c.tokenize("card_number", "4111111111111111")
        got = c.detokenize("payment", "card_number", tok)
        assert (got.value, got.level) == (b"4111111111111111", RevealLevel.PLAIN)
    with privacyvault.Client(addr, tls=tls("stranger")) as c:
        with pytest.raises(ItemError) as e:
            c.detokenize("payment", "card_number", tok)
        assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
    with privacyvault.Client(addr, tls=tls()) as c:  # TLS without a client certificate
        with pytest.raises(CallError) as ce:
            c.tokenize("card_number", "4111111111111111")
        assert ce.value.code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.asyncio
async def test_async_mtls_identity(mtls):
    addr, tls = mtls
    async with privacyvault.AsyncClient(addr, tls=tls("checkout")) as c:
        tok = await c.tokenize("card_number", "4111111111111111")
        assert (await c.detokenize("payment", "card_number", tok)).value == b"4111111111111111"
