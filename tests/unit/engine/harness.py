"""The engine on the in-memory work queue: real leases, group commit, executor and ``ClaimedTurns``;
a scripted runner in place of the model, agents served from memory. Runs in milliseconds."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agentbatch.domain.agents import Agent, AgentType
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_records import ClaimedItem, Commit, StepRecord
from agentbatch.engine.claimed_turns import ClaimedTurns
from agentbatch.engine.group_commit import GroupCommitter
from agentbatch.engine.leases import LeaseKeeper
from agentbatch.engine.signals import EngineSignals
from agentbatch.engine.turn_contexts import TurnContext
from agentbatch.engine.turn_execution import TurnExecutor
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.runtime.ports import StepSink
from agentbatch.runtime.turn_loop import TurnInput, TurnResult
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from agentbatch.store.new_items import NewItem
from tests.support.queue_items import queued_item

MODEL = "openai/m"


def new_items(
    prefix: str, count: int, *, agent_prefix: str | None = None, model: str = MODEL
) -> list[NewItem]:
    agents = agent_prefix or f"agent-{prefix}"
    return [queued_item(f"{prefix}{n}", f"{agents}{n}", model) for n in range(count)]


@dataclass
class ScriptedRunner:
    """Each turn writes one step and ends; a held turn waits until released, a failing one raises."""

    hold: bool = False
    failing: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self._release.set()

    async def run(self, turn: TurnInput, sink: StepSink) -> TurnResult:
        self.started.append(turn.item_id)
        if turn.item_id in self.failing:
            raise RuntimeError("the provider broke")
        if self.hold:
            await self._release.wait()
        step = StepRecord(turn.steps_done + 1, f"step-{turn.item_id}", MODEL, "stop", 3, 2, 1, 1)
        await sink.commit(Commit(step, [], [], StopReason.END_TURN))
        return TurnResult(stop=StopReason.END_TURN, steps=1)


class AgentsInMemory:
    """Every agent exists, unless loading is made to fail."""

    def __init__(self) -> None:
        self.broken = False

    async def load(self, items: list[ClaimedItem]) -> dict[str, TurnContext]:
        if self.broken:
            raise ConnectionError("the database went away")
        now = datetime.now(UTC)
        return {
            item.id: TurnContext(
                Agent(item.agent_id, item.owner_id, "a", AgentType.LETTA_V1, "s", MODEL, {}, now, now), []
            )
            for item in items
        }


@dataclass
class Engine:
    queue: MemoryWorkQueue
    runner: ScriptedRunner
    agents: AgentsInMemory
    signals: EngineSignals
    leases: LeaseKeeper
    executor: TurnExecutor
    turns: ClaimedTurns
    ended: list[str] = field(default_factory=list)
    """Agents whose turn ended, in order (``notify_turn_ended``)."""


@asynccontextmanager
async def engine(
    queue: MemoryWorkQueue | None = None,
    *,
    runner: ScriptedRunner | None = None,
    worker_id: str = "w1",
    max_attempts: int = 3,
) -> AsyncIterator[Engine]:
    queue = queue if queue is not None else MemoryWorkQueue()
    runner = runner or ScriptedRunner()
    agents = AgentsInMemory()
    signals = EngineSignals()
    leases = LeaseKeeper(queue, worker_id, lease_seconds=30)
    committer = GroupCommitter(queue)
    executor = TurnExecutor(
        agents, queue, runner, committer, ProviderCatalog(), 10, max_attempts=max_attempts
    )
    built = Engine(queue, runner, agents, signals, leases, executor, ClaimedTurns(executor, leases, signals))
    signals.on_turn_ended(built.ended.append)
    committing = asyncio.create_task(committer.run())
    try:
        yield built
    finally:
        committing.cancel()
        await asyncio.gather(committing, return_exceptions=True)
