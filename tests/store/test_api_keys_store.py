"""API keys kept as data: listed in creation order, revoked once (the first revocation time stays), and
only unrevoked keys in the ring that maps a key's digest to its tenant. Each test has a database of its
own: the key ring is the whole table."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from agentbatch.domain.api_keys import ApiKey, key_digest, new_secret
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.store import api_keys
from agentbatch.store.database import Database
from tests.store.builders import T0, at


async def _mint(
    db: Database, tenant: str, seconds: float = 0, name: str | None = "laptop"
) -> tuple[ApiKey, str]:
    key = ApiKey(id=new_id(IdPrefix.API_KEY), tenant_id=tenant, name=name, created_at=at(seconds))
    secret = new_secret()
    async with db.write() as conn:
        await api_keys.insert_key(conn, key, key_digest(secret))
    return key, secret


async def test_keys_list_in_creation_order(fresh_db: Database) -> None:
    later, _ = await _mint(fresh_db, "tenant-a", 2, name=None)
    earlier, _ = await _mint(fresh_db, "tenant-b", 1)

    async with fresh_db.read() as conn:
        listed = await api_keys.list_keys(conn)

    assert listed == [earlier, later]
    assert all(key.active for key in listed)


async def test_a_revoked_key_leaves_the_ring_but_stays_listable(fresh_db: Database) -> None:
    kept, kept_secret = await _mint(fresh_db, "tenant-a", 1)
    revoked, revoked_secret = await _mint(fresh_db, "tenant-b", 2)
    when = T0 + timedelta(hours=1)

    async with fresh_db.write() as conn:
        result = await api_keys.revoke_key(conn, revoked.id, when)
        ring = await api_keys.active_tenants_by_digest(conn)
        active = await api_keys.list_keys(conn)
        everything = await api_keys.list_keys(conn, include_revoked=True)

    assert result is not None and (result.revoked_at, result.active) == (when, False)
    assert ring == {key_digest(kept_secret): "tenant-a"}
    assert key_digest(revoked_secret) not in ring
    assert [k.id for k in active] == [kept.id]
    assert [k.id for k in everything] == [kept.id, revoked.id]


async def test_revoking_again_keeps_the_first_revocation_time(fresh_db: Database) -> None:
    key, _ = await _mint(fresh_db, "tenant-a")
    first, second = T0 + timedelta(hours=1), T0 + timedelta(hours=2)

    async with fresh_db.write() as conn:
        await api_keys.revoke_key(conn, key.id, first)
        again = await api_keys.revoke_key(conn, key.id, second)
        missing = await api_keys.revoke_key(conn, "key-missing", second)

    assert again is not None and again.revoked_at == first
    assert missing is None


async def test_one_tenant_may_hold_several_keys(fresh_db: Database) -> None:
    _, one = await _mint(fresh_db, "tenant-a", 1)
    _, two = await _mint(fresh_db, "tenant-a", 2)

    async with fresh_db.read() as conn:
        ring = await api_keys.active_tenants_by_digest(conn)

    assert ring == {key_digest(one): "tenant-a", key_digest(two): "tenant-a"}


async def test_the_same_key_cannot_be_stored_twice(fresh_db: Database) -> None:
    secret = new_secret()
    async with fresh_db.write() as conn:
        await api_keys.insert_key(conn, ApiKey("key-1", "tenant-a", None, T0), key_digest(secret))

    with pytest.raises(IntegrityError):
        async with fresh_db.write() as conn:
            await api_keys.insert_key(conn, ApiKey("key-2", "tenant-b", None, T0), key_digest(secret))
    async with fresh_db.read() as conn:
        assert await api_keys.active_tenants_by_digest(conn) == {key_digest(secret): "tenant-a"}
