"""Idempotency keys of batch creation: the first create with a key reserves it, a retry with the same key
finds the first batch (and its body's hash, so the caller can tell a conflict), keys are per owner, and
an expired or rolled-back reservation frees the key."""

import asyncio
import hashlib
from datetime import datetime, timedelta

import pytest

from agentbatch.store import idempotency
from agentbatch.store.database import Database
from agentbatch.store.idempotency import KeyUse
from tests.store.builders import T0

DAY = timedelta(days=1)


def _hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


async def _reserve(
    db: Database, owner: str, key: str, body: str, batch_id: str, now: datetime = T0
) -> KeyUse | None:
    async with db.write() as conn:
        return await idempotency.reserve(conn, owner, key, _hash(body), batch_id, now, now + DAY)


async def test_the_first_create_reserves_the_key(db: Database, owner: str) -> None:
    assert await _reserve(db, owner, "key-1", "{}", "job-first") is None


async def test_a_retry_with_the_same_body_finds_the_first_batch(db: Database, owner: str) -> None:
    await _reserve(db, owner, "key-1", '{"requests": [1]}', "job-first")

    again = await _reserve(db, owner, "key-1", '{"requests": [1]}', "job-second")

    assert again == KeyUse(batch_id="job-first", body_hash=_hash('{"requests": [1]}'))


async def test_a_retry_with_another_body_is_told_the_first_bodys_hash(db: Database, owner: str) -> None:
    await _reserve(db, owner, "key-1", '{"requests": [1]}', "job-first")

    clash = await _reserve(db, owner, "key-1", '{"requests": [2]}', "job-second")

    assert clash is not None
    assert clash.batch_id == "job-first"
    assert clash.body_hash != _hash('{"requests": [2]}')


async def test_keys_belong_to_their_owner(db: Database, owner: str) -> None:
    await _reserve(db, owner, "shared-name", "{}", "job-mine")

    assert await _reserve(db, f"{owner}-other", "shared-name", "{}", "job-theirs") is None
    assert await _reserve(db, f"{owner}-other", "shared-name", "{}", "job-again") == KeyUse(
        "job-theirs", _hash("{}")
    )


async def test_an_expired_key_is_reserved_anew(db: Database, owner: str) -> None:
    await _reserve(db, owner, "key-1", "{}", "job-old")

    still = await _reserve(db, owner, "key-1", "{}", "job-new", T0 + DAY - timedelta(seconds=1))
    fresh = await _reserve(db, owner, "key-1", '{"x": 1}', "job-new", T0 + DAY + timedelta(seconds=1))
    after = await _reserve(db, owner, "key-1", "{}", "job-newer", T0 + DAY + timedelta(seconds=2))

    assert still == KeyUse("job-old", _hash("{}"))
    assert fresh is None
    assert after == KeyUse("job-new", _hash('{"x": 1}'))


async def test_a_create_that_fails_gives_its_key_back(db: Database, owner: str) -> None:
    class CreateFailed(Exception):
        pass

    with pytest.raises(CreateFailed):
        async with db.write() as conn:
            assert (
                await idempotency.reserve(conn, owner, "key-1", _hash("{}"), "job-lost", T0, T0 + DAY) is None
            )
            raise CreateFailed

    assert await _reserve(db, owner, "key-1", "{}", "job-kept") is None


async def test_purging_forgets_only_expired_keys(fresh_db: Database, owner: str) -> None:
    await _reserve(fresh_db, owner, "old-1", "{}", "job-1", T0)
    await _reserve(fresh_db, owner, "old-2", "{}", "job-2", T0)
    await _reserve(fresh_db, owner, "young", "{}", "job-3", T0 + DAY)

    async with fresh_db.write() as conn:
        purged = await idempotency.purge_expired(conn, T0 + DAY + timedelta(seconds=1))
        purged_again = await idempotency.purge_expired(conn, T0 + DAY + timedelta(seconds=1))

    assert (purged, purged_again) == (2, 0)
    assert await _reserve(fresh_db, owner, "young", "{}", "job-4", T0 + DAY) == KeyUse("job-3", _hash("{}"))
    assert await _reserve(fresh_db, owner, "old-1", "{}", "job-5", T0 + DAY) is None


async def test_racing_creates_with_one_key_agree_on_one_batch(db: Database, owner: str) -> None:
    async def create(batch_id: str) -> str:
        async with db.write() as conn:
            earlier = await idempotency.reserve(conn, owner, "raced", _hash("{}"), batch_id, T0, T0 + DAY)
            await asyncio.sleep(0)  # let the other create run into the key meanwhile
            return batch_id if earlier is None else earlier.batch_id

    winners = await asyncio.gather(*(create(f"job-{n}") for n in range(4)))

    assert len(set(winners)) == 1
