"""The lane's front: a lane step is looked up in the database before anything is sent, so a step is
submitted once per attempt and a turn re-run after a crash finds its step in the open provider batch.

    complete(item, step_no, request)
      ├─ a stored result ───────────────▶ parsed as a direct reply
      ├─ in an open provider batch ──────▶ wait (woken at pick-up; re-read on a slow timer)
      ├─ transient error / expired / lost ▶ next attempt into the gatherer (bounded)
      ├─ permanent error ────────────────▶ ProviderRejected with the provider's message
      └─ never submitted ────────────────▶ attempt 1 into the gatherer
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import orjson

from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.engine.lane.gathering import UNBOUNDED, Gatherer, QueuedStep, Room
from agentbatch.engine.lane.submission import QUOTA_REFUSAL, Submitter
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle
from agentbatch.providers.errors import ProviderRejected, ProviderUnavailable
from agentbatch.providers.provider_batches import LineKind, lane_protocol, parse_reply, request_body
from agentbatch.providers.quotas import ModelQuota
from agentbatch.store import lane_load
from agentbatch.store import provider_batches as lane_store
from agentbatch.store.database import Database

log = logging.getLogger(__name__)
StepKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class LaneSettings:
    gather_window_s: float = 0.2
    gather_max: int = 1000
    poll_min_s: float = 0.1
    poll_max_s: float = 2.0
    max_attempts: int = 3
    recheck_s: float = 15.0


class LaneDispatcher:
    def __init__(
        self,
        db: Database,
        submitter: Submitter,
        settings: LaneSettings,
        quotas: dict[str, ModelQuota] | None = None,
    ) -> None:
        self._quotas = quotas or {}
        self._db = db
        self._submitter = submitter
        self._settings = settings
        self._gatherers: dict[tuple[str, str], Gatherer] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued: set[StepKey] = set()
        self._waiters: dict[StepKey, list[asyncio.Future[None]]] = {}
        submitter.on_settled(self.settle)

    def in_lane(self, item_id: str, step_no: int) -> bool:
        """Whether this process is waiting for the step in the lane (queued or submitted)."""
        return (item_id, step_no) in self._queued

    def supports(self, handle: ModelHandle) -> bool:
        return lane_protocol(self._submitter.catalog, handle.provider) is not None

    async def complete(
        self, item: ClaimedItem, step_no: int, handle: ModelHandle, request: ModelRequest
    ) -> ModelResponse:
        protocol = lane_protocol(self._submitter.catalog, handle.provider)
        if protocol is None:
            raise ProviderRejected(
                f"provider {handle.provider!r} has no batch API, "
                f"so dispatch 'provider_batch' cannot run {handle}"
            )
        key = (item.id, step_no)
        while True:
            waiter = self._watch(key)
            try:
                if key not in self._queued:
                    async with self._db.read() as conn:
                        latest = await lane_store.latest_request(conn, item.id, step_no)
                    if latest is not None and latest.state == LineKind.SUCCEEDED:
                        return parse_reply(protocol, latest.result)
                    if latest is None or latest.state != lane_store.SUBMITTED:
                        attempt = self._next_attempt(latest)
                        body = orjson.dumps(request_body(protocol, request))
                        self._queue(QueuedStep(item, step_no, attempt, body), handle)
                # On time-out: picked up by another process, perhaps; read the database again.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), self._settings.recheck_s)
            finally:
                self._unwatch(key, waiter)

    def _next_attempt(self, latest: lane_store.LaneRequest | None) -> int:
        if latest is None:
            return 1
        if latest.state == LineKind.ERRORED and not latest.retryable:
            raise ProviderRejected(latest.error or "the provider refused the request")
        if latest.state == lane_store.LOST and (latest.error or "").startswith(QUOTA_REFUSAL):
            return latest.attempt + 1  # the provider had no room: it goes again, however often
        if latest.attempt >= self._settings.max_attempts:
            reason = "expired" if latest.state == LineKind.EXPIRED else (latest.error or latest.state)
            raise ProviderUnavailable(
                f"the provider batch request failed {latest.attempt} times; the last: {reason}"
            )
        return latest.attempt + 1

    def _queue(self, step: QueuedStep, handle: ModelHandle) -> None:
        self._queued.add((step.item.id, step.step_no))
        gatherer = self._gatherers.get((handle.provider, handle.model))
        if gatherer is None:
            gatherer = self._gatherers[(handle.provider, handle.model)] = Gatherer(
                handle.provider,
                handle.model,
                self._submit,
                window_s=self._settings.gather_window_s,
                enough=self._settings.gather_max,
                limits=self._submitter.limits(handle.provider),
                room=self._room_for(handle),
                recheck_s=self._settings.poll_max_s,
            )
            self._spawn(gatherer.run())
        gatherer.add(step)

    async def _submit(self, provider: str, model: str, steps: list[QueuedStep]) -> None:
        try:
            await self._submitter.submit(provider, model, steps, self._quotas.get(f"{provider}/{model}"))
        except Exception:
            log.exception("a provider batch could not be submitted; its steps will be retried")
        finally:
            for step in steps:
                self._queued.discard((step.item.id, step.step_no))
            self.settle([(step.item.id, step.step_no) for step in steps])

    def _room_for(self, handle: ModelHandle) -> Callable[[], Coroutine[Any, Any, Room]]:
        """What the model's lane quota still admits, from every process's open provider batches."""
        quota = self._quotas.get(str(handle))

        async def room() -> Room:
            if self._submitter.quota_paused(handle.provider, handle.model):
                return Room(requests=0, idle=False)  # the provider just refused a batch for quota
            if quota is None or (quota.max_open_requests is None and quota.max_open_tokens is None):
                return UNBOUNDED
            async with self._db.read() as conn:
                load = await lane_load.open_load(conn, handle.provider, handle.model)
            return Room(
                requests=None if quota.max_open_requests is None else quota.max_open_requests - load.requests,
                tokens=None if quota.max_open_tokens is None else quota.max_open_tokens - load.tokens,
                idle=load.requests == 0,
            )

        return room

    def settle(self, keys: list[StepKey]) -> None:
        """Wake the turns waiting for these steps: they read the outcome from the database."""
        for gatherer in self._gatherers.values():
            gatherer.wake()  # open requests ended: a gatherer held back by its quota may go on
        for key in keys:
            for waiter in self._waiters.get(key, ()):
                if not waiter.done():
                    waiter.set_result(None)

    def _watch(self, key: StepKey) -> "asyncio.Future[None]":
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(waiter)
        return waiter

    def _unwatch(self, key: StepKey, waiter: "asyncio.Future[None]") -> None:
        waiters = self._waiters.get(key, [])
        if waiter in waiters:
            waiters.remove(waiter)
        if not waiters:
            self._waiters.pop(key, None)

    async def run(self) -> None:
        """The poller, until cancelled (gatherers start on first use)."""
        try:
            await self._submitter.poll_forever()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._submitter.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
