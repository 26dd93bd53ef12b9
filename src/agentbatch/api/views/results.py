"""One line of ``GET /v1/messages/batches/{id}/results``: a finished request, keyed by its ``custom_id``."""

from dataclasses import replace
from typing import Any

from agentbatch.api.views.costs import cost_view, item_lane
from agentbatch.api.views.messages import RenderOptions, letta_messages
from agentbatch.store.results import FinishedRequest


def result_line(found: FinishedRequest) -> dict[str, Any]:
    item = found.item
    return {
        "custom_id": item.custom_id,
        "id": item.id,
        "batch_id": item.batch_id,
        "agent_id": item.agent_id,
        "position": item.position,
        "status": item.status.value,
        "stop_reason": item.stop_reason,
        "text": final_text(found),
        "message_ids": list(dict.fromkeys(message.id for message in found.messages)),
        "usage": {
            "prompt_tokens": item.prompt_tokens,
            "completion_tokens": item.completion_tokens,
            "total_tokens": item.prompt_tokens + item.completion_tokens,
            "step_count": item.step_count,
            "cached_input_tokens": item.cached_tokens,
            "cache_write_tokens": item.cache_write_tokens,
        },
        "cost": cost_view(item.cost),
        "lane": item_lane(item.step_count, item.cost),
        "attempts": item.attempts,
        "error": item.error,
        "completed_at": item.completed_at.isoformat() if item.completed_at else None,
    }


def final_text(found: FinishedRequest) -> str | None:
    """The last ``assistant_message`` of the turn as the caller would see it (``send_message`` or plain
    text, by the request's own options); None when the turn said nothing."""
    every_type = replace(RenderOptions.of(found.request), include_types=None)
    rendered = letta_messages(found.messages, every_type)
    said = [message["content"] for message in rendered if message["message_type"] == "assistant_message"]
    return str(said[-1]) if said else None
