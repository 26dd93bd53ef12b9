"""Letta-style prefixed identifiers: ``<prefix>-<uuid4>``.

Letta's OpenAPI document checks agent and tool path parameters as exactly ``agent-<uuid4>`` and
``tool-<uuid4>``, and batch ids as ``job-…``; every id this server mints has that shape.
"""

import re
import uuid
from enum import StrEnum


class IdPrefix(StrEnum):
    AGENT = "agent"
    API_KEY = "key"
    BATCH = "job"
    BATCH_ITEM = "batch_item"
    BLOCK = "block"
    MESSAGE = "message"
    STEP = "step"
    TOOL = "tool"
    USER = "user"
    WORKER = "worker"


_UUID4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def new_id(prefix: IdPrefix) -> str:
    return f"{prefix.value}-{uuid.uuid4()}"


def id_pattern(prefix: IdPrefix) -> str:
    """The regular expression (anchored) that a well-formed id of this kind matches."""
    return f"^{prefix.value}-{_UUID4}$"


def is_valid_id(value: str, prefix: IdPrefix) -> bool:
    return re.fullmatch(id_pattern(prefix), value) is not None


def user_id_for_key(api_key: str) -> str:
    """A stable user id for an API key, without storing the key itself."""
    digest = uuid.uuid5(uuid.NAMESPACE_URL, f"agentbatch-api-key:{api_key}").hex
    # Shape it as a uuid4 so it matches Letta's user-id pattern.
    shaped = f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"
    return f"{IdPrefix.USER.value}-{shaped}"


DEFAULT_USER_ID = "user-00000000-0000-4000-8000-000000000000"
"""The single user of an open server (no API keys configured); the id Letta's local server uses."""
