"""The price table and its arithmetic: exact nano-dollars, the batch discount, unknown models, overrides."""

from decimal import Decimal
from pathlib import Path

import pytest

from agentbatch.domain.lanes import Lane
from agentbatch.domain.pricing import ModelPrice, PriceTable, StepCost, step_cost, usd
from agentbatch.providers.catalog import ProviderCatalog


def test_a_direct_step_costs_its_tokens_at_list_price() -> None:
    cost = PriceTable().step_cost("openai/gpt-4o-mini", Lane.DIRECT, 1_000, 200)
    # 1,000 x $0.15/M + 200 x $0.60/M = $0.00027
    assert cost == StepCost(nanos=270_000, direct_nanos=270_000)
    assert usd(cost.nanos) == "0.00027" and cost.saved_nanos == 0


def test_the_provider_batch_lane_is_half_price_and_the_saving_adds_up() -> None:
    cost = PriceTable().step_cost("anthropic/claude-haiku-4-5", Lane.PROVIDER_BATCH, 1_001, 3)
    assert cost is not None
    assert cost.direct_nanos == 1_001 * 1_000 + 3 * 5_000
    assert cost.nanos == cost.direct_nanos // 2
    assert cost.direct_nanos - cost.nanos == cost.saved_nanos


def test_a_half_nano_rounds_to_even_once() -> None:
    price = ModelPrice(Decimal("0.001"), Decimal("0"))  # 1 nano-dollar per token
    assert step_cost(price, Lane.PROVIDER_BATCH, 1, 0).nanos == 0  # 0.5 -> 0
    assert step_cost(price, Lane.PROVIDER_BATCH, 3, 0).nanos == 2  # 1.5 -> 2


def test_cached_tokens_are_charged_at_the_cached_price() -> None:
    cost = PriceTable().step_cost("openai/gpt-4o", Lane.DIRECT, 1_000, 0, cached_tokens=600)
    assert cost is not None and cost.nanos == 400 * 2_500 + 600 * 1_250


def test_unknown_models_have_no_price_and_snapshots_fall_back_to_their_family() -> None:
    table = PriceTable()
    assert table.step_cost("openai/gpt-unheard-of", Lane.DIRECT, 10, 10) is None
    assert table.step_cost("vllm/llama", Lane.DIRECT, 10, 10) is None
    assert table.price("openai/gpt-4o-mini-2024-07-18") == table.price("openai/gpt-4o-mini")
    assert table.price("anthropic/claude-haiku-4-5-20251001") == table.price("anthropic/claude-haiku-4-5")


def test_usd_strings_are_exact() -> None:
    assert usd(0) == "0"
    assert usd(1) == "0.000000001"
    assert usd(12_500_000_000) == "12.5"
    assert usd(10_000_000_000) == "10"


def test_the_providers_file_overrides_and_adds_prices(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    path.write_text(
        '[prices."openai/gpt-4o-mini"]\ninput = 1\noutput = 2\n\n'
        '[prices."vllm/llama"]\ninput = 0.1\noutput = 0.3\ncached_input = 0.05\nbatch_discount = 0.25\n'
    )
    prices = ProviderCatalog.from_file(path).prices
    assert prices.step_cost("openai/gpt-4o-mini", Lane.DIRECT, 1, 1) == StepCost(3_000, 3_000)
    llama = prices.price("vllm/llama")
    assert llama == ModelPrice(Decimal("0.1"), Decimal("0.3"), Decimal("0.05"), Decimal("0.25"))
    assert prices.price("openai/gpt-4o") is not None  # the other defaults stay


@pytest.mark.parametrize(
    "table",
    [
        "input = 1\n",  # no output
        'input = 1\noutput = 1\ncolour = "red"\n',
        "input = -1\noutput = 1\n",
        "input = 1\noutput = 1\nbatch_discount = 2\n",
        'input = "cheap"\noutput = 1\n',
    ],
)
def test_a_bad_price_table_is_refused_at_start(tmp_path: Path, table: str) -> None:
    path = tmp_path / "providers.toml"
    path.write_text('[prices."openai/x"]\n' + table)
    with pytest.raises(ValueError, match=r"openai/x|must"):
        ProviderCatalog.from_file(path)


def test_cached_prompt_tokens_cost_the_cached_price_and_cache_writes_the_write_price() -> None:
    table = PriceTable()
    # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write (1.25x), $5 output per million.
    cost = table.step_cost("anthropic/claude-haiku-4-5", Lane.DIRECT, 1_000, 10, 600, 300)
    assert cost == StepCost(nanos=100 * 1_000 + 600 * 100 + 300 * 1_250 + 10 * 5_000, direct_nanos=585_000)
    # gpt-4o-mini: cached input at $0.075; OpenAI charges no cache writes.
    openai = table.step_cost("openai/gpt-4o-mini", Lane.PROVIDER_BATCH, 1_000, 0, 400)
    assert openai == StepCost(nanos=(600 * 150 + 400 * 75) // 2, direct_nanos=600 * 150 + 400 * 75)


def test_the_cache_write_price_can_be_set_in_the_providers_file(tmp_path: Path) -> None:
    providers = tmp_path / "providers.toml"
    providers.write_text(
        '[prices."anthropic/claude-haiku-4-5"]\ninput = 1\noutput = 5\ncache_write_input = 2\n'
    )
    table = ProviderCatalog.from_file(providers).prices
    cost = table.step_cost("anthropic/claude-haiku-4-5", Lane.DIRECT, 100, 0, 0, 100)
    assert cost == StepCost(nanos=200_000, direct_nanos=200_000)
