"""The engine's command objects on a fresh, migrated SQLite file: what the API calls, without the API."""

import pytest
from sqlalchemy import func, select

from agentbatch.domain.agents import Agent
from agentbatch.domain.turn_requests import InputMessage, TurnRequest
from agentbatch.engine.agent_commands import AgentCommands, NewAgent, NewBlock
from agentbatch.engine.batch_commands import BatchCommands, TurnSubmission
from agentbatch.engine.signals import EngineSignals
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.store import tables
from agentbatch.store.database import Database

OWNER = "user-00000000-0000-4000-8000-000000000001"
MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def db(sqlite_copy: Database) -> Database:
    return sqlite_copy


@pytest.fixture
def signals() -> EngineSignals:
    return EngineSignals()


@pytest.fixture
def agents(db: Database, signals: EngineSignals) -> AgentCommands:
    return AgentCommands(db, ProviderCatalog(), signals)


@pytest.fixture
def batches(db: Database, signals: EngineSignals) -> BatchCommands:
    return BatchCommands(db, signals)


async def new_agent(agents: AgentCommands, name: str = "helper", **fields: object) -> Agent:
    """An agent of ``MODEL`` with a ``persona`` block, unless ``fields`` say otherwise."""
    spec = NewAgent(name=name, model=MODEL, memory_blocks=[NewBlock("persona", "I help.")])
    for key, value in fields.items():
        setattr(spec, key, value)
    return await agents.create_agent(OWNER, spec)


def turn(agent_id: str, text: str = "hello") -> TurnSubmission:
    message = InputMessage(role="user", content=({"type": "text", "text": text},))
    return TurnSubmission(agent_id, TurnRequest(messages=(message,)))


async def rows(db: Database, table_name: str) -> int:
    """How many rows ``table_name`` holds: to show that a refused command wrote nothing."""
    table = getattr(tables, table_name)
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
