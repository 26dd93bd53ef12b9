"""The ``cost`` extension field (on every BatchJob, ``/items`` entry and results line) and an item's lane.

Amounts are exact decimal **strings** of US dollars (``"0.00042"``), never floats: they are sums of
integer nano-dollars (``domain/pricing.py``) and JSON numbers would invite float arithmetic. When any
step ran on a model without a price the amounts are ``null`` (unknown) and ``unpriced_steps`` says how
many steps that was.
"""

from typing import Any

from agentbatch.domain.lanes import Lane
from agentbatch.domain.pricing import CostTotals, usd

MIXED_LANES = "mixed"


def cost_view(totals: CostTotals) -> dict[str, Any]:
    if not totals.known:
        return {
            "currency": "USD",
            "total": None,
            "direct_equivalent": None,
            "saved": None,
            "by_lane": None,
            "unpriced_steps": totals.unpriced_steps,
        }
    return {
        "currency": "USD",
        "total": usd(totals.nanos),
        "direct_equivalent": usd(totals.direct_nanos),
        "saved": usd(totals.saved_nanos),
        "by_lane": {
            Lane.DIRECT.value: usd(totals.direct_lane_nanos),
            Lane.PROVIDER_BATCH.value: usd(totals.provider_batch_nanos),
        },
        "unpriced_steps": 0,
    }


def item_lane(step_count: int, totals: CostTotals) -> str | None:
    """``direct``, ``provider_batch`` or ``mixed`` by the lanes its steps took; None before any step."""
    if step_count == 0:
        return None
    if totals.provider_batch_steps == 0:
        return Lane.DIRECT.value
    if totals.provider_batch_steps >= step_count:
        return Lane.PROVIDER_BATCH.value
    return MIXED_LANES
