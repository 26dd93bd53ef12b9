"""What the routes need, handed over by the composition root (``agentbatch.server``)."""

from dataclasses import dataclass

from fastapi import Request

from agentbatch.engine.agent_commands import AgentCommands
from agentbatch.engine.batch_commands import BatchCommands
from agentbatch.engine.turn_commands import TurnCommands
from agentbatch.settings import Settings
from agentbatch.store.database import Database


@dataclass(frozen=True, slots=True)
class ApiServices:
    settings: Settings
    db: Database
    agents: AgentCommands
    batches: BatchCommands
    turns: TurnCommands


def services(request: Request) -> ApiServices:
    found: ApiServices = request.app.state.services
    return found
