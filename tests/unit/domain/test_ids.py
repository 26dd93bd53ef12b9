"""Prefixed ids: every id the server mints has the shape Letta's OpenAPI document checks."""

import re
from datetime import UTC, datetime

import pytest

from agentbatch.domain.api_keys import KEY_PREFIX, ApiKey, key_digest, new_secret
from agentbatch.domain.ids import DEFAULT_USER_ID, IdPrefix, id_pattern, is_valid_id, new_id, user_id_for_key

A_UUID4 = "3f2c1d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


@pytest.mark.parametrize("prefix", list(IdPrefix))
def test_a_new_id_is_valid_for_its_kind_and_matches_the_published_pattern(prefix: IdPrefix) -> None:
    minted = new_id(prefix)
    assert is_valid_id(minted, prefix)
    assert re.match(id_pattern(prefix), minted)
    assert minted.startswith(f"{prefix.value}-")


def test_new_ids_do_not_repeat() -> None:
    assert len({new_id(IdPrefix.AGENT) for _ in range(500)}) == 500


def test_batch_ids_are_letta_job_ids() -> None:
    assert new_id(IdPrefix.BATCH).startswith("job-")
    assert is_valid_id(f"job-{A_UUID4}", IdPrefix.BATCH)


@pytest.mark.parametrize(
    ("value", "prefix"),
    [
        (f"tool-{A_UUID4}", IdPrefix.AGENT),  # another kind's id
        (f"agent-{A_UUID4.upper()}", IdPrefix.AGENT),  # upper-case hex
        ("agent-3f2c1d4e-5a6b-1c7d-8e9f-0a1b2c3d4e5f", IdPrefix.AGENT),  # a version-1 uuid
        ("agent-3f2c1d4e-5a6b-4c7d-7e9f-0a1b2c3d4e5f", IdPrefix.AGENT),  # wrong variant nibble
        (A_UUID4, IdPrefix.AGENT),  # no prefix
        (f"agent-{A_UUID4}\n", IdPrefix.AGENT),  # a trailing newline
        (f" agent-{A_UUID4}", IdPrefix.AGENT),
        (f"agent-{A_UUID4}-extra", IdPrefix.AGENT),
        (f"agent_{A_UUID4}", IdPrefix.AGENT),
        ("", IdPrefix.AGENT),
    ],
)
def test_malformed_ids_are_not_valid(value: str, prefix: IdPrefix) -> None:
    assert not is_valid_id(value, prefix)


def test_a_keys_user_id_is_stable_distinct_per_key_and_well_formed() -> None:
    first = user_id_for_key("secret-one")
    assert first == user_id_for_key("secret-one")
    assert first != user_id_for_key("secret-two")
    assert is_valid_id(first, IdPrefix.USER)
    assert "secret-one" not in first


def test_the_open_servers_single_user_id_is_a_valid_user_id() -> None:
    assert is_valid_id(DEFAULT_USER_ID, IdPrefix.USER)


def test_minted_api_keys_are_marked_and_unguessable() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(secret.startswith(KEY_PREFIX) and len(secret) >= len(KEY_PREFIX) + 43 for secret in secrets)


def test_only_a_keys_digest_is_kept_and_it_identifies_the_key() -> None:
    secret = new_secret()
    digest = key_digest(secret)
    assert digest == key_digest(secret)
    assert digest != key_digest(secret + "x")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert secret not in digest
    # the published SHA-256 of the empty string: a plain digest anyone can recompute
    assert key_digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_a_key_is_active_until_revoked() -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    key = ApiKey(id="key-1", tenant_id="user-1", name=None, created_at=created)
    assert key.active
    assert not ApiKey("key-1", "user-1", "ci", created, revoked_at=created).active
