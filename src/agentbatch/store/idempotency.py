"""Idempotency keys of batch creation: ``(owner_id, key)`` -> the batch it created and its body's hash.

The key is reserved in the creating transaction itself, before the batch is written, by an insert that
does nothing on conflict. Two creates racing with one key therefore cannot both win: on PostgreSQL the
second insert waits for the first transaction and then finds its row (the primary key decides); on
SQLite write transactions are serialised anyway. A failed create rolls its reservation back with it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.store.dialect import dialect_of
from agentbatch.store.tables import idempotency_keys


@dataclass(frozen=True, slots=True)
class KeyUse:
    """What an earlier create with the same key recorded."""

    batch_id: str
    body_hash: str


async def reserve(
    conn: AsyncConnection,
    owner_id: str,
    key: str,
    body_hash: str,
    batch_id: str,
    now: datetime,
    expires_at: datetime,
) -> KeyUse | None:
    """Reserve ``key`` for ``batch_id``: None if this call reserved it, else the live earlier use."""
    await conn.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.owner_id == owner_id,
            idempotency_keys.c.key == key,
            idempotency_keys.c.expires_at < now,
        )
    )
    values = {
        "owner_id": owner_id,
        "key": key,
        "body_hash": body_hash,
        "batch_id": batch_id,
        "created_at": now,
        "expires_at": expires_at,
    }
    insert = dialect_of(conn).insert
    result = await conn.execute(insert(idempotency_keys).values(values).on_conflict_do_nothing())
    if result.rowcount == 1:
        return None
    row = (
        await conn.execute(
            select(idempotency_keys.c.batch_id, idempotency_keys.c.body_hash).where(
                idempotency_keys.c.owner_id == owner_id, idempotency_keys.c.key == key
            )
        )
    ).one()
    return KeyUse(batch_id=row.batch_id, body_hash=row.body_hash)


async def purge_expired(conn: AsyncConnection, now: datetime) -> int:
    """Forget every key past its retention (index on ``expires_at``)."""
    result = await conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at < now))
    return int(result.rowcount or 0)
