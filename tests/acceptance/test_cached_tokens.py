"""Cached prompt tokens through real HTTP: the providers' cache reads (and Anthropic's cache writes) are
recorded per step, shown in the usage of ``/items``, the results and the BatchJob, and priced at the
cached-input (and cache-write) price, in both lanes."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from letta_client import Letta

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.acceptance.test_costs import NANO, finished, items
from tests.support.live import point_sdks_at

# Nano-dollars per token (the default list prices): input, cached input, cache write, output.
PRICES = {
    "openai/gpt-4o-mini": (150, 75, 150, 600),
    "anthropic/claude-haiku-4-5": (1000, 100, 1250, 5000),
}


@pytest.fixture
def server(
    database_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerThread]:
    point_sdks_at(monkeypatch, fresh_emulator)
    settings = live_settings(
        database_url, lane_gather_window_s=0.05, lane_poll_min_s=0.05, lane_poll_max_s=0.3
    )
    with ServerThread(settings) as running:
        yield running


def _results(base_url: str, batch_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base_url}/v1/messages/batches/{batch_id}/results", timeout=30)
    return [orjson.loads(line) for line in response.text.splitlines() if line]


@pytest.mark.parametrize("dispatch", ["direct", "provider_batch"])
@pytest.mark.parametrize("model", list(PRICES))
def test_cached_prompt_tokens_are_shown_and_priced_at_the_cached_price(
    server: ServerThread, model: str, dispatch: str
) -> None:
    client = Letta(base_url=server.base_url, max_retries=0)
    agent = client.agents.create(model=model).id
    batch = client.batches.create(
        requests=[{"agent_id": agent, "input": "[[cache:6:3]] [[tool:conversation_search]] q"}],
        extra_body={"dispatch": dispatch},
    )
    done = finished(client, batch.id)

    (item,) = items(client, batch.id)
    usage = item["usage"]
    writes = 3 if model.startswith("anthropic/") else 0  # OpenAI reports no cache writes
    assert item["step_count"] == 2
    assert (usage["cached_input_tokens"], usage["cache_write_tokens"]) == (12, 2 * writes)
    batch_usage = (done.model_extra or {})["usage"]
    assert (batch_usage["cached_input_tokens"], batch_usage["cache_write_tokens"]) == (12, 2 * writes)
    (line,) = _results(server.base_url, batch.id)
    assert line["usage"]["cached_input_tokens"] == 12 and line["usage"]["cache_write_tokens"] == 2 * writes

    full, cached, written, output = PRICES[model]
    uncached = usage["prompt_tokens"] - 12 - 2 * writes
    expected = (
        uncached * full + 12 * cached + 2 * writes * written + usage["completion_tokens"] * output
    ) * NANO
    cost = item["cost"]
    assert Decimal(cost["direct_equivalent"]) == expected
    if dispatch == "direct":
        assert Decimal(cost["total"]) == expected
    else:  # half price, each step rounded once to whole nano-dollars
        assert abs(Decimal(cost["total"]) - expected / 2) <= 2 * NANO
    assert (done.model_extra or {})["cost"]["total"] == cost["total"]
