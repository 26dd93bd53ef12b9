"""A synchronous send whose agent is busy waits for the agent's turn to end: woken by the signal,
not by polling (the fallback look is set to a minute here, far beyond the test's deadline)."""

import asyncio
from datetime import UTC, datetime, timedelta

from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import ItemStatus, StopReason
from agentbatch.domain.turn_records import Commit
from agentbatch.engine.turn_commands import TurnCommands
from agentbatch.store.database import Database
from agentbatch.store.work_queue import ClaimSlots
from tests.support.polling import wait_for_async
from tests.support.queue_items import queued_item
from tests.unit.engine.harness import MODEL, Engine, engine, new_items

LEASE = timedelta(seconds=30)


def _commands(e: Engine, *, fallback_poll_s: float) -> TurnCommands:
    unused = Database("sqlite:///:memory:")  # the answer is produced here, never read back
    return TurnCommands(
        unused, e.queue, e.turns, e.leases, e.signals, timeout_s=30, fallback_poll_s=fallback_poll_s
    )


async def test_a_send_waiting_for_its_agent_runs_as_soon_as_the_agents_turn_ends() -> None:
    async with engine() as e:
        e.runner.hold = True
        now = datetime.now(UTC)
        e.queue.add_batch("b1", new_items("busy", 1, agent_prefix="agent"), now)
        claimed = await e.queue.claim("w1", ClaimSlots(turn_cap=1), lease_until=now + LEASE, now=now)
        await e.turns.run_claimed(claimed)
        e.queue.add_items(None, [queued_item("sync", "agent0", MODEL)])
        send = asyncio.create_task(_commands(e, fallback_poll_s=60).run_or_await("sync", "agent0"))
        await wait_for_async(lambda: _claim_tried(e), timeout=5, interval=0.005, what="the send to wait")
        assert not send.done(), "the agent is busy"

        e.runner.release()
        result = await asyncio.wait_for(send, timeout=5)

        assert result.stop is StopReason.END_TURN
        assert e.runner.started == ["busy0", "sync"]
        assert e.queue.items["sync"].status is ItemStatus.SUCCEEDED


async def test_an_end_in_another_process_is_seen_by_the_fallback_look() -> None:
    async with engine() as e:
        now = datetime.now(UTC)
        e.queue.add_batch("b1", new_items("busy", 1, agent_prefix="agent"), now)
        [elsewhere] = await e.queue.claim("w2", ClaimSlots(turn_cap=1), lease_until=now + LEASE, now=now)
        e.queue.add_items(None, [queued_item("sync", "agent0", MODEL)])
        send = asyncio.create_task(_commands(e, fallback_poll_s=0.02).run_or_await("sync", "agent0"))

        # w2, another process: its turn's end sends no signal here.
        await e.queue.apply_commits([(elsewhere, Commit(None, stop=StopReason.END_TURN))], now, PriceTable())
        result = await asyncio.wait_for(send, timeout=5)

        assert result.stop is StopReason.END_TURN


async def _claim_tried(e: Engine) -> bool:
    return e.queue.items["sync"].attempts == 0 and e.signals.watching("agent0") == 1
