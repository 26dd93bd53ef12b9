"""One tool call carried out by the ToolExecutor: argument checks against the tool's schema, which
calls end the turn, pause it or run in the sandbox, and how each failure reads to the model."""

import inspect
from typing import Any

import pytest

from agentbatch.domain.agents import AgentType, Tool, ToolType
from agentbatch.domain.messages import ToolCall
from agentbatch.runtime.tools.base_tools import base_tool_names, builtin_tools
from agentbatch.runtime.tools.memory_tools import Memory, ToolError
from agentbatch.runtime.tools.tool_calls import Effect, ToolExecutor, parse_arguments
from tests.unit.runtime.fakes import FakeSandbox, base_tools, block, custom_tool

PARAMETERS = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean"},
        "items": {"type": "array"},
        "options": {"type": "object"},
        "anything": {},
    },
    "required": ["name"],
}


@pytest.mark.parametrize(
    "arguments",
    [
        '{"name": "a"}',
        '{"name": "a", "count": 3, "ratio": 2, "flag": false, "items": [1], "options": {}}',
        '{"name": "a", "ratio": 0.5, "anything": [null]}',
    ],
)
def test_arguments_that_fit_the_schema_are_accepted(arguments: str) -> None:
    assert parse_arguments(arguments, PARAMETERS)["name"] == "a"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ('{"count": 1}', "missing required argument(s): name"),
        ('{"name": 1}', "argument 'name' must be of type string"),
        ('{"name": "a", "count": 1.5}', "argument 'count' must be of type integer"),
        ('{"name": "a", "count": true}', "argument 'count' must be of type integer"),
        ('{"name": "a", "ratio": false}', "argument 'ratio' must be of type number"),
        ('{"name": "a", "flag": "yes"}', "argument 'flag' must be of type boolean"),
        ('{"name": "a", "items": "x"}', "argument 'items' must be of type array"),
        ('{"name": "a", "options": []}', "argument 'options' must be of type object"),
        ('{"name": "a", "colour": "red"}', "unexpected argument 'colour'"),
        ('["a"]', "arguments must be a JSON object"),
        ('{"name": ', "arguments are not valid JSON"),
    ],
)
def test_arguments_that_do_not_fit_are_refused_naming_the_problem(arguments: str, problem: str) -> None:
    with pytest.raises(ToolError) as refused:
        parse_arguments(arguments, PARAMETERS)
    assert problem in str(refused.value)


@pytest.mark.parametrize("arguments", ["", "   "])
def test_no_arguments_at_all_are_an_empty_object(arguments: str) -> None:
    assert parse_arguments(arguments, {}) == {}


def test_a_null_optional_argument_is_left_out_so_the_default_applies() -> None:
    assert parse_arguments('{"name": "a", "count": null, "flag": null}', PARAMETERS) == {"name": "a"}


def test_a_null_required_argument_is_refused() -> None:
    with pytest.raises(ToolError, match="argument 'name' must be of type string"):
        parse_arguments('{"name": null}', PARAMETERS)


async def test_memory_insert_with_a_null_line_appends() -> None:
    run, _, memory = executor()

    outcome = await run.run(
        ToolCall("c1", "memory_insert", '{"label": "human", "new_string": "Tea", "insert_line": null}')
    )

    assert (outcome.effect, outcome.status) == (Effect.CONTINUE, "success")
    assert memory.blocks[0].value == "Ada\nTea"


def test_a_schema_without_properties_accepts_any_names() -> None:
    assert parse_arguments('{"whatever": 1}', {"type": "object"}) == {"whatever": 1}


def executor(
    *tools: Tool, client: tuple[str, ...] = (), assistant: tuple[str, str] | None = None
) -> tuple[ToolExecutor, FakeSandbox, Memory]:
    sandbox = FakeSandbox()
    memory = Memory([block("human", "Ada")])
    return ToolExecutor(tools or base_tools(), client, memory, [], sandbox, assistant), sandbox, memory


async def test_an_unknown_tool_is_invalid_and_the_model_is_told_the_available_ones() -> None:
    run, _, _ = executor(custom_tool("beta"), custom_tool("alpha"))

    outcome = await run.run(ToolCall("c1", "gamma", "{}"))

    assert outcome.effect is Effect.INVALID and outcome.status == "error"
    assert outcome.content == "Tool 'gamma' does not exist. Available tools: alpha, beta."


async def test_bad_arguments_are_invalid_and_name_the_tool() -> None:
    run, _, memory = executor()

    outcome = await run.run(ToolCall("c1", "core_memory_append", '{"label": "human"}'))

    assert outcome.effect is Effect.INVALID
    assert (
        outcome.content == "Invalid arguments for core_memory_append: missing required argument(s): content"
    )
    assert memory.changed == {}


