"""Letta's tool rules as a turn obeys them: what each step offers the model, whether it must call a
tool, what a rule-breaking call gets back, and which calls end the turn."""

from typing import Any

import orjson

from agentbatch.domain.agents import AgentType
from agentbatch.domain.messages import Message, Role
from agentbatch.domain.states import StopReason
from agentbatch.runtime.tools.sandbox import SandboxResult
from tests.unit.runtime.fakes import (
    ITEM_ID,
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
    run_turn,
)

TOOLS = [*base_tools(), custom_tool("lookup"), custom_tool("finish"), custom_tool("answer")]
ALL = {tool.name for tool in TOOLS}


def ruled(*rules: dict[str, Any], agent_type: AgentType = AgentType.LETTA_V1) -> Any:
    return agent(tools=TOOLS, tool_rules=rules, agent_type=agent_type, blocks=[block("human")])


async def test_an_init_rule_forces_the_first_call_and_frees_the_rest() -> None:
    gateway = ScriptedGateway(calls(call("lookup")), reply("done"))

    result, _ = await run_turn(gateway, ruled({"type": "run_first", "tool_name": "lookup"}))

    assert result.stop is StopReason.END_TURN
    assert gateway.offered(1) == ["lookup"] and gateway.requests[0].tool_choice == "required"
    assert set(gateway.offered(2)) == ALL and gateway.requests[1].tool_choice == "auto"


async def test_a_terminal_tool_ends_the_turn_with_the_tool_rule_reason() -> None:
    gateway = ScriptedGateway(calls(call("finish")))

    result, sink = await run_turn(gateway, ruled({"type": "exit_loop", "tool_name": "finish"}))

    assert result.stop is StopReason.TOOL_RULE and result.steps == 1
    assert sink.tool_results() == [("finish", "success", "ok")]
    assert sink.commits[-1].stop is StopReason.TOOL_RULE


async def test_a_continue_rule_on_send_message_keeps_a_memgpt_turn_going() -> None:
    gateway = ScriptedGateway(calls(call("send_message", message="one moment")), calls(call("finish")))
    rules = (
        {"type": "continue_loop", "tool_name": "send_message"},
        {"type": "exit_loop", "tool_name": "finish"},
    )

    result, _ = await run_turn(gateway, ruled(*rules, agent_type=AgentType.MEMGPT))

    assert result.stop is StopReason.TOOL_RULE and result.steps == 2


async def test_a_child_rule_offers_only_the_children_after_its_tool() -> None:
    gateway = ScriptedGateway(calls(call("lookup")), calls(call("answer")), reply("done"))
    rule = {"type": "constrain_child_tools", "tool_name": "lookup", "children": ["answer", "finish"]}

    result, _ = await run_turn(gateway, ruled(rule))

    assert result.stop is StopReason.END_TURN
    assert set(gateway.offered(2)) == {"answer", "finish"} and gateway.requests[1].tool_choice == "required"
    assert set(gateway.offered(3)) == ALL


async def test_a_call_the_rules_forbid_is_not_run_and_the_model_is_told_why() -> None:
    rule = {"type": "constrain_child_tools", "tool_name": "lookup", "children": ["answer"]}
    gateway = ScriptedGateway(
        calls(call("lookup")),
        calls(call("core_memory_append", label="human", content="sneaky")),
        calls(call("answer")),
        reply("done"),
    )

    result, sink = await run_turn(gateway, ruled(rule))

    assert result.stop is StopReason.END_TURN
    name, status, content = sink.tool_results()[1]
    assert (name, status) == ("core_memory_append", "error")
    assert (
        content
        == "[ToolConstraintError] Cannot call core_memory_append now: the tool rules allow only: answer."
    )
    assert all(commit.changed_blocks == [] for commit in sink.commits)


async def test_a_max_count_rule_stops_offering_the_tool_once_used_up() -> None:
    gateway = ScriptedGateway(calls(call("lookup")), calls(call("lookup")), reply("done"))

    await run_turn(
        gateway, ruled({"type": "max_count_per_step", "tool_name": "lookup", "max_count_limit": 2})
    )

    assert "lookup" in gateway.offered(2) and "lookup" not in gateway.offered(3)


async def test_a_required_tool_keeps_the_turn_going_until_it_is_called() -> None:
    gateway = ScriptedGateway(reply("I am done"), calls(call("finish")), reply("now I am done"))

    result, sink = await run_turn(gateway, ruled({"type": "required_before_exit", "tool_name": "finish"}))

    assert result.stop is StopReason.END_TURN and result.steps == 3
    assert sink.commits[0].stop is None
    assert gateway.offered(2) == ["finish"] and gateway.requests[1].tool_choice == "required"


async def test_a_required_tool_also_holds_back_a_terminal_tool() -> None:
    rules = (
        {"type": "exit_loop", "tool_name": "answer"},
        {"type": "required_before_exit", "tool_name": "finish"},
    )
    gateway = ScriptedGateway(calls(call("answer")), calls(call("finish")), calls(call("answer")))

    result, sink = await run_turn(gateway, ruled(*rules))

    assert result.stop is StopReason.TOOL_RULE and result.steps == 3
    assert [commit.stop for commit in sink.commits] == [None, None, StopReason.TOOL_RULE]


