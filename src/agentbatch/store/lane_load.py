"""What a model has open in the provider-batch lane, across every process: the database's unfinished
provider batches are the truth a lane quota is checked against."""

import zlib
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.store.tables import provider_batches

_ENDED = "ended"


@dataclass(frozen=True, slots=True)
class OpenLoad:
    requests: int = 0
    tokens: int = 0


async def open_load(conn: AsyncConnection, provider: str, model: str) -> OpenLoad:
    """Requests and estimated tokens in this model's unfinished provider batches (any worker's)."""
    c = provider_batches.c
    row = (
        await conn.execute(
            select(func.sum(c.request_count), func.sum(c.estimated_tokens)).where(
                c.provider == provider, c.model == model, c.status != _ENDED
            )
        )
    ).one()
    return OpenLoad(int(row[0] or 0), int(row[1] or 0))


async def lock_model(conn: AsyncConnection, provider: str, model: str) -> None:
    """Serialise quota checks of one model until the transaction ends, so two processes cannot both
    admit a provider batch into the same room (PostgreSQL: an advisory lock; SQLite has one writer)."""
    if conn.dialect.name != "postgresql":
        return
    key = zlib.crc32(f"lane-quota:{provider}/{model}".encode())
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
