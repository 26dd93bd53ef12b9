"""Letta-style prefixed identifiers: ``<prefix>-<uuid4>``.

Letta's OpenAPI document checks agent and tool path parameters as exactly ``agent-<uuid4>`` and
``tool-<uuid4>``, and batch ids as ``job-…``; every id this server mints has that shape.
"""

import os
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


# uuid4 bits: version 4 in bits 76-79, variant 0b10 in bits 62-63 (RFC 9562); the rest random.
_KEEP = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_SET = (0x4 << 76) | (0x2 << 62)


def _uuid4_text(random16: bytes) -> str:
    """``uuid.uuid4()``'s text from 16 random bytes, without building a ``UUID`` object (a third of the
    cost; batches mint ids by the hundred thousand — agentbatch.performance)."""
    h = f"{int.from_bytes(random16, 'big') & _KEEP | _SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_id(prefix: IdPrefix) -> str:
    return f"{prefix.value}-{_uuid4_text(os.urandom(16))}"


# a random hex digit -> the same digit with its top two bits set to 0b10 (the uuid4 variant)
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_ids(prefix: IdPrefix, count: int) -> list[str]:
    """``count`` ids like ``new_id``'s, in ascending order, from one draw of random bytes and one hex
    conversion: a 100,000-request batch mints its item ids in 0.05 s instead of 0.4 s
    (``benchmarks/overhead.py``, accept). The version and variant digits are set in the text: the 13th
    hex digit becomes ``4`` and the 17th keeps its two low random bits under the ``10`` variant bits.

    Sorted because rows written together are inserted in the order of their ids: each id then lands
    beside the one before it in the id's unique index instead of on a random page (a fifth less CPU for
    the insert of a 100,000-item batch on SQLite). The ids stay as random as before; only which request
    gets which of them follows their order."""
    digits = os.urandom(16 * count).hex()
    head = f"{prefix.value}-"
    found = []
    for start in range(0, 32 * count, 32):
        h = digits[start : start + 32]
        found.append(f"{head}{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}")
    found.sort()
    return found


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