async def test_a_conditional_rule_follows_the_tools_output() -> None:
    lookup = custom_tool("lookup")
    rule = {
        "type": "conditional",
        "tool_name": "lookup",
        "child_output_mapping": {"found": "answer", "missing": "finish"},
    }
    the_agent = agent(tools=[lookup, custom_tool("answer"), custom_tool("finish")], tool_rules=[rule])
    sandbox = FakeSandbox(SandboxResult("success", '{"message": "missing"}'))
    gateway = ScriptedGateway(calls(call("lookup")), calls(call("finish")), reply("done"))

    await run_turn(gateway, the_agent, sandbox=sandbox)

    assert gateway.offered(2) == ["finish"]


async def test_a_conditional_rule_without_a_match_leaves_the_model_free_to_answer() -> None:
    rule = {
        "type": "conditional",
        "tool_name": "lookup",
        "child_output_mapping": {"found": "answer"},
        "require_output_mapping": True,
    }
    gateway = ScriptedGateway(calls(call("lookup")), reply("nothing to do"))

    result, _ = await run_turn(gateway, ruled(rule))

    assert result.stop is StopReason.END_TURN
    assert gateway.offered(2) == [] and gateway.requests[1].tool_choice == "auto"


async def test_arguments_fixed_by_a_rule_replace_the_models() -> None:
    rule = {"type": "run_first", "tool_name": "conversation_search", "args": {"query": "fixed"}}
    gateway = ScriptedGateway(calls(call("conversation_search", query="chosen by the model")), reply("ok"))

    _, sink = await run_turn(gateway, ruled(rule))

    assistant = next(m for m in sink.messages if m.role is Role.ASSISTANT)
    assert orjson.loads(assistant.tool_calls[0].arguments) == {"query": "fixed"}
    assert sink.tool_results()[0][2] == "No messages found containing 'fixed'."


async def test_an_unknown_tool_is_an_invalid_call_even_under_rules() -> None:
    gateway = ScriptedGateway(calls(call("teleport")))

    result, _ = await run_turn(gateway, ruled({"type": "run_first", "tool_name": "lookup"}))

    assert result.stop is StopReason.INVALID_TOOL_CALL
    assert result.error is not None and "Tool 'teleport' does not exist" in result.error


async def test_a_resumed_turn_remembers_the_calls_it_already_made() -> None:
    def tool_call(name: str, item: str) -> list[Message]:
        made = call(name)
        return [
            history_message(Role.ASSISTANT, tool_calls=[made], batch_item_id=item),
            history_message(Role.TOOL, "ok", name=name, tool_call_id=made.id, batch_item_id=item),
        ]

    history = [
        history_message(Role.USER, "earlier turn"),
        *tool_call("answer", "batch_item-0"),
        history_message(Role.USER, "this turn", batch_item_id=ITEM_ID),
        *tool_call("lookup", ITEM_ID),
    ]
    rules = (
        {"type": "run_first", "tool_name": "lookup"},
        {"type": "max_count_per_step", "tool_name": "lookup", "max_count_limit": 1},
        {"type": "max_count_per_step", "tool_name": "answer", "max_count_limit": 1},
    )
    gateway = ScriptedGateway(reply("done"))

    await run_turn(gateway, ruled(*rules), history=history, steps_done=1)

    offered = set(gateway.offered(1))
    assert "lookup" not in offered and "answer" in offered


async def test_a_resumed_turn_still_follows_a_conditional_rule_on_the_last_output() -> None:
    rule = {
        "type": "conditional",
        "tool_name": "lookup",
        "child_output_mapping": {"found": "answer", "missing": "finish"},
        "require_output_mapping": True,
    }
    made = call("lookup")
    history = [
        history_message(Role.USER, "find it", batch_item_id=ITEM_ID),
        history_message(Role.ASSISTANT, tool_calls=[made], batch_item_id=ITEM_ID),
        history_message(Role.TOOL, "found", name="lookup", tool_call_id=made.id, batch_item_id=ITEM_ID),
    ]
    gateway = ScriptedGateway(calls(call("answer")), reply("done"))

    await run_turn(gateway, ruled(rule), history=history, steps_done=1)

    assert gateway.offered(1) == ["answer"] and gateway.requests[0].tool_choice == "required"


async def test_a_resumed_turn_does_not_count_a_call_the_rules_refused() -> None:
    rule = {"type": "constrain_child_tools", "tool_name": "lookup", "children": ["answer"]}
    gateway = ScriptedGateway(calls(call("lookup")), calls(call("finish")))
    # the first worker: a step that called lookup, then a refused call of finish; then it dies
    _, sink = await run_turn(gateway, ruled(rule), max_steps=2)
    assert sink.tool_results()[1][2].startswith("[ToolConstraintError]")
    resumed = ScriptedGateway(calls(call("answer")), reply("done"))

    await run_turn(resumed, ruled(rule), history=sink.messages, steps_done=2)

    assert resumed.offered(1) == ["answer"]
