"""The ``Idempotency-Key`` header of batch creation: its format, and the hash that recognises a body.

Two bodies are *the same* when they are the same JSON value: the hash is SHA-256 over the body re-encoded
with sorted keys, so key order and whitespace do not matter, and anything else does.
"""

import hashlib
from typing import Any

import orjson
from fastapi import Request

from agentbatch.engine.batch_commands import IdempotencyKey

IDEMPOTENCY_KEY: dict[str, Any] = {
    "min_length": 1,
    "max_length": 255,
    "pattern": r"^[\x21-\x7e]+$",
    "description": "Extension: a retry with the same key and body returns the same batch (kept 24 h by "
    "default); the same key with a different body is a 422. Printable ASCII, at most 255 characters.",
}


async def idempotency_key(key: str | None, request: Request) -> IdempotencyKey | None:
    if key is None:
        return None
    canonical = orjson.dumps(orjson.loads(await request.body()), option=orjson.OPT_SORT_KEYS)
    return IdempotencyKey(key=key, body_hash=hashlib.sha256(canonical).hexdigest())
