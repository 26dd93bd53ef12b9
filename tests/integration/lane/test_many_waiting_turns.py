"""Hundreds of lane turns waiting for one provider batch share the lane's one waiter: they all get
their answers while the lane holds a couple of database connections, however many turns wait. (With a
read per waiting turn, 300 turns took up to the whole connection pool at once and a read each.)"""

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from agentbatch.domain.messages import Message, Role, text_part
from agentbatch.domain.turn_records import ClaimedItem
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.engine.lane.dispatcher import LaneDispatcher, LaneSettings
from agentbatch.engine.lane.submission import Submitter
from agentbatch.providers.base import ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle, ProviderCatalog
from agentbatch.store.database import Database
from agentbatch.store.migrate import upgrade
from agentbatch.store.tables import batch_items, batches
from tests.support.live import point_sdks_at

TURNS = 300
HANDLE = ModelHandle("anthropic", "claude-haiku-4-5")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(batch_delay_s=1.0)) as running:
        yield running


class Connections:
    """Connections the lane checks out of the pool: how many in all, and the most at once."""

    def __init__(self, db: Database) -> None:
        self.out = self.most = self.taken = 0
        pool = db.engine.sync_engine.pool
        event.listen(pool, "checkout", self._checkout)
        event.listen(pool, "checkin", self._checkin)

    def _checkout(self, *_: Any) -> None:
        self.out += 1
        self.taken += 1
        self.most = max(self.most, self.out)

    def _checkin(self, *_: Any) -> None:
        self.out -= 1


def _item(n: int) -> ClaimedItem:
    return ClaimedItem(
        id=f"batch_item-{n}",
        batch_id="batch-many",
        agent_id=f"agent-{n}",
        owner_id="user-1",
        model=str(HANDLE),
        request=TurnRequest(),
        step_count=0,
        lease_owner="worker-1",
        started_at=NOW,
    )


async def _running_items(db: Database) -> None:
    """The turns' items, running (the poller cancels a provider batch nobody's running item waits for)."""
    async with db.write() as conn:
        await conn.execute(
            batches.insert().values(
                id="batch-many",
                owner_id="user-1",
                status="running",
                request_count=TURNS,
                created_at=NOW,
                updated_at=NOW,
                dispatch="provider_batch",
            )
        )
        await conn.execute(
            batch_items.insert(),
            [
                {
                    "id": item.id,
                    "batch_id": item.batch_id,
                    "owner_id": item.owner_id,
                    "agent_id": item.agent_id,
                    "model": item.model,
                    "position": n,
                    "status": "running",
                    "ready": True,
                    "request": {},
                    "created_at": NOW,
                }
                for n, item in enumerate(map(_item, range(TURNS)))
            ],
        )


def _request(n: int) -> ModelRequest:
    said = Message(
        id=f"message-{n}",
        agent_id=f"agent-{n}",
        role=Role.USER,
        created_at=NOW,
        content=[text_part(f"hi {n}")],
    )
    return ModelRequest(model=HANDLE.model, system="Be brief.", messages=[said], max_tokens=64)


def test_three_hundred_waiting_lane_turns_hold_no_connection_each(
    database_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.app.state.reset()
    point_sdks_at(monkeypatch, emulator)

    async def scenario() -> tuple[list[ModelResponse], Connections]:
        db = Database(database_url, pool_size=1)  # PostgreSQL: 1 + 1 overflow; SQLite: counted below
        await upgrade(db)
        await _running_items(db)
        submitter = Submitter(
            db,
            ProviderCatalog(),
            "worker-1",
            poll_min_s=0.05,
            poll_max_s=0.2,
            single_process=True,
            orphan_after_s=60,
        )
        settings = LaneSettings(gather_window_s=0.3, gather_max=TURNS, poll_min_s=0.05, poll_max_s=0.2)
        dispatcher = LaneDispatcher(db, submitter, settings)
        connections = Connections(db)
        lane = asyncio.create_task(dispatcher.run())
        try:
            turns = [dispatcher.complete(_item(n), 1, HANDLE, _request(n)) for n in range(TURNS)]
            answers = await asyncio.wait_for(asyncio.gather(*turns), 60)
            return answers, connections
        finally:
            lane.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lane
            await db.dispose()

    answers, connections = asyncio.run(scenario())
    assert len(answers) == TURNS and all(answer.text for answer in answers)
    assert len(emulator.app.state.anthropic_batches.newest_first()) == 1  # all in one provider batch
    # The waiter, the poller and a submission: one connection each at most, never one per turn.
    assert connections.most <= 3, f"{connections.most} connections were out at once"
    assert connections.taken < TURNS // 3, f"{connections.taken} checkouts for {TURNS} waiting turns"
