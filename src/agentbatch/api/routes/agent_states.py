"""Agents as full ``AgentState``s: with their message ids and the approval request they wait on."""

from collections.abc import Sequence
from typing import Any

from agentbatch.api.services import ApiServices
from agentbatch.api.views.agents import agent_view
from agentbatch.api.views.messages import RenderOptions, letta_messages
from agentbatch.domain.agents import Agent
from agentbatch.domain.states import StopReason
from agentbatch.store import agent_runs

_DEFAULT_RENDER = RenderOptions()


async def agent_states(svc: ApiServices, agents: Sequence[Agent]) -> list[dict[str, Any]]:
    """Two small queries for the whole page; only agents whose last turn paused are searched for a
    pending approval request."""
    ids = [agent.id for agent in agents]
    paused = [agent.id for agent in agents if agent.last_stop_reason == StopReason.REQUIRES_APPROVAL.value]
    async with svc.db.read() as conn:
        message_ids = await agent_runs.message_ids(conn, ids)
        requests = await agent_runs.latest_approval_requests(conn, paused)
    views = []
    for agent in agents:
        pending = None
        if agent.id in requests:
            rendered = letta_messages([requests[agent.id]], _DEFAULT_RENDER)
            pending = next((m for m in rendered if m["message_type"] == "approval_request_message"), None)
        views.append(agent_view(agent, message_ids[agent.id], pending))
    return views


async def agent_state(svc: ApiServices, agent: Agent) -> dict[str, Any]:
    return (await agent_states(svc, [agent]))[0]
