"""Letta's tool rules honoured by real turns (worker + emulator), set through letta-client."""

from typing import Any

from letta_client import Letta

from tests.support.turns import message_types

MODEL = "openai/gpt-4o-mini"
ROLL = '''
def roll(sides: int) -> str:
    """Roll a die.

    Args:
        sides: How many sides the die has.
    """
    return "4"
'''
INSERT = '[[tool:memory_insert {"label": "human", "new_string": "x"}]]'


def _agent(client: Letta, rules: list[dict[str, Any]], **extra: Any) -> str:
    blocks = [{"label": "human", "value": "Ada"}]
    agent_id = client.agents.create(model=MODEL, memory_blocks=blocks, **extra).id
    client.agents.update(agent_id, tool_rules=rules)  # type: ignore[arg-type]
    return agent_id


def _calls(messages: Any) -> list[str]:
    return [m.tool_call.name for m in messages if m.message_type == "tool_call_message"]


def _returns(messages: Any) -> list[tuple[str, str]]:
    return [(m.status, m.tool_return) for m in messages if m.message_type == "tool_return_message"]


def test_run_first_forces_the_first_call(live: Letta) -> None:
    agent_id = _agent(live, [{"type": "run_first", "tool_name": "conversation_search"}])
    response = live.agents.messages.create(agent_id, input="hello")
    assert _calls(response.messages) == ["conversation_search"]
    assert response.stop_reason.stop_reason == "end_turn"


def test_exit_loop_ends_the_turn_with_tool_rule(live: Letta) -> None:
    agent_id = _agent(live, [{"type": "exit_loop", "tool_name": "conversation_search"}])
    response = live.agents.messages.create(agent_id, input=f"[[tool:conversation_search]] {INSERT} hi")
    assert response.stop_reason.stop_reason == "tool_rule"
    assert message_types(response.messages) == ["tool_call_message", "tool_return_message"]


def test_child_rule_refuses_other_tools_and_the_model_is_told(live: Letta) -> None:
    rule = {
        "type": "constrain_child_tools",
        "tool_name": "conversation_search",
        "children": ["core_memory_append"],
    }
    agent_id = _agent(live, [rule])
    response = live.agents.messages.create(agent_id, input=f"[[tool:conversation_search]] {INSERT} hi")
    returns = _returns(response.messages)
    assert returns[1][0] == "error" and "ToolConstraintError" in returns[1][1]
    assert "core_memory_append" in returns[1][1]
    assert live.agents.blocks.retrieve("human", agent_id=agent_id).value == "Ada"  # not run
    assert response.stop_reason.stop_reason == "end_turn"


def test_max_count_refuses_the_call_past_the_limit(live: Letta) -> None:
    agent_id = _agent(
        live, [{"type": "max_count_per_step", "tool_name": "memory_insert", "max_count_limit": 1}]
    )
    response = live.agents.messages.create(agent_id, input=f"{INSERT} {INSERT} hi")
    assert [status for status, _ in _returns(response.messages)] == ["success", "error"]
    assert live.agents.blocks.retrieve("human", agent_id=agent_id).value == "Ada\nx"


def test_parent_rule_gates_its_children(live: Letta) -> None:
    rule = {"type": "parent_last_tool", "tool_name": "conversation_search", "children": ["memory_insert"]}
    agent_id = _agent(live, [rule])
    refused = live.agents.messages.create(agent_id, input=f"{INSERT} hi")
    allowed = live.agents.messages.create(agent_id, input=f"[[tool:conversation_search]] {INSERT} hi")
    assert [status for status, _ in _returns(refused.messages)] == ["error"]
    assert [status for status, _ in _returns(allowed.messages)] == ["success", "success"]


def test_required_before_exit_keeps_the_turn_going(live: Letta) -> None:
    agent_id = _agent(live, [{"type": "required_before_exit", "tool_name": "conversation_search"}])
    response = live.agents.messages.create(agent_id, input="hello")
    assert message_types(response.messages) == [
        "assistant_message",
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
    ]
    assert _calls(response.messages) == ["conversation_search"]
    assert response.stop_reason.stop_reason == "end_turn"


def test_conditional_rule_follows_the_tool_output(live: Letta) -> None:
    tool = live.tools.create(source_code=ROLL)
    agent_id = live.agents.create(
        model=MODEL, memory_blocks=[{"label": "human", "value": "Ada"}], tool_ids=[tool.id]
    ).id
    rule = {
        "type": "conditional",
        "tool_name": "roll",
        "child_output_mapping": {"4": "conversation_search"},
        "default_child": "memory_insert",
    }
    live.agents.update(agent_id, tool_rules=[rule])  # type: ignore[list-item]
    response = live.agents.messages.create(agent_id, input='[[tool:roll {"sides": 6}]] go')
    assert _calls(response.messages) == ["roll", "conversation_search"]


def test_continue_loop_keeps_send_message_from_ending_the_turn(live: Letta) -> None:
    agent_id = _agent(
        live, [{"type": "continue_loop", "tool_name": "send_message"}], agent_type="memgpt_v2_agent"
    )
    response = live.agents.messages.create(
        agent_id, input='[[tool:send_message {"message": "first"}]] hi', max_steps=3
    )
    assert response.stop_reason.stop_reason == "max_steps"


def test_an_agent_that_must_call_a_tool_and_answers_in_text_stops_with_no_tool_call(live: Letta) -> None:
    agent_id = live.agents.create(model=MODEL, agent_type="memgpt_v2_agent", include_base_tools=False).id
    response = live.agents.messages.create(agent_id, input="hello")
    assert response.stop_reason.stop_reason == "no_tool_call"
    assert live.agents.retrieve(agent_id).last_stop_reason == "no_tool_call"
