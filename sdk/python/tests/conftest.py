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


@pytest.fixture(scope="session")
def mtls():
    """Address and TLS directory of the mTLS sidecar (SPIFFE IDs from client
    certificates: spiffe://sdk.test/checkout has a grant, .../stranger none)."""
    a, d = os.environ.get("PRIVACYVAULT_MTLS_ADDR"), os.environ.get("PRIVACYVAULT_TLS_DIR")
    if not a or not d:
        raise RuntimeError("PRIVACYVAULT_MTLS_ADDR and PRIVACYVAULT_TLS_DIR are not set: run with `make sdk-test`")

    def tls(client=None):
        def read(name):
            with open(os.path.join(d, name), "rb") as f:
                return f.read()

        if client is None:
            return privacyvault.TLS(root_certificates=read("ca.pem"))
        return privacyvault.TLS(read("ca.pem"), read(f"{client}.pem"), read(f"{client}-key.pem"))

    return a, tls
