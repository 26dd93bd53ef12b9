"""Submitting and cancelling batches. A batch is accepted whole or not at all."""

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from agentbatch.domain.batches import Batch
from agentbatch.domain.errors import (
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    StateConflict,
    Unprocessable,
)
from agentbatch.domain.ids import IdPrefix, new_id, new_ids
from agentbatch.domain.lanes import Dispatch
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.engine import batch_events
from agentbatch.engine.signals import EngineSignals
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.provider_batches import lane_refusal
from agentbatch.store import agents as agent_store
from agentbatch.store import batches as batch_store
from agentbatch.store import idempotency as idempotency_store
from agentbatch.store.database import Connection, Database
from agentbatch.store.new_items import NewItem

log = logging.getLogger(__name__)
BATCH_METADATA = {"job_type": "batch_messages"}
_WINDOW = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_LISTED_MISSING = 10
ITEM_PART = 10_000
"""Items written a statement at a time; the next part is built while one is written."""


@dataclass(slots=True)
class TurnSubmission:
    """One request of a batch: the agent, and the turn's messages and options. Not frozen, though
    nothing changes it: a batch builds 100,000 of these, and a frozen dataclass's ``__init__`` costs
    four times a plain one's (``benchmarks/overhead.py``, accept)."""

    agent_id: str
    request: TurnRequest
    custom_id: str | None = None


@dataclass(frozen=True, slots=True)
class BatchRequests:
    """A batch's requests, column by column: each one's agent and custom id, read whole before anything
    is written (unknown agents are refused first), and the typed turn requests, taken a part at a time
    as the items are written, so the API can build them lazily: part k+1 is built while part k is
    written (``performance.py``, entry 6)."""

    agent_ids: Sequence[str]
    custom_ids: Sequence[str | None]
    turn_requests: Iterable[TurnRequest]
    """As many as ``agent_ids``, in the same order; iterated once."""

    @classmethod
    def of(cls, submissions: Sequence[TurnSubmission]) -> "BatchRequests":
        return cls(
            [submission.agent_id for submission in submissions],
            [submission.custom_id for submission in submissions],
            [submission.request for submission in submissions],
        )


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A create's ``Idempotency-Key`` header and the hash of its body (canonical JSON)."""

    key: str
    body_hash: str


@dataclass(frozen=True, slots=True)
class Submitted:
    batch: Batch
    replayed: bool
    """True when an earlier create with the same key and body made this batch; nothing new was written."""


def parse_completion_window(window: str) -> timedelta:
    match = _WINDOW.match(window)
    if match is None:
        raise InvalidRequest(f"completion_window {window!r} must look like '30m', '24h' or '3600s'")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class BatchCommands:
    def __init__(
        self,
        db: Database,
        signals: EngineSignals,
        *,
        key_retention: timedelta = timedelta(hours=24),
        default_dispatch: str = "direct",
        catalog: ProviderCatalog | None = None,
    ) -> None:
        self._db = db
        self._catalog = catalog or ProviderCatalog()
        self._signals = signals
        self._key_retention = key_retention
        self._default_dispatch = Dispatch(default_dispatch)

    async def submit(
        self,
        owner_id: str,
        requests: BatchRequests | Sequence[TurnSubmission],
        *,
        callback_url: str | None = None,
        completion_window: str | None = None,
        metadata: dict[str, Any] | None = None,
        priority: int = 0,
        idempotency: IdempotencyKey | None = None,
        dispatch: Dispatch | None = None,
    ) -> Submitted:
        """Accept a batch whole; with an idempotency key used before (same owner, within its retention),
        the earlier batch instead, or ``IdempotencyKeyReused`` when the body differs."""
        if not isinstance(requests, BatchRequests):
            requests = BatchRequests.of(requests)
        agent_ids = requests.agent_ids
        if not agent_ids:
            raise InvalidRequest("requests must hold at least one request")
        now = datetime.now(UTC)
        expires_at = now + parse_completion_window(completion_window) if completion_window else None
        batch = Batch(
            id=new_id(IdPrefix.BATCH),
            owner_id=owner_id,
            status=BatchStatus.CREATED,
            request_count=len(agent_ids),
            created_at=now,
            updated_at=now,
            metadata={**(metadata or {}), **BATCH_METADATA},
            callback_url=callback_url,
            expires_at=expires_at,
            last_updated_by_id=owner_id,
            priority=priority,
            dispatch=(dispatch or self._default_dispatch).value,
            agent_id=_the_one_agent(agent_ids),
        )
        async with self._db.write() as conn:
            if idempotency is not None:
                earlier = await self._earlier_use(conn, owner_id, idempotency, batch.id, now)
                if earlier is not None:
                    return Submitted(earlier, replayed=True)
            models = await agent_store.agent_models(conn, owner_id, agent_ids)
            _reject_unknown_agents(agent_ids, models)
            if batch.dispatch == Dispatch.PROVIDER_BATCH.value:
                _reject_agents_without_a_batch_api(agent_ids, models, self._catalog)
            await batch_store.insert_batch_in_parts(conn, batch, _item_parts(requests, models), models.keys())
        batch.counts.add(ItemStatus.PENDING, len(agent_ids))
        batch_events.batch_created(batch)
        self._signals.notify_work()
        if idempotency is not None:
            await self._forget_expired_keys(now)
        return Submitted(batch, replayed=False)

    async def _forget_expired_keys(self, now: datetime) -> None:
        """Housekeeping in a transaction of its own, after the batch is safely in: a failure here costs
        nothing but a later retry of the purge."""
        try:
            async with self._db.write() as conn:
                await idempotency_store.purge_expired(conn, now)
        except Exception:
            log.warning("expired idempotency keys could not be purged; will retry", exc_info=True)

    async def _earlier_use(
        self, conn: Connection, owner_id: str, idempotency: IdempotencyKey, batch_id: str, now: datetime
    ) -> Batch | None:
        earlier = await idempotency_store.reserve(
            conn, owner_id, idempotency.key, idempotency.body_hash, batch_id, now, now + self._key_retention
        )
        if earlier is None:
            return None
        if earlier.body_hash != idempotency.body_hash:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {idempotency.key!r} was already used with a different request body "
                f"(batch {earlier.batch_id}); send a new key for a different batch"
            )
        batch = await batch_store.get_batch(conn, owner_id, earlier.batch_id)
        assert batch is not None, "an idempotency key names a batch of its owner"
        return batch

    async def cancel(self, owner_id: str, batch_id: str) -> Batch:
        now = datetime.now(UTC)
        async with self._db.write() as conn:
            batch = await batch_store.get_batch(conn, owner_id, batch_id)
            if batch is None:
                raise NotFound(f"Batch {batch_id} not found")
            if batch.status.is_terminal:
                raise StateConflict(
                    f"Batch {batch_id} has already ended ({batch.status.value}); "
                    "only unfinished batches can be cancelled"
                )
            cancelled_items = await batch_store.cancel_batch(conn, batch, now, owner_id) or 0
            cancelled = await batch_store.get_batch(conn, owner_id, batch_id)
        assert cancelled is not None
        batch_events.items_ended_by_batch(ItemStatus.CANCELLED, StopReason.CANCELLED, cancelled_items)
        batch_events.batch_ended(cancelled)
        self._signals.notify_cancel(batch_id)
        return cancelled


