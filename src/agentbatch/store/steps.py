"""Writing what turns produced: many commits in one transaction (group commit), each fenced.

A commit is accepted only if its item is still running under the committing worker's lease and, for
a step, if the step number is the next one; a replayed or fenced-off commit writes nothing. The unique
key ``(item_id, step_no)`` backs this up in the database itself.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from agentbatch.domain.batch_outcome import BatchEnd, batch_outcome
from agentbatch.domain.batches import Batch
from agentbatch.domain.lanes import Lane
from agentbatch.domain.pricing import PriceTable, StepCost
from agentbatch.domain.states import (
    UNFINISHED_BATCH_STATUSES,
    UNFINISHED_ITEM_STATUSES,
    BatchStatus,
    ItemStatus,
    StopReason,
)
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.store import queue
from agentbatch.store.agents import record_turn_end
from agentbatch.store.batches import item_outcomes, write_batch_end
from agentbatch.store.blocks import lock_blocks, save_turn_edits
from agentbatch.store.bulk import bulk_insert
from agentbatch.store.dialect import dialect_of
from agentbatch.store.messages import message_values
from agentbatch.store.tables import batch_items, batches, messages, steps


@dataclass(slots=True)
class _Progress:
    steps: int = 0
    prompt: int = 0
    completion: int = 0
    cached: int = 0
    cache_write: int = 0
    ttft: int | None = None
    cost: int = 0
    direct_cost: int = 0
    batch_cost: int = 0
    unpriced: int = 0
    batch_steps: int = 0

    def add_cost(self, lane: Lane, cost: StepCost | None) -> None:
        self.batch_steps += int(lane is Lane.PROVIDER_BATCH)
        if cost is None:
            self.unpriced += 1
            return
        self.cost += cost.nanos
        self.direct_cost += cost.direct_nanos
        self.batch_cost += cost.nanos if lane is Lane.PROVIDER_BATCH else 0


_LIST_PRICES = PriceTable()


async def apply_commits(
    conn: AsyncConnection,
    commits: Sequence[tuple[ClaimedItem, Commit]],
    now: datetime,
    prices: PriceTable = _LIST_PRICES,
) -> list[bool]:
    """Write every acceptable commit; returns, per commit, whether it was written. Each step's cost is
    priced now, from ``prices``, and stored with it (a later price change does not rewrite history)."""
    # Agents' rows before items' rows, as every transaction touching both does: a turn's end promotes
    # the agent's next item, and a commit racing the agent's deletion must wait for it, then be fenced.
    await queue.lock_agents(conn, {item.agent_id for item, _ in commits})
    current = await _fence(conn, [item.id for item, _ in commits])
    accepted = _accept(commits, current)
    chosen = [pair for pair, ok in zip(commits, accepted, strict=True) if ok]
    if not chosen:
        return accepted

    costs = {
        commit.step.step_id: prices.step_cost(
            commit.step.model,
            commit.step.lane,
            commit.step.prompt_tokens,
            commit.step.completion_tokens,
            commit.step.cached_tokens,
            commit.step.cache_write_tokens,
        )
        for _, commit in chosen
        if commit.step
    }
    await bulk_insert(
        conn, steps, [_step_values(item, commit, costs) for item, commit in chosen if commit.step]
    )
    await bulk_insert(
        conn,
        messages,
        [message_values(msg, item.owner_id) for item, commit in chosen for msg in commit.messages],
    )
    # Blocks may be shared between agents: lock every block the group edits at once, in id order, so
    # two workers' groups editing the same blocks cannot deadlock.
    await lock_blocks(conn, {block.id for _, commit in chosen for block in commit.changed_blocks})
    for _, commit in chosen:
        if commit.changed_blocks:
            await save_turn_edits(conn, commit.changed_blocks, commit.block_bases, now)

    await _write_progress(conn, chosen, now, costs)
    ended = [(item, commit) for item, commit in chosen if commit.stop is not None]
    if ended:
        await queue.promote_next_items(conn, {item.agent_id for item, _ in ended})
        await record_turn_end(
            conn, {item.agent_id: commit.stop.value for item, commit in ended if commit.stop}, now
        )
    await _record_batch_ttft(conn, chosen)
    await complete_finished_batches(conn, {item.batch_id for item, _ in ended if item.batch_id}, now)
    return accepted


async def _fence(conn: AsyncConnection, item_ids: list[str]) -> dict[str, tuple[str, str | None, int]]:
    """Per item id: its status, lease owner and step count now."""
    query = select(
        batch_items.c.id, batch_items.c.status, batch_items.c.lease_owner, batch_items.c.step_count
    ).where(batch_items.c.id.in_(item_ids))
    query = dialect_of(conn).lock(query.order_by(batch_items.c.id))
    return {item_id: (status, owner, steps) for item_id, status, owner, steps in await conn.execute(query)}


def _accept(
    commits: Sequence[tuple[ClaimedItem, Commit]], current: dict[str, tuple[str, str | None, int]]
) -> list[bool]:
    expected_step: dict[str, int] = {}
    accepted = []
    for item, commit in commits:
        row = current.get(item.id)
        ok = row is not None and row[0] == ItemStatus.RUNNING.value and row[1] == item.lease_owner
        next_step = expected_step.get(item.id, row[2] + 1 if row is not None else 0)
        if ok and commit.step is not None:
            ok = commit.step.step_no == next_step
        if ok:
            expected_step[item.id] = next_step + (1 if commit.step is not None else 0)
        accepted.append(ok)
    return accepted


def _step_values(item: ClaimedItem, commit: Commit, costs: dict[str, StepCost | None]) -> dict[str, Any]:
    step = commit.step
    assert step is not None
    cost = costs[step.step_id]
    return {
        "id": step.step_id,
        "item_id": item.id,
        "step_no": step.step_no,
        "agent_id": item.agent_id,
        "batch_id": item.batch_id,
        "model": step.model,
        "worker_id": item.lease_owner,
        "finish": step.finish,
        "prompt_tokens": step.prompt_tokens,
        "completion_tokens": step.completion_tokens,
        "cached_tokens": step.cached_tokens,
        "cache_write_tokens": step.cache_write_tokens,
        "ttft_ns": step.ttft_ns,
        "duration_ns": step.duration_ns,
        "created_at": commit.messages[-1].created_at if commit.messages else item.started_at,
        "lane": step.lane.value,
        "cost_nanos": cost.nanos if cost else None,
        "direct_cost_nanos": cost.direct_nanos if cost else None,
    }


async def _write_progress(
    conn: AsyncConnection,
    chosen: Sequence[tuple[ClaimedItem, Commit]],
    now: datetime,
    costs: dict[str, StepCost | None],
) -> None:
    progress: dict[str, _Progress] = {}
    ends: dict[str, tuple[ClaimedItem, Commit]] = {}
    for item, commit in chosen:
        entry = progress.setdefault(item.id, _Progress())
        if commit.step is not None:
            entry.steps = commit.step.step_no
            entry.prompt += commit.step.prompt_tokens
            entry.completion += commit.step.completion_tokens
            entry.cached += commit.step.cached_tokens
            entry.cache_write += commit.step.cache_write_tokens
            entry.ttft = entry.ttft if entry.ttft is not None else commit.step.ttft_ns
            entry.add_cost(commit.step.lane, costs[commit.step.step_id])
        if commit.stop is not None:
            ends[item.id] = (item, commit)
    stepped = [
        {"b_id": item_id, **_progress_params(entry)} for item_id, entry in progress.items() if entry.steps
    ]
    if stepped:
        await conn.execute(
            update(batch_items)
            .where(batch_items.c.id == bindparam("b_id"))
            .values(
                step_count=bindparam("b_steps"),
                prompt_tokens=batch_items.c.prompt_tokens + bindparam("b_prompt"),
                completion_tokens=batch_items.c.completion_tokens + bindparam("b_completion"),
                cached_tokens=batch_items.c.cached_tokens + bindparam("b_cached"),
                cache_write_tokens=batch_items.c.cache_write_tokens + bindparam("b_cache_write"),
                ttft_ns=func.coalesce(batch_items.c.ttft_ns, bindparam("b_ttft")),
                cost_nanos=batch_items.c.cost_nanos + bindparam("b_cost"),
                direct_cost_nanos=batch_items.c.direct_cost_nanos + bindparam("b_direct_cost"),
                provider_batch_cost_nanos=batch_items.c.provider_batch_cost_nanos + bindparam("b_batch_cost"),
                unpriced_steps=batch_items.c.unpriced_steps + bindparam("b_unpriced"),
                provider_batch_steps=batch_items.c.provider_batch_steps + bindparam("b_batch_steps"),
            ),
            stepped,
        )
    if ends:
        await conn.execute(
            update(batch_items)
            .where(batch_items.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                stop_reason=bindparam("b_stop"),
                error=bindparam("b_error"),
                completed_at=now,
                duration_ns=bindparam("b_duration"),
                ready=False,
                lease_owner=None,
                lease_expires_at=None,
            ),
            [
                {
                    "b_id": item.id,
                    "b_status": commit.stop.item_status.value if commit.stop else ItemStatus.ERRORED.value,
                    "b_stop": commit.stop.value if commit.stop else None,
                    "b_error": commit.error,
                    "b_duration": int((now - item.started_at).total_seconds() * 1e9),
                }
                for item, commit in ends.values()
            ],
        )


def _progress_params(entry: _Progress) -> dict[str, Any]:
    return {
        "b_steps": entry.steps,
        "b_prompt": entry.prompt,
        "b_completion": entry.completion,
        "b_cached": entry.cached,
        "b_cache_write": entry.cache_write,
        "b_ttft": entry.ttft,
        "b_cost": entry.cost,
        "b_direct_cost": entry.direct_cost,
        "b_batch_cost": entry.batch_cost,
        "b_unpriced": entry.unpriced,
        "b_batch_steps": entry.batch_steps,
    }


async def _record_batch_ttft(conn: AsyncConnection, chosen: Sequence[tuple[ClaimedItem, Commit]]) -> None:
    """A batch's ttft: from its creation to the first token of its first step."""
    first: dict[str, int] = {}
    for item, commit in chosen:
        step = commit.step
        if step is None or item.batch_id is None or item.batch_created_at is None or step.step_no != 1:
            continue
        message_time = commit.messages[-1].created_at if commit.messages else item.started_at
        since_created = int((message_time - item.batch_created_at).total_seconds() * 1e9)
        first[item.batch_id] = min(first.get(item.batch_id, since_created), since_created)
    if first:
        await conn.execute(
            update(batches)
            .where(batches.c.id == bindparam("b_id"), batches.c.ttft_ns.is_(None))
            .values(ttft_ns=bindparam("b_ttft")),
            [{"b_id": batch_id, "b_ttft": ttft} for batch_id, ttft in first.items()],
        )


