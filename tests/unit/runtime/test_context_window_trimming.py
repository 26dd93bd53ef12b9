"""Trimming a turn's history to the model's context window: room kept for the reply, the system prompt
and tools counted first, tool calls never parted from their results, the model told what it cannot
see, and a turn stopped when its instructions alone fill the window."""

import pytest

from agentbatch.domain.messages import Message, Role, ToolReturn, estimated_tokens
from agentbatch.domain.states import StopReason
from agentbatch.providers.base import ToolSpec
from agentbatch.runtime.context_window import (
    SystemPromptOverflow,
    fit,
    output_reserve,
    window_note,
)
from tests.unit.runtime.fakes import (
    ListRecall,
    ScriptedGateway,
    agent,
    block,
    call,
    calls,
    history_message,
    reply,
    request,
    run_turn,
    user,
)


def chat(count: int, size: int = 40) -> list[Message]:
    roles = (Role.USER, Role.ASSISTANT)
    return [history_message(roles[n % 2], f"{n:<{size}}") for n in range(count)]


def exchange(result_size: int = 40, results: int = 1) -> list[Message]:
    """An assistant message calling a tool ``results`` times, then one result per call."""
    made = [call("lookup") for _ in range(results)]
    answers = [
        history_message(
            Role.TOOL,
            tool_call_id=c.id,
            tool_returns=[ToolReturn(c.id, "success", "r" * result_size)],
        )
        for c in made
    ]
    return [history_message(Role.ASSISTANT, tool_calls=made), *answers]


@pytest.mark.parametrize(
    ("context_window", "max_tokens", "reserve"),
    [(128_000, None, 4096), (128_000, 1000, 1000), (8000, None, 2000), (1000, 5000, 250), (200_000, 0, 4096)],
)
def test_room_kept_for_the_reply_is_max_tokens_or_4096_at_most_a_quarter(
    context_window: int, max_tokens: int | None, reserve: int
) -> None:
    assert output_reserve(context_window, max_tokens) == reserve


def test_a_messages_tool_calls_and_results_count_toward_its_size() -> None:
    plain = history_message(Role.ASSISTANT, "hi")
    calling, result = exchange(result_size=4000)

    assert estimated_tokens(result) >= 1000 > estimated_tokens(plain)
    assert estimated_tokens(calling) > estimated_tokens(plain)


def test_tools_take_room_from_the_history() -> None:
    history = chat(200)
    big_tool = ToolSpec("lookup", "d" * 2000, {"type": "object", "properties": {}})

    without = fit("system", [], history, context_window=1500, output_reserve=100)
    beside = fit("system", [big_tool], history, context_window=1500, output_reserve=100)

    assert len(beside.messages) < len(without.messages) < len(history)
    assert beside.dropped == len(history) - len(beside.messages)


def test_the_reply_reserve_takes_room_from_the_history() -> None:
    history = chat(60)

    roomy = fit("system", [], history, context_window=1500, output_reserve=0)
    tight = fit("system", [], history, context_window=1500, output_reserve=700)

    assert len(tight.messages) < len(roomy.messages)


def test_results_whose_call_fell_out_of_the_window_are_dropped_with_it() -> None:
    many_results = exchange(result_size=40, results=3)
    history = [*chat(2, size=4000), *many_results, *chat(2)]
    # room for the newest two messages and two of the three results, not for the call
    budget = sum(estimated_tokens(m) for m in history[-4:]) + 2

    window = fit("", [], history, context_window=budget + 1, output_reserve=0)

    assert window.messages == history[-2:]
    assert window.dropped == len(history) - 2


def test_a_window_does_not_open_on_an_approval_reply_whose_request_fell_out() -> None:
    calling, result = exchange()
    request = history_message(Role.APPROVAL, tool_calls=calling.tool_calls)
    approval_reply = history_message(Role.APPROVAL, approve=True)
    history = [*chat(2, size=4000), request, approval_reply, result, *chat(2)]
    budget = sum(estimated_tokens(m) for m in history[-4:])

    window = fit("", [], history, context_window=budget + 1, output_reserve=0)

    assert window.messages == history[-2:]


def test_a_call_that_fits_keeps_all_its_results() -> None:
    history = [*chat(2, size=4000), *exchange(results=2), *chat(1)]

    window = fit("", [], history, context_window=200, output_reserve=0)

    assert [m.role for m in window.messages] == [Role.ASSISTANT, Role.TOOL, Role.TOOL, Role.USER]


def test_an_empty_history_fits_unless_the_instructions_overflow() -> None:
    assert fit("short", [], [], context_window=100, output_reserve=10).messages == []
    with pytest.raises(SystemPromptOverflow):
        fit("x" * 1000, [], [], context_window=100, output_reserve=10)


def test_a_newest_message_too_large_for_the_window_is_an_overflow_naming_the_sizes() -> None:
    with pytest.raises(SystemPromptOverflow) as overflow:
        fit("system", [], chat(1, size=4000), context_window=500, output_reserve=100)

    message = str(overflow.value)
    assert "100 reserved for the reply" in message and "500-token window" in message


def test_the_note_says_how_many_messages_are_out_of_sight_and_how_to_find_them() -> None:
    note = window_note(12)

    assert "12 older messages" in note and "conversation_search" in note


