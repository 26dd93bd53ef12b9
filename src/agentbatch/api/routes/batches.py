"""Letta's Batches API: ``/v1/messages/batches``."""

from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from agentbatch.api.auth import caller
from agentbatch.api.callback_urls import refuse_internal_callback_url
from agentbatch.api.idempotency import IDEMPOTENCY_KEY, idempotency_key
from agentbatch.api.paging import page_params
from agentbatch.api.responses import OrjsonResponse
from agentbatch.api.schemas.batches import CreateBatchIn
from agentbatch.api.services import ApiServices, services
from agentbatch.api.views.batches import batch_view, item_view
from agentbatch.api.views.messages import internal_message
from agentbatch.domain.batches import Batch
from agentbatch.domain.errors import NotFound
from agentbatch.domain.ids import DEFAULT_USER_ID, IdPrefix, id_pattern
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.states import BatchStatus
from agentbatch.engine.batch_commands import BatchRequests
from agentbatch.store import batches as batch_store
from agentbatch.store import messages as message_store
from agentbatch.store.database import Connection

router = APIRouter(prefix="/v1/messages/batches", tags=["batches"], default_response_class=OrjsonResponse)
BatchId = Path(pattern=id_pattern(IdPrefix.BATCH), description="job-<uuid4>")


@router.post("", summary="Create a batch of agent turns")
async def create_batch(
    body: CreateBatchIn,
    request: Request,
    response: Response,
    key: str | None = Header(default=None, alias="Idempotency-Key", **IDEMPOTENCY_KEY),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    if body.callback_url and owner != DEFAULT_USER_ID and not svc.settings.callback_allow_private_urls:
        await refuse_internal_callback_url(body.callback_url)
    requests = BatchRequests(
        agent_ids=[request.agent_id for request in body.requests],
        custom_ids=[request.custom_id for request in body.requests],
        turn_requests=(request.to_request() for request in body.requests),  # built as they are written
    )
    submitted = await svc.batches.submit(
        owner,
        requests,
        callback_url=body.callback_url,
        completion_window=body.completion_window,
        metadata=body.metadata,
        priority=body.priority,
        idempotency=await idempotency_key(key, request),
        dispatch=body.dispatch,
    )
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return batch_view(submitted.batch)


@router.get("", summary="List batches, finished ones included")
async def list_batches(
    page: PageRequest = Depends(page_params),
    status: list[BatchStatus] | None = Query(default=None, description="Only batches in these statuses."),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        found = await batch_store.list_batches(conn, owner, page, statuses=status or ())
    return [batch_view(batch) for batch in found]


@router.get("/{batch_id}", summary="Retrieve a batch")
async def retrieve_batch(
    batch_id: str = BatchId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        return batch_view(await _batch(conn, owner, batch_id))


@router.patch("/{batch_id}/cancel", summary="Cancel an unfinished batch")
async def cancel_batch(
    batch_id: str = BatchId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    return batch_view(await svc.batches.cancel(owner, batch_id))


@router.get("/{batch_id}/messages", summary="Messages the batch's turns produced")
async def list_batch_messages(
    batch_id: str = BatchId,
    page: PageRequest = Depends(page_params),
    agent_id: str | None = Query(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        await _batch(conn, owner, batch_id)
        found = await message_store.list_batch_messages(conn, batch_id, page, agent_id=agent_id)
    return {"messages": [internal_message(message) for message in found]}


@router.get("/{batch_id}/items", summary="Extension: each request's agent, status, stop reason, steps")
async def list_batch_items(
    batch_id: str = BatchId,
    page: PageRequest = Depends(page_params),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        await _batch(conn, owner, batch_id)
        found = await batch_store.list_items(conn, batch_id, page)
    return [item_view(item) for item in found]


async def _batch(conn: Connection, owner: str, batch_id: str) -> Batch:
    batch = await batch_store.get_batch(conn, owner, batch_id)
    if batch is None:
        raise NotFound(f"Batch {batch_id} not found")
    return batch
