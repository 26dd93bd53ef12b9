"""Every SQL statement about API keys (``agentbatch keys`` and the API's key ring)."""

from datetime import datetime

from sqlalchemy import Row, insert, select, update

from agentbatch.domain.api_keys import ApiKey
from agentbatch.store.database import Connection
from agentbatch.store.tables import api_keys


async def insert_key(conn: Connection, key: ApiKey, digest: str) -> None:
    await conn.execute(
        insert(api_keys).values(
            id=key.id, tenant_id=key.tenant_id, name=key.name, key_digest=digest, created_at=key.created_at
        )
    )


async def list_keys(conn: Connection, *, include_revoked: bool = False) -> list[ApiKey]:
    query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    return [_key(row) for row in await conn.execute(query)]


async def revoke_key(conn: Connection, key_id: str, now: datetime) -> ApiKey | None:
    """Revoke a key (revoking it again changes nothing); None if no key has this id."""
    await conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
    return None if row is None else _key(row)


async def active_tenants_by_digest(conn: Connection) -> dict[str, str]:
    """Every usable key: its digest and the tenant it belongs to."""
    query = select(api_keys.c.key_digest, api_keys.c.tenant_id).where(api_keys.c.revoked_at.is_(None))
    return {row.key_digest: row.tenant_id for row in await conn.execute(query)}


def _key(row: Row[tuple[object, ...]]) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
