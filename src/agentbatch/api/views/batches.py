"""Batches as Letta's ``BatchJob``, plus documented extension fields (``request_counts``, ``usage``,
``expires_at``, ``cost``) that Letta's SDK keeps as extra attributes."""

from datetime import datetime
from typing import Any

from agentbatch.api.views.costs import cost_view, item_lane
from agentbatch.domain.batches import Batch, BatchItem


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def batch_view(batch: Batch) -> dict[str, Any]:
    counts = batch.counts
    return {
        "id": batch.id,
        "job_type": "batch",
        "status": batch.status.value,
        "stop_reason": batch.stop_reason,
        "metadata": batch.metadata,
        "agent_id": batch.agent_id,
        "background": None,
        "callback_url": batch.callback_url,
        "callback_sent_at": _iso(batch.callback_sent_at),
        "callback_status_code": batch.callback_status_code,
        "callback_error": batch.callback_error,
        "created_at": _iso(batch.created_at),
        "updated_at": _iso(batch.updated_at),
        "completed_at": _iso(batch.completed_at),
        "created_by_id": batch.owner_id,
        "last_updated_by_id": batch.last_updated_by_id,
        "ttft_ns": batch.ttft_ns,
        "total_duration_ns": batch.total_duration_ns,
        "expires_at": _iso(batch.expires_at),
        "priority": batch.priority,
        "dispatch": batch.dispatch,
        "request_counts": {
            "total": batch.request_count,
            "pending": counts.pending,
            "running": counts.running,
            "succeeded": counts.succeeded,
            "errored": counts.errored,
            "cancelled": counts.cancelled,
            "expired": counts.expired,
        },
        "usage": {
            "prompt_tokens": batch.usage.prompt_tokens,
            "completion_tokens": batch.usage.completion_tokens,
            "total_tokens": batch.usage.total_tokens,
            "step_count": batch.usage.step_count,
            "cached_input_tokens": batch.usage.cached_tokens,
            "cache_write_tokens": batch.usage.cache_write_tokens,
        },
        "cost": cost_view(batch.cost),
    }


def item_view(item: BatchItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "custom_id": item.custom_id,
        "batch_id": item.batch_id,
        "agent_id": item.agent_id,
        "position": item.position,
        "status": item.status.value,
        "stop_reason": item.stop_reason,
        "step_count": item.step_count,
        "usage": {
            "prompt_tokens": item.prompt_tokens,
            "completion_tokens": item.completion_tokens,
            "total_tokens": item.prompt_tokens + item.completion_tokens,
            "cached_input_tokens": item.cached_tokens,
            "cache_write_tokens": item.cache_write_tokens,
        },
        "ttft_ns": item.ttft_ns,
        "duration_ns": item.duration_ns,
        "error": item.error,
        "attempts": item.attempts,
        "lane": item_lane(item.step_count, item.cost),
        "cost": cost_view(item.cost),
        "created_at": _iso(item.created_at),
        "started_at": _iso(item.started_at),
        "completed_at": _iso(item.completed_at),
    }
