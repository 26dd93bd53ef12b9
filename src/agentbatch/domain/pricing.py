"""What model calls cost: a price table per model handle and the arithmetic, in integer nano-dollars.

Money is never a float here. A price is a ``Decimal`` in US dollars per million tokens; the cost of a
step is computed exactly and rounded once (half to even) to whole nano-dollars (1e-9 USD), the unit the
database stores and sums. Sums of integers add up exactly, so ``direct_equivalent - total == saved`` holds
for a step, an item and a batch alike.

A step that went through a provider's batch API (lane ``provider_batch``) is charged at the batch
discount (50% at OpenAI and Anthropic); its *direct equivalent* is what the same tokens cost by a direct
call. A model with no price is *unpriced*: its cost is unknown (``None``), never zero and never an error.

The defaults below are the list prices OpenAI and Anthropic publish (OpenAI's pricing page as of March
2026, Anthropic's pricing page as of 2026; looked up on 2026-11-30). Prices change: override any model,
or price one of your own providers, in the providers file (``providers/catalog.py``)::

    [prices."openai/gpt-4o-mini"]
    input = 0.15            # USD per million input tokens
    output = 0.60           # USD per million output tokens
    cached_input = 0.075    # optional; default: the input price
    cache_write_input = 0.15  # optional; default: the input price
    batch_discount = 0.5    # optional; default 0.5 (half price in the provider-batch lane)

Cached prompt tokens: a step's ``prompt_tokens`` count its whole prompt; of those, ``cached_tokens`` were
read from the provider's prompt cache (OpenAI ``usage.prompt_tokens_details.cached_tokens``, Anthropic
``cache_read_input_tokens``) and are priced at ``cached_input``; ``cache_write_tokens`` were written to
it (Anthropic ``cache_creation_input_tokens``) and are priced at ``cache_write_input`` (Anthropic: 1.25 times
the input price for its default 5-minute cache; OpenAI does not charge for writes). The batch discount
applies to all of them, as both vendors' batch APIs apply it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from agentbatch.domain.lanes import Lane

NANOS_PER_USD = 1_000_000_000
_NANOS_PER_TOKEN_AT_ONE_USD_PER_MILLION = Decimal(NANOS_PER_USD) / Decimal(1_000_000)
DEFAULT_BATCH_DISCOUNT = Decimal("0.5")
_SNAPSHOT_SUFFIX = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """List prices of one model, in USD per million tokens."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    batch_discount: Decimal = DEFAULT_BATCH_DISCOUNT
    """The share taken off in the provider-batch lane: 0.5 is half price."""
    cache_write_input: Decimal | None = None
    """Per million prompt tokens written to the prompt cache; None: the input price."""

    def __post_init__(self) -> None:
        for name in ("input", "output", "cached_input", "cache_write_input"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"price {name} must not be negative, got {value}")
        if not Decimal(0) <= self.batch_discount <= Decimal(1):
            raise ValueError(f"batch_discount must be between 0 and 1, got {self.batch_discount}")


@dataclass(frozen=True, slots=True)
class StepCost:
    """What one step cost, and what it would have cost as a direct call (nano-dollars)."""

    nanos: int
    direct_nanos: int

    @property
    def saved_nanos(self) -> int:
        return self.direct_nanos - self.nanos


def _price(input_usd: str, output_usd: str, cached_usd: str) -> ModelPrice:
    return ModelPrice(Decimal(input_usd), Decimal(output_usd), Decimal(cached_usd))


_ANTHROPIC_CACHE_WRITE = Decimal("1.25")
"""Anthropic's 5-minute cache write: 1.25 times the model's input price (its pricing page)."""


def _anthropic(input_usd: str, output_usd: str, cached_usd: str) -> ModelPrice:
    base = Decimal(input_usd)
    return ModelPrice(
        base, Decimal(output_usd), Decimal(cached_usd), cache_write_input=base * _ANTHROPIC_CACHE_WRITE
    )


DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    # OpenAI (standard tier; the Batch API takes 50% off)
    "openai/gpt-4o-mini": _price("0.15", "0.60", "0.075"),
    "openai/gpt-4o": _price("2.50", "10.00", "1.25"),
    "openai/gpt-4.1": _price("2.00", "8.00", "0.50"),
    "openai/gpt-4.1-mini": _price("0.40", "1.60", "0.10"),
    "openai/gpt-4.1-nano": _price("0.10", "0.40", "0.025"),
    "openai/o3": _price("2.00", "8.00", "0.50"),
    "openai/o4-mini": _price("1.10", "4.40", "0.275"),
    "openai/gpt-5": _price("1.25", "10.00", "0.125"),
    "openai/gpt-5.1": _price("1.25", "10.00", "0.125"),
    "openai/gpt-5-mini": _price("0.25", "2.00", "0.025"),
    "openai/gpt-5-nano": _price("0.05", "0.40", "0.005"),
    # Anthropic (cached input = cache hits; Message Batches take 50% off)
    "anthropic/claude-haiku-4-5": _anthropic("1", "5", "0.10"),
    "anthropic/claude-3-5-haiku": _anthropic("0.80", "4", "0.08"),
    "anthropic/claude-sonnet-4": _anthropic("3", "15", "0.30"),
    "anthropic/claude-sonnet-4-0": _anthropic("3", "15", "0.30"),
    "anthropic/claude-sonnet-4-5": _anthropic("3", "15", "0.30"),
    "anthropic/claude-opus-4": _anthropic("15", "75", "1.50"),
    "anthropic/claude-opus-4-0": _anthropic("15", "75", "1.50"),
    "anthropic/claude-opus-4-1": _anthropic("15", "75", "1.50"),
    "anthropic/claude-opus-4-5": _anthropic("5", "25", "0.50"),
}


class PriceTable:
    """Prices by model handle (``provider/model``): the defaults, then the operator's overrides."""

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices = {**DEFAULT_PRICES, **(overrides or {})}

    def price(self, handle: str) -> ModelPrice | None:
        """The handle's price; a dated snapshot (``gpt-4o-mini-2024-07-18``, ``…-20251001``) or a
        ``-latest`` alias falls back to its family's. None when the model has no price."""
        found = self._prices.get(handle)
        if found is None:
            found = self._prices.get(_SNAPSHOT_SUFFIX.sub("", handle))
        return found

    def step_cost(
        self,
        handle: str,
        lane: Lane,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> StepCost | None:
        price = self.price(handle)
        if price is None:
            return None
        return step_cost(price, lane, prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens)


def step_cost(
    price: ModelPrice,
    lane: Lane,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> StepCost:
    """The exact cost of one model call, rounded once to nano-dollars. ``cached_tokens`` and
    ``cache_write_tokens`` are the parts of ``prompt_tokens`` the provider read from and wrote to its
    prompt cache."""
    cached = min(max(cached_tokens, 0), prompt_tokens)
    written = min(max(cache_write_tokens, 0), prompt_tokens - cached)
    cached_price = price.input if price.cached_input is None else price.cached_input
    write_price = price.input if price.cache_write_input is None else price.cache_write_input
    usd_per_million_tokens = (
        (prompt_tokens - cached - written) * price.input
        + cached * cached_price
        + written * write_price
        + completion_tokens * price.output
    )
    direct = usd_per_million_tokens * _NANOS_PER_TOKEN_AT_ONE_USD_PER_MILLION
    charged = direct * (1 - price.batch_discount) if lane is Lane.PROVIDER_BATCH else direct
    return StepCost(nanos=_whole(charged), direct_nanos=_whole(direct))


def _whole(nanos: Decimal) -> int:
    return int(nanos.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def usd(nanos: int) -> str:
    """Nano-dollars as an exact decimal string of US dollars: 150000 -> '0.00015', 0 -> '0'."""
    return format((Decimal(nanos) / NANOS_PER_USD).normalize(), "f")


@dataclass(slots=True)
class CostTotals:
    """The cost of many steps (an item's, a batch's), in nano-dollars, split by lane.

    Amounts cover priced steps only; when any step was unpriced (``unpriced_steps``), the total is
    unknown and shown as null rather than as a misleading partial sum."""

    nanos: int = 0
    direct_nanos: int = 0
    provider_batch_nanos: int = 0
    unpriced_steps: int = 0
    provider_batch_steps: int = 0

    @property
    def known(self) -> bool:
        return self.unpriced_steps == 0

    @property
    def saved_nanos(self) -> int:
        return self.direct_nanos - self.nanos

    @property
    def direct_lane_nanos(self) -> int:
        return self.nanos - self.provider_batch_nanos
