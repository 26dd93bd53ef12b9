"""In-process wake-ups between the API and the worker (cross-process work is found by polling)."""

import asyncio
from collections.abc import Callable


class EngineSignals:
    """New work was queued; a batch was cancelled. Listeners are the local worker, if any."""

    def __init__(self) -> None:
        self.work_available = asyncio.Event()
        self._cancel_listeners: list[Callable[[str], None]] = []

    def notify_work(self) -> None:
        self.work_available.set()

    def on_cancel(self, listener: Callable[[str], None]) -> None:
        self._cancel_listeners.append(listener)

    def notify_cancel(self, batch_id: str) -> None:
        for listener in self._cancel_listeners:
            listener(batch_id)
