"""The unprivileged uid a tool call runs as when the server runs as root.

Root's processes are exempt from ``RLIMIT_NPROC``, and a limit on one uid counts every process of that
uid on the host; so each call in flight gets a uid of its own, picked at random from a range no real
user has (``tool_sandbox_uid_base`` and up), never two calls of this process at once. Calls of other
server processes on the same host may, rarely, draw the same uid: they then share one process budget,
which is still bounded.
"""

import contextlib
import random
from collections.abc import Iterator

UID_RANGE = 1 << 20


class UidPool:
    def __init__(self, base: int) -> None:
        self._base = base
        self._in_use: set[int] = set()
        self._random = random.SystemRandom()

    @contextlib.contextmanager
    def lease(self) -> Iterator[int]:
        uid = self._base + self._random.randrange(UID_RANGE)
        while uid in self._in_use:
            uid = self._base + self._random.randrange(UID_RANGE)
        self._in_use.add(uid)
        try:
            yield uid
        finally:
            self._in_use.discard(uid)