def _item_parts(requests: BatchRequests, models: dict[str, str]) -> Iterator[list[NewItem]]:
    """The batch's items, ``ITEM_PART`` at a time: each part's turn requests are taken (built, when the
    API builds them lazily) only when the store asks for it, after handing it the part before."""
    turn_requests = iter(requests.turn_requests)
    count = len(requests.agent_ids)
    for start in range(0, count, ITEM_PART):
        stop = min(start + ITEM_PART, count)
        yield [
            NewItem(agent_id, models[agent_id], request, custom_id, item_id)
            for agent_id, custom_id, request, item_id in zip(
                requests.agent_ids[start:stop],
                requests.custom_ids[start:stop],
                islice(turn_requests, stop - start),
                new_ids(IdPrefix.BATCH_ITEM, stop - start),
                strict=True,
            )
        ]


def _the_one_agent(agent_ids: Sequence[str]) -> str | None:
    addressed = set(agent_ids)
    return addressed.pop() if len(addressed) == 1 else None


def _reject_agents_without_a_batch_api(
    agent_ids: Sequence[str], models: dict[str, str], catalog: ProviderCatalog
) -> None:
    """``dispatch: provider_batch`` never calls a provider directly, so every agent's provider must have
    a batch API: else a 422 naming the agents and why, before anything is written."""
    refused: dict[str, list[str]] = {}  # the reason -> the agents it refuses
    for agent_id in dict.fromkeys(agent_ids):
        provider = models[agent_id].partition("/")[0]
        reason = lane_refusal(catalog, provider)
        if reason is not None:
            refused.setdefault(reason, []).append(agent_id)
    if not refused:
        return
    shown = "; ".join(
        f"{reason}: agent(s) {', '.join(agents[:_MAX_LISTED_MISSING])}"
        + (f" and {len(agents) - _MAX_LISTED_MISSING} more" if len(agents) > _MAX_LISTED_MISSING else "")
        for reason, agents in refused.items()
    )
    raise Unprocessable(
        f"dispatch 'provider_batch' sends every step through a provider's batch API, but {shown}; "
        "use dispatch 'auto' (which calls such providers directly) or 'direct'. The batch was not created"
    )


def _reject_unknown_agents(agent_ids: Sequence[str], known: dict[str, str]) -> None:
    missing = [(index, agent_id) for index, agent_id in enumerate(agent_ids) if agent_id not in known]
    if not missing:
        return
    shown = ", ".join(
        f"requests[{index}].agent_id={agent_id}" for index, agent_id in missing[:_MAX_LISTED_MISSING]
    )
    more = f" and {len(missing) - _MAX_LISTED_MISSING} more" if len(missing) > _MAX_LISTED_MISSING else ""
    raise NotFound(f"Agent(s) not found: {shown}{more}; the batch was not created")
