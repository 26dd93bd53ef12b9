"""Per-batch ``priority``: among ready requests, a higher-priority batch's are claimed first."""

from typing import Any

import pytest
from letta_client import BadRequestError, Letta, UnprocessableEntityError

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for

MODEL = "openai/gpt-4o-mini"


def _items(client: Letta, batch_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/v1/messages/batches/{batch_id}/items?order=asc&limit=1000", cast_to=object)
    assert isinstance(found, list)
    return found


def test_a_higher_priority_batch_is_run_before_an_older_lower_one(
    sqlite_url: str, emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, emulator)
    with ServerThread(live_settings(sqlite_url, run_worker=False)) as api_only:
        client = Letta(base_url=api_only.base_url, max_retries=0)
        agents = [client.agents.create(model=MODEL).id for _ in range(8)]
        low = client.batches.create(requests=[{"agent_id": a, "input": "low"} for a in agents[:4]]).id
        plain = client.batches.create(requests=[{"agent_id": a, "input": "plain"} for a in agents[4:6]]).id
        high = client.batches.create(
            requests=[{"agent_id": a, "input": "high"} for a in agents[6:]], extra_body={"priority": 10}
        )
        assert high.model_extra and high.model_extra["priority"] == 10
        assert client.batches.retrieve(low).model_extra["priority"] == 0  # type: ignore[index]

    with ServerThread(live_settings(sqlite_url, turns_per_model=1, model_concurrency=1)) as worker:
        client = Letta(base_url=worker.base_url, max_retries=0)
        for batch_id in (low, plain, high.id):
            wait_for(lambda b=batch_id: client.batches.retrieve(b).status == "completed", what="every batch")
        started = {
            batch_id: sorted(item["started_at"] for item in _items(client, batch_id))
            for batch_id in (low, plain, high.id)
        }

    assert started[high.id][-1] < started[low][0], "every high-priority request ran before the older batch's"
    assert started[high.id][-1] < started[plain][0]
    assert started[low][-1] < started[plain][0], "equal priority: oldest first"


def test_priority_must_be_an_integer_in_range(sqlite_url: str) -> None:
    with ServerThread(live_settings(sqlite_url, run_worker=False)) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        agent = client.agents.create(model=MODEL).id
        for bad in ("urgent", 10**30, 1.5):
            with pytest.raises((UnprocessableEntityError, BadRequestError), match="priority"):
                client.batches.create(
                    requests=[{"agent_id": agent, "input": "x"}], extra_body={"priority": bad}
                )
        assert list(client.batches.list()) == []
