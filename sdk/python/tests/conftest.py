"""Live tests against a real sidecar started by `make sdk-test`
(scripts/sdk-test.sh): examples/config.yaml in dev mode with max_batch 5."""

import os

import pytest

import privacyvault

CHECKOUT = "dev-checkout-token-0001"
OPS = "dev-ops-token-00000004"
DPO = "dev-dpo-token-00000005"
MAX_BATCH = 5


@pytest.fixture(scope="session")
def addr() -> str:
    a = os.environ.get("PRIVACYVAULT_ADDR")
    if not a:
        raise RuntimeError("PRIVACYVAULT_ADDR is not set: run these tests with `make sdk-test`, which starts a sidecar")
    return a


@pytest.fixture
def client(addr):
    with privacyvault.Client(addr, insecure=True, bearer_token=CHECKOUT) as c:
        yield c


@pytest.fixture
def ops(addr):
    with privacyvault.Client(addr, insecure=True, bearer_token=OPS) as c:
        yield c


@pytest.fixture
def dpo(addr):
    with privacyvault.Client(addr, insecure=True, bearer_token=DPO) as c:
        yield c
