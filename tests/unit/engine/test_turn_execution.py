"""How a turn's end is recorded: rejected turns error their item, a turn past its deadline is handed
back with the reason, and the agent's model handle is checked before anything runs."""

import asyncio
from datetime import UTC, datetime, timedelta

from agentbatch.domain.states import BatchStatus, ItemStatus
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.engine.group_commit import GroupCommitter
from agentbatch.engine.turn_contexts import TurnContext
from agentbatch.engine.turn_execution import TurnExecutor
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.store.memory_work_queue import MemoryWorkQueue
from agentbatch.store.work_queue import ClaimSlots
from tests.unit.engine.harness import AgentsInMemory, ScriptedRunner, new_items

NOW = datetime.now(UTC)


async def _one_claimed(queue: MemoryWorkQueue) -> ClaimedItem:
    queue.add_batch("b1", new_items("i", 1), NOW)
    [item] = await queue.claim("w1", ClaimSlots(turn_cap=1), lease_until=NOW + timedelta(minutes=1), now=NOW)
    return item


async def _execute(
    queue: MemoryWorkQueue, item: ClaimedItem, context: TurnContext, runner: ScriptedRunner, **options: float
) -> object:
    committer = GroupCommitter(queue)
    executor = TurnExecutor(AgentsInMemory(), queue, runner, committer, ProviderCatalog(), 10, **options)  # type: ignore[arg-type]
    committing = asyncio.create_task(committer.run())
    try:
        return await executor.execute(item, context)
    finally:
        committing.cancel()


async def test_a_turn_for_a_deleted_agent_errors_its_item_with_the_reason() -> None:
    queue = MemoryWorkQueue()
    item = await _one_claimed(queue)

    result = await _execute(queue, item, TurnContext(None, []), ScriptedRunner())

    assert queue.items["i0"].status is ItemStatus.ERRORED
    assert queue.items["i0"].error == "agent agent-i0 no longer exists"
    assert queue.batches["b1"].batch.status is BatchStatus.FAILED, "its only request errored"
    assert result is not None


async def test_an_agent_with_a_model_handle_that_no_longer_parses_errors_its_item() -> None:
    queue = MemoryWorkQueue()
    item = await _one_claimed(queue)
    [context] = (await AgentsInMemory().load([item])).values()
    assert context.agent is not None
    context.agent.model = "no-provider-here"

    await _execute(queue, item, context, ScriptedRunner())

    assert queue.items["i0"].status is ItemStatus.ERRORED
    assert "provider/model" in (queue.items["i0"].error or "")


async def test_a_turn_past_its_deadline_is_handed_back_naming_the_deadline() -> None:
    queue = MemoryWorkQueue()
    item = await _one_claimed(queue)
    [context] = (await AgentsInMemory().load([item])).values()
    stuck = ScriptedRunner(hold=True)

    result = await _execute(queue, item, context, stuck, deadline_s=0.01)

    assert result is None
    assert queue.items["i0"].status is ItemStatus.PENDING
    assert queue.items["i0"].error == "the turn ran past its deadline of 0.01 s"
