"""The work-queue port: everything the engine's worker, leases, membership and sweeper need from the
database, as one narrow ``typing.Protocol`` (``WorkQueue``).

Two implementations keep the same promises (``tests/store_conformance/`` runs one suite on both):
``store.sql_work_queue.SqlWorkQueue`` (SQLite or PostgreSQL, wrapping the ``store`` functions) and
``store.memory_work_queue.MemoryWorkQueue`` (pure Python, for the engine's unit tests).

The promises:
- **Fence.** A commit is written only while its item is ``running`` under the committing worker's lease
  and, for a step, when it is the item's next step; anything else is refused and writes nothing.
- **Per-agent order.** Only an agent's oldest unfinished item is claimable; ending an item (a turn's
  end, a failed turn given up, cancel, expiry) promotes the agent's next one in the same transaction.
- **Claim order.** Highest batch priority first, then oldest first.
- **Leases.** A claim leases items until ``lease_until``; ``renew`` extends only those still held;
  ``sweep`` hands expired ones back to the queue (they stay their agent's head).
- **Batch completion.** The transaction that ends a batch's last unfinished item ends the batch
  (``completed``), even when two workers end its last two items at once; ``sweep`` catches any other.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from agentbatch.domain.batches import Batch
from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import ItemStatus
from agentbatch.domain.turn_records import ClaimedItem, Commit


@dataclass(frozen=True, slots=True)
class ClaimSlots:
    """How many items a worker may take now, per model: ``turn_cap`` minus those it runs, and only
    where at least ``at_least`` are free (one claim for several turns). ``models`` limits the claim to
    those models; None means every model with ready items."""

    turn_cap: int
    running: Mapping[str, int] = field(default_factory=dict)
    at_least: int = 1
    models: tuple[str, ...] | None = None

    def free(self, model: str) -> int:
        return self.turn_cap - self.running.get(model, 0)


@dataclass(frozen=True, slots=True)
class CommitOutcome:
    accepted: tuple[bool, ...]
    """Per commit, in order: written (True) or refused by its fence (False)."""
    ended_batches: tuple[Batch, ...] = ()
    """Batches these commits ended (their last item ended), with their counts."""


@dataclass(frozen=True, slots=True)
class ExpiredBatch:
    batch: Batch
    """The batch as its expiry ended it, with its counts."""
    items_expired: int
    """How many of its requests were still unfinished and expired with it."""


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    released: int = 0
    """Items whose lease had expired, handed back to the queue."""
    expired: tuple[ExpiredBatch, ...] = ()
    """Batches past their completion window, now ``expired``."""
    ended: tuple[Batch, ...] = ()
    """Batches whose items had all ended but were still unfinished, now ``completed``."""
    forgotten_workers: int = 0


class WorkQueue(Protocol):
    @property
    def single_process(self) -> bool:
        """True when one process owns the queue (SQLite, memory): no one else's leases to respect."""
        ...

    async def claim(
        self, worker_id: str, slots: ClaimSlots, *, lease_until: datetime, now: datetime
    ) -> list[ClaimedItem]:
        """Lease ready items in claim order within ``slots``; their batches start running."""
        ...

    async def claim_item(
        self, worker_id: str, item_id: str, *, lease_until: datetime, now: datetime
    ) -> ClaimedItem | None:
        """Lease the named item if it is ready (a synchronous send runs its own item)."""
        ...

    async def renew(self, worker_id: str, item_ids: Iterable[str], *, lease_until: datetime) -> set[str]:
        """Extend the leases of the named items this worker still holds; returns those."""
        ...

    async def release(self, worker_ids: Sequence[str] | None = None) -> int:
        """Hand running items back to the queue now: the named workers' (a clean stop) or all."""
        ...

    async def apply_commits(
        self, commits: Sequence[tuple[ClaimedItem, Commit]], now: datetime, prices: PriceTable
    ) -> CommitOutcome:
        """Write every commit its fence accepts, in one transaction (the group commit)."""
        ...

    async def settle_failed_turn(
        self, item: ClaimedItem, error: str, max_attempts: int, now: datetime
    ) -> ItemStatus | None:
        """Back to the queue while attempts are left, else errored; None if no longer held."""
        ...

    async def ended_batches(self, batch_ids: Iterable[str]) -> set[str]:
        """Which of these batches have ended (their turns must stop)."""
        ...

    async def item_status(self, item_id: str) -> ItemStatus | None: ...

    async def cancel_batch(self, batch_id: str, now: datetime, by: str | None) -> bool:
        """End an unfinished batch's unfinished items and the batch as ``cancelled``; False if it
        had already ended (or does not exist)."""
        ...

    async def sweep(self, now: datetime, *, forget_workers_before: datetime) -> SweepOutcome:
        """Expired leases back to the queue, due batches expired, stranded batches completed, and
        workers silent since ``forget_workers_before`` forgotten."""
        ...

    async def register_worker(self, worker_id: str, hostname: str, pid: int, now: datetime) -> None: ...

    async def heartbeat(self, worker_id: str, now: datetime) -> None: ...

    async def live_workers(self, alive_since: datetime) -> int:
        """How many workers have shown a heartbeat since ``alive_since`` (a read; deletes nothing)."""
        ...

    async def unregister_worker(self, worker_id: str) -> None: ...
