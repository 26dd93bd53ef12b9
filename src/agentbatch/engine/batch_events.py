"""The log lines and figures a batch's life produces: created, started, an item errored, ended."""

import logging

from agentbatch.domain.batches import Batch
from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import ItemStatus, StopReason
from agentbatch.domain.turn_records import ClaimedItem, Commit
from agentbatch.engine import metrics
from agentbatch.engine.events import emit


def batch_created(batch: Batch, dispatch: str = "direct") -> None:
    emit("batch.created", batch_id=batch.id, owner_id=batch.owner_id, requests=batch.request_count)


def batch_ended(batch: Batch) -> None:
    counts = batch.counts
    emit(
        "batch.ended",
        batch_id=batch.id,
        status=batch.status.value,
        stop_reason=batch.stop_reason,
        total=batch.request_count,
        succeeded=counts.succeeded,
        errored=counts.errored,
        cancelled=counts.cancelled,
        expired=counts.expired,
        steps=batch.usage.step_count,
    )


def items_ended_by_batch(status: ItemStatus, reason: StopReason | None, count: int) -> None:
    """Count the requests a cancel, an expiry or an agent's deletion ended, as ``items_finished`` counts
    turns' own ends."""
    if count:
        metrics.ITEMS_FINISHED.labels(status.value, reason.value if reason else "").inc(count)


def commit_written(item: ClaimedItem, commit: Commit, prices: PriceTable | None = None) -> None:
    """Count the step's figures (its cost, where ``prices`` knows the model); report the turn's end
    when it errored."""
    if commit.step is not None:
        step = commit.step
        lane = str(step.lane)
        metrics.count_step(step.model, lane, step.finish, step.prompt_tokens, step.completion_tokens)
        cost = (
            prices.step_cost(
                step.model,
                step.lane,
                step.prompt_tokens,
                step.completion_tokens,
                step.cached_tokens,
                step.cache_write_tokens,
            )
            if prices
            else None
        )
        if cost is not None:
            metrics.count_cost(step.model, lane, cost.nanos, cost.saved_nanos)
    if commit.stop is not None:
        metrics.ITEMS_FINISHED.labels(commit.stop.item_status.value, commit.stop.value).inc()
    if commit.stop is not None and commit.stop.item_status is ItemStatus.ERRORED:
        emit(
            "item.errored",
            level=logging.WARNING,
            batch_id=item.batch_id,
            item_id=item.id,
            agent_id=item.agent_id,
            model=item.model,
            stop_reason=commit.stop.value,
            error=commit.error,
        )
