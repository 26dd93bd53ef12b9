"""Quotas from the providers file: every key optional, the earlier `[lane_quotas]` name still read, and
bad values refused at start with the table named."""

import pytest

from agentbatch.providers.quotas import BYTES_PER_TOKEN, ModelQuota, estimated_tokens, load_quotas
from tests.unit.providers.conftest import ProvidersFile

MINI = '"openai/gpt-4o-mini"'


def test_without_a_providers_file_nothing_is_limited() -> None:
    assert load_quotas(None) == {}


def test_a_file_without_quotas_limits_nothing(providers_file: ProvidersFile) -> None:
    assert load_quotas(providers_file('[providers.vllm]\nbase_url = "http://h/v1"\n')) == {}


def test_each_handle_gets_the_limits_it_names_and_the_rest_stay_unbounded(
    providers_file: ProvidersFile,
) -> None:
    quotas = load_quotas(
        providers_file(
            f"[quotas.{MINI}]\nmax_open_requests = 50000\ntokens_per_minute = 200000\n"
            '[quotas."anthropic/claude-haiku-4-5"]\nrequests_per_minute = 50\n'
        )
    )
    assert quotas == {
        "openai/gpt-4o-mini": ModelQuota(max_open_requests=50_000, tokens_per_minute=200_000),
        "anthropic/claude-haiku-4-5": ModelQuota(requests_per_minute=50),
    }


def test_the_earlier_lane_quotas_name_is_read_and_quotas_refine_it(providers_file: ProvidersFile) -> None:
    quotas = load_quotas(
        providers_file(
            f"[quotas.{MINI}]\nmax_open_requests = 10\n"
            f"[lane_quotas.{MINI}]\nmax_open_requests = 99\nmax_open_tokens = 5000\n"
        )
    )
    # both tables are read; where they disagree, [quotas] (the current name) wins
    assert quotas["openai/gpt-4o-mini"] == ModelQuota(max_open_requests=10, max_open_tokens=5_000)


def test_an_empty_quota_table_is_an_unbounded_quota(providers_file: ProvidersFile) -> None:
    assert load_quotas(providers_file(f"[quotas.{MINI}]\n")) == {"openai/gpt-4o-mini": ModelQuota()}


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ("max_open_request = 5\n", "max_open_request"),  # a typo
        ("rpm = 5\n", "rpm"),
        ("max_open_requests = 0\n", "max_open_requests"),
        ("tokens_per_minute = -100\n", "tokens_per_minute"),
        ('requests_per_minute = "lots"\n', "requests_per_minute"),
        ("max_open_tokens = 1.5\n", "max_open_tokens"),
        ("max_open_requests = true\n", "max_open_requests"),
    ],
)
def test_a_bad_quota_is_refused_at_start_naming_its_table_and_key(
    providers_file: ProvidersFile, entry: str, named: str
) -> None:
    with pytest.raises(ValueError) as caught:
        load_quotas(providers_file(f"[quotas.{MINI}]\n{entry}"))
    assert named in str(caught.value)
    assert "openai/gpt-4o-mini" in str(caught.value)


@pytest.mark.parametrize(
    "field", ["max_open_requests", "max_open_tokens", "requests_per_minute", "tokens_per_minute"]
)
def test_a_quota_below_one_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} must be at least 1"):
        ModelQuota(**{field: 0})


@pytest.mark.parametrize(("body_bytes", "tokens"), [(0, 1), (3, 1), (4, 2), (4_000, 1_001), (4_003, 1_001)])
def test_a_requests_tokens_are_estimated_from_its_body_size_never_as_zero(
    body_bytes: int, tokens: int
) -> None:
    assert estimated_tokens(body_bytes) == tokens


def test_the_estimate_never_undercounts_the_bytes_over_four_rule() -> None:
    for body_bytes in range(0, 10_000, 7):
        assert estimated_tokens(body_bytes) * BYTES_PER_TOKEN > body_bytes
