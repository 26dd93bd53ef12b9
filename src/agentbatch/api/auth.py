"""Who is calling: the tenant of the bearer key, or the single default user of an open server.

Keys come from two places: ``AGENTBATCH_API_KEYS`` (a quick start) and the ``api_keys`` table
(``agentbatch keys create|list|revoke``). The server is open while neither holds a key; as soon as
either does, every call needs one. The table is read into memory at most once per
``KEY_REFRESH_S``, so a key created or revoked by the CLI (another process) counts within that time
without a query per request.
"""

import asyncio
import hmac
import math
import time

from fastapi import Request

from agentbatch.domain.api_keys import key_digest
from agentbatch.domain.errors import Unauthorized
from agentbatch.domain.ids import DEFAULT_USER_ID, user_id_for_key
from agentbatch.store.api_keys import active_tenants_by_digest
from agentbatch.store.database import Database

KEY_REFRESH_S = 1.0
"""How stale the in-memory copy of the key table may be: the longest a revoked key still works."""


class KeyRing:
    def __init__(self, db: Database, env_keys: list[str]) -> None:
        self._db = db
        self._env_keys = [(key.encode(), user_id_for_key(key)) for key in env_keys]
        self._tenant_by_digest: dict[str, str] = {}
        self._loaded_at = -math.inf
        self._lock = asyncio.Lock()

    async def tenant(self, authorization: str) -> str:
        """The owner id for this ``Authorization`` header; raises ``Unauthorized``."""
        stored = await self._stored_keys()
        if not self._env_keys and not stored:
            return DEFAULT_USER_ID
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing API key: send `Authorization: Bearer <key>`")
        found = stored.get(key_digest(token))
        for key, owner in self._env_keys:
            if hmac.compare_digest(key, token.encode()):
                found = owner
        if found is None:
            raise Unauthorized("unknown or revoked API key")
        return found

    async def _stored_keys(self) -> dict[str, str]:
        if time.monotonic() - self._loaded_at < KEY_REFRESH_S:
            return self._tenant_by_digest
        async with self._lock:
            if time.monotonic() - self._loaded_at >= KEY_REFRESH_S:
                async with self._db.read() as conn:
                    self._tenant_by_digest = await active_tenants_by_digest(conn)
                self._loaded_at = time.monotonic()
        return self._tenant_by_digest


async def caller(request: Request) -> str:
    ring: KeyRing = request.app.state.key_ring
    return await ring.tenant(request.headers.get("authorization", ""))