async def test_a_memory_tool_edits_memory_and_its_answer_goes_back() -> None:
    run, _, memory = executor()

    outcome = await run.run(ToolCall("c1", "core_memory_append", '{"label": "human", "content": "Tea"}'))

    assert (outcome.effect, outcome.status) == (Effect.CONTINUE, "success")
    assert "Ada\nTea" in outcome.content and memory.blocks[0].value == "Ada\nTea"


async def test_a_refused_memory_edit_is_an_error_result_the_turn_survives() -> None:
    run, _, _ = executor()

    outcome = await run.run(ToolCall("c1", "core_memory_append", '{"label": "nope", "content": "x"}'))

    assert (outcome.effect, outcome.status) == (Effect.CONTINUE, "error")
    assert "no memory block labelled 'nope'" in outcome.content


async def test_a_built_in_tool_this_server_does_not_implement_says_so() -> None:
    archival = Tool("tool-a", "archival_memory_search", ToolType.LETTA_CORE, {"parameters": {}})
    run, sandbox, _ = executor(archival)

    outcome = await run.run(ToolCall("c1", "archival_memory_search", "{}"))

    assert (outcome.effect, outcome.status) == (Effect.CONTINUE, "error")
    assert "has no implementation on this server" in outcome.content and sandbox.runs == []


@pytest.mark.parametrize(
    ("assistant", "name"),
    [(None, "send_message"), (("reply", "text"), "reply"), (("reply", "text"), "send_message")],
)
async def test_the_assistant_tool_ends_the_turn(assistant: tuple[str, str] | None, name: str) -> None:
    reply_tool = custom_tool("reply", {"text": {"type": "string"}})
    run, sandbox, _ = executor(*base_tools(), reply_tool, assistant=assistant)

    outcome = await run.run(ToolCall("c1", name, '{"message": "hi"}' if name == "send_message" else "{}"))

    assert (outcome.effect, outcome.content) == (Effect.TERMINAL, "Sent message successfully.")
    assert sandbox.runs == []


async def test_send_message_without_its_text_is_invalid_not_sent() -> None:
    run, _, _ = executor()

    outcome = await run.run(ToolCall("c1", "send_message", "{}"))

    assert outcome.effect is Effect.INVALID and "message" in outcome.content


async def test_a_client_tool_pauses_even_if_the_agent_has_a_tool_of_that_name() -> None:
    run, sandbox, _ = executor(custom_tool("lookup"), client=("lookup",))

    outcome = await run.run(ToolCall("c1", "lookup", "not even json"))

    assert outcome.effect is Effect.NEEDS_CLIENT and sandbox.runs == []


async def test_a_custom_tool_gets_its_parsed_arguments_in_the_sandbox() -> None:
    tool = custom_tool("add", {"a": {"type": "integer"}, "b": {"type": "integer"}}, required=["a", "b"])
    run, sandbox, _ = executor(tool)

    outcome = await run.run(ToolCall("c1", "add", '{"a": 1, "b": 2}'))

    assert outcome.effect is Effect.CONTINUE and sandbox.runs == [("add", {"a": 1, "b": 2}, False)]


class TestBaseTools:
    def test_older_agent_types_get_send_message_first_the_others_not_at_all(self) -> None:
        assert base_tool_names(AgentType.MEMGPT)[0] == "send_message"
        assert "send_message" not in base_tool_names(AgentType.LETTA_V1)
        assert set(base_tool_names(AgentType.LETTA_V1)) == {
            "conversation_search",
            "memory_insert",
            "memory_replace",
            "core_memory_append",
            "core_memory_replace",
        }

    @pytest.mark.parametrize("agent_type", list(AgentType))
    def test_every_base_tool_an_agent_gets_exists_as_a_built_in(self, agent_type: AgentType) -> None:
        built_in = {tool.name for tool in builtin_tools()}
        assert set(base_tool_names(agent_type)) <= built_in

    @pytest.mark.parametrize("tool", builtin_tools(), ids=lambda tool: tool.name)
    def test_each_built_in_schema_is_well_formed_and_described(self, tool: Tool) -> None:
        schema: dict[str, Any] = tool.json_schema
        assert schema["name"] == tool.name and tool.description == schema["description"]
        parameters = schema["parameters"]
        assert parameters["type"] == "object"
        assert set(parameters["required"]) <= set(parameters["properties"])
        assert tool.tool_type in (ToolType.LETTA_CORE, ToolType.LETTA_MEMORY_CORE)

    @pytest.mark.parametrize(
        "tool",
        [tool for tool in builtin_tools() if tool.tool_type is ToolType.LETTA_MEMORY_CORE],
        ids=lambda tool: tool.name,
    )
    def test_each_memory_tools_schema_matches_what_its_handler_takes(self, tool: Tool) -> None:
        handler = Memory([]).handlers()[tool.name]
        signature = inspect.signature(handler).parameters
        parameters = tool.json_schema["parameters"]
        assert set(parameters["properties"]) == set(signature)
        needed = {name for name, p in signature.items() if p.default is inspect.Parameter.empty}
        assert set(parameters["required"]) == needed