async def complete_finished_batches(conn: AsyncConnection, batch_ids: set[str], now: datetime) -> list[str]:
    """End each named batch that is still unfinished but has no unfinished item left, with the status
    and stop reason its items' outcomes give (``domain.batch_outcome``).

    On PostgreSQL the batch rows are locked first: two workers ending a batch's last two items in
    concurrent transactions would otherwise each see the other's item still running, and neither would
    end the batch. With the lock the second waits for the first to commit, then sees its item ended.
    """
    if not batch_ids:
        return []
    await lock_batches(conn, batch_ids)
    busy = {
        row.batch_id
        for row in await conn.execute(
            select(batch_items.c.batch_id)
            .where(batch_items.c.batch_id.in_(batch_ids), batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES))
            .distinct()
        )
    }
    done_ids = batch_ids - busy
    if not done_ids:
        return []
    rows = (
        await conn.execute(
            select(batches.c.id, batches.c.owner_id, batches.c.created_at, batches.c.callback_url).where(
                batches.c.id.in_(done_ids), batches.c.status.in_(UNFINISHED_BATCH_STATUSES)
            )
        )
    ).all()
    outcomes = await item_outcomes(conn, [row.id for row in rows])
    ended = []
    for row in rows:
        batch = Batch(
            id=row.id,
            owner_id=row.owner_id,
            status=BatchStatus.RUNNING,
            request_count=0,
            created_at=row.created_at,
            updated_at=now,
            callback_url=row.callback_url,
        )
        outcome = batch_outcome(outcomes[row.id], BatchEnd.ITEMS_ENDED)
        if await write_batch_end(conn, batch, outcome, now, None):
            ended.append(row.id)
    return ended


