"""Who is calling: an open server has one user; with keys (from the environment or the key table) every
call needs a live one, and each key is its own tenant."""

from datetime import UTC, datetime

import pytest
from fastapi import Depends, FastAPI

from agentbatch.api import auth
from agentbatch.api.auth import KeyRing, caller
from agentbatch.api.errors import install_error_handlers
from agentbatch.domain.api_keys import ApiKey, key_digest, new_secret
from agentbatch.domain.errors import Unauthorized
from agentbatch.domain.ids import DEFAULT_USER_ID, IdPrefix, new_id, user_id_for_key
from agentbatch.store.api_keys import insert_key, revoke_key
from agentbatch.store.database import Database
from tests.unit.api.conftest import AppClient

ENV_KEY = "env-secret-1"


@pytest.fixture
def db(sqlite_copy: Database) -> Database:
    return sqlite_copy


@pytest.fixture
def fresh_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call reads the key table (no cached copy), so a change made in a test counts at once."""
    monkeypatch.setattr(auth, "KEY_REFRESH_S", 0.0)


async def _stored_key(db: Database, tenant: str | None = None) -> tuple[str, ApiKey]:
    secret = new_secret()
    key = ApiKey(
        id=new_id(IdPrefix.API_KEY),
        tenant_id=tenant or new_id(IdPrefix.USER),
        name="test",
        created_at=datetime.now(UTC),
    )
    async with db.write() as conn:
        await insert_key(conn, key, key_digest(secret))
    return secret, key


async def test_an_open_server_treats_every_caller_as_the_default_user(db: Database) -> None:
    ring = KeyRing(db, [])
    for header in ["", "Bearer anything", "Basic abc"]:
        assert await ring.tenant(header) == DEFAULT_USER_ID


async def test_an_environment_key_is_its_own_stable_tenant(db: Database) -> None:
    ring = KeyRing(db, [ENV_KEY, "env-secret-2"])
    first = await ring.tenant(f"Bearer {ENV_KEY}")
    assert first == user_id_for_key(ENV_KEY) != DEFAULT_USER_ID
    assert await KeyRing(db, [ENV_KEY]).tenant(f"Bearer {ENV_KEY}") == first
    assert await ring.tenant("Bearer env-secret-2") not in (first, DEFAULT_USER_ID)


@pytest.mark.parametrize("header", ["bearer env-secret-1", "BEARER   env-secret-1  "])
async def test_the_scheme_is_case_insensitive_and_spaces_around_the_key_are_ignored(
    db: Database, header: str
) -> None:
    assert await KeyRing(db, [ENV_KEY]).tenant(header) == user_id_for_key(ENV_KEY)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer    ", "Basic env-secret-1", "env-secret-1"])
async def test_no_usable_bearer_key_is_missing_key(db: Database, header: str) -> None:
    with pytest.raises(Unauthorized, match="missing API key"):
        await KeyRing(db, [ENV_KEY]).tenant(header)


@pytest.mark.parametrize("token", ["env-secret-2", "env-secret-", "env-secret-1x", "ENV-SECRET-1"])
async def test_a_key_that_is_not_exactly_a_known_one_is_refused(db: Database, token: str) -> None:
    with pytest.raises(Unauthorized, match="unknown or revoked"):
        await KeyRing(db, [ENV_KEY]).tenant(f"Bearer {token}")


async def test_a_stored_key_belongs_to_its_tenant(db: Database, fresh_keys: None) -> None:
    secret, key = await _stored_key(db)
    assert await KeyRing(db, []).tenant(f"Bearer {secret}") == key.tenant_id


async def test_a_stored_key_closes_an_open_server(db: Database, fresh_keys: None) -> None:
    ring = KeyRing(db, [])
    assert await ring.tenant("") == DEFAULT_USER_ID
    await _stored_key(db)
    with pytest.raises(Unauthorized, match="missing API key"):
        await ring.tenant("")


async def test_two_keys_of_one_tenant_see_the_same_things(db: Database, fresh_keys: None) -> None:
    tenant = new_id(IdPrefix.USER)
    first, _ = await _stored_key(db, tenant)
    second, _ = await _stored_key(db, tenant)
    ring = KeyRing(db, [])
    assert await ring.tenant(f"Bearer {first}") == await ring.tenant(f"Bearer {second}") == tenant


async def test_stored_and_environment_keys_work_side_by_side(db: Database, fresh_keys: None) -> None:
    secret, key = await _stored_key(db)
    ring = KeyRing(db, [ENV_KEY])
    assert await ring.tenant(f"Bearer {secret}") == key.tenant_id
    assert await ring.tenant(f"Bearer {ENV_KEY}") == user_id_for_key(ENV_KEY)


async def test_a_revoked_key_is_refused_and_the_others_still_work(db: Database, fresh_keys: None) -> None:
    revoked, revoked_key = await _stored_key(db)
    kept, kept_key = await _stored_key(db)
    ring = KeyRing(db, [])
    assert await ring.tenant(f"Bearer {revoked}") == revoked_key.tenant_id
    async with db.write() as conn:
        await revoke_key(conn, revoked_key.id, datetime.now(UTC))
    with pytest.raises(Unauthorized, match="unknown or revoked"):
        await ring.tenant(f"Bearer {revoked}")
    assert await ring.tenant(f"Bearer {kept}") == kept_key.tenant_id


async def test_revoking_the_last_stored_key_reopens_a_server_without_environment_keys(
    db: Database, fresh_keys: None
) -> None:
    _, key = await _stored_key(db)
    ring = KeyRing(db, [])
    with pytest.raises(Unauthorized):
        await ring.tenant("")
    async with db.write() as conn:
        await revoke_key(conn, key.id, datetime.now(UTC))
    assert await ring.tenant("") == DEFAULT_USER_ID


async def test_the_key_table_is_read_at_most_once_per_refresh_interval(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key revoked by the CLI keeps working until the ring's copy is refreshed (``KEY_REFRESH_S``)."""
    monkeypatch.setattr(auth, "KEY_REFRESH_S", 3600.0)
    await _stored_key(db)  # stays: revoking the last key would reopen the server
    secret, key = await _stored_key(db)
    ring = KeyRing(db, [])
    assert await ring.tenant(f"Bearer {secret}") == key.tenant_id
    async with db.write() as conn:
        await revoke_key(conn, key.id, datetime.now(UTC))
    assert await ring.tenant(f"Bearer {secret}") == key.tenant_id
    monkeypatch.setattr(auth, "KEY_REFRESH_S", 0.0)
    with pytest.raises(Unauthorized):
        await ring.tenant(f"Bearer {secret}")


async def test_a_route_answers_401_with_a_bearer_challenge_and_the_tenant_otherwise(
    db: Database, client_of: AppClient
) -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.state.key_ring = KeyRing(db, [ENV_KEY])

    @app.get("/whoami")
    async def _whoami(owner: str = Depends(caller)) -> dict[str, str]:
        return {"owner": owner}

    client = client_of(app)
    missing = await client.get("/whoami")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    wrong = await client.get("/whoami", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "unknown or revoked API key"}
    right = await client.get("/whoami", headers={"Authorization": f"Bearer {ENV_KEY}"})
    assert right.json() == {"owner": user_id_for_key(ENV_KEY)}
