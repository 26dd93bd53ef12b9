"""The work-queue port (``store.work_queue.WorkQueue``) in memory: pure Python, for the engine's unit
tests. It keeps the same promises as the SQL queue (the conformance suite runs on both). Every method
changes its state without awaiting in between, so each call is atomic on the event loop — the same as
one transaction."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count

from agentbatch.domain.batch_outcome import (
    BatchEnd,
    ItemOutcomes,
    batch_outcome,
    cancel_error,
    expiry_error,
)
from agentbatch.domain.batches import Batch, RequestCounts, Usage
from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import (
    UNFINISHED_BATCH_STATUSES,
    UNFINISHED_ITEM_STATUSES,
    BatchStatus,
    ItemStatus,
    StopReason,
)
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.store.new_items import NewItem
from agentbatch.store.work_queue import ClaimSlots, CommitOutcome, ExpiredBatch, SweepOutcome


@dataclass(slots=True)
class MemoryItem:
    id: str
    seq: int
    batch_id: str | None
    agent_id: str
    owner_id: str
    model: str
    request: TurnRequest
    claim_rank: int
    status: ItemStatus = ItemStatus.PENDING
    ready: bool = False
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    attempts: int = 0
    step_count: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    stop_reason: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    commits: list[Commit] = field(default_factory=list)


@dataclass(slots=True)
class MemoryBatch:
    batch: Batch
    item_ids: list[str] = field(default_factory=list)


class MemoryWorkQueue:
    def __init__(self) -> None:
        self.items: dict[str, MemoryItem] = {}
        self.batches: dict[str, MemoryBatch] = {}
        self.workers: dict[str, datetime] = {}
        self._seq = count(1)

    # Filling the queue (the API's part; not in the port)

    def add_batch(
        self,
        batch_id: str,
        items: Sequence[NewItem],
        now: datetime,
        *,
        priority: int = 0,
        expires_at: datetime | None = None,
        owner_id: str = "owner",
    ) -> None:
        batch = Batch(
            id=batch_id,
            owner_id=owner_id,
            status=BatchStatus.CREATED,
            request_count=len(items),
            created_at=now,
            updated_at=now,
            expires_at=expires_at,
            priority=priority,
        )
        self.batches[batch_id] = MemoryBatch(batch)
        self.add_items(batch_id, items, claim_rank=-priority, owner_id=owner_id)

    def add_items(
        self,
        batch_id: str | None,
        items: Sequence[NewItem],
        *,
        claim_rank: int = 0,
        owner_id: str = "owner",
    ) -> None:
        busy = {item.agent_id for item in self.items.values() if item.status in UNFINISHED_ITEM_STATUSES}
        for new in items:
            item = MemoryItem(
                id=new.id,
                seq=next(self._seq),
                batch_id=batch_id,
                agent_id=new.agent_id,
                owner_id=owner_id,
                model=new.model,
                request=new.request,
                claim_rank=claim_rank,
                ready=new.agent_id not in busy,
            )
            busy.add(new.agent_id)
            self.items[item.id] = item
            if batch_id is not None:
                self.batches[batch_id].item_ids.append(item.id)

    # The port

    @property
    def single_process(self) -> bool:
        return True

    async def claim(
        self, worker_id: str, slots: ClaimSlots, *, lease_until: datetime, now: datetime
    ) -> list[ClaimedItem]:
        ready = sorted(
            (item for item in self.items.values() if item.status is ItemStatus.PENDING and item.ready),
            key=lambda item: (item.claim_rank, item.seq),
        )
        models = slots.models if slots.models is not None else sorted({item.model for item in ready})
        claimed: list[ClaimedItem] = []
        for model in models:
            free = slots.free(model)
            if free < slots.at_least:
                continue
            for item in [item for item in ready if item.model == model][:free]:
                claimed.append(self._lease(item, worker_id, lease_until, now))
        return claimed

    async def claim_item(
        self, worker_id: str, item_id: str, *, lease_until: datetime, now: datetime
    ) -> ClaimedItem | None:
        item = self.items.get(item_id)
        if item is None or item.status is not ItemStatus.PENDING or not item.ready:
            return None
        return self._lease(item, worker_id, lease_until, now)

    def _lease(self, item: MemoryItem, worker_id: str, lease_until: datetime, now: datetime) -> ClaimedItem:
        item.status = ItemStatus.RUNNING
        item.lease_owner = worker_id
        item.lease_expires_at = lease_until
        item.attempts += 1
        item.started_at = item.started_at or now
        claimed = ClaimedItem(
            id=item.id,
            batch_id=item.batch_id,
            agent_id=item.agent_id,
            owner_id=item.owner_id,
            model=item.model,
            request=item.request,
            step_count=item.step_count,
            lease_owner=worker_id,
            started_at=item.started_at,
        )
        if item.batch_id is not None:
            batch = self.batches[item.batch_id].batch
            claimed.batch_created_at = batch.created_at
            if batch.status is BatchStatus.CREATED:
                batch.status, batch.started_at, batch.updated_at = BatchStatus.RUNNING, now, now
                claimed.batch_started = True
        return claimed

    async def renew(self, worker_id: str, item_ids: Iterable[str], *, lease_until: datetime) -> set[str]:
        held = set()
        for item_id in set(item_ids):
            item = self.items.get(item_id)
            if item is not None and item.status is ItemStatus.RUNNING and item.lease_owner == worker_id:
                item.lease_expires_at = lease_until
                held.add(item_id)
        return held

    async def release(self, worker_ids: Sequence[str] | None = None) -> int:
        released = 0
        for item in self.items.values():
            if item.status is ItemStatus.RUNNING and (worker_ids is None or item.lease_owner in worker_ids):
                self._back_to_queue(item)
                released += 1
        return released

    async def apply_commits(
        self, commits: Sequence[tuple[ClaimedItem, Commit]], now: datetime, prices: PriceTable
    ) -> CommitOutcome:
        accepted = []
        ended_batches: set[str] = set()
        for claimed, commit in commits:
            item = self.items.get(claimed.id)
            ok = (
                item is not None
                and item.status is ItemStatus.RUNNING
                and item.lease_owner == claimed.lease_owner
                and (commit.step is None or commit.step.step_no == item.step_count + 1)
            )
            accepted.append(ok)
            if not ok or item is None:
                continue
            item.commits.append(commit)
            if commit.step is not None:
                item.step_count = commit.step.step_no
                item.prompt_tokens += commit.step.prompt_tokens
                item.completion_tokens += commit.step.completion_tokens
            if commit.stop is not None:
                self._end_item(item, commit.stop.item_status, commit.stop, commit.error, now)
                if item.batch_id is not None and self._complete_if_done(item.batch_id, now):
                    ended_batches.add(item.batch_id)
        return CommitOutcome(tuple(accepted), tuple(self._report(batch_id) for batch_id in ended_batches))

    async def settle_failed_turn(
        self, item: ClaimedItem, error: str, max_attempts: int, now: datetime
    ) -> ItemStatus | None:
        held = self.items.get(item.id)
        if held is None or held.status is not ItemStatus.RUNNING or held.lease_owner != item.lease_owner:
            return None
        if held.attempts < max_attempts:
            self._back_to_queue(held)
            held.error = error
            return ItemStatus.PENDING
        reason = f"{error} (gave up after {held.attempts} attempts)"
        self._end_item(held, ItemStatus.ERRORED, StopReason.ERROR, reason, now)
        if held.batch_id is not None:
            self._complete_if_done(held.batch_id, now)
        return ItemStatus.ERRORED

    async def ended_batches(self, batch_ids: Iterable[str]) -> set[str]:
        return {
            batch_id
            for batch_id in set(batch_ids)
            if batch_id in self.batches and self.batches[batch_id].batch.status.is_terminal
        }

    async def item_status(self, item_id: str) -> ItemStatus | None:
        item = self.items.get(item_id)
        return item.status if item is not None else None

    async def cancel_batch(self, batch_id: str, now: datetime, by: str | None) -> bool:
        return self._end_batch(batch_id, BatchEnd.CANCEL, now) is not None

    async def sweep(self, now: datetime, *, forget_workers_before: datetime) -> SweepOutcome:
        released = 0
        for item in self.items.values():
            expires = item.lease_expires_at
            if item.status is ItemStatus.RUNNING and expires is not None and expires < now:
                self._back_to_queue(item)
                released += 1
        expired = []
        for batch_id, entry in list(self.batches.items()):
            if entry.batch.expires_at is not None and entry.batch.expires_at < now:
                items_expired = self._end_batch(batch_id, BatchEnd.EXPIRY, now)
                if items_expired is not None:
                    expired.append(ExpiredBatch(self._report(batch_id), items_expired))
        stranded = [batch_id for batch_id in list(self.batches) if self._complete_if_done(batch_id, now)]
        forgotten = [worker for worker, seen in self.workers.items() if seen < forget_workers_before]
        for worker in forgotten:
            del self.workers[worker]
        return SweepOutcome(
            released, tuple(expired), tuple(self._report(batch_id) for batch_id in stranded), len(forgotten)
        )

    async def register_worker(self, worker_id: str, hostname: str, pid: int, now: datetime) -> None:
        self.workers[worker_id] = now

    async def heartbeat(self, worker_id: str, now: datetime) -> None:
        if worker_id in self.workers:
            self.workers[worker_id] = now

    async def live_workers(self, alive_since: datetime) -> int:
        return sum(1 for seen in self.workers.values() if seen >= alive_since)

    async def unregister_worker(self, worker_id: str) -> None:
        self.workers.pop(worker_id, None)

    # Bookkeeping

    def _back_to_queue(self, item: MemoryItem) -> None:
        item.status, item.lease_owner, item.lease_expires_at = ItemStatus.PENDING, None, None

    def _end_item(
        self, item: MemoryItem, status: ItemStatus, stop: StopReason | None, error: str | None, now: datetime
    ) -> None:
        item.status, item.ready, item.lease_owner, item.lease_expires_at = status, False, None, None
        item.stop_reason = stop.value if stop is not None else None
        item.error, item.completed_at = error, now
        self._promote(item.agent_id)

    def _promote(self, agent_id: str) -> None:
        """The agent's oldest pending item becomes claimable, unless it still has a live item."""
        mine = sorted(
            (item for item in self.items.values() if item.agent_id == agent_id), key=lambda i: i.seq
        )
        if any(
            item.status is ItemStatus.RUNNING or (item.ready and item.status is ItemStatus.PENDING)
            for item in mine
        ):
            return
        for item in mine:
            if item.status is ItemStatus.PENDING:
                item.ready = True
                return

    def _end_batch(self, batch_id: str, end: BatchEnd, now: datetime) -> int | None:
        """End a batch's unfinished items and the batch (a cancel or an expiry); how many items it
        ended, or None if the batch had already ended."""
        entry = self.batches.get(batch_id)
        if entry is None or entry.batch.status not in UNFINISHED_BATCH_STATUSES:
            return None
        batch = entry.batch
        if end is BatchEnd.CANCEL:
            status, stop, error = ItemStatus.CANCELLED, StopReason.CANCELLED, cancel_error(batch_id)
        else:
            assert batch.expires_at is not None
            status, stop, error = ItemStatus.EXPIRED, None, expiry_error(batch.expires_at - batch.created_at)
        ended = 0
        for item_id in entry.item_ids:
            item = self.items[item_id]
            if item.status in UNFINISHED_ITEM_STATUSES:
                self._end_item(item, status, stop, error, now)
                ended += 1
        self._set_ended(entry, end, now)
        return ended

    def _complete_if_done(self, batch_id: str, now: datetime) -> bool:
        entry = self.batches[batch_id]
        if entry.batch.status not in UNFINISHED_BATCH_STATUSES:
            return False
        if any(self.items[item_id].status in UNFINISHED_ITEM_STATUSES for item_id in entry.item_ids):
            return False
        self._set_ended(entry, BatchEnd.ITEMS_ENDED, now)
        return True

    def _set_ended(self, entry: "MemoryBatch", end: BatchEnd, now: datetime) -> None:
        """The batch's terminal status and stop reason follow from its items' ends (``batch_outcome``)."""
        counts: dict[tuple[ItemStatus, StopReason | None], int] = {}
        for item_id in entry.item_ids:
            item = self.items[item_id]
            key = (item.status, StopReason(item.stop_reason) if item.stop_reason else None)
            counts[key] = counts.get(key, 0) + 1
        outcome = batch_outcome(ItemOutcomes(counts), end)
        batch = entry.batch
        batch.status, batch.completed_at, batch.updated_at = outcome.status, now, now
        batch.stop_reason = outcome.stop_reason.value if outcome.stop_reason is not None else None

    def _report(self, batch_id: str) -> Batch:
        """The batch with its counts, as the SQL queue reports an ended batch."""
        entry = self.batches[batch_id]
        counts, usage = RequestCounts(), Usage()
        for item_id in entry.item_ids:
            item = self.items[item_id]
            counts.add(item.status, 1)
            usage.step_count += item.step_count
            usage.prompt_tokens += item.prompt_tokens
            usage.completion_tokens += item.completion_tokens
        entry.batch.counts, entry.batch.usage = counts, usage
        return entry.batch
