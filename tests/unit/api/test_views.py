"""Domain records rendered as the wire shapes of Letta's OpenAPI document (SDK 1.7.0), and the
extension fields this server adds to them."""

from typing import Any

import pytest

from agentbatch.api.views.agents import agent_view, block_view, model_settings, tool_view
from agentbatch.api.views.batches import batch_view, item_view
from agentbatch.api.views.costs import cost_view, item_lane
from agentbatch.domain.batches import RequestCounts, Usage
from agentbatch.domain.pricing import CostTotals
from agentbatch.domain.states import BatchStatus, ItemStatus
from tests.support.openapi import assert_matches_spec, declared_fields
from tests.unit.api import records

BATCH_EXTENSIONS = {"request_counts", "usage", "cost", "expires_at", "priority", "dispatch"}
"""The BatchJob fields docs/api.md documents as extensions; the spec's BatchJob forbids others."""

PRICED = CostTotals(
    nanos=1_500_000, direct_nanos=3_000_000, provider_batch_nanos=1_000_000, provider_batch_steps=2
)


def test_an_agent_renders_as_agent_state() -> None:
    assert_matches_spec(agent_view(records.agent()), "GET", "/v1/agents/{agent_id}")


def test_an_agent_without_optional_parts_renders_as_agent_state() -> None:
    bare = records.agent(model=None, blocks=[], tools=[], tags=[], metadata=None, tool_rules=None)
    assert_matches_spec(agent_view(bare), "GET", "/v1/agents/{agent_id}")


def test_an_agents_memory_lists_the_same_blocks_as_its_blocks() -> None:
    view = agent_view(records.agent(blocks=[records.block(), records.block(label="persona")]))
    assert [b["label"] for b in view["blocks"]] == ["human", "persona"]
    assert view["memory"]["blocks"] == view["blocks"]


def test_an_agents_message_ids_and_pending_approval_are_shown_when_loaded() -> None:
    pending = {"id": "message-1", "message_type": "approval_request_message"}
    view = agent_view(records.agent(), message_ids=["message-1"], pending_approval=pending)
    assert view["message_ids"] == ["message-1"] and view["pending_approval"] == pending
    assert agent_view(records.agent())["message_ids"] == []


def test_options_kept_at_creation_come_back_on_the_agent() -> None:
    view = agent_view(
        records.agent(options={"timezone": "Asia/Tokyo", "enable_sleeptime": True, "max_files_open": 3})
    )
    assert (view["timezone"], view["enable_sleeptime"], view["max_files_open"]) == ("Asia/Tokyo", True, 3)
    plain = agent_view(records.agent())
    assert (plain["timezone"], plain["enable_sleeptime"], plain["message_buffer_autoclear"]) == (
        None,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("llm_config", "expected"),
    [
        ({"model_endpoint_type": "openai"}, ("openai", 4096, 0.7)),
        ({"model_endpoint_type": "anthropic"}, ("anthropic", 4096, 1.0)),
        ({"model_endpoint_type": "anthropic", "temperature": 0, "max_tokens": 77}, ("anthropic", 77, 0)),
        ({}, ("openai", 4096, 0.7)),
    ],
)
def test_model_settings_follow_the_llm_config_with_provider_defaults(
    llm_config: dict[str, Any], expected: tuple[str, int, float]
) -> None:
    settings = model_settings(llm_config)
    assert (settings["provider_type"], settings["max_output_tokens"], settings["temperature"]) == expected


def test_a_tool_renders_as_tool_with_its_parameters_as_args_schema() -> None:
    view = tool_view(records.tool())
    assert_matches_spec(view, "GET", "/v1/tools/{tool_id}")
    assert view["args_json_schema"] == records.tool().json_schema["parameters"]
    assert view["metadata_"] == {}


