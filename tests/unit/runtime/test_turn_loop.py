"""One agent turn's step loop against a scripted model: what ends a turn, what each step sends and
commits, and how failures of the model or of the sink end it."""

import pytest

from agentbatch.domain.agents import AgentType
from agentbatch.domain.messages import Role
from agentbatch.domain.states import StopReason
from agentbatch.providers.base import ModelResponse
from agentbatch.providers.errors import (
    InvalidResponse,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from agentbatch.runtime.ports import TurnAborted
from tests.unit.runtime.fakes import (
    BATCH_ID,
    HANDLE,
    ITEM_ID,
    RecordingSink,
    ScriptedGateway,
    agent,
    base_tools,
    call,
    calls,
    custom_tool,
    history_message,
    reply,
    request,
    run_turn,
    user,
)


async def test_a_plain_text_reply_ends_the_turn_in_one_step() -> None:
    gateway = ScriptedGateway(reply("Hi there", prompt=12, completion=3))

    result, sink = await run_turn(gateway, agent(), request(user("hello")))

    assert result.stop is StopReason.END_TURN and result.error is None
    assert (result.steps, result.prompt_tokens, result.completion_tokens) == (1, 12, 3)
    [commit] = sink.commits
    assert commit.stop is StopReason.END_TURN and commit.step is not None and commit.step.step_no == 1
    assert [(m.role, m.text) for m in commit.messages] == [(Role.USER, "hello"), (Role.ASSISTANT, "Hi there")]
    assert result.messages == commit.messages


async def test_a_tool_result_goes_back_to_the_model_in_the_next_step() -> None:
    search = call("conversation_search", query="zebra")
    gateway = ScriptedGateway(calls(search), reply("Nothing about zebras."))

    result, sink = await run_turn(gateway, agent(), request(user("did I mention zebras?")))

    assert result.stop is StopReason.END_TURN and result.steps == 2
    assert [commit.step.step_no for commit in sink.commits if commit.step] == [1, 2]
    assert [commit.stop for commit in sink.commits] == [None, StopReason.END_TURN]
    second = gateway.requests[1].messages
    assert [m.role for m in second] == [Role.USER, Role.ASSISTANT, Role.TOOL]
    assert second[1].tool_calls == [search]
    assert second[2].tool_call_id == search.id
    assert second[2].tool_returns[0].status == "success"


async def test_usage_is_summed_over_the_steps_and_the_first_steps_latency_kept() -> None:
    gateway = ScriptedGateway(
        calls(call("conversation_search", query="a"), prompt=100, completion=7),
        calls(call("conversation_search", query="b"), prompt=150, completion=9),
        reply("done", prompt=200, completion=11),
    )

    result, sink = await run_turn(gateway, agent())

    assert (result.steps, result.prompt_tokens, result.completion_tokens) == (3, 450, 27)
    steps = [commit.step for commit in sink.commits if commit.step]
    assert [(s.prompt_tokens, s.completion_tokens) for s in steps] == [(100, 7), (150, 9), (200, 11)]
    assert result.ttft_ns == steps[0].ttft_ns
    assert all(s.model == str(HANDLE) and s.duration_ns >= s.ttft_ns for s in steps)


async def test_max_steps_stops_a_turn_that_keeps_calling_tools() -> None:
    gateway = ScriptedGateway(*(calls(call("conversation_search", query=str(n))) for n in range(3)))

    result, sink = await run_turn(gateway, agent(), max_steps=3)

    assert result.stop is StopReason.MAX_STEPS and result.steps == 3
    assert len(gateway.requests) == 3
    last = sink.commits[-1]
    assert last.step is None and last.stop is StopReason.MAX_STEPS and last.messages == []


@pytest.mark.parametrize(("steps_done", "model_calls"), [(2, 1), (3, 0), (5, 0)])
async def test_a_resumed_turn_counts_the_steps_already_committed(steps_done: int, model_calls: int) -> None:
    gateway = ScriptedGateway(reply("resumed"))
    earlier = [history_message(Role.USER, "hello"), history_message(Role.ASSISTANT, "thinking")]

    result, sink = await run_turn(gateway, agent(), history=earlier, steps_done=steps_done, max_steps=3)

    assert len(gateway.requests) == model_calls
    if model_calls:
        assert result.stop is StopReason.END_TURN
        assert sink.commits[0].step is not None and sink.commits[0].step.step_no == steps_done + 1
        # the request's input was written by the first attempt: it is not added again
        assert [m.text for m in gateway.requests[0].messages] == ["hello", "thinking"]
    else:
        assert result.stop is StopReason.MAX_STEPS and sink.commits[0].messages == []


@pytest.mark.parametrize(
    ("error", "stop"),
    [
        (ProviderUnavailable("provider down after 5 attempts", status=503), StopReason.LLM_API_ERROR),
        (RateLimited("rate limited", status=429), StopReason.LLM_API_ERROR),
        (ProviderRejected("model not found", status=404), StopReason.LLM_API_ERROR),
        (InvalidResponse("reply was not JSON"), StopReason.INVALID_LLM_RESPONSE),
    ],
)
async def test_a_failed_model_call_ends_the_turn_and_still_writes_its_input(
    error: ProviderError, stop: StopReason
) -> None:
    result, sink = await run_turn(ScriptedGateway(error), agent(), request(user("hello")))

    assert result.stop is stop and result.error == str(error) and result.steps == 0
    [commit] = sink.commits
    assert commit.step is None and commit.stop is stop and commit.error == str(error)
    assert [m.text for m in commit.messages] == ["hello"]


async def test_a_model_failure_after_a_step_keeps_that_step_and_writes_nothing_twice() -> None:
    gateway = ScriptedGateway(
        calls(call("conversation_search", query="x")), ProviderUnavailable("gave up", status=502)
    )

    result, sink = await run_turn(gateway, agent())

    assert result.stop is StopReason.LLM_API_ERROR and result.steps == 1
    assert len(sink.commits) == 2 and sink.commits[1].messages == []
    assert [m.role for m in sink.messages] == [Role.USER, Role.ASSISTANT, Role.TOOL]


@pytest.mark.parametrize(
    ("response", "stop", "problem"),
    [
        (reply(""), StopReason.INVALID_LLM_RESPONSE, "neither text nor a tool call"),
        (reply("and then", finish="length"), StopReason.MAX_TOKENS_EXCEEDED, "output token limit"),
    ],
)
async def test_unusable_replies_end_the_turn_with_the_reason(
    response: ModelResponse, stop: StopReason, problem: str
) -> None:
    result, sink = await run_turn(ScriptedGateway(response), agent())

    assert result.stop is stop and result.error is not None and problem in result.error
    assert sink.commits[-1].stop is stop and sink.commits[-1].step is not None


async def test_a_reply_of_reasoning_alone_is_an_answer() -> None:
    thought = {"type": "reasoning", "reasoning": "the user greets me"}
    response = ModelResponse("", [], "stop", 1, 1, HANDLE.model, reasoning=[thought])

    result, sink = await run_turn(ScriptedGateway(response), agent())

    assert result.stop is StopReason.END_TURN
    assert sink.messages[-1].content == [thought]


async def test_the_model_request_carries_the_agents_model_settings_and_history() -> None:
    gateway = ScriptedGateway(reply("ok"))
    earlier = [history_message(Role.USER, "first"), history_message(Role.ASSISTANT, "first answer")]
    the_agent = agent(llm_config={"max_tokens": 321, "temperature": 0.25})

    await run_turn(gateway, the_agent, request(user("second")), history=earlier)

    [sent] = gateway.requests
    assert (sent.model, sent.max_tokens, sent.temperature) == (HANDLE.model, 321, 0.25)
    assert [m.text for m in sent.messages] == ["first", "first answer", "second"]
    assert sent.system.startswith("You are a test agent.")
    assert sent.tool_choice == "auto"
    assert {tool.name for tool in sent.tools} == {t.name for t in the_agent.tools}


async def test_every_written_message_is_tagged_with_the_batch_item_and_step() -> None:
    gateway = ScriptedGateway(calls(call("conversation_search", query="x")), reply("done"))

    _, sink = await run_turn(gateway, agent())

    assert all((m.batch_id, m.batch_item_id) == (BATCH_ID, ITEM_ID) for m in sink.messages)
    assert all(m.agent_id == "agent-1" for m in sink.messages)
    for commit in sink.commits:
        assert commit.step is not None
        produced = [m for m in commit.messages if m.role is not Role.USER]
        assert produced and all(m.step_id == commit.step.step_id for m in produced)
    assistants = [m for m in sink.messages if m.role is Role.ASSISTANT]
    assert all(m.model == str(HANDLE) for m in assistants)
    assert len({c.step.step_id for c in sink.commits if c.step}) == 2


async def test_a_refused_commit_aborts_the_turn_before_the_next_model_call() -> None:
    gateway = ScriptedGateway(calls(call("conversation_search", query="x")), reply("never asked"))
    sink = RecordingSink(refuse_at=1)

    with pytest.raises(TurnAborted):
        await run_turn(gateway, agent(), sink=sink)

    assert len(gateway.requests) == 1 and sink.commits == []


async def test_the_turn_extends_the_history_it_was_given() -> None:
    history = [history_message(Role.USER, "before")]
    gateway = ScriptedGateway(calls(call("conversation_search", query="x")), reply("done"))

    _, sink = await run_turn(gateway, agent(), history=history)

    assert history[1:] == sink.messages


class TestAgentsThatAnswerThroughSendMessage:
    """memgpt agents must call ``send_message`` (or the request's assistant tool) to answer."""

    async def test_send_message_ends_the_turn(self) -> None:
        gateway = ScriptedGateway(calls(call("send_message", message="Hello!")))

        result, sink = await run_turn(gateway, agent(agent_type=AgentType.MEMGPT))

        assert result.stop is StopReason.END_TURN and result.steps == 1
        assert sink.tool_results() == [("send_message", "success", "Sent message successfully.")]
        assert gateway.requests[0].tool_choice == "required"

    async def test_a_plain_text_answer_is_refused(self) -> None:
        result, _ = await run_turn(ScriptedGateway(reply("Hello!")), agent(agent_type=AgentType.MEMGPT_V2))

        assert result.stop is StopReason.NO_TOOL_CALL
        assert result.error is not None and "calling a tool" in result.error

    async def test_the_requests_assistant_tool_also_ends_the_turn(self) -> None:
        answer = custom_tool("answer_user", {"text": {"type": "string"}}, required=["text"])
        the_agent = agent(agent_type=AgentType.MEMGPT, tools=[*base_tools(), answer])
        gateway = ScriptedGateway(calls(call("answer_user", text="Hi")))

        result, sink = await run_turn(
            gateway,
            the_agent,
            request(
                user("hi"), assistant_message_tool_name="answer_user", assistant_message_tool_kwarg="text"
            ),
        )

        assert result.stop is StopReason.END_TURN
        assert sink.tool_results() == [("answer_user", "success", "Sent message successfully.")]

    async def test_a_v1_agent_is_not_forced_to_call_a_tool(self) -> None:
        gateway = ScriptedGateway(reply("Hello!"))

        result, _ = await run_turn(gateway, agent(agent_type=AgentType.LETTA_V1))

        assert result.stop is StopReason.END_TURN and gateway.requests[0].tool_choice == "auto"
