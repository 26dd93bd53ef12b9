"""``/dashboard``: batches with live progress, one batch's requests and callback log, one conversation.

Shell pages need no key (they hold no data); the fragments they load go through ``caller``, so with API
keys on each key sees only its own batches, exactly as through the API.
"""

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from agentbatch.api import dashboard_html as html
from agentbatch.api.auth import caller
from agentbatch.api.routes.batches import BatchId
from agentbatch.api.services import ApiServices, services
from agentbatch.domain.errors import NotFound
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.states import BatchStatus, ItemStatus
from agentbatch.store import batches as batch_store
from agentbatch.store import messages as message_store
from agentbatch.store.callbacks import list_deliveries

router = APIRouter(prefix="/dashboard", include_in_schema=False, default_response_class=HTMLResponse)
_LIST = PageRequest(after=None, before=None, limit=200, descending=True)
_ITEMS = PageRequest(after=None, before=None, limit=1000, descending=False)


@router.get("")
async def batches_page() -> str:
    return html.shell(
        "Batches",
        "<h1>Batches</h1>"
        + html.status_filter("batches", [s.value for s in BatchStatus])
        + "<div id='batches' data-fragment='/dashboard/fragments/batches'></div>",
    )


@router.get("/batches/{batch_id}")
async def batch_page(batch_id: str = BatchId) -> str:
    return html.shell(
        batch_id,
        html.status_filter("detail", [s.value for s in ItemStatus])
        + f"<div id='detail' data-fragment='/dashboard/fragments/batches/{batch_id}'></div>",
    )


@router.get("/batches/{batch_id}/agents/{agent_id}")
async def conversation_page(agent_id: str, batch_id: str = BatchId) -> str:
    return html.shell(
        agent_id,
        f"<p><a href='/dashboard/batches/{batch_id}'>{batch_id}</a></p><h1>{agent_id}</h1>"
        f"<div id='conversation' "
        f"data-fragment='/dashboard/fragments/batches/{batch_id}/agents/{agent_id}'></div>",
    )


@router.get("/fragments/batches")
async def batches_fragment(
    status: BatchStatus | None = Query(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> str:
    async with svc.db.read() as conn:
        found = await batch_store.list_batches(conn, owner, _LIST, statuses=[status] if status else ())
    return html.batches_table(found)


@router.get("/fragments/batches/{batch_id}")
async def batch_fragment(
    batch_id: str = BatchId,
    status: ItemStatus | None = Query(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> str:
    async with svc.db.read() as conn:
        batch = await batch_store.get_batch(conn, owner, batch_id)
        if batch is None:
            raise NotFound(f"Batch {batch_id} not found")
        items = await batch_store.list_items(conn, batch_id, _ITEMS)
        deliveries = await list_deliveries(conn, batch_id)
    shown = [item for item in items if status is None or item.status is status]
    return html.batch_detail(batch, shown, deliveries)


@router.get("/fragments/batches/{batch_id}/agents/{agent_id}")
async def conversation_fragment(
    agent_id: str, batch_id: str = BatchId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> str:
    async with svc.db.read() as conn:
        if await batch_store.get_batch(conn, owner, batch_id) is None:
            raise NotFound(f"Batch {batch_id} not found")
        found = await message_store.list_batch_messages(conn, batch_id, _ITEMS, agent_id=agent_id)
    return html.conversation(found)