def test_a_block_renders_as_block_response() -> None:
    view = block_view(records.block(metadata={"source": "import"}, read_only=True, description="who"))
    assert_matches_spec(view, "GET", "/v1/blocks/{block_id}")
    assert (view["read_only"], view["metadata"], view["description"]) == (True, {"source": "import"}, "who")


@pytest.mark.parametrize("status", list(BatchStatus))
def test_a_batch_in_every_status_renders_as_batch_job(status: BatchStatus) -> None:
    finished = records.T0 if status.is_terminal else None
    view = batch_view(records.batch(status=status, completed_at=finished))
    assert set(view) - declared_fields("BatchJob") == BATCH_EXTENSIONS
    declared = {key: value for key, value in view.items() if key not in BATCH_EXTENSIONS}
    assert_matches_spec(declared, "GET", "/v1/messages/batches/{batch_id}")
    assert view["status"] == status.value and view["job_type"] == "batch"


def test_a_batch_shows_its_counts_usage_and_cost() -> None:
    counts = RequestCounts(total=6, pending=1, running=1, succeeded=2, errored=1, cancelled=1)
    usage = Usage(prompt_tokens=100, completion_tokens=30, step_count=4, cached_tokens=10)
    view = batch_view(records.batch(request_count=6, counts=counts, usage=usage, cost=PRICED))
    assert view["request_counts"] == {
        "total": 6,
        "pending": 1,
        "running": 1,
        "succeeded": 2,
        "errored": 1,
        "cancelled": 1,
        "expired": 0,
    }
    assert view["usage"]["total_tokens"] == 130 and view["usage"]["cached_input_tokens"] == 10
    assert view["cost"]["total"] == "0.0015"


def test_batch_times_are_iso_8601_with_their_offset() -> None:
    view = batch_view(records.batch(expires_at=records.T0))
    assert view["created_at"] == view["expires_at"] == "2026-01-02T03:04:05+00:00"
    assert view["completed_at"] is None and view["callback_sent_at"] is None


def test_an_item_shows_its_request_custom_id_lane_and_token_totals() -> None:
    view = item_view(records.item(cost=CostTotals(nanos=10, direct_nanos=10)))
    assert view["custom_id"] == "req-1" and view["status"] == "succeeded"
    assert view["usage"]["total_tokens"] == 120
    assert view["lane"] == "direct" and view["cost"]["total"] == "0.00000001"


def test_an_item_that_never_ran_has_no_lane_and_no_times() -> None:
    view = item_view(
        records.item(status=ItemStatus.PENDING, step_count=0, started_at=None, completed_at=None)
    )
    assert (view["lane"], view["started_at"], view["completed_at"]) == (None, None, None)


@pytest.mark.parametrize(
    ("step_count", "batch_steps", "lane"),
    [(0, 0, None), (3, 0, "direct"), (3, 3, "provider_batch"), (3, 1, "mixed"), (2, 5, "provider_batch")],
)
def test_an_items_lane_follows_where_its_steps_ran(
    step_count: int, batch_steps: int, lane: str | None
) -> None:
    assert item_lane(step_count, CostTotals(provider_batch_steps=batch_steps)) == lane


def test_a_priced_cost_is_exact_decimal_strings_split_by_lane() -> None:
    assert cost_view(PRICED) == {
        "currency": "USD",
        "total": "0.0015",
        "direct_equivalent": "0.003",
        "saved": "0.0015",
        "by_lane": {"direct": "0.0005", "provider_batch": "0.001"},
        "unpriced_steps": 0,
    }


def test_a_cost_with_any_unpriced_step_is_unknown_rather_than_a_partial_sum() -> None:
    view = cost_view(CostTotals(nanos=5_000, direct_nanos=5_000, unpriced_steps=2))
    assert view["total"] is None and view["direct_equivalent"] is None and view["by_lane"] is None
    assert view["unpriced_steps"] == 2


def test_nothing_spent_is_zero_dollars_not_unknown() -> None:
    assert cost_view(CostTotals())["total"] == "0"
