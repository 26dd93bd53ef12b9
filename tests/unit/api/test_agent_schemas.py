"""Agent, block and tool bodies: what reaches the engine, what is kept as options, what is refused."""

from typing import Any

import pytest

from agentbatch.api.schemas.agent_changes import (
    BlockUpdateIn,
    CreateBlockIn,
    ToolUpdateIn,
    UpdateAgentIn,
)
from agentbatch.api.schemas.agents import CreateAgentIn, CreateToolIn
from agentbatch.api.schemas.llm_config import INT32_MAX, LlmConfigIn
from agentbatch.domain.agents import DEFAULT_BLOCK_LIMIT, AgentType, ToolType
from tests.unit.api.refusals import refusal_text, refused_fields

SOURCE = "def shout(text: str) -> str:\n    return text.upper()\n"


def test_a_minimal_agent_is_a_letta_v1_agent_with_base_tools() -> None:
    new = CreateAgentIn.model_validate({"model": "openai/gpt-4o-mini"}).to_new_agent()
    assert new.agent_type is AgentType.LETTA_V1
    assert new.include_base_tools is True
    assert (new.tools, new.tool_ids, new.tags, new.memory_blocks) == ([], [], [], [])
    assert new.llm_config is None and new.options == {}


def test_fields_this_server_does_not_model_are_kept_as_options() -> None:
    new = CreateAgentIn.model_validate(
        {"model": "openai/gpt-4o-mini", "timezone": "Europe/Paris", "enable_sleeptime": True, "hidden": None}
    ).to_new_agent()
    assert new.options == {"timezone": "Europe/Paris", "enable_sleeptime": True}


def test_memory_blocks_reach_the_engine_with_every_given_field() -> None:
    new = CreateAgentIn.model_validate(
        {
            "model": "openai/gpt-4o-mini",
            "memory_blocks": [
                {"label": "human", "value": "Ann"},
                {"label": "persona", "value": "", "limit": 50, "read_only": True, "metadata": {"v": 1}},
            ],
        }
    ).to_new_agent()
    first, second = new.memory_blocks
    assert (first.label, first.value, first.limit, first.read_only) == ("human", "Ann", None, False)
    assert (second.label, second.limit, second.read_only, second.metadata) == ("persona", 50, True, {"v": 1})


def test_only_the_llm_config_fields_the_caller_gave_are_passed_on() -> None:
    """They are merged over what the handle resolves to; a default here would overwrite it."""
    new = CreateAgentIn.model_validate(
        {"model": "openai/gpt-4o-mini", "llm_config": {"temperature": 0.1, "vendor_knob": 3}}
    ).to_new_agent()
    assert new.llm_config == {"temperature": 0.1, "vendor_knob": 3}


def test_an_llm_config_that_names_its_model_is_enough() -> None:
    new = CreateAgentIn.model_validate({"llm_config": {"model": "gpt-4o-mini"}}).to_new_agent()
    assert new.model is None and new.llm_config == {"model": "gpt-4o-mini"}


def test_an_llm_config_with_no_model_and_no_handle_is_refused() -> None:
    assert "give `model`" in refusal_text(CreateAgentIn, {"llm_config": {"temperature": 0.5}})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"agent_type": "chatbot"}, "agent_type"),
        ({"model": "m" * 256}, "model"),
        ({"tags": ["t" * 256]}, "tags.0"),
        ({"tags": "one"}, "tags"),
        ({"memory_blocks": [{"value": "no label"}]}, "memory_blocks.0.label"),
        ({"memory_blocks": [{"label": "x", "value": "v", "limit": 0}]}, "memory_blocks.0.limit"),
        ({"memory_blocks": [{"label": "x", "value": "v", "limit": INT32_MAX + 1}]}, "memory_blocks.0.limit"),
        ({"include_base_tools": "sometimes"}, "include_base_tools"),
        ({"metadata": [1]}, "metadata"),
        ({"llm_config": {"model": "m", "temperature": 2.5}}, "llm_config.temperature"),
        ({"llm_config": {"model": "m", "context_window": 0}}, "llm_config.context_window"),
        ({"llm_config": {"model": "m", "max_tokens": INT32_MAX + 1}}, "llm_config.max_tokens"),
        ({"llm_config": {"model": "m", "reasoning_effort": "extreme"}}, "llm_config.reasoning_effort"),
        ({"llm_config": {"model": "m", "frequency_penalty": -3}}, "llm_config.frequency_penalty"),
        ({"llm_config": {"model": ""}}, "llm_config.model"),
    ],
)
def test_a_malformed_agent_is_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    assert refused_fields(CreateAgentIn, {"model": "openai/gpt-4o-mini", **body}) == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", 0), ("temperature", 2), ("max_reasoning_tokens", 0), ("context_window", INT32_MAX)],
)
def test_llm_config_bounds_are_inclusive(field: str, value: int) -> None:
    assert LlmConfigIn.model_validate({field: value}).given() == {field: value}


