"""`CountedSecrets`: a secret store that counts the ephemeral secrets minted and those presented in vain."""

from __future__ import annotations

from realtalk.observability.metrics import Metrics
from realtalk.server.secrets import SecretStore, StoredSecret

# A store forgets a secret once it expires (Redis by its TTL), so an expired secret cannot be told from one
# that never existed: both are refused for this one reason.
UNKNOWN_OR_EXPIRED = "unknown_or_expired"


class CountedSecrets:
    def __init__(self, store: SecretStore, metrics: Metrics) -> None:
        self.store = store
        self._minted = metrics.secrets_minted
        self._rejected = metrics.secrets_rejected.labels(UNKNOWN_OR_EXPIRED)

    async def put(self, secret: str, record: StoredSecret) -> None:
        await self.store.put(secret, record)
        self._minted.inc()

    async def get(self, secret: str) -> StoredSecret | None:
        record = await self.store.get(secret)
        if record is None:
            self._rejected.inc()
        return record
