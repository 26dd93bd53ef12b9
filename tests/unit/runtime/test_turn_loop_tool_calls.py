"""Tool calls inside a turn: memory edits reach the next prompt and the commit, bad calls stop the turn,
tool errors go back to the model, custom tools run in the sandbox, client tools pause the turn."""

import pytest

from agentbatch.domain.messages import Role, ToolCall
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_requests import ClientTool
from agentbatch.runtime.tools.sandbox import NETWORK_TAG, SandboxResult
from tests.unit.runtime.fakes import (
    FakeSandbox,
    ScriptedGateway,
    agent,
    base_tools,
    block,
    call,
    calls,
    custom_tool,
    history_message,
    reply,
    request,
    run_turn,
    user,
)


async def test_a_memory_edit_is_committed_with_its_base_and_shown_in_the_next_prompt() -> None:
    human = block("human", "Name: Ada")
    gateway = ScriptedGateway(
        calls(call("core_memory_append", label="human", content="Likes tea")), reply("Noted.")
    )

    result, sink = await run_turn(gateway, agent(blocks=[human]))

    assert result.stop is StopReason.END_TURN
    first, second = sink.commits
    assert [(b.label, b.value) for b in first.changed_blocks] == [("human", "Name: Ada\nLikes tea")]
    assert first.block_bases == {"block-human": "Name: Ada"}
    assert second.changed_blocks == [] and second.block_bases == {}
    assert "Likes tea" not in gateway.requests[0].system
    assert "Name: Ada\nLikes tea" in gateway.requests[1].system


async def test_a_second_edit_is_based_on_the_value_the_first_one_wrote() -> None:
    gateway = ScriptedGateway(
        calls(call("core_memory_append", label="notes", content="one")),
        calls(call("core_memory_append", label="notes", content="two")),
        reply("done"),
    )

    _, sink = await run_turn(gateway, agent(blocks=[block("notes", "zero")]))

    assert [c.block_bases for c in sink.commits[:2]] == [
        {"block-notes": "zero"},
        {"block-notes": "zero\none"},
    ]
    assert sink.commits[1].changed_blocks[0].value == "zero\none\ntwo"


async def test_a_tool_error_goes_back_to_the_model_and_the_turn_goes_on() -> None:
    gateway = ScriptedGateway(
        calls(call("core_memory_append", label="human", content="x" * 50)),
        reply("I could not remember that."),
    )

    result, sink = await run_turn(gateway, agent(blocks=[block("human", "", limit=10)]))

    assert result.stop is StopReason.END_TURN and result.steps == 2
    [(name, status, content)] = sink.tool_results()
    assert (name, status) == ("core_memory_append", "error") and "over its limit of 10" in content
    tool_message = next(m for m in sink.messages if m.role is Role.TOOL)
    assert tool_message.is_err
    assert sink.commits[0].changed_blocks == []


@pytest.mark.parametrize(
    ("bad_call", "problem"),
    [
        (ToolCall("call-x", "launch_rocket", "{}"), "Tool 'launch_rocket' does not exist. Available tools:"),
        (ToolCall("call-x", "conversation_search", "{}"), "missing required argument(s): query"),
        (ToolCall("call-x", "conversation_search", "{not json"), "not valid JSON"),
        (ToolCall("call-x", "conversation_search", '{"query": 5}'), "'query' must be of type string"),
        (ToolCall("call-x", "conversation_search", '{"query": "a", "k": 1}'), "unexpected argument 'k'"),
    ],
)
async def test_an_invalid_call_is_answered_and_stops_the_turn(bad_call: ToolCall, problem: str) -> None:
    result, sink = await run_turn(ScriptedGateway(calls(bad_call)), agent())

    assert result.stop is StopReason.INVALID_TOOL_CALL and result.steps == 1
    assert result.error is not None and problem in result.error
    [(_, status, content)] = sink.tool_results()
    assert status == "error" and problem in content


async def test_calls_after_an_invalid_one_in_the_same_step_are_not_run() -> None:
    gateway = ScriptedGateway(
        calls(
            call("conversation_search", query="fine"),
            call("no_such_tool"),
            call("core_memory_append", label="human", content="should not be written"),
        )
    )

    result, sink = await run_turn(gateway, agent(blocks=[block("human", "")]))

    assert result.stop is StopReason.INVALID_TOOL_CALL
    assert result.error is not None and "no_such_tool" in result.error
    statuses = [(name, status) for name, status, _ in sink.tool_results()]
    assert statuses == [
        ("conversation_search", "success"),
        ("no_such_tool", "error"),
        ("core_memory_append", "error"),
    ]
    assert sink.tool_results()[2][2] == "Not run: another call of this step was invalid."
    assert sink.commits[0].changed_blocks == []


async def test_every_call_of_a_step_gets_its_result_in_order() -> None:
    first = call("core_memory_append", label="a", content="1")
    second = call("core_memory_append", label="b", content="2")
    gateway = ScriptedGateway(calls(first, second), reply("ok"))

    _, sink = await run_turn(gateway, agent(blocks=[block("a"), block("b")]))

    tool_messages = [m for m in sink.messages if m.role is Role.TOOL]
    assert [m.tool_call_id for m in tool_messages] == [first.id, second.id]
    assert {b.label for b in sink.commits[0].changed_blocks} == {"a", "b"}


