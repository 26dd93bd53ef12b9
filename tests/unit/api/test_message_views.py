"""Stored messages as Letta's two wire shapes, and the ``text`` of a results line: what a caller reads
depends on the request's own rendering options (``use_assistant_message`` and friends)."""

from typing import Any

import pytest

from agentbatch.api.views.messages import RenderOptions, internal_message, letta_messages
from agentbatch.api.views.results import final_text, result_line
from agentbatch.domain.messages import Message, Role, ToolCall
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.store.results import FinishedRequest
from tests.support.openapi import assert_matches_spec
from tests.unit.api import records

EVERY_KIND: list[Message] = [
    records.message(Role.SYSTEM, content=[{"type": "text", "text": "You help."}]),
    records.message(Role.USER, content=[{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}]),
    records.message(
        Role.ASSISTANT,
        content=[
            {"type": "reasoning", "reasoning": "think", "is_native": True, "signature": "sig"},
            {"type": "redacted_reasoning", "data": "xx"},
            {"type": "text", "text": "Let me look."},
        ],
        tool_calls=[ToolCall("call-1", "lookup", '{"word": "tea"}')],
    ),
    records.tool_result("a drink"),
    records.send_message_call("Tea is a drink.", call_id="call-2"),
    records.message(Role.APPROVAL, tool_calls=[ToolCall("call-3", "delete_all", "{}")]),
    records.message(Role.APPROVAL, approval_request_id="message-x", approve=False, denial_reason="no"),
]


def _types(rendered: list[dict[str, Any]]) -> list[str]:
    return [message["message_type"] for message in rendered]


def test_every_kind_of_stored_message_expands_to_letta_message_types_in_order() -> None:
    assert _types(letta_messages(EVERY_KIND, RenderOptions())) == [
        "system_message",
        "user_message",
        "reasoning_message",
        "hidden_reasoning_message",
        "assistant_message",
        "tool_call_message",
        "tool_return_message",
        "assistant_message",
        "approval_request_message",
        "approval_response_message",
    ]


def test_the_rendered_list_is_lettas_message_union() -> None:
    assert_matches_spec(letta_messages(EVERY_KIND, RenderOptions()), "GET", "/v1/agents/{agent_id}/messages")


def test_the_stored_form_is_lettas_batch_messages() -> None:
    body = {"messages": [internal_message(message) for message in EVERY_KIND]}
    assert_matches_spec(body, "GET", "/v1/messages/batches/{batch_id}/messages")


def test_one_stored_message_expands_to_entries_that_all_carry_its_id() -> None:
    assistant = EVERY_KIND[2]
    rendered = letta_messages([assistant], RenderOptions())
    assert len(rendered) == 4 and {entry["id"] for entry in rendered} == {assistant.id}


def test_user_text_parts_are_joined_but_an_image_keeps_the_parts() -> None:
    (text_only,) = letta_messages([EVERY_KIND[1]], RenderOptions())
    assert text_only["content"] == "hi there"
    parts = [{"type": "text", "text": "see"}, {"type": "image", "source": {"type": "url", "url": "u"}}]
    (with_image,) = letta_messages([records.message(Role.USER, content=parts)], RenderOptions())
    assert with_image["content"] == parts


def test_send_message_shows_as_the_assistant_saying_its_argument() -> None:
    (entry,) = letta_messages([records.send_message_call("Hello!")], RenderOptions())
    assert (entry["message_type"], entry["content"]) == ("assistant_message", "Hello!")


def test_without_use_assistant_message_send_message_is_a_plain_tool_call() -> None:
    options = RenderOptions(use_assistant_message=False)
    (entry,) = letta_messages([records.send_message_call("Hello!")], options)
    assert entry["message_type"] == "tool_call_message"
    assert entry["tool_call"]["name"] == "send_message" and entry["tool_calls"] == [entry["tool_call"]]


def test_a_renamed_assistant_tool_and_kwarg_are_honoured() -> None:
    call = records.message(
        Role.ASSISTANT, tool_calls=[ToolCall("c", "reply", '{"text": "hey", "message": "x"}')]
    )
    options = RenderOptions(assistant_message_tool_name="reply", assistant_message_tool_kwarg="text")
    assert letta_messages([call], options)[0]["content"] == "hey"
    assert letta_messages([call], RenderOptions())[0]["message_type"] == "tool_call_message"


@pytest.mark.parametrize(
    ("arguments", "shown"), [("not json", "not json"), ("[1, 2]", "[1, 2]"), ('{"other": 1}', "")]
)
def test_send_message_arguments_that_are_not_an_object_with_the_kwarg_are_shown_safely(
    arguments: str, shown: str
) -> None:
    call = records.message(Role.ASSISTANT, tool_calls=[ToolCall("c", "send_message", arguments)])
    assert letta_messages([call], RenderOptions())[0]["content"] == shown


