"""The part of Letta's ``/v1/agents`` a batch needs."""

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from agentbatch.api.auth import caller
from agentbatch.api.paging import page_params
from agentbatch.api.responses import OrjsonResponse
from agentbatch.api.routes.agent_states import agent_state, agent_states
from agentbatch.api.schemas.agents import CreateAgentIn
from agentbatch.api.schemas.turns import SendMessageIn
from agentbatch.api.services import ApiServices, services
from agentbatch.api.views.agents import agent_view
from agentbatch.api.views.messages import RenderOptions, letta_messages
from agentbatch.domain.errors import InvalidRequest, NotFound
from agentbatch.domain.ids import IdPrefix, id_pattern
from agentbatch.domain.paging import PageRequest
from agentbatch.domain.turn_requests import DEFAULT_ASSISTANT_TOOL_KWARG, DEFAULT_ASSISTANT_TOOL_NAME
from agentbatch.store import agents as agent_store
from agentbatch.store import messages as message_store

router = APIRouter(prefix="/v1/agents", tags=["agents"], default_response_class=OrjsonResponse)
AgentId = Path(pattern=id_pattern(IdPrefix.AGENT), description="agent-<uuid4>")


@router.post("/", summary="Create an agent")
@router.post("", include_in_schema=False)
async def create_agent(
    body: CreateAgentIn, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    return agent_view(await svc.agents.create_agent(owner, body.to_new_agent()))


@router.get("/", summary="List agents")
@router.get("", include_in_schema=False)
async def list_agents(
    page: PageRequest = Depends(page_params),
    name: str | None = Query(default=None),
    tags: list[str] | None = Query(default=None),
    match_all_tags: bool = Query(default=False),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        found = await agent_store.list_agents(
            conn, owner, page, name=name, tags=tags or (), match_all_tags=match_all_tags
        )
    return await agent_states(svc, found)


@router.get("/{agent_id}", summary="Retrieve an agent")
async def retrieve_agent(
    agent_id: str = AgentId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        agent = await agent_store.get_agent(conn, owner, agent_id)
    if agent is None:
        raise NotFound(f"Agent {agent_id} not found")
    return await agent_state(svc, agent)


@router.delete("/{agent_id}", summary="Delete an agent and its history")
async def delete_agent(
    agent_id: str = AgentId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    await svc.agents.delete_agent(owner, agent_id)
    return {}


@router.get("/{agent_id}/messages", summary="An agent's history as Letta messages")
async def list_agent_messages(
    agent_id: str = AgentId,
    page: PageRequest = Depends(page_params),
    use_assistant_message: bool = Query(default=True),
    assistant_message_tool_name: str = Query(default=DEFAULT_ASSISTANT_TOOL_NAME),
    assistant_message_tool_kwarg: str = Query(default=DEFAULT_ASSISTANT_TOOL_KWARG),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> list[dict[str, Any]]:
    async with svc.db.read() as conn:
        if await agent_store.get_agent(conn, owner, agent_id) is None:
            raise NotFound(f"Agent {agent_id} not found")
        found = await message_store.list_agent_messages(conn, owner, agent_id, page)
    options = RenderOptions(use_assistant_message, assistant_message_tool_name, assistant_message_tool_kwarg)
    return letta_messages(found, options)


@router.post("/{agent_id}/messages", summary="Send messages and wait for the agent's turn to end")
async def send_message(
    body: SendMessageIn,
    agent_id: str = AgentId,
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    if body.streaming:
        raise InvalidRequest("streaming responses are not supported by this server; send streaming=false")
    request = body.to_request()
    outcome = await svc.turns.send(owner, agent_id, request)
    options = RenderOptions.of(request)
    return {
        "messages": letta_messages(outcome.messages, options),
        "stop_reason": {"message_type": "stop_reason", "stop_reason": outcome.stop.value},
        "usage": {
            "message_type": "usage_statistics",
            "prompt_tokens": outcome.prompt_tokens,
            "completion_tokens": outcome.completion_tokens,
            "total_tokens": outcome.prompt_tokens + outcome.completion_tokens,
            "step_count": outcome.steps,
            "cached_input_tokens": outcome.cached_tokens,
            "cache_write_tokens": outcome.cache_write_tokens,
        },
    }
