"""Custom tools: Python source plus a JSON schema, run in a sandbox when an agent calls them."""

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from agentbatch.api.auth import caller
from agentbatch.api.paging import page_params
from agentbatch.api.responses import OrjsonResponse
from agentbatch.api.schemas.agent_changes import ToolUpdateIn
from agentbatch.api.schemas.agents import CreateToolIn
from agentbatch.api.services import ApiServices, services
from agentbatch.api.views.agents import tool_view
from agentbatch.domain.errors import NotFound
from agentbatch.domain.ids import IdPrefix, id_pattern
from agentbatch.domain.paging import PageRequest
from agentbatch.store import tools as tool_store

router = APIRouter(prefix="/v1/tools", tags=["tools"], default_response_class=OrjsonResponse)
ToolId = Path(pattern=id_pattern(IdPrefix.TOOL), description="tool-<uuid4>")


@router.post("/", summary="Register a custom tool")
@router.post("", include_in_schema=False)
async def create_tool(
    body: CreateToolIn, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    return tool_view(await svc.agents.create_tool(owner, body.to_tool()))


@router.put("/", summary="Create a tool, or replace your tool of the same name")
@router.put("", include_in_schema=False)
async def upsert_tool(
    body: CreateToolIn, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    return tool_view(await svc.agents.tools.upsert(owner, body.to_tool()))


@router.get("/", summary="List tools (built-in and your own)")
@router.get("", include_in_schema=False)
async def list_tools(
    page: PageRequest = Depends(page_params),
    name: str | None = Query(default=None),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        found = await tool_store.list_tools(conn, owner, page, name=name)
    return [tool_view(tool) for tool in found]


@router.get("/{tool_id}", summary="Retrieve a tool")
async def retrieve_tool(
    tool_id: str = ToolId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        found = await tool_store.tools_by_id(conn, owner, [tool_id])
    if tool_id not in found:
        raise NotFound(f"Tool {tool_id} not found")
    return tool_view(found[tool_id])


@router.patch("/{tool_id}", summary="Change a custom tool (a new source gives a new schema)")
async def update_tool(
    body: ToolUpdateIn,
    tool_id: str = ToolId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    return tool_view(await svc.agents.tools.update(owner, tool_id, body.to_patch()))


@router.delete("/{tool_id}", summary="Delete a custom tool")
async def delete_tool(
    tool_id: str = ToolId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    await svc.agents.delete_tool(owner, tool_id)
    return {}
