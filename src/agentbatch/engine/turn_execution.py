"""Running claimed items' turns: their context loaded in bulk, the runtime driven, the end recorded.

No item is held without a turn: every turn runs under a deadline, and a turn that fails (an unexpected
exception, a refused commit, its deadline passed) gives its item back at once — to the queue while it
has attempts left, else errored with the reason — instead of holding it until its worker stops.
"""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Protocol

from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.engine.group_commit import GroupCommitter, GroupSink
from agentbatch.engine.lane.routing import LaneRouter
from agentbatch.engine.turn_contexts import TurnContext, TurnContextSource
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.runtime.ports import StepSink, TurnAborted
from agentbatch.runtime.tools.approvals import TurnRejected
from agentbatch.runtime.turn_loop import TurnInput, TurnResult
from agentbatch.store.work_queue import WorkQueue

log = logging.getLogger(__name__)


class RunsTurns(Protocol):
    """What drives one turn: ``runtime.turn_loop.TurnRunner``, or a lane's runner, or a test's."""

    async def run(self, turn: TurnInput, sink: StepSink) -> TurnResult: ...


class TurnExecutor:
    def __init__(
        self,
        contexts: TurnContextSource,
        queue: WorkQueue,
        runner: RunsTurns,
        committer: GroupCommitter,
        catalog: ProviderCatalog,
        default_max_steps: int,
        *,
        deadline_s: float = 3600.0,
        max_attempts: int = 3,
    ) -> None:
        self._contexts = contexts
        self._queue = queue
        self._runner = runner
        self._committer = committer
        self._catalog = catalog
        self._default_max_steps = default_max_steps
        self._deadline_s = deadline_s
        self._max_attempts = max_attempts
        self.failed_turns = 0
        self.lane: LaneRouter | None = None
        """Set by the host: lane batches' turns run with the lane's gateway."""

    async def load(self, items: list[ClaimedItem]) -> dict[str, TurnContext]:
        """Agents (with blocks and tools) and histories for a group of items: a handful of queries."""
        return await self._contexts.load(items)

    async def execute(self, item: ClaimedItem, context: TurnContext) -> TurnResult | None:
        """Run the item's turn to its end; None if the turn did not end it: taken away (cancelled, lease
        lost), or failed and handed back (see ``release_failed``)."""
        sink: StepSink = GroupSink(self._committer, item)
        deadline = asyncio.timeout(self._deadline_s)
        try:
            async with deadline:
                turn = self._turn_input(item, context)
                runner: RunsTurns = self._runner
                if (
                    self.lane is not None
                    and (lane_turn := await self.lane.route(item, turn.handle)) is not None
                ):
                    runner, sink = lane_turn.runner, lane_turn.sink(sink)
                    # A provider batch may take its whole window (24 h): the lane bounds its own waits.
                    deadline.reschedule(None)
                return await runner.run(turn, sink)
        except TurnAborted:
            return None
        except TurnRejected as rejected:
            return await self._fail(item, sink, str(rejected))
        except ValueError as invalid:  # e.g. an agent whose model handle no longer parses
            return await self._fail(item, sink, str(invalid))
        except TimeoutError as error:
            if deadline.expired():
                reason = f"the turn ran past its deadline of {self._deadline_s:g} s"
            else:
                reason = f"the turn failed: TimeoutError: {error}"
            await self.release_failed(item, reason)
            return None
        except Exception as error:
            log.exception("turn of item %s failed", item.id)
            await self.release_failed(item, f"the turn failed: {type(error).__name__}: {error}")
            return None

    async def release_failed(self, item: ClaimedItem, error: str) -> None:
        """Give up the item of a turn that failed: retried while it has attempts left, else errored."""
        self.failed_turns += 1
        try:
            outcome = await self._queue.settle_failed_turn(item, error, self._max_attempts, datetime.now(UTC))
        except Exception:
            log.exception("could not hand back item %s; its lease will expire and it will run again", item.id)
            return
        if outcome is not None:
            log.warning("item %s: %s; now %s", item.id, error, outcome.value)

    def _turn_input(self, item: ClaimedItem, context: TurnContext) -> TurnInput:
        if context.agent is None:
            raise TurnRejected(f"agent {item.agent_id} no longer exists")
        handle = self._catalog.parse(context.agent.model or item.model)
        return TurnInput(
            agent=context.agent,
            handle=handle,
            history=list(context.history),
            request=item.request,
            max_steps=item.request.steps_limit(self._default_max_steps),
            item_id=item.id,
            batch_id=item.batch_id,
            steps_done=item.step_count,
            earlier=context.earlier,
            recall=context.recall,
        )

    async def _fail(self, item: ClaimedItem, sink: StepSink, error: str) -> TurnResult | None:
        try:
            await sink.commit(Commit(None, [], [], StopReason.ERROR, error))
        except TurnAborted:
            return None
        return TurnResult(stop=StopReason.ERROR, error=error)