class TestInATurn:
    async def test_the_model_sees_the_newest_messages_and_is_told_about_the_rest(self) -> None:
        history = chat(200)
        gateway = ScriptedGateway(reply("ok"))
        the_agent = agent(tools=[], llm_config={"context_window": 2000})

        await run_turn(gateway, the_agent, request(user("latest")), history=list(history))

        sent = gateway.requests[0]
        everything = [*history, sent.messages[-1]]
        dropped = len(everything) - len(sent.messages)
        assert 0 < len(sent.messages) < len(everything)
        assert list(sent.messages) == everything[dropped:] and sent.messages[-1].text == "latest"
        assert sent.system.endswith(window_note(dropped))

    async def test_a_history_that_fits_is_sent_whole_without_a_note(self) -> None:
        gateway = ScriptedGateway(reply("ok"))

        await run_turn(gateway, agent(), history=chat(10))

        sent = gateway.requests[0]
        assert len(sent.messages) == 11 and "outside your context window" not in sent.system

    async def test_the_max_tokens_setting_shrinks_what_is_sent(self) -> None:
        sizes = []
        for max_tokens in (10, 1000):
            gateway = ScriptedGateway(reply("ok"))
            the_agent = agent(tools=[], llm_config={"context_window": 4000, "max_tokens": max_tokens})
            await run_turn(gateway, the_agent, history=chat(300))
            sizes.append(len(gateway.requests[0].messages))

        assert sizes[0] > sizes[1]

    async def test_instructions_that_fill_the_window_stop_the_turn_before_any_model_call(self) -> None:
        gateway = ScriptedGateway()
        the_agent = agent(system="x" * 10_000, llm_config={"context_window": 1000})

        result, sink = await run_turn(gateway, the_agent, request(user("hello")))

        assert result.stop is StopReason.CONTEXT_WINDOW_OVERFLOW_IN_SYSTEM_PROMPT
        assert result.error is not None and "1000-token window" in result.error
        assert gateway.requests == []
        [commit] = sink.commits
        assert commit.step is None and [m.text for m in commit.messages] == ["hello"]

    async def test_memory_that_grows_past_the_window_stops_the_turn_at_the_next_step(self) -> None:
        gateway = ScriptedGateway(calls(call("core_memory_append", label="notes", content="n" * 3000)))
        the_agent = agent(blocks=[block("notes")], llm_config={"context_window": 3000})

        result, sink = await run_turn(gateway, the_agent)

        assert result.stop is StopReason.CONTEXT_WINDOW_OVERFLOW_IN_SYSTEM_PROMPT and result.steps == 1
        assert sink.commits[0].changed_blocks[0].value == "n" * 3000


class TestGivenOnlyTheNewestMessages:
    """The engine loads only the newest messages that could fit (``recent_histories``): the turn counts
    the rest in its note and searches them through ``Recall``."""

    async def test_the_note_counts_the_messages_that_were_not_loaded_too(self) -> None:
        history = chat(200)
        whole, newest = ScriptedGateway(reply("ok")), ScriptedGateway(reply("ok"))
        the_agent = agent(tools=[], llm_config={"context_window": 2000})

        await run_turn(whole, the_agent, request(user("latest")), history=list(history))
        await run_turn(
            newest,
            the_agent,
            request(user("latest")),
            history=history[50:],
            earlier=50,
            recall=ListRecall(history),
        )

        sent, expected = newest.requests[0].messages, whole.requests[0].messages
        assert sent[:-1] == expected[:-1] and sent[-1].text == expected[-1].text == "latest"
        assert newest.requests[0].system == whole.requests[0].system  # the same count of older messages

    async def test_conversation_search_finds_a_message_that_was_not_loaded(self) -> None:
        history = [history_message(Role.USER, "my locker code is 4711"), *chat(50)]
        recall = ListRecall(history)
        gateway = ScriptedGateway(calls(call("conversation_search", query="LOCKER")), reply("found it"))

        await run_turn(gateway, agent(), history=history[40:], earlier=40, recall=recall)

        [(_, status, content)] = gateway_results(gateway)
        assert status == "success" and "my locker code is 4711" in content
        assert recall.reads == 6  # 51 messages, 10 a page: the match is in the oldest

    async def test_a_search_that_finds_enough_among_the_newest_reads_no_further(self) -> None:
        history = [*chat(50), history_message(Role.USER, "my locker code is 4711")]
        recall = ListRecall(history)
        gateway = ScriptedGateway(calls(call("conversation_search", query="locker", limit=1)), reply("ok"))

        await run_turn(gateway, agent(), history=history[40:], earlier=40, recall=recall)

        [(_, status, content)] = gateway_results(gateway)
        assert status == "success" and "4711" in content and recall.reads == 1

    async def test_a_whole_history_is_searched_as_loaded_without_reading_it_again(self) -> None:
        history = [history_message(Role.USER, "my locker code is 4711"), *chat(5)]
        recall = ListRecall([])
        gateway = ScriptedGateway(calls(call("conversation_search", query="locker")), reply("found it"))

        await run_turn(gateway, agent(), history=history, recall=recall)

        [(_, status, content)] = gateway_results(gateway)
        assert status == "success" and "4711" in content and recall.reads == 0


def gateway_results(gateway: ScriptedGateway) -> list[tuple[str, str, str]]:
    """The tool results the model was shown in its second call: (tool name, status, content)."""
    return [
        (m.name or "", ret.status, ret.content)
        for m in gateway.requests[1].messages
        if m.role is Role.TOOL
        for ret in m.tool_returns
    ]
