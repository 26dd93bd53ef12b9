"""Submitting provider batches exactly once, and picking them up when they end.

submit:  record the intent (provider batch row ``submitting`` + request rows) ─▶ SDK call carrying our
         submission id ─▶ store the provider's id (``open``)
restart: a ``submitting`` row is looked for at the provider (``find``) and adopted, or, if it never got
         there, its requests end ``lost`` and go into a later batch under their next attempt
poll:    open batches polled adaptively (often when young, at most every ``poll_max_s``); an ended
         one's results are stored in one transaction and the waiting turns woken
cancel:  a batch whose requests all belong to ended items is cancelled at the provider
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tenacity import AsyncRetrying, RetryCallState

from agentbatch.engine.lane.gathering import QueuedStep
from agentbatch.engine.wake_waits import wait_until_set
from agentbatch.providers.batch_apis import create_batch_api
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.errors import ProviderError, RateLimited
from agentbatch.providers.provider_batches import BatchApi, LineResult, RequestLine
from agentbatch.providers.quotas import ModelQuota
from agentbatch.store import lane_load
from agentbatch.store import provider_batches as lane_store
from agentbatch.store.database import Connection, Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubmitRetry:
    """How a provider batch's submission is retried: a quota refusal (429) is waited out however long,
    another transient failure is tried ``max_attempts`` times; the wait doubles from ``base_s`` to
    ``max_s`` unless the provider said how long (``retry_after``)."""

    max_attempts: int = 4
    base_s: float = 0.5
    max_s: float = 60.0

    def retries(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome is not None else None
        if not isinstance(error, ProviderError):
            return False
        return isinstance(error, RateLimited) or (
            error.retryable and state.attempt_number < self.max_attempts
        )

    def wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        retry_after = error.retry_after if isinstance(error, ProviderError) else None
        return retry_after or min(self.max_s, self.base_s * 2 ** min(state.attempt_number, 7))


QUOTA_REFUSAL = "the provider refused the batch for quota: "
"""How a request lost to a provider's quota refusal is marked: it goes again, not counted as a failure."""


