"""API keys kept as data: each belongs to a tenant (the owner id of everything made with it).

Only a key's SHA-256 digest is stored. Keys are 256 random bits, so a plain hash is as strong as a slow
one here: there is no dictionary to try, and the digest can be looked up directly.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

KEY_PREFIX = "ab-"
"""Marks a key minted by ``agentbatch keys create``, so a leaked one is recognisable in logs or code."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    tenant_id: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(secret: str) -> str:
    """What the database holds for a key: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()
