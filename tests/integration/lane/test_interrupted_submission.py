"""A process killed between recording a provider batch and storing the provider's id: the next
worker finds the batch at the provider (OpenAI: its metadata; Anthropic: listed batches) and adopts it
instead of sending its requests again; a submission that never got there is resent under new ids."""

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest

from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.server import EmulatorThread
from agentbatch.engine.lane.submission import Submitter
from agentbatch.providers.anthropic_batches import AnthropicBatches
from agentbatch.providers.catalog import ProviderCatalog
from agentbatch.providers.openai_batches import OpenAIBatches
from agentbatch.providers.provider_batches import BatchApi, RequestLine
from agentbatch.store import provider_batches as lane_store
from agentbatch.store.database import Database
from agentbatch.store.migrate import upgrade
from agentbatch.store.tables import provider_batches
from tests.support.live import point_sdks_at

BODIES = {
    "openai": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    "anthropic": {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    },
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(EmulatorConfig(batch_delay_s=0.2)) as running:
        yield running


def _api(provider: str, emulator: EmulatorThread) -> BatchApi:
    if provider == "anthropic":
        return AnthropicBatches(base_url=emulator.base_url, api_key="k")
    return OpenAIBatches(base_url=f"{emulator.base_url}/v1", api_key="k")


def _provider_batches(emulator: EmulatorThread, provider: str) -> int:
    state = emulator.app.state
    store = state.anthropic_batches if provider == "anthropic" else state.openai_batches
    return len(store.newest_first())


async def _interrupted(db: Database, api: BatchApi, provider: str, *, reached_provider: bool) -> str:
    """What a killed process leaves behind: the intent recorded, perhaps the batch created, no id stored."""
    row = lane_store.ProviderBatchRow(
        id="lane-interrupted",
        provider=provider,
        model="m",
        provider_batch_id=None,
        status=lane_store.SUBMITTING,
        request_count=2,
        created_at=datetime.now(UTC),
    )
    requests = [
        lane_store.LaneRequest(f"batch_item-x{i}-1-1", row.id, f"batch_item-x{i}", None, 1, 1)
        for i in range(2)
    ]
    async with db.write() as conn:
        await lane_store.record_submission(conn, row, "worker-dead", requests)
    if reached_provider:
        body = orjson.dumps(BODIES[provider])
        return await api.submit(row.id, [RequestLine(r.custom_id, body) for r in requests])
    return ""


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("reached_provider", [True, False])
def test_an_interrupted_submission_is_adopted_or_resent_never_duplicated(
    database_url: str,
    emulator: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
    reached_provider: bool,
) -> None:
    emulator.app.state.reset()
    point_sdks_at(monkeypatch, emulator)

    async def scenario() -> list[lane_store.LaneRequest]:
        db = Database(database_url)
        await upgrade(db)
        api = _api(provider, emulator)
        created = await _interrupted(db, api, provider, reached_provider=reached_provider)
        await api.close()
        submitter = Submitter(
            db,
            ProviderCatalog(),
            "worker-new",
            poll_min_s=0.05,
            poll_max_s=0.2,
            single_process=True,
            orphan_after_s=1.0,
        )
        poller = asyncio.create_task(submitter.poll_forever())
        try:
            for _ in range(200):
                async with db.read() as conn:
                    requests = await lane_store.requests_of(conn, "lane-interrupted")
                if all(r.state != lane_store.SUBMITTED for r in requests):
                    break
                await asyncio.sleep(0.05)
            async with db.read() as conn:
                rows = await conn.execute(provider_batches.select())
                batch = rows.one()
            assert batch.status == lane_store.ENDED
            assert batch.provider_batch_id == (created or None)
            return requests
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            await submitter.close()
            await db.dispose()

    requests = asyncio.run(scenario())

    assert _provider_batches(emulator, provider) == (1 if reached_provider else 0)  # never sent twice
    if reached_provider:
        assert [r.state for r in requests] == ["succeeded", "succeeded"]  # adopted, results picked up
        assert all(r.result for r in requests)
    else:
        assert [(r.state, r.retryable) for r in requests] == [("lost", True)] * 2  # resent under attempt 2
