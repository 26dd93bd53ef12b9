"""Synchronous sends (``POST /v1/agents/{id}/messages``): one turn, run now, answered when it ends.

The turn is an item like any batch request (no batch), so the one-turn-per-agent rule holds across
synchronous and batch work. This process claims and runs it itself as soon as the agent is free; if
another worker got there first, the answer is read back from the database when that turn ends. The
wait is woken by the agent's turns ending in this process, not by polling the database.
"""

import asyncio
from datetime import UTC, datetime

from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.messages import Message, Role
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.engine.claimed_turns import ClaimedTurns
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.wake_waits import wait_until_set
from agentbatch.runtime.turn_loop import TurnResult
from agentbatch.store import agents as agent_store
from agentbatch.store import batches as batch_store
from agentbatch.store import messages as message_store
from agentbatch.store import queue
from agentbatch.store.database import Database
from agentbatch.store.new_items import NewItem
from agentbatch.store.work_queue import WorkQueue


class TurnCommands:
    def __init__(
        self,
        db: Database,
        queue: WorkQueue,
        turns: ClaimedTurns,
        leases: LeaseKeeper,
        signals: EngineSignals,
        *,
        timeout_s: float,
        fallback_poll_s: float = 1.0,
    ) -> None:
        self._db = db
        self._queue = queue
        self._turns = turns
        self._fallback_poll_s = fallback_poll_s
        self._leases = leases
        self._signals = signals
        self._timeout_s = timeout_s

    async def send(self, owner_id: str, agent_id: str, request: TurnRequest) -> TurnResult:
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            models = await agent_store.agent_models(conn, owner_id, [agent_id])
            if agent_id not in models:
                raise NotFound(f"Agent {agent_id} not found")
            item = NewItem(agent_id, models[agent_id], request)
            await queue.insert_items(conn, None, owner_id, [item], now)
        item_id = item.id
        outcome = await self.run_or_await(item_id, agent_id)
        if outcome.stop is StopReason.ERROR and not outcome.messages:
            error = await self._error_of(item_id)
            raise InvalidRequest(error or "the turn could not start")
        return outcome

    async def run_or_await(self, item_id: str, agent_id: str) -> TurnResult:
        """Run the item here as soon as it is ready; else wait for it to end elsewhere. Woken when a
        turn of the agent ends in this process (``EngineSignals.watch_agent``); another process's
        end is seen by a look every ``fallback_poll_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        with self._signals.watch_agent(agent_id) as turn_ended:
            while True:
                turn_ended.clear()
                now = datetime.now(UTC)
                claimed = await self._queue.claim_item(
                    self._leases.worker_id, item_id, lease_until=self._leases.lease_until(now), now=now
                )
                if claimed is not None and (result := await self._run_here(claimed)) is not None:
                    return result
                status = await self._queue.item_status(item_id)
                if status is not None and status.is_terminal:
                    return await self._read_back(item_id)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    busy = f"the agent stayed busy for {self._timeout_s:.0f} s"
                    raise InvalidRequest(f"{busy}; the message is queued as {item_id}")
                await wait_until_set(turn_ended, min(remaining, self._fallback_poll_s))

    async def _run_here(self, item: ClaimedItem) -> TurnResult | None:
        """The turn's result, or None when it did not end the item here (a failed turn handed it back
        to the queue, or it was stopped: cancelled, lease lost): the caller then looks again."""
        try:
            tasks = await self._turns.run_claimed([item])
            if (runner := tasks.get(item.id)) is None:
                return None
            # The turn runs in a task of its own, so stopping it (cancel, lost lease) leaves this
            # request able to answer with what was written.
            try:
                result = await runner
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not runner.cancelled() or (current is not None and current.cancelling()):
                    raise
                result = None
        finally:
            self._signals.notify_work()
        if result is None:
            return None
        result.messages = _generated(result.messages)
        return result

    async def _read_back(self, item_id: str) -> TurnResult:
        async with self._db.read() as conn:
            item = await batch_store.get_item(conn, item_id)
            written = await message_store.item_messages(conn, item_id)
        assert item is not None
        return TurnResult(
            stop=StopReason(item.stop_reason or StopReason.ERROR.value),
            messages=_generated(written),
            steps=item.step_count,
            prompt_tokens=item.prompt_tokens,
            completion_tokens=item.completion_tokens,
            cached_tokens=item.cached_tokens,
            cache_write_tokens=item.cache_write_tokens,
        )

    async def _error_of(self, item_id: str) -> str | None:
        async with self._db.read() as conn:
            item = await batch_store.get_item(conn, item_id)
        return item.error if item else None


def _generated(messages: list[Message]) -> list[Message]:
    """What the agent produced: the caller's own input messages are not echoed back."""
    return [message for message in messages if message.role not in (Role.USER, Role.SYSTEM)]