def test_include_return_message_types_filters_the_expansion() -> None:
    options = RenderOptions(include_types=frozenset({"tool_return_message", "assistant_message"}))
    assert _types(letta_messages(EVERY_KIND, options)) == [
        "assistant_message",
        "tool_return_message",
        "assistant_message",
    ]


def test_render_options_come_from_the_request() -> None:
    request = TurnRequest(
        use_assistant_message=False,
        assistant_message_tool_name="reply",
        include_return_message_types=("assistant_message",),
    )
    options = RenderOptions.of(request)
    assert options == RenderOptions(False, "reply", "message", frozenset({"assistant_message"}))
    assert RenderOptions.of(TurnRequest(include_return_message_types=())).include_types is None


def test_a_tool_return_carries_its_status_output_and_call_id() -> None:
    (entry,) = letta_messages([records.tool_result("42", call_id="call-7")], RenderOptions())
    assert (entry["tool_return"], entry["status"], entry["tool_call_id"]) == ("42", "success", "call-7")
    assert entry["stdout"] == ["out"] and len(entry["tool_returns"]) == 1


def test_a_tool_message_without_structured_returns_shows_its_text() -> None:
    bare = records.message(Role.TOOL, content=[{"type": "text", "text": "done"}], tool_call_id="c-1")
    (entry,) = letta_messages([bare], RenderOptions())
    assert (entry["tool_return"], entry["status"], entry["tool_call_id"]) == ("done", "success", "c-1")


def test_an_error_message_is_flagged_and_others_are_not() -> None:
    failed, fine = letta_messages([records.said("oops", is_err=True), records.said("ok")], RenderOptions())
    assert failed["is_err"] is True and fine["is_err"] is None


def test_an_approval_request_lists_every_call_and_a_response_its_decision() -> None:
    calls = [ToolCall("c-1", "a", "{}"), ToolCall("c-2", "b", "{}")]
    request, response = letta_messages(
        [records.message(Role.APPROVAL, tool_calls=calls), EVERY_KIND[-1]], RenderOptions()
    )
    assert [call["tool_call_id"] for call in request["tool_calls"]] == ["c-1", "c-2"]
    assert request["tool_call"]["tool_call_id"] == "c-1"
    assert (response["approval_request_id"], response["approve"], response["reason"]) == (
        "message-x",
        False,
        "no",
    )


def test_the_stored_form_keeps_tool_calls_and_returns_in_openai_shape() -> None:
    stored = internal_message(EVERY_KIND[2])
    assert stored["tool_calls"] == [
        {"id": "call-1", "type": "function", "function": {"name": "lookup", "arguments": '{"word": "tea"}'}}
    ]
    assert internal_message(EVERY_KIND[3])["tool_returns"][0]["func_response"] == "a drink"
    assert internal_message(EVERY_KIND[0])["tool_calls"] is None


def _finished(messages: list[Message], request: TurnRequest | None = None) -> FinishedRequest:
    return FinishedRequest(item=records.item(), request=request or TurnRequest(), messages=messages)


def test_the_result_text_is_the_last_thing_the_assistant_said() -> None:
    found = _finished([records.said("first"), records.tool_result("x"), records.send_message_call("last")])
    assert final_text(found) == "last"


def test_the_result_text_follows_the_requests_assistant_tool() -> None:
    reply = records.message(Role.ASSISTANT, tool_calls=[ToolCall("c", "reply", '{"message": "via reply"}')])
    found = _finished([reply], TurnRequest(assistant_message_tool_name="reply"))
    assert final_text(found) == "via reply"


def test_the_result_text_ignores_the_requests_type_filter() -> None:
    """A request that asked only for tool returns still gets its answer's text on the results line."""
    found = _finished(
        [records.said("answer")], TurnRequest(include_return_message_types=("tool_return_message",))
    )
    assert final_text(found) == "answer"


def test_a_turn_that_said_nothing_has_no_result_text() -> None:
    assert final_text(_finished([records.tool_result("x")])) is None
    assert final_text(_finished([])) is None


def test_a_results_line_lists_each_message_once_and_its_usage() -> None:
    assistant = EVERY_KIND[2]
    line = result_line(_finished([assistant, records.tool_result("a")]))
    assert line["message_ids"][0] == assistant.id and len(line["message_ids"]) == 2
    assert line["custom_id"] == "req-1" and line["status"] == "succeeded"
    assert line["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "step_count": 2,
        "cached_input_tokens": 0,
        "cache_write_tokens": 0,
    }
    assert line["completed_at"] == "2026-01-02T03:04:05+00:00"
