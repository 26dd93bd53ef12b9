"""Pricing at its edges: token counts out of range, extreme discounts, snapshot names, cost totals."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentbatch.domain.lanes import Lane
from agentbatch.domain.pricing import (
    DEFAULT_PRICES,
    CostTotals,
    ModelPrice,
    PriceTable,
    StepCost,
    step_cost,
    usd,
)

# 1 nano-dollar per input token, 2 per output, 0.5 per cached, 4 per cache write: easy to read sums
PRICE = ModelPrice(Decimal("1"), Decimal("2"), Decimal("0.5"), cache_write_input=Decimal("4"))
PER_TOKEN = 1_000  # nanos per token at $1 per million


def test_cached_tokens_above_the_prompt_are_capped_at_the_prompt() -> None:
    capped = step_cost(PRICE, Lane.DIRECT, 100, 0, cached_tokens=1_000)
    assert capped == step_cost(PRICE, Lane.DIRECT, 100, 0, cached_tokens=100)
    assert capped.nanos == 100 * PER_TOKEN // 2


def test_negative_cache_counts_are_read_as_none_cached() -> None:
    assert step_cost(PRICE, Lane.DIRECT, 100, 10, cached_tokens=-5, cache_write_tokens=-5) == step_cost(
        PRICE, Lane.DIRECT, 100, 10
    )


def test_cache_writes_only_count_for_the_prompt_not_already_read_from_cache() -> None:
    # 80 read + 50 written of a 100-token prompt: only 20 can have been written
    cost = step_cost(PRICE, Lane.DIRECT, 100, 0, cached_tokens=80, cache_write_tokens=50)
    assert cost.nanos == 80 * PER_TOKEN // 2 + 20 * 4 * PER_TOKEN


def test_a_price_without_cached_or_write_prices_charges_the_input_price_for_them() -> None:
    plain = ModelPrice(Decimal("1"), Decimal("2"))
    assert (
        step_cost(plain, Lane.DIRECT, 100, 0, cached_tokens=30, cache_write_tokens=30).nanos
        == 100 * PER_TOKEN
    )


@pytest.mark.parametrize(
    ("discount", "charged"),
    [(Decimal("0"), 300_000), (Decimal("1"), 0), (Decimal("0.25"), 225_000), (Decimal("0.5"), 150_000)],
)
def test_the_batch_discount_applies_only_in_the_provider_batch_lane(discount: Decimal, charged: int) -> None:
    price = ModelPrice(Decimal("1"), Decimal("2"), batch_discount=discount)
    batch = step_cost(price, Lane.PROVIDER_BATCH, 100, 100)
    assert batch == StepCost(nanos=charged, direct_nanos=300_000)
    assert step_cost(price, Lane.DIRECT, 100, 100) == StepCost(300_000, 300_000)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("input", Decimal("-0.01")),
        ("output", Decimal("-1")),
        ("cached_input", Decimal("-1")),
        ("cache_write_input", Decimal("-1")),
        ("batch_discount", Decimal("1.01")),
        ("batch_discount", Decimal("-0.5")),
    ],
)
def test_an_impossible_price_is_refused_with_the_field_named(field: str, value: Decimal) -> None:
    prices: dict[str, Decimal] = {"input": Decimal("1"), "output": Decimal("1"), field: value}
    with pytest.raises(ValueError, match=field):
        ModelPrice(**prices)


@pytest.mark.parametrize(
    ("handle", "family"),
    [
        ("openai/gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"),
        ("openai/gpt-4.1-2025-04-14", "openai/gpt-4.1"),
        ("anthropic/claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5"),
        ("anthropic/claude-3-5-haiku-latest", "anthropic/claude-3-5-haiku"),
    ],
)
def test_dated_snapshots_and_latest_aliases_are_priced_as_their_family(handle: str, family: str) -> None:
    table = PriceTable()
    assert table.price(handle) is not None
    assert table.price(handle) == table.price(family)


@pytest.mark.parametrize(
    "handle",
    [
        "openai/gpt-4o-mini-preview",  # not a snapshot suffix
        "openai/gpt-4o-mini-2024",  # not a whole date
        "azure/gpt-4o-mini",  # the same model name under another provider
        "gpt-4o-mini",  # no provider
        "OPENAI/gpt-4o-mini",
    ],
)
def test_only_known_handles_and_their_snapshots_have_a_price(handle: str) -> None:
    assert PriceTable().price(handle) is None
    assert PriceTable().step_cost(handle, Lane.DIRECT, 10, 10) is None


def test_an_override_for_a_snapshot_wins_over_its_family() -> None:
    special = ModelPrice(Decimal("9"), Decimal("9"))
    table = PriceTable({"openai/gpt-4o-mini-2024-07-18": special})
    assert table.price("openai/gpt-4o-mini-2024-07-18") == special
    assert table.price("openai/gpt-4o-mini") == DEFAULT_PRICES["openai/gpt-4o-mini"]


def test_overrides_do_not_leak_into_other_tables() -> None:
    PriceTable({"openai/gpt-4o": ModelPrice(Decimal("0"), Decimal("0"))})
    assert PriceTable().price("openai/gpt-4o") == DEFAULT_PRICES["openai/gpt-4o"]


def test_anthropic_cache_writes_cost_a_quarter_more_than_input_and_reads_a_tenth() -> None:
    for handle, price in DEFAULT_PRICES.items():
        if handle.startswith("anthropic/"):
            assert price.cache_write_input == price.input * Decimal("1.25"), handle
            assert price.cached_input == price.input / 10, handle
        else:
            assert price.cache_write_input is None, handle  # OpenAI does not charge for writes


def test_every_default_price_is_half_off_in_the_provider_batch_lane() -> None:
    assert {price.batch_discount for price in DEFAULT_PRICES.values()} == {Decimal("0.5")}


@given(
    prompt=st.integers(0, 10_000_000),
    completion=st.integers(0, 1_000_000),
    cached=st.integers(-10, 10_000_000),
    written=st.integers(-10, 10_000_000),
    lane=st.sampled_from(list(Lane)),
    handle=st.sampled_from(sorted(DEFAULT_PRICES)),
)
def test_a_step_never_costs_more_than_its_direct_equivalent_and_never_less_than_zero(
    prompt: int, completion: int, cached: int, written: int, lane: Lane, handle: str
) -> None:
    cost = step_cost(DEFAULT_PRICES[handle], lane, prompt, completion, cached, written)
    assert 0 <= cost.nanos <= cost.direct_nanos
    assert cost.saved_nanos == cost.direct_nanos - cost.nanos
    if lane is Lane.DIRECT:
        assert cost.saved_nanos == 0


@given(st.integers(-(10**15), 10**15))
def test_usd_strings_read_back_as_exactly_the_same_amount(nanos: int) -> None:
    text = usd(nanos)
    assert Decimal(text) * 1_000_000_000 == nanos
    assert "E" not in text and "e" not in text
    assert not text.endswith(".")


def test_cost_totals_split_by_lane_and_are_unknown_once_a_step_is_unpriced() -> None:
    totals = CostTotals(nanos=700, direct_nanos=1_000, provider_batch_nanos=300, provider_batch_steps=1)
    assert totals.known
    assert totals.saved_nanos == 300
    assert totals.direct_lane_nanos == 400
    assert not CostTotals(nanos=700, direct_nanos=1_000, unpriced_steps=1).known
    assert CostTotals().known and CostTotals().saved_nanos == 0
