"""Real agent turns through the synchronous endpoint, against the emulator through both SDKs."""

import json

import pytest
from letta_client import BadRequestError, Letta

from tests.support.turns import contents, message_types

MODELS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4"]


@pytest.fixture(params=MODELS)
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _agent(client: Letta, model: str, **extra: object) -> str:
    blocks = [
        {"label": "human", "value": "Name: Ada", "limit": 200},
        {"label": "persona", "value": "I am calm.", "read_only": True},
    ]
    return client.agents.create(model=model, memory_blocks=blocks, **extra).id  # type: ignore[arg-type]


def test_a_plain_message_gets_a_reply_and_ends_the_turn(live: Letta, model: str) -> None:
    agent = _agent(live, model)

    response = live.agents.messages.create(agent, input="Hello there")

    assert response.stop_reason.stop_reason == "end_turn"
    assert message_types(response.messages) == ["assistant_message"]
    assert contents(response.messages) == ["echo: Hello there"]
    assert response.usage.step_count == 1 and (response.usage.prompt_tokens or 0) > 0
    history = list(live.agents.messages.list(agent, order="asc"))
    assert message_types(history) == ["user_message", "assistant_message"]
    assert all(message.date is not None for message in history)


def test_memory_tools_change_blocks_visible_on_the_agent(live: Letta, model: str) -> None:
    agent = _agent(live, model)
    script = (
        '[[tool:core_memory_append {"label": "human", "content": "Likes tea"}]] '
        '[[tool:memory_replace {"label": "human", "old_string": "Ada", "new_string": "Ada Lovelace"}]] '
        '[[tool:memory_insert {"label": "human", "new_string": "Born 1815", "insert_line": 1}]] '
        '[[tool:core_memory_replace {"label": "human", "old_content": "tea", "new_content": "green tea"}]] '
        "remember"
    )

    response = live.agents.messages.create(agent, input=script)

    assert response.stop_reason.stop_reason == "end_turn"
    assert response.usage.step_count == 5
    assert message_types(response.messages) == ["tool_call_message", "tool_return_message"] * 4 + [
        "assistant_message"
    ]
    assert all(m.status == "success" for m in response.messages if m.message_type == "tool_return_message")
    human = next(b for b in live.agents.retrieve(agent).memory.blocks if b.label == "human")
    assert human.value == "Name: Ada Lovelace\nBorn 1815\nLikes green tea"


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ('{"label": "persona", "content": "x"}', "read-only"),
        ('{"label": "human", "content": "' + "x" * 300 + '"}', "over its limit of 200"),
        ('{"label": "nobody", "content": "x"}', "no memory block labelled 'nobody'"),
    ],
)
def test_memory_tool_errors_go_back_to_the_model(live: Letta, call: str, problem: str) -> None:
    agent = _agent(live, MODELS[0])

    response = live.agents.messages.create(agent, input=f"[[tool:core_memory_append {call}]] try")

    returns = [m for m in response.messages if m.message_type == "tool_return_message"]
    assert len(returns) == 1 and returns[0].status == "error" and problem in returns[0].tool_return
    assert response.stop_reason.stop_reason == "end_turn"  # the model saw the error and answered
    assert (
        next(b for b in live.agents.retrieve(agent).memory.blocks if b.label == "human").value == "Name: Ada"
    )


def test_conversation_search_finds_earlier_messages(live: Letta, model: str) -> None:
    agent = _agent(live, model)
    live.agents.messages.create(agent, input="my favourite colour is teal")

    response = live.agents.messages.create(
        agent, input='[[tool:conversation_search {"query": "TEAL"}]] what was it?'
    )

    found = json.loads(
        next(m for m in response.messages if m.message_type == "tool_return_message").tool_return
    )
    assert {hit["text"] for hit in found} == {
        "my favourite colour is teal",
        "echo: my favourite colour is teal",
    }


def test_max_steps_stops_the_loop(live: Letta, model: str) -> None:
    agent = _agent(live, model)
    script = "[[tool:conversation_search]] " * 3 + "go"

    response = live.agents.messages.create(agent, input=script, max_steps=2)

    assert response.stop_reason.stop_reason == "max_steps"
    assert response.usage.step_count == 2


def test_a_provider_that_keeps_failing_ends_with_llm_api_error(live: Letta, model: str) -> None:
    agent = _agent(live, model)

    response = live.agents.messages.create(agent, input="[[error:500:always]] hello")

    assert response.stop_reason.stop_reason == "llm_api_error"
    assert response.messages == []
    history = list(live.agents.messages.list(agent, order="asc"))
    assert message_types(history) == ["user_message"]  # the input is kept, nothing else


def test_transient_failures_are_retried_without_duplicates(live: Letta, model: str) -> None:
    agent = _agent(live, model)

    response = live.agents.messages.create(agent, input="[[error:429:1]] [[tool:conversation_search]] hi")

    assert response.stop_reason.stop_reason == "end_turn"
    history = list(live.agents.messages.list(agent, order="asc"))
    assert message_types(history) == [
        "user_message",
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
    ]