class Submitter:
    def __init__(
        self,
        db: Database,
        catalog: ProviderCatalog,
        worker_id: str,
        *,
        poll_min_s: float,
        poll_max_s: float,
        single_process: bool,
        orphan_after_s: float,
        submit_retry: SubmitRetry | None = None,
    ) -> None:
        self._db = db
        self._submit_retry = submit_retry or SubmitRetry()
        self.catalog = catalog
        self._worker_id = worker_id
        self._poll_min = poll_min_s
        self._poll_max = poll_max_s
        self._single_process = single_process
        self._orphan_after_s = orphan_after_s
        self._adopted_at = 0.0
        self._apis: dict[str, BatchApi] = {}
        self._mine: set[str] = set()  # submissions this process made: never "recovered" by it
        self._next_poll: dict[str, float] = {}
        self._settled: Callable[[list[tuple[str, int]]], None] = lambda _keys: None
        self._wake = asyncio.Event()
        self.submitted = 0
        self.picked_up = 0
        self.pickup_latency_s: list[float] = []
        self._quota_paused: dict[tuple[str, str], tuple[float, int]] = {}  # until (monotonic), refusals
        self.turnaround_s: dict[str, float] = {}
        """Per provider: a moving average of observed provider batch turnarounds (submit to pick-up)."""

    def on_settled(self, callback: Callable[[list[tuple[str, int]]], None]) -> None:
        self._settled = callback

    def wake(self) -> None:
        self._wake.set()

    def api(self, provider: str) -> BatchApi:
        api = self._apis.get(provider)
        if api is None:
            created = create_batch_api(self.catalog, provider)
            if created is None:
                raise ValueError(f"provider {provider!r} has no batch API")
            api = self._apis[provider] = created
        return api

    def limits(self, provider: str) -> tuple[int, int]:
        return self.api(provider).limits

    def quota_paused(self, provider: str, model: str) -> bool:
        """Whether the provider recently refused a batch of this model for quota (wait before the next)."""
        until, _refusals = self._quota_paused.get((provider, model), (0.0, 0))
        return time.monotonic() < until

    def _pause_for_quota(self, provider: str, model: str) -> None:
        _until, refusals = self._quota_paused.get((provider, model), (0.0, 0))
        # Doubling from a quarter second, up to a few polls: a refused create costs the provider little.
        wait = min(max(4 * self._poll_max, 1.0), 0.25 * 2**refusals)
        self._quota_paused[(provider, model)] = (time.monotonic() + wait, refusals + 1)

    async def submit(
        self, provider: str, model: str, steps: list[QueuedStep], quota: ModelQuota | None = None
    ) -> bool:
        """Submit these steps as one provider batch; False (nothing written) when the model's lane quota
        has no room for them any more (another process took it): they wait for a later batch."""
        now = datetime.now(UTC)
        batch = lane_store.ProviderBatchRow(
            id=f"lane-{uuid.uuid4()}",
            provider=provider,
            model=model,
            provider_batch_id=None,
            status=lane_store.SUBMITTING,
            request_count=len(steps),
            created_at=now,
            estimated_tokens=sum(step.tokens for step in steps),
        )
        requests = [
            lane_store.LaneRequest(
                custom_id=step.custom_id,
                submission_id=batch.id,
                item_id=step.item.id,
                batch_id=step.item.batch_id,
                step_no=step.step_no,
                attempt=step.attempt,
            )
            for step in steps
        ]
        async with self._db.write() as conn:
            if not await _admitted(conn, batch, quota):
                return False
            await lane_store.record_submission(conn, batch, self._worker_id, requests)
            for step in steps:
                if step.attempt > 1:
                    await lane_store.count_attempt(conn, step.item.id)
        self._mine.add(batch.id)
        lines = [RequestLine(step.custom_id, step.body) for step in steps]
        try:
            await self._send(batch, lines)
        except Exception:
            self._mine.discard(batch.id)  # the poller finds out what became of it, as after a crash
            self._wake.set()
            raise
        return True

    async def _send(self, batch: lane_store.ProviderBatchRow, lines: list[RequestLine]) -> None:
        api = self.api(batch.provider)
        policy = self._submit_retry
        retrying = AsyncRetrying(retry=policy.retries, wait=policy.wait, reraise=True)
        try:
            async for attempt in retrying:
                with attempt:
                    provider_batch_id = await self._submit_once(api, batch, lines, attempt.retry_state)
        except ProviderError as error:
            async with self._db.write() as conn:
                await lane_store.end_unsent(
                    conn,
                    batch.id,
                    f"the provider refused the batch: {error}",
                    datetime.now(UTC),
                    retryable=error.retryable,
                )
            return
        async with self._db.write() as conn:
            await lane_store.mark_submitted(conn, batch.id, provider_batch_id, datetime.now(UTC))
        self.submitted += 1
        self._next_poll[batch.id] = time.monotonic() + self._poll_min
        self._wake.set()

    async def _submit_once(
        self,
        api: BatchApi,
        batch: lane_store.ProviderBatchRow,
        lines: list[RequestLine],
        state: RetryCallState,
    ) -> str:
        """One try; a retry first looks whether a failed try reached the provider after all."""
        if state.attempt_number > 1 and (found := await self._find_quietly(api, batch)) is not None:
            return found
        return await api.submit(batch.id, lines)

    async def _find_quietly(self, api: BatchApi, batch: lane_store.ProviderBatchRow) -> str | None:
        try:
            return await api.find(batch.id, batch.request_count, batch.created_at)
        except ProviderError:
            return None

    async def poll_forever(self) -> None:
        await self._adopt()
        while True:
            try:
                if not self._single_process and time.monotonic() - self._adopted_at > self._orphan_after_s:
                    await self._adopt()
                await self._poll_once()
            except Exception:
                log.exception("polling provider batches failed; will retry")
            due = min(self._next_poll.values(), default=time.monotonic() + self._poll_max)
            await wait_until_set(self._wake, max(0.01, min(due - time.monotonic(), self._poll_max)))
            self._wake.clear()

    async def _adopt(self) -> None:
        now = datetime.now(UTC)
        self._adopted_at = time.monotonic()
        alive_since = None if self._single_process else now - timedelta(seconds=self._orphan_after_s)
        async with self._db.write() as conn:
            adopted = await lane_store.adopt_orphans(conn, self._worker_id, alive_since)
        if adopted:
            log.warning("adopted %d open provider batches of a stopped worker", adopted)

    async def _poll_once(self) -> None:
        async with self._db.read() as conn:
            rows = await lane_store.open_batches(conn, self._worker_id)
        now = time.monotonic()
        for row in rows:
            if row.status == lane_store.SUBMITTING or row.provider_batch_id is None:
                if row.id not in self._mine:  # a submission cut short in another life of this worker
                    await self._recover(row)
                continue
            if self._next_poll.get(row.id, 0.0) > now:
                continue
            age = (datetime.now(UTC) - row.created_at).total_seconds()
            self._next_poll[row.id] = now + min(self._poll_max, max(self._poll_min, age / 20))
            try:
                await self._check(row)
            except ProviderError as error:
                log.warning("could not poll provider batch %s: %s", row.provider_batch_id, error)

    async def _recover(self, row: lane_store.ProviderBatchRow) -> None:
        """A submission cut short by a crash: adopt what reached the provider, else send it again later."""
        found = await self.api(row.provider).find(row.id, row.request_count, row.created_at)
        async with self._db.write() as conn:
            if found is not None:
                await lane_store.mark_submitted(conn, row.id, found, datetime.now(UTC))
            else:
                await lane_store.end_unsent(
                    conn,
                    row.id,
                    "the submission never reached the provider",
                    datetime.now(UTC),
                    retryable=True,
                )
                lost = await lane_store.steps_of(conn, row.id)
        log.warning("interrupted submission %s: %s", row.id, f"adopted {found}" if found else "lost, resent")
        if found is None:
            self._settled(lost)

    async def _check(self, row: lane_store.ProviderBatchRow) -> None:
        assert row.provider_batch_id is not None
        api = self.api(row.provider)
        if row.status == lane_store.OPEN:
            async with self._db.read() as conn:
                abandoned = await lane_store.only_finished_items(conn, row.id)
            if abandoned:
                try:
                    await api.cancel(row.provider_batch_id)
                except ProviderError as error:  # e.g. it ended meanwhile: its results are picked up below
                    log.info("provider batch %s not cancelled: %s", row.provider_batch_id, error)
                async with self._db.write() as conn:
                    await lane_store.mark_status(conn, row.id, lane_store.CANCELLING)
                log.info("cancelled provider batch %s: nobody waits for its answers", row.provider_batch_id)
        status = await api.status(row.provider_batch_id)
        if not status.ended:
            return
        noticed = time.monotonic()
        outcomes: list[lane_store.StoredOutcome] = []
        if status.failed is None:
            async for line in api.results(row.provider_batch_id):
                outcomes.append(_outcome(line))
        async with self._db.write() as conn:
            if status.failed is not None and status.over_quota:
                refusal = QUOTA_REFUSAL + status.failed
                await lane_store.end_unsent(conn, row.id, refusal, datetime.now(UTC), retryable=True)
            elif status.failed is not None:
                await lane_store.end_unsent(conn, row.id, status.failed, datetime.now(UTC), retryable=False)
            else:
                await lane_store.store_outcomes(conn, row.id, outcomes, datetime.now(UTC))
            settled = await lane_store.steps_of(conn, row.id)
        self._next_poll.pop(row.id, None)
        if status.over_quota:
            self._pause_for_quota(row.provider, row.model)
        else:
            self._quota_paused.pop((row.provider, row.model), None)
            self._observe(row)
        self.picked_up += 1
        self.pickup_latency_s.append(time.monotonic() - noticed)
        self._settled(settled)

    def _observe(self, row: lane_store.ProviderBatchRow) -> None:
        seen = (datetime.now(UTC) - row.created_at).total_seconds()
        before = self.turnaround_s.get(row.provider)
        self.turnaround_s[row.provider] = seen if before is None else 0.7 * before + 0.3 * seen

    async def close(self) -> None:
        for api in self._apis.values():
            await api.close()
        self._apis.clear()


async def _admitted(conn: Connection, batch: lane_store.ProviderBatchRow, quota: ModelQuota | None) -> bool:
    """Whether the model's lane quota has room for this batch, checked against the database's open
    provider batches under a per-model lock, so it holds across processes."""
    if quota is None or (quota.max_open_requests is None and quota.max_open_tokens is None):
        return True
    await lane_load.lock_model(conn, batch.provider, batch.model)
    load = await lane_load.open_load(conn, batch.provider, batch.model)
    if load.requests == 0:
        return True  # nothing open: even a batch over the quota on its own goes (else it never would)
    fits_requests = quota.max_open_requests is None or (
        load.requests + batch.request_count <= quota.max_open_requests
    )
    fits_tokens = (
        quota.max_open_tokens is None or load.tokens + batch.estimated_tokens <= quota.max_open_tokens
    )
    return fits_requests and fits_tokens


def _outcome(line: LineResult) -> lane_store.StoredOutcome:
    return lane_store.StoredOutcome(
        custom_id=line.custom_id,
        state=line.kind.value,
        retryable=line.retryable,
        result=line.body,
        error=line.error,
    )
