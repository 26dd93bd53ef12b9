"""Minted ids are ``<prefix>-<uuid4>`` as Letta's OpenAPI document checks them, and never repeat."""

import uuid

from agentbatch.domain.ids import IdPrefix, is_valid_id, new_id


def test_ids_are_prefixed_version_4_uuids() -> None:
    minted = [new_id(IdPrefix.AGENT) for _ in range(1000)]
    assert all(is_valid_id(value, IdPrefix.AGENT) for value in minted)
    parsed = [uuid.UUID(value.removeprefix("agent-")) for value in minted]
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(minted)) == 1000
