"""The one path a claimed item takes, batch or synchronous: its context loaded (in bulk for many
items), its turn run in a task of its own whose lease is kept while it runs, and — however the turn
ends — the lease keeper told and ``EngineSignals.notify_turn_ended`` sent for its agent."""

import asyncio
import logging

from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.turn_contexts import TurnContext
from agentbatch.engine.turn_execution import TurnExecutor
from agentbatch.runtime.turn_loop import TurnResult

log = logging.getLogger(__name__)
TurnTask = asyncio.Task[TurnResult | None]


class ClaimedTurns:
    def __init__(self, executor: TurnExecutor, leases: LeaseKeeper, signals: EngineSignals) -> None:
        self._executor = executor
        self._leases = leases
        self._signals = signals

    async def run_claimed(self, items: list[ClaimedItem]) -> dict[str, TurnTask]:
        """Start the items' turns; per item id, the task running it. An item whose context could not
        be loaded is handed back (see ``TurnExecutor.release_failed``) and has no task."""
        try:
            contexts = await self._executor.load(items)
        except Exception as error:
            log.exception("could not load the claimed turns; handing them back")
            for item in items:
                await self._executor.release_failed(item, f"its turn could not start: {error}")
                self._signals.notify_turn_ended(item.agent_id)
            return {}
        tasks: dict[str, TurnTask] = {}
        for item in items:
            task = asyncio.create_task(self._run(item, contexts[item.id]))
            self._leases.track(item.id, item.batch_id, task)
            tasks[item.id] = task
        return tasks

    async def _run(self, item: ClaimedItem, context: TurnContext) -> TurnResult | None:
        """The turn's result, or None when it did not end the item (handed back or taken away). A turn
        stopped from outside (cancelled batch, lost lease) ends cancelled: the fence already keeps
        anything further from being written."""
        try:
            return await self._executor.execute(item, context)
        except Exception:  # the executor hands failed turns back; this is a last resort
            log.exception("turn of item %s failed; its lease is no longer renewed and will expire", item.id)
            return None
        finally:
            self._leases.untrack(item.id)
            self._signals.notify_turn_ended(item.agent_id)
