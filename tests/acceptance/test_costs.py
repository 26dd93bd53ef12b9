"""The ``cost`` extension through letta-client over real HTTP: each request's cost from its tokens at list
price, the batch's the sum of its requests', the saving against all-direct, and unknown prices as null.

The provider-batch lane's discount is checked where its steps are written (tests/integration/
test_step_costs.py) until that lane runs end to end.
"""

from decimal import Decimal
from typing import Any

from letta_client import Letta
from letta_client.types import BatchJob

from tests.support.polling import wait_for

MODEL = "openai/gpt-4o-mini"  # $0.15 / $0.60 per million tokens: 150 / 600 nano-dollars a token
NANO = Decimal("0.000000001")


def finished(client: Letta, batch_id: str) -> BatchJob:
    return wait_for(
        lambda: (batch := client.batches.retrieve(batch_id)).status in ("completed", "cancelled") and batch,
        timeout=30,
        what=f"batch {batch_id} to end",
    )


def items(client: Letta, batch_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/v1/messages/batches/{batch_id}/items?order=asc&limit=1000", cast_to=object)
    assert isinstance(found, list)
    return found


def test_direct_costs_add_up_from_tokens_to_requests_to_the_batch(live: Letta) -> None:
    agents = [live.agents.create(model=MODEL, name=f"a{i}").id for i in range(3)]
    scripts = ["hello", "[[tool:conversation_search]] look it up", "[[reply:done]] bye"]
    batch = live.batches.create(
        requests=[{"agent_id": a, "input": s} for a, s in zip(agents, scripts, strict=True)]
    )
    done = finished(live, batch.id)

    listed = items(live, batch.id)
    assert [item["step_count"] for item in listed] == [1, 2, 1]
    for item in listed:
        usage, cost = item["usage"], item["cost"]
        expected = (usage["prompt_tokens"] * 150 + usage["completion_tokens"] * 600) * NANO
        assert usage["prompt_tokens"] > 0 and Decimal(cost["total"]) == expected > 0
        assert cost["currency"] == "USD" and cost["direct_equivalent"] == cost["total"]
        assert cost["saved"] == "0" and cost["unpriced_steps"] == 0
        assert cost["by_lane"] == {"direct": cost["total"], "provider_batch": "0"}
        assert item["lane"] == "direct"

    batch_cost = (done.model_extra or {})["cost"]
    assert Decimal(batch_cost["total"]) == sum(Decimal(item["cost"]["total"]) for item in listed)
    assert Decimal(batch_cost["direct_equivalent"]) - Decimal(batch_cost["total"]) == Decimal(
        batch_cost["saved"]
    )
    assert batch_cost["saved"] == "0" and batch_cost["by_lane"]["provider_batch"] == "0"
    assert batch_cost["by_lane"]["direct"] == batch_cost["total"]
    listed_batch = next(b for b in live.batches.list() if b.id == batch.id)
    assert (listed_batch.model_extra or {})["cost"] == batch_cost


def test_a_model_without_a_price_has_an_unknown_cost_and_makes_the_batch_total_unknown(live: Letta) -> None:
    priced = live.agents.create(model=MODEL, name="priced").id
    unpriced = live.agents.create(model="openai/gpt-nobody-prices-this", name="unpriced").id
    batch = live.batches.create(
        requests=[{"agent_id": priced, "input": "hi"}, {"agent_id": unpriced, "input": "hi"}]
    )
    done = finished(live, batch.id)

    known, unknown = items(live, batch.id)
    assert known["status"] == unknown["status"] == "succeeded"
    assert Decimal(known["cost"]["total"]) > 0
    assert unknown["cost"] == {
        "currency": "USD",
        "total": None,
        "direct_equivalent": None,
        "saved": None,
        "by_lane": None,
        "unpriced_steps": 1,
    }
    batch_cost = (done.model_extra or {})["cost"]
    assert batch_cost["total"] is None and batch_cost["unpriced_steps"] == 1


def test_a_batch_before_any_step_costs_nothing_yet(client: Letta) -> None:
    agent = client.agents.create(model=MODEL, name="idle").id
    batch = client.batches.create(requests=[{"agent_id": agent, "input": "x"}])
    cost = (client.batches.retrieve(batch.id).model_extra or {})["cost"]
    assert cost["total"] == cost["direct_equivalent"] == cost["saved"] == "0"
    (item,) = items(client, batch.id)
    assert item["lane"] is None and item["cost"]["total"] == "0"
