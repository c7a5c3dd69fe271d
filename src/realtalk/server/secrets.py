"""Ephemeral client secrets (`ek_…`) behind a small store interface.

Secrets are kept under their SHA-256, never in clear: a lookup by hash does not leak timing about the
secret, and a dump of the store gives nothing away. In memory here, for one process;
`shared/secrets.py` keeps them in Redis for many.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from realtalk.clock import Clock


@dataclass(frozen=True)
class StoredSecret:
    """What a secret unlocks: sessions starting from `config` (a JSON-ready `SessionConfig` dump)."""

    expires_at: int
    config: dict[str, Any]
    key_id: str | None = None  # the API key that minted it (a digest): its sessions count against that key


class SecretStore(Protocol):
    async def put(self, secret: str, record: StoredSecret) -> None: ...

    async def get(self, secret: str) -> StoredSecret | None:
        """The record of a secret that exists and has not expired."""
        ...


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class InMemorySecretStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._records: dict[str, StoredSecret] = {}

    async def put(self, secret: str, record: StoredSecret) -> None:
        self._purge()
        self._records[digest(secret)] = record

    async def get(self, secret: str) -> StoredSecret | None:
        record = self._records.get(digest(secret))
        if record is None or record.expires_at <= self._clock.now():
            return None
        return record

    def __len__(self) -> int:
        return len(self._records)

    def _purge(self) -> None:
        now = self._clock.now()
        for key in [k for k, r in self._records.items() if r.expires_at <= now]:
            del self._records[key]
