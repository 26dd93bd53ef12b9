"""In-process wake-ups between the API and the worker (cross-process work is found by polling)."""

from collections.abc import Callable


class EngineSignals:
    """New work was queued; a batch was cancelled. Listeners are the local worker, if any."""

    def __init__(self) -> None:
        self._work_listeners: list[Callable[[], None]] = []
        self._cancel_listeners: list[Callable[[str], None]] = []

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
