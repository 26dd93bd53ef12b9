"""Changing an agent: ``agents.update``, its tools, its memory blocks, its history, its current turn.

A change made while one of the agent's turns runs applies from the agent's next turn; memory block
edits through the API and the running turn's own memory edits are both kept (see docs/api.md).
"""

from typing import Any, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Query

from agentbatch.api.auth import caller
from agentbatch.api.paging import page_params
from agentbatch.api.responses import OrjsonResponse
from agentbatch.api.routes.agent_states import agent_state
from agentbatch.api.schemas.agent_changes import (
    BlockUpdateIn,
    CancelRunsIn,
    ModifyApprovalIn,
    ResetMessagesIn,
    UpdateAgentIn,
)
from agentbatch.api.services import ApiServices, services
from agentbatch.api.views.agents import block_view, tool_view
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.ids import IdPrefix, id_pattern
from agentbatch.domain.paging import PageRequest
from agentbatch.store import agents as agent_store
from agentbatch.store import blocks as block_store

router = APIRouter(prefix="/v1/agents", tags=["agents"], default_response_class=OrjsonResponse)
AgentId = Path(pattern=id_pattern(IdPrefix.AGENT), description="agent-<uuid4>")
ToolId = Path(pattern=id_pattern(IdPrefix.TOOL), description="tool-<uuid4>")
T = TypeVar("T")
BlockId = Path(pattern=id_pattern(IdPrefix.BLOCK), description="block-<uuid4>")


@router.patch("/{agent_id}", summary="Update an agent (fields left out stay as they are)")
async def update_agent(
    body: UpdateAgentIn,
    agent_id: str = AgentId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return await agent_state(svc, await svc.agents.changes.update(owner, agent_id, body.to_update()))


@router.get("/{agent_id}/tools", summary="The agent's tools")
async def list_agent_tools(
    agent_id: str = AgentId,
    page: PageRequest = Depends(page_params),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        agent = await agent_store.get_agent(conn, owner, agent_id)
    if agent is None:
        raise NotFound(f"Agent {agent_id} not found")
    tools = sorted(agent.tools, key=lambda tool: (tool.created_at is None, tool.created_at, tool.id))
    return [tool_view(tool) for tool in _page(tools, page, lambda tool: tool.id)]


@router.patch("/{agent_id}/tools/attach/{tool_id}", summary="Attach a tool to the agent")
async def attach_tool(
    agent_id: str = AgentId,
    tool_id: str = ToolId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return await agent_state(svc, await svc.agents.changes.attach_tool(owner, agent_id, tool_id, attach=True))


@router.patch("/{agent_id}/tools/detach/{tool_id}", summary="Detach a tool from the agent")
async def detach_tool(
    agent_id: str = AgentId,
    tool_id: str = ToolId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return await agent_state(
        svc, await svc.agents.changes.attach_tool(owner, agent_id, tool_id, attach=False)
    )


@router.patch("/{agent_id}/tools/approval/{tool_name}", summary="Whether calls of a tool wait for approval")
async def modify_approval(
    agent_id: str = AgentId,
    tool_name: str = Path(min_length=1, max_length=255),
    body: ModifyApprovalIn | None = Body(default=None),
    requires_approval: bool | None = Query(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    required = body.requires_approval if body is not None else requires_approval
    if required is None:
        raise InvalidRequest("requires_approval is required (in the body or the query)")
    return await agent_state(svc, await svc.agents.changes.set_approval(owner, agent_id, tool_name, required))


@router.patch("/{agent_id}/reset-messages", summary="Forget the agent's message history")
async def reset_messages(
    agent_id: str = AgentId,
    body: ResetMessagesIn | None = Body(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return await agent_state(svc, await svc.agents.changes.reset_messages(owner, agent_id))


@router.post("/{agent_id}/messages/cancel", summary="Cancel the agent's current turn")
async def cancel_turn(
    agent_id: str = AgentId,
    body: CancelRunsIn | None = Body(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    run_ids = body.run_ids if body is not None else None
    cancelled = await svc.agents.changes.cancel_turn(owner, agent_id, run_ids)
    return {run_id: "cancelled" for run_id in cancelled}


# --- memory blocks ------------------------------------------------------------------------------


@router.get("/{agent_id}/core-memory/blocks", summary="The agent's memory blocks")
async def list_agent_blocks(
    agent_id: str = AgentId,
    page: PageRequest = Depends(page_params),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        if await agent_store.get_agent(conn, owner, agent_id) is None:
            raise NotFound(f"Agent {agent_id} not found")
        found = await block_store.list_blocks(conn, owner, page, agent_id=agent_id)
    return [block_view(stored.block) for stored in found]


@router.get("/{agent_id}/core-memory/blocks/{block_label}", summary="One of the agent's memory blocks")
async def retrieve_agent_block(
    agent_id: str = AgentId,
    block_label: str = Path(min_length=1, max_length=255),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        if await agent_store.get_agent(conn, owner, agent_id) is None:
            raise NotFound(f"Agent {agent_id} not found")
        stored = await block_store.agent_block(conn, agent_id, block_label)
    if stored is None:
        raise NotFound(f"Agent {agent_id} has no memory block labelled {block_label!r}")
    return block_view(stored.block)


@router.patch("/{agent_id}/core-memory/blocks/attach/{block_id}", summary="Attach a memory block")
async def attach_block(
    agent_id: str = AgentId,
    block_id: str = BlockId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return await agent_state(
        svc, await svc.agents.changes.attach_block(owner, agent_id, block_id, attach=True)
    )


@router.patch("/{agent_id}/core-memory/blocks/detach/{block_id}", summary="Detach a memory block")
async def detach_block(
    agent_id: str = AgentId,
    block_id: str = BlockId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return await agent_state(
        svc, await svc.agents.changes.attach_block(owner, agent_id, block_id, attach=False)
    )


@router.patch("/{agent_id}/core-memory/blocks/{block_label}", summary="Change one of the agent's blocks")
async def update_agent_block(
    body: BlockUpdateIn,
    agent_id: str = AgentId,
    block_label: str = Path(min_length=1, max_length=255),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return block_view(
        await svc.agents.changes.update_agent_block(owner, agent_id, block_label, body.to_change())
    )


def _page(items: list[T], page: PageRequest, key: Any) -> list[T]:
    """A page of a short list held in memory (an agent's tools), with the same cursor rules."""
    ordered = list(reversed(items)) if page.descending else list(items)
    ids = [key(item) for item in ordered]
    start, end = 0, len(ordered)
    if page.after is not None:
        if page.after not in ids:
            raise InvalidRequest(f"cursor {page.after!r} does not name an item of this list")
        start = ids.index(page.after) + 1
    if page.before is not None:
        if page.before not in ids:
            raise InvalidRequest(f"cursor {page.before!r} does not name an item of this list")
        end = ids.index(page.before)
    chosen = ordered[start:end]
    if page.before is not None and page.after is None:
        return chosen[-page.limit :] if page.limit else []
    return chosen[: page.limit]