def test_a_tool_is_its_source_with_letta_defaults() -> None:
    made = CreateToolIn.model_validate({"source_code": SOURCE}).to_tool()
    assert made.tool_type is ToolType.CUSTOM
    assert (made.source_code, made.source_type, made.return_char_limit) == (SOURCE, "python", 50_000)
    assert (made.json_schema, made.args_schema, made.tags, made.metadata) == ({}, None, [], None)


def test_a_tools_given_schema_parameters_and_metadata_are_kept() -> None:
    schema = {"name": "shout", "description": "Shout.", "parameters": {"type": "object"}}
    args = {"type": "object", "properties": {"text": {"type": "string"}}}
    made = CreateToolIn.model_validate(
        {"source_code": SOURCE, "json_schema": schema, "args_json_schema": args, "metadata_": {"k": 1}}
    ).to_tool()
    assert (made.json_schema, made.args_schema, made.metadata) == (schema, args, {"k": 1})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"source_code": ""}, "source_code"),
        ({}, "source_code"),
        ({"source_code": SOURCE, "return_char_limit": 0}, "return_char_limit"),
        ({"source_code": SOURCE, "return_char_limit": INT32_MAX + 1}, "return_char_limit"),
        ({"source_code": SOURCE, "source_type": "x" * 33}, "source_type"),
        ({"source_code": SOURCE, "json_schema": {"name": ""}}, "json_schema.name must be a string"),
        ({"source_code": SOURCE, "json_schema": {"name": 5}}, "json_schema.name must be a string"),
        ({"source_code": SOURCE, "json_schema": {"name": "n" * 256}}, "json_schema.name must be a string"),
        ({"source_code": SOURCE, "json_schema": {"description": 1}}, "json_schema.description must be"),
    ],
)
def test_a_malformed_tool_is_refused_saying_why(body: dict[str, Any], expected: str) -> None:
    assert expected in refusal_text(CreateToolIn, body)


def test_an_agent_update_knows_which_fields_were_sent_even_as_null() -> None:
    update = UpdateAgentIn.model_validate({"description": None, "tags": ["a"]}).to_update()
    assert update.given == frozenset({"description", "tags"})
    assert update.tags == ["a"] and update.description is None


def test_an_agent_update_keeps_unmodelled_fields_as_options_but_not_nulls() -> None:
    update = UpdateAgentIn.model_validate({"timezone": "UTC", "hidden": None, "name": "n"}).to_update()
    assert update.options == {"timezone": "UTC"}
    assert {"timezone", "hidden", "name"} <= update.given


def test_an_empty_agent_update_changes_nothing() -> None:
    update = UpdateAgentIn.model_validate({}).to_update()
    assert update.given == frozenset() and update.options == {}


@pytest.mark.parametrize(
    ("schema", "body", "field"),
    [
        (UpdateAgentIn, {"name": ""}, "name"),
        (UpdateAgentIn, {"tool_ids": "tool-1"}, "tool_ids"),
        (BlockUpdateIn, {"limit": 0}, "limit"),
        (BlockUpdateIn, {"label": ""}, "label"),
        (BlockUpdateIn, {"read_only": "no way"}, "read_only"),
        (CreateBlockIn, {"value": "v"}, "label"),
        (CreateBlockIn, {"label": "l"}, "value"),
        (CreateBlockIn, {"label": "l", "value": "v", "limit": -1}, "limit"),
        (ToolUpdateIn, {"source_code": ""}, "source_code"),
        (ToolUpdateIn, {"return_char_limit": 0}, "return_char_limit"),
    ],
)
def test_a_malformed_change_is_refused_naming_the_field(
    schema: Any, body: dict[str, Any], field: str
) -> None:
    assert refused_fields(schema, body) == [field]


def test_a_block_change_lists_only_the_fields_sent() -> None:
    change = BlockUpdateIn.model_validate({"value": "new", "description": None}).to_change()
    assert change.given == frozenset({"value", "description"})
    assert change.value == "new" and change.limit is None


def test_a_new_block_gets_its_own_id_and_the_default_limit() -> None:
    first = CreateBlockIn.model_validate({"label": "notes", "value": ""}).to_block()
    second = CreateBlockIn.model_validate({"label": "notes", "value": ""}).to_block()
    assert first.id.startswith("block-") and first.id != second.id
    assert (first.limit, first.read_only, first.description) == (DEFAULT_BLOCK_LIMIT, False, None)


def test_a_tool_patch_lists_only_the_fields_sent_and_carries_metadata() -> None:
    patch = ToolUpdateIn.model_validate({"tags": [], "metadata_": {"a": 1}}).to_patch()
    assert patch.given == frozenset({"tags", "metadata_"})
    assert patch.tags == [] and patch.metadata == {"a": 1} and patch.source_code is None
