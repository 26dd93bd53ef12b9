"""Letta's ``/v1/blocks``: memory blocks on their own, to attach to an agent (or detached from one)."""

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from agentbatch.api.auth import caller
from agentbatch.api.paging import page_params
from agentbatch.api.responses import OrjsonResponse
from agentbatch.api.schemas.agent_changes import BlockUpdateIn, CreateBlockIn
from agentbatch.api.services import ApiServices, services
from agentbatch.api.views.agents import block_view
from agentbatch.domain.errors import NotFound
from agentbatch.domain.ids import IdPrefix, id_pattern
from agentbatch.domain.paging import PageRequest
from agentbatch.store import blocks as block_store

router = APIRouter(prefix="/v1/blocks", tags=["blocks"], default_response_class=OrjsonResponse)
BlockId = Path(pattern=id_pattern(IdPrefix.BLOCK), description="block-<uuid4>")


@router.post("/", summary="Create a memory block attached to no agent")
@router.post("", include_in_schema=False)
async def create_block(
    body: CreateBlockIn, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    return block_view(await svc.agents.changes.create_block(owner, body.to_block()))


@router.get("/", summary="List memory blocks (detached ones and those of your agents)")
@router.get("", include_in_schema=False)
async def list_blocks(
    page: PageRequest = Depends(page_params),
    label: str | None = Query(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        found = await block_store.list_blocks(conn, owner, page, label=label)
    return [block_view(stored.block) for stored in found]


@router.get("/{block_id}", summary="Retrieve a memory block")
async def retrieve_block(
    block_id: str = BlockId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        stored = await block_store.get_block(conn, owner, block_id)
    if stored is None:
        raise NotFound(f"Block {block_id} not found")
    return block_view(stored.block)


@router.patch("/{block_id}", summary="Change a memory block (fields left out stay as they are)")
async def update_block(
    body: BlockUpdateIn,
    block_id: str = BlockId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return block_view(await svc.agents.changes.update_block(owner, block_id, body.to_change()))


@router.delete("/{block_id}", summary="Delete a memory block (its agent loses it)")
async def delete_block(
    block_id: str = BlockId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    await svc.agents.changes.delete_block(owner, block_id)
    return {}