@pytest.mark.parametrize(
    "script", ["[[tool:no_such_tool]] hi", "[[bad-tool-args]] [[tool:conversation_search]] hi"]
)
def test_invalid_tool_calls_are_recorded_and_end_the_turn(live: Letta, model: str, script: str) -> None:
    agent = _agent(live, model)

    response = live.agents.messages.create(agent, input=script)

    assert response.stop_reason.stop_reason == "invalid_tool_call"
    returns = [m for m in response.messages if m.message_type == "tool_return_message"]
    assert len(returns) == 1 and returns[0].status == "error"


def test_an_empty_model_reply_is_an_invalid_llm_response(live: Letta, model: str) -> None:
    agent = _agent(live, model)
    response = live.agents.messages.create(agent, input="[[empty]] hi")
    assert response.stop_reason.stop_reason == "invalid_llm_response"


def test_client_tools_pause_the_turn_until_their_result_arrives(live: Letta, model: str) -> None:
    agent = _agent(live, model)
    weather = {
        "name": "get_weather",
        "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }

    paused = live.agents.messages.create(
        agent, input='[[tool:get_weather {"city": "Paris"}]] weather?', client_tools=[weather]
    )
    assert paused.stop_reason.stop_reason == "requires_approval"
    request = next(m for m in paused.messages if m.message_type == "approval_request_message")
    call_id = request.tool_call.tool_call_id

    with pytest.raises(BadRequestError, match="waiting for the result"):
        live.agents.messages.create(agent, input="ignore that")

    resumed = live.agents.messages.create(
        agent,
        messages=[
            {
                "type": "approval",
                "approvals": [
                    {
                        "type": "tool",
                        "tool_call_id": call_id,
                        "status": "success",
                        "tool_return": "sunny, 21C",
                    }
                ],
            }
        ],
        client_tools=[weather],
    )
    assert resumed.stop_reason.stop_reason == "end_turn"
    assert message_types(resumed.messages) == [
        "approval_response_message",
        "tool_return_message",
        "assistant_message",
    ]
    tool_result = resumed.messages[1]
    assert tool_result.tool_return == "sunny, 21C" and tool_result.tool_call_id == call_id
    assert contents(resumed.messages[2:]) == ["echo: weather?"]


def test_older_agent_types_answer_through_send_message(live: Letta, model: str) -> None:
    agent = _agent(live, model, agent_type="memgpt_v2_agent")

    response = live.agents.messages.create(agent, input="Hi old friend")

    assert response.stop_reason.stop_reason == "end_turn"
    assert message_types(response.messages) == ["assistant_message", "tool_return_message"]
    assert contents(response.messages[:1]) == ["echo: Hi old friend"]
    raw = live.agents.messages.create(agent, input="again", use_assistant_message=False)
    assert message_types(raw.messages) == ["tool_call_message", "tool_return_message"]
    assert raw.messages[0].tool_call.name == "send_message"


def test_return_message_types_can_be_filtered(live: Letta) -> None:
    agent = _agent(live, MODELS[0])
    response = live.agents.messages.create(
        agent, input="[[tool:conversation_search]] hi", include_return_message_types=["assistant_message"]
    )
    assert message_types(response.messages) == ["assistant_message"]


def test_a_reply_cut_off_at_the_token_limit_is_reported(live: Letta, model: str) -> None:
    agent = _agent(live, model)
    response = live.agents.messages.create(agent, input="[[truncate]] tell me a long story please")
    assert response.stop_reason.stop_reason == "max_tokens_exceeded"
    assert message_types(response.messages) == ["assistant_message"]  # what arrived is kept


def _small_window_agent(client: Letta, window: int, **extra: object) -> str:
    llm_config = {"model": "gpt-4o-mini", "model_endpoint_type": "openai", "context_window": window}
    return client.agents.create(model=MODELS[0], llm_config=llm_config, **extra).id  # type: ignore[arg-type]


def test_old_messages_leave_a_small_window_but_stay_searchable(live: Letta) -> None:
    small = _small_window_agent(live, 2_000)
    large = _small_window_agent(live, 128_000)
    prompts: dict[str, list[int]] = {small: [], large: []}
    for turn in range(25):
        for agent in (small, large):
            text = f"note {turn}: " + ("remember-zanzibar " if turn == 0 else "") + "lorem ipsum dolor " * 20
            reply = live.agents.messages.create(agent, input=text)
            prompts[agent].append(reply.usage.prompt_tokens or 0)

    assert prompts[large][-1] > 2 * prompts[small][-1]  # the small window stopped growing
    assert max(prompts[small][-5:]) - min(prompts[small][-5:]) < 100
    found = live.agents.messages.create(
        small, input='[[tool:conversation_search {"query": "zanzibar"}]] recall'
    )
    result = next(m for m in found.messages if m.message_type == "tool_return_message")
    assert "note 0: remember-zanzibar" in result.tool_return


def test_a_system_prompt_larger_than_the_window_stops_the_turn(live: Letta) -> None:
    agent = _small_window_agent(
        live, 1_000, memory_blocks=[{"label": "human", "value": "very long memory " * 400, "limit": 100_000}]
    )
    response = live.agents.messages.create(agent, input="hello")
    assert response.stop_reason.stop_reason == "context_window_overflow_in_system_prompt"
    assert message_types(list(live.agents.messages.list(agent))) == ["user_message"]
