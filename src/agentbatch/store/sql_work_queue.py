"""The work-queue port (``store.work_queue.WorkQueue``) on SQLite or PostgreSQL: each call is one
transaction over the ``store`` functions; their row locks come from ``store.dialect``."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import ItemStatus
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.store import batches as batch_store
from agentbatch.store import queue, steps
from agentbatch.store import workers as worker_store
from agentbatch.store.batch_reports import batches_ended_at
from agentbatch.store.database import Database
from agentbatch.store.work_queue import ClaimSlots, CommitOutcome, ExpiredBatch, SweepOutcome


class SqlWorkQueue:
    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def single_process(self) -> bool:
        return self._db.dialect.single_writer

    async def claim(
        self, worker_id: str, slots: ClaimSlots, *, lease_until: datetime, now: datetime
    ) -> list[ClaimedItem]:
        claimed: list[ClaimedItem] = []
        async with self._db.write() as conn:
            models = slots.models if slots.models is not None else await queue.claimable_models(conn)
            for model in models:
                free = slots.free(model)
                if free < slots.at_least:
                    continue
                claimed += await queue.claim_items(
                    conn, worker_id, model=model, limit=free, lease_until=lease_until, now=now
                )
        return claimed

    async def claim_item(
        self, worker_id: str, item_id: str, *, lease_until: datetime, now: datetime
    ) -> ClaimedItem | None:
        async with self._db.write() as conn:
            got = await queue.claim_items(
                conn, worker_id, model=None, limit=1, lease_until=lease_until, now=now, item_id=item_id
            )
        return got[0] if got else None

    async def renew(self, worker_id: str, item_ids: Iterable[str], *, lease_until: datetime) -> set[str]:
        async with self._db.write() as conn:
            return await queue.renew_leases(conn, worker_id, item_ids, lease_until)

    async def release(self, worker_ids: Sequence[str] | None = None) -> int:
        async with self._db.write() as conn:
            return await queue.release_leases_of(conn, worker_ids)

    async def apply_commits(
        self, commits: Sequence[tuple[ClaimedItem, Commit]], now: datetime, prices: PriceTable
    ) -> CommitOutcome:
        async with self._db.write() as conn:
            accepted = await steps.apply_commits(conn, commits, now, prices)
            ending = [item.batch_id for item, commit in commits if commit.stop and item.batch_id]
            ended = await batches_ended_at(conn, ending, now) if ending else []
        return CommitOutcome(tuple(accepted), tuple(ended))

    async def settle_failed_turn(
        self, item: ClaimedItem, error: str, max_attempts: int, now: datetime
    ) -> ItemStatus | None:
        async with self._db.write() as conn:
            return await steps.settle_failed_turn(conn, item, error, max_attempts, now)

    async def ended_batches(self, batch_ids: Iterable[str]) -> set[str]:
        async with self._db.read() as conn:
            return await queue.ended_batches(conn, batch_ids)

    async def item_status(self, item_id: str) -> ItemStatus | None:
        async with self._db.read() as conn:
            state = await queue.item_state(conn, item_id)
        return state[0] if state is not None else None

    async def cancel_batch(self, batch_id: str, now: datetime, by: str | None) -> bool:
        async with self._db.write() as conn:
            batch = await batch_store.find_batch(conn, batch_id)
            return batch is not None and await batch_store.cancel_batch(conn, batch, now, by) is not None

    async def sweep(self, now: datetime, *, forget_workers_before: datetime) -> SweepOutcome:
        async with self._db.write() as conn:
            released = await queue.release_expired_leases(conn, now)
            expired = dict(await batch_store.expire_due_batches(conn, now))
            expired_reports = await batches_ended_at(conn, expired, now)
            stranded = await steps.complete_stranded_batches(conn, now)
            ended = await batches_ended_at(conn, stranded, now)
            forgotten = await worker_store.forget_workers(conn, forget_workers_before)
        expired_batches = tuple(ExpiredBatch(batch, expired[batch.id]) for batch in expired_reports)
        return SweepOutcome(released, expired_batches, tuple(ended), forgotten)

    async def register_worker(self, worker_id: str, hostname: str, pid: int, now: datetime) -> None:
        async with self._db.write() as conn:
            await worker_store.register_worker(conn, worker_id, hostname, pid, now)

    async def heartbeat(self, worker_id: str, now: datetime) -> None:
        async with self._db.write() as conn:
            await worker_store.worker_heartbeat(conn, worker_id, now)

    async def live_workers(self, alive_since: datetime) -> int:
        async with self._db.read() as conn:
            return await worker_store.live_workers(conn, alive_since)

    async def unregister_worker(self, worker_id: str) -> None:
        async with self._db.write() as conn:
            await worker_store.unregister_worker(conn, worker_id)
