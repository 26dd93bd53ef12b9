"""Minted ids are ``<prefix>-<uuid4>`` as Letta's OpenAPI document checks them, and never repeat."""

import uuid

from agentbatch.domain.ids import IdPrefix, is_valid_id, new_id, new_ids


def test_ids_are_prefixed_version_4_uuids() -> None:
    minted = [new_id(IdPrefix.AGENT) for _ in range(1000)]
    assert all(is_valid_id(value, IdPrefix.AGENT) for value in minted)
    parsed = [uuid.UUID(value.removeprefix("agent-")) for value in minted]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(minted)) == 1000


def test_ids_minted_in_bulk_are_version_4_uuids_too_and_never_repeat() -> None:
    minted = new_ids(IdPrefix.BATCH_ITEM, 5000)
    assert len(minted) == 5000
    assert all(is_valid_id(value, IdPrefix.BATCH_ITEM) for value in minted)
    parsed = [uuid.UUID(value.removeprefix("batch_item-")) for value in minted]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(minted)) == 5000
    assert {str(u)[19] for u in parsed} == set("89ab")  # the variant digit keeps its two random bits


def test_ids_minted_in_bulk_come_in_ascending_order() -> None:
    """Rows written together are inserted in id order (locality in the unique index), yet the ids stay
    random: two draws do not share a range."""
    first, second = new_ids(IdPrefix.BATCH_ITEM, 2000), new_ids(IdPrefix.BATCH_ITEM, 2000)
    assert first == sorted(first)
    assert second == sorted(second)
    assert not set(first) & set(second)
    assert min(first) < max(second) and min(second) < max(first)