async def complete_stranded_batches(conn: AsyncConnection, now: datetime, limit: int = 100) -> list[str]:
    """The sweep's safety net: end any unfinished batch whose items have all ended (a batch is normally
    ended by the transaction that ends its last item; this catches one that was not)."""
    unfinished_item = (
        select(batch_items.c.id)
        .where(batch_items.c.batch_id == batches.c.id, batch_items.c.status.in_(UNFINISHED_ITEM_STATUSES))
        .exists()
    )
    stranded = {
        row.id
        for row in await conn.execute(
            select(batches.c.id)
            .where(batches.c.status.in_(UNFINISHED_BATCH_STATUSES), ~unfinished_item)
            .limit(limit)
        )
    }
    return await complete_finished_batches(conn, stranded, now)


async def lock_batches(conn: AsyncConnection, batch_ids: set[str]) -> None:
    """Lock batch rows in id order (after the agents and items a transaction locks, never before).

    ``FOR NO KEY UPDATE`` — the mode an ``UPDATE`` of the row takes — not ``FOR UPDATE``: a transaction
    that already updated the row (the batch's ttft) would otherwise have to upgrade its lock while
    another waits in the row's queue, and PostgreSQL reports a deadlock. Two batch-ending checks still
    exclude each other."""
    dialect = dialect_of(conn)
    if not dialect.locks_rows:
        return  # SQLite has one writer at a time
    query = select(batches.c.id).where(batches.c.id.in_(sorted(batch_ids))).order_by(batches.c.id)
    await conn.execute(dialect.lock_for_update_of_row(query))


async def settle_failed_turn(
    conn: AsyncConnection, item: ClaimedItem, error: str, max_attempts: int, now: datetime
) -> ItemStatus | None:
    """A turn that failed (an unexpected exception, a refused commit, its deadline passed) gives its item
    up: back to the queue while it has attempts left (claims count), else errored with the reason.
    None if this worker no longer held the item (it ended or was taken away meanwhile)."""
    await queue.lock_agents(conn, [item.agent_id])
    attempts = await queue.held_item_attempts(conn, item.id, item.lease_owner)
    if attempts is None:
        return None
    if attempts < max_attempts:
        await queue.release_item(conn, item.id, item.lease_owner, error)
        return ItemStatus.PENDING
    reason = f"{error} (gave up after {attempts} attempts)"
    await apply_commits(conn, [(item, Commit(None, [], [], StopReason.ERROR, reason))], now)
    return ItemStatus.ERRORED
