"""In-process wake-ups between the API and the worker (cross-process work is found by polling).

- ``notify_work``: new work was queued (the local worker claims at once);
- ``notify_cancel``: a batch was cancelled (its turns in this process stop);
- ``notify_turn_ended``: a turn of an agent ended in this process, however it ended (its item ended,
  was handed back, or was taken away). A synchronous send waits on ``watch_agent`` for this: its own
  item may have ended, or the agent's previous item did and its own is now ready.
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class EngineSignals:
    """Listeners are the local worker, if any, and synchronous sends waiting for their agent."""

    def __init__(self) -> None:
        self._work_listeners: list[Callable[[], None]] = []
        self._cancel_listeners: list[Callable[[str], None]] = []
        self._turn_listeners: list[Callable[[str], None]] = []
        self._agent_watchers: dict[str, set[asyncio.Event]] = {}

    def on_work(self, listener: Callable[[], None]) -> None:
        self._work_listeners.append(listener)

    def notify_work(self) -> None:
        for listener in self._work_listeners:
            listener()

    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)

    def notify_cancel(self, batch_id: str) -> None:
        for listener in self._cancel_listeners:
            listener(batch_id)

    def on_turn_ended(self, listener: Callable[[str], None]) -> None:
        """``listener(agent_id)`` after each turn run in this process ends."""
        self._turn_listeners.append(listener)

    def notify_turn_ended(self, agent_id: str) -> None:
        for listener in self._turn_listeners:
            listener(agent_id)
        for event in self._agent_watchers.get(agent_id, ()):
            event.set()

    def watching(self, agent_id: str) -> int:
        """How many waiters watch the agent's turns."""
        return len(self._agent_watchers.get(agent_id, ()))

    @contextmanager
    def watch_agent(self, agent_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever a turn of the agent ends here; the watcher clears it before it looks
        at the agent's items, so an end while it looks is not missed."""
        event = asyncio.Event()
        watchers = self._agent_watchers.setdefault(agent_id, set())
        watchers.add(event)
        try:
            yield event
        finally:
            watchers.discard(event)
            if not watchers:
                self._agent_watchers.pop(agent_id, None)
