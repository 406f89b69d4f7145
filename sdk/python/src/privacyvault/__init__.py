"""Python client for the privacyvault sidecar.

>>> from privacyvault import Client
>>> with Client("127.0.0.1:7443", insecure=True, bearer_token=token) as pv:
...     tok = pv.tokenize("card_number", "4111111111111111")
...     pv.detokenize("payment", "card_number", tok).value
"""

from privacyvault._common import (
    DEFAULT_MAX_BATCH,
    DetokenizeItem,
    Revealed,
    RevealLevel,
    TokenizeItem,
    TokenResult,
)
from privacyvault.aio import AsyncClient
from privacyvault.client import TLS, Client
from privacyvault.errors import (
    BATCH_TOO_LARGE,
    CONSENT_REQUIRED,
    KEY_VERSION_RETIRED,
    QUOTA_EXCEEDED,
    TOKEN_EXPIRED,
    TOKEN_NOT_FOUND,
    CallError,
    ItemError,
    PrivacyVaultError,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "BATCH_TOO_LARGE",
    "CONSENT_REQUIRED",
    "CallError",
    "Client",
    "DEFAULT_MAX_BATCH",
    "DetokenizeItem",
    "ItemError",
    "KEY_VERSION_RETIRED",
    "PrivacyVaultError",
    "QUOTA_EXCEEDED",
    "RevealLevel",
    "Revealed",
    "TLS",
    "TOKEN_EXPIRED",
    "TOKEN_NOT_FOUND",
    "TokenResult",
    "TokenizeItem",
]
