"""The neutral message model: content parts are kept as sent, and a message's text is its text parts."""

from datetime import UTC, datetime

import pytest

from agentbatch.domain.messages import ContentPart, Message, Role, ToolCall, text_of, text_part

NOW = datetime(2026, 1, 1, tzinfo=UTC)
IMAGE: ContentPart = {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}


@pytest.mark.parametrize(
    ("parts", "text"),
    [
        ([], ""),
        ([text_part("hello")], "hello"),
        ([text_part("hello, "), text_part("world")], "hello, world"),
        ([text_part("look: "), IMAGE, text_part("a cat")], "look: a cat"),
        ([{"type": "reasoning", "reasoning": "thinking hard"}, text_part("answer")], "answer"),
        ([{"type": "redacted_reasoning", "data": "xyz"}], ""),
        ([{"text": "a part without a type is text"}], "a part without a type is text"),
        ([{"type": "text"}], ""),
        ([{"type": "text", "text": 42}], "42"),
    ],
)
def test_the_text_of_a_message_joins_its_text_parts_only(parts: list[ContentPart], text: str) -> None:
    assert text_of(parts) == text
    assert Message("message-1", "agent-1", Role.USER, NOW, content=parts).text == text


def test_content_parts_are_kept_exactly_as_the_client_sent_them() -> None:
    odd = {"type": "omitted_reasoning", "signature": "sig", "extra": {"nested": [1, 2]}}
    message = Message("message-1", "agent-1", Role.ASSISTANT, NOW, content=[odd, text_part("ok")])
    assert message.content[0] is odd
    assert message.content[0] == {
        "type": "omitted_reasoning",
        "signature": "sig",
        "extra": {"nested": [1, 2]},
    }


def test_messages_do_not_share_their_lists() -> None:
    first = Message("message-1", "agent-1", Role.USER, NOW)
    second = Message("message-2", "agent-1", Role.USER, NOW)
    first.content.append(text_part("mine"))
    first.tool_calls.append(ToolCall("call_1", "f", "{}"))
    assert second.content == [] and second.tool_calls == []


def test_tool_call_arguments_are_kept_verbatim_even_when_not_json() -> None:
    call = ToolCall("call_1", "lookup", '{"broken": ')
    assert call.arguments == '{"broken": '
    assert call == ToolCall("call_1", "lookup", '{"broken": ')
