"""Deterministic identifiers and pseudo-random draws derived from a request body.

Every id in a model reply is a hash of the request body's canonical JSON, the attempt number
and a label, so identical requests (and identical runs) produce identical ids. The same hash,
keyed by the configured seed, supplies the jitter and the random-fault draws, which makes them
independent of the order in which concurrent requests arrive.
"""

from hashlib import blake2b
from typing import Any

import orjson

_TWO_TO_64 = float(2**64)


def body_key(body: Any) -> bytes:
    """A 16-byte digest of ``body``'s canonical JSON (sorted keys), identical for SDK retries."""
    return blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


class IdMaker:
    """Makes the ids of one reply: ``make("call_", "tool-0")`` is stable for a body and attempt."""

    __slots__ = ("_base",)

    def __init__(self, key: bytes, attempt: int = 1) -> None:
        self._base = key + attempt.to_bytes(4, "big")

    def make(self, prefix: str, label: str, length: int = 24) -> str:
        digest = blake2b(self._base + label.encode(), digest_size=(length + 1) // 2).hexdigest()
        return prefix + digest[:length]


def uniform(seed: int, key: bytes, attempt: int, label: bytes) -> float:
    """A number in [0, 1) that depends only on the seed, the body, the attempt and ``label``."""
    salt = (seed % 2**128).to_bytes(16, "big")
    digest = blake2b(key + attempt.to_bytes(4, "big") + label, digest_size=8, salt=salt).digest()
    return int.from_bytes(digest, "big") / _TWO_TO_64


def sequential_id(prefix: str, kind: str, number: int, length: int = 24) -> str:
    """The ``number``-th id of a ``kind`` of object (files, batches): stable across identical runs."""
    return prefix + blake2b(f"{kind}:{number}".encode(), digest_size=(length + 1) // 2).hexdigest()[:length]
