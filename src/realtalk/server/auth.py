"""Who may connect: configured API keys (constant-time compared) or unexpired ephemeral secrets.

Keys come as `Authorization: Bearer …` or, from browsers that cannot set headers, as the WebSocket
subprotocol `openai-insecure-api-key.<key>`. No key or secret is ever written to a log.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from realtalk.protocol.errors import ProtocolError
from realtalk.server.secrets import SecretStore, StoredSecret

KEY_SUBPROTOCOL = "openai-insecure-api-key."
EPHEMERAL_PREFIX = "ek_"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller; `secret` is set when an ephemeral key was used (it carries a config).

    `key_id` names the API key behind the call (a digest, never the key), the one that minted the secret
    if a secret was used; None on an open server. Per-key caps count by it.
    """

    secret: StoredSecret | None = None
    key_id: str | None = None


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class AuthError(ProtocolError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def subprotocol_token(subprotocols: Sequence[str]) -> str | None:
    for protocol in subprotocols:
        if protocol.startswith(KEY_SUBPROTOCOL):
            return protocol[len(KEY_SUBPROTOCOL) :] or None
    return None


class Authenticator:
    def __init__(self, api_keys: Iterable[str], secrets: SecretStore) -> None:
        self._keys = [key.encode() for key in api_keys]
        self.secrets = secrets

    @property
    def open(self) -> bool:
        return not self._keys

    def is_api_key(self, token: str) -> bool:
        """Compare against every key, always, so the time taken says nothing about which one matched."""
        candidate = token.encode()
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(candidate, key)
        return matched

    def require_api_key(self, token: str | None) -> Principal:
        """REST calls that mint secrets need a real API key (an ephemeral one cannot mint more)."""
        if self.open:
            return Principal()
        if token is None:
            raise AuthError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.", "missing_api_key"
            )
        if not self.is_api_key(token):
            raise AuthError("Incorrect API key provided.", "invalid_api_key")
        return Principal(key_id=key_id(token))

    async def for_session(self, token: str | None) -> Principal:
        """WebSocket sessions accept API keys and unexpired ephemeral secrets."""
        if token is not None and token.startswith(EPHEMERAL_PREFIX):
            record = await self.secrets.get(token)
            if record is None:
                raise AuthError("The ephemeral client secret is invalid or has expired.", "invalid_api_key")
            return Principal(record, record.key_id)
        return self.require_api_key(token)
