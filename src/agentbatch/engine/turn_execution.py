"""Running claimed items' turns: their context loaded in bulk, the runtime driven, the end recorded."""

import logging
from dataclasses import dataclass

from agentbatch.domain.agents import Agent
from agentbatch.domain.messages import Message
from agentbatch.domain.states import StopReason
from agentbatch.domain.turns import ClaimedItem, Commit
from agentbatch.engine.group_commit import GroupCommitter, GroupSink
from agentbatch.engine.lane.routing import LaneRouter
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.runtime.approvals import TurnRejected
from agentbatch.runtime.ports import StepSink, TurnAborted
from agentbatch.runtime.requests import TurnRequest
from agentbatch.runtime.turn import TurnInput, TurnResult, TurnRunner
from agentbatch.store import agents as agent_store
from agentbatch.store import messages as message_store
from agentbatch.store.database import Database

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TurnContext:
    agent: Agent | None
    history: list[Message]


class TurnExecutor:
    def __init__(
        self,
        db: Database,
        runner: TurnRunner,
        committer: GroupCommitter,
        catalog: ProviderCatalog,
        default_max_steps: int,
    ) -> None:
        self._db = db
        self._runner = runner
        self._committer = committer
        self._catalog = catalog
        self._default_max_steps = default_max_steps
        self.lane: LaneRouter | None = None
        """Set by the host: lane batches' turns run with the lane's gateway."""

    async def load(self, items: list[ClaimedItem]) -> dict[str, TurnContext]:
        """Agents (with blocks and tools) and histories for a group of items: a handful of queries."""
        by_owner: dict[str, set[str]] = {}
        for item in items:
            by_owner.setdefault(item.owner_id, set()).add(item.agent_id)
        async with self._db.read() as conn:
            found: dict[str, Agent] = {}
            for owner, agent_ids in by_owner.items():
                found.update(await agent_store.load_agents(conn, owner, agent_ids))
            histories = await message_store.histories(conn, list(found))
        return {
            item.id: TurnContext(found.get(item.agent_id), histories.get(item.agent_id, [])) for item in items
        }

    async def execute(self, item: ClaimedItem, context: TurnContext) -> TurnResult | None:
        """Run the item's turn to its end; None if the turn was taken away (cancelled, lease lost)."""
        sink: StepSink = GroupSink(self._committer, item)
        try:
            turn = self._turn_input(item, context)
            runner = self._runner
            if self.lane is not None and (lane_turn := await self.lane.route(item, turn.handle)) is not None:
                runner, sink = lane_turn.runner, lane_turn.sink(sink)
            return await runner.run(turn, sink)
        except TurnAborted:
            return None
        except TurnRejected as rejected:
            return await self._fail(item, sink, str(rejected))
        except ValueError as invalid:  # e.g. an agent whose model handle no longer parses
            return await self._fail(item, sink, str(invalid))

    def _turn_input(self, item: ClaimedItem, context: TurnContext) -> TurnInput:
        if context.agent is None:
            raise TurnRejected(f"agent {item.agent_id} no longer exists")
        handle = self._catalog.parse(context.agent.model or item.model)
        return TurnInput(
            agent=context.agent,
            handle=handle,
            history=list(context.history),
            request=TurnRequest.from_body(item.request, self._default_max_steps),
            item_id=item.id,
            batch_id=item.batch_id,
            steps_done=item.step_count,
        )

    async def _fail(self, item: ClaimedItem, sink: StepSink, error: str) -> TurnResult | None:
        try:
            await sink.commit(Commit(None, [], [], StopReason.ERROR, error))
        except TurnAborted:
            return None
        return TurnResult(stop=StopReason.ERROR, error=error)