async def test_conversation_search_finds_earlier_turns_and_this_turns_committed_steps() -> None:
    earlier = [history_message(Role.USER, "my cat is called Zebra")]
    gateway = ScriptedGateway(
        calls(call("conversation_search", query="ZEBRA")),
        calls(call("conversation_search", query="PURPLE")),
        reply("found both"),
    )

    _, sink = await run_turn(
        gateway, agent(), request(user("my favourite colour is purple")), history=earlier
    )

    (_, first, found_earlier), (_, second, found_input) = sink.tool_results()
    assert first == second == "success"
    assert "my cat is called Zebra" in found_earlier
    assert "my favourite colour is purple" in found_input


class TestCustomTools:
    async def test_a_custom_tool_runs_in_the_sandbox_with_the_models_arguments(self) -> None:
        roll = custom_tool("roll_dice", {"sides": {"type": "integer"}}, required=["sides"])
        sandbox = FakeSandbox(SandboxResult("success", "4", stdout=["rolling\n"], stderr=["warn\n"]))
        gateway = ScriptedGateway(calls(call("roll_dice", sides=6)), reply("You rolled 4."))

        result, sink = await run_turn(gateway, agent(tools=[roll]), sandbox=sandbox)

        assert result.stop is StopReason.END_TURN
        assert sandbox.runs == [("roll_dice", {"sides": 6}, False)]
        ret = next(m for m in sink.messages if m.role is Role.TOOL).tool_returns[0]
        assert (ret.status, ret.content, ret.stdout, ret.stderr) == (
            "success",
            "4",
            ["rolling\n"],
            ["warn\n"],
        )

    async def test_a_tool_tagged_for_the_network_gets_it(self) -> None:
        fetch = custom_tool("fetch", tags=[NETWORK_TAG])
        sandbox = FakeSandbox()

        await run_turn(
            ScriptedGateway(calls(call("fetch")), reply("ok")), agent(tools=[fetch]), sandbox=sandbox
        )

        assert sandbox.runs == [("fetch", {}, True)]

    async def test_a_long_result_is_cut_at_the_tools_return_limit(self) -> None:
        chatty = custom_tool("chatty", return_char_limit=20)
        sandbox = FakeSandbox(SandboxResult("success", "y" * 100))

        _, sink = await run_turn(
            ScriptedGateway(calls(call("chatty")), reply("ok")), agent(tools=[chatty]), sandbox=sandbox
        )

        [(_, _, content)] = sink.tool_results()
        assert content == "y" * 20 + "… [truncated to 20 characters]"

    async def test_a_failing_tool_is_an_error_result_not_an_invalid_call(self) -> None:
        broken = custom_tool("broken")
        sandbox = FakeSandbox(SandboxResult("error", "ZeroDivisionError: division by zero"))

        result, sink = await run_turn(
            ScriptedGateway(calls(call("broken")), reply("It failed.")),
            agent(tools=[broken]),
            sandbox=sandbox,
        )

        assert result.stop is StopReason.END_TURN
        assert sink.tool_results() == [("broken", "error", "ZeroDivisionError: division by zero")]


class TestClientTools:
    async def test_a_client_tool_call_pauses_the_turn_for_the_caller(self) -> None:
        weather = ClientTool("get_weather", "Weather now.", {"type": "object", "properties": {}})
        gateway = ScriptedGateway(calls(call("get_weather")))

        result, sink = await run_turn(gateway, agent(), request(user("weather?"), client_tools=(weather,)))

        assert result.stop is StopReason.REQUIRES_APPROVAL
        assert sink.tool_results() == []
        paused = sink.messages[-1]
        assert paused.role is Role.APPROVAL and [c.name for c in paused.tool_calls] == ["get_weather"]
        offered = {t.name: t for t in gateway.requests[0].tools}
        assert offered["get_weather"].description == "Weather now."

    async def test_a_client_tool_without_description_or_schema_gets_defaults(self) -> None:
        gateway = ScriptedGateway(reply("no need"))

        await run_turn(gateway, agent(tools=[]), request(user("hi"), client_tools=(ClientTool("ping"),)))

        [spec] = gateway.requests[0].tools
        assert spec.description == "The client-side tool ping."
        assert spec.parameters == {"type": "object", "properties": {}}

    async def test_the_agents_own_calls_in_the_same_step_still_run(self) -> None:
        gateway = ScriptedGateway(
            calls(call("core_memory_append", label="human", content="asked"), call("get_weather"))
        )

        result, sink = await run_turn(
            gateway,
            agent(tools=base_tools(), blocks=[block("human")]),
            request(user("weather?"), client_tools=(ClientTool("get_weather"),)),
        )

        assert result.stop is StopReason.REQUIRES_APPROVAL
        assert [name for name, _, _ in sink.tool_results()] == ["core_memory_append"]
        assert sink.commits[0].changed_blocks[0].value == "asked"
