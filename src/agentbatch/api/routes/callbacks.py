"""Extension: a batch's callback delivery log and its replay."""

from typing import Any

from fastapi import APIRouter, Depends

from agentbatch.api.auth import caller
from agentbatch.api.responses import OrjsonResponse
from agentbatch.api.routes.batches import BatchId
from agentbatch.api.services import ApiServices, services
from agentbatch.domain.errors import NotFound
from agentbatch.engine.callbacks import CallbackReplays
from agentbatch.store import batches as batch_store
from agentbatch.store.callbacks import DeliveryAttempt, list_deliveries

router = APIRouter(prefix="/v1/messages/batches", tags=["callbacks"], default_response_class=OrjsonResponse)


def delivery_view(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "webhook_id": attempt.webhook_id,
        "attempt": attempt.attempt,
        "attempted_at": attempt.attempted_at.isoformat(),
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "next_attempt_at": attempt.next_attempt_at.isoformat() if attempt.next_attempt_at else None,
    }


@router.get("/{batch_id}/callbacks", summary="Extension: every attempt to deliver the batch's callback")
async def list_callback_attempts(
    batch_id: str = BatchId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        batch = await batch_store.get_batch(conn, owner, batch_id)
        if batch is None:
            raise NotFound(f"Batch {batch_id} not found")
        attempts = await list_deliveries(conn, batch_id)
    return {
        "batch_id": batch_id,
        "callback_url": batch.callback_url,
        "attempts": [delivery_view(attempt) for attempt in attempts],
    }


@router.post(
    "/{batch_id}/callbacks/replay",
    status_code=202,
    summary="Extension: send an ended batch's callback again (a new webhook-id, a fresh retry window)",
)
async def replay_callback(
    batch_id: str = BatchId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    webhook_id = await CallbackReplays(svc.db).replay(owner, batch_id)
    return {"batch_id": batch_id, "webhook_id": webhook_id, "status": "scheduled"}
