"""The body of one agent turn: which Letta shapes are accepted, what typed request each becomes, and
which are refused with the field at fault named."""

from typing import Any

import pytest

from agentbatch.api.schemas.batches import BatchRequestIn
from agentbatch.api.schemas.turns import SendMessageIn, TurnIn
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.turn_requests import ApprovalReply, InputMessage, ToolResultDecision
from tests.unit.api.refusals import refusal_text, refused_fields


def _request(body: dict[str, Any]) -> Any:
    return TurnIn.model_validate(body).to_request()


@pytest.mark.parametrize(
    "content",
    ["hello", [{"type": "text", "text": "hello"}]],
    ids=["string", "text-parts"],
)
def test_string_content_and_a_single_text_part_are_the_same_message(content: Any) -> None:
    request = _request({"messages": [{"role": "user", "content": content}]})
    assert request.messages == (InputMessage(role="user", content=({"type": "text", "text": "hello"},)),)


def test_input_is_one_user_message_whatever_its_content() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "image", "source": {"type": "url", "url": "http://x"}}]
    request = _request({"input": parts})
    (only,) = request.messages
    assert isinstance(only, InputMessage)
    assert only.role == "user"
    assert [part["type"] for part in only.content] == ["text", "image"]


def test_messages_keep_their_order_roles_and_attribution() -> None:
    request = _request(
        {
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi", "name": "ann", "otid": "o-1", "sender_id": "s-9"},
                {"role": "assistant", "content": "hello"},
            ]
        }
    )
    assert [(m.role, m.name, m.otid, m.sender_id) for m in request.input_messages] == [
        ("system", None, None, None),
        ("user", "ann", "o-1", "s-9"),
        ("assistant", None, None, None),
    ]


def test_a_client_sent_batch_item_id_is_not_carried_into_the_request() -> None:
    request = _request({"messages": [{"role": "user", "content": "hi", "batch_item_id": "forged"}]})
    (only,) = request.input_messages
    assert "batch_item_id" not in only.extra
    assert "forged" not in repr(request)


def test_unknown_options_and_message_fields_are_kept_for_later() -> None:
    request = _request(
        {"messages": [{"role": "user", "content": "hi", "colour": "red"}], "top_p": 0.5, "stream": None}
    )
    assert dict(request.extra) == {"top_p": 0.5, "stream": None}
    assert dict(request.input_messages[0].extra) == {"colour": "red"}


def test_a_tool_result_reply_becomes_a_typed_decision() -> None:
    reply = {
        "type": "approval",
        "approvals": [
            {"type": "tool", "tool_call_id": "c-1", "status": "success", "tool_return": "42", "stdout": ["x"]}
        ],
    }
    request = _request({"messages": [reply]})
    assert isinstance(request.approval, ApprovalReply)
    assert request.approval.decision_for("c-1") == ToolResultDecision("c-1", "success", "42", ("x",), None)


def test_client_tools_keep_their_names_descriptions_and_parameters() -> None:
    parameters = {"type": "object", "properties": {"q": {"type": "string"}}}
    request = _request(
        {
            "input": "go",
            "client_tools": [{"name": "search", "description": "Find.", "parameters": parameters}],
        }
    )
    (only,) = request.client_tools
    assert (only.name, only.description, only.parameters) == ("search", "Find.", parameters)
    assert _request({"input": "go", "client_tools": []}).client_tools == ()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": "a", "max_steps": 0}, "max_steps"),
        ({"input": "a", "max_steps": 10_001}, "max_steps"),
        ({"input": "a", "max_steps": "many"}, "max_steps"),
        ({"input": "a", "use_assistant_message": "perhaps"}, "use_assistant_message"),
        ({"input": "a", "include_return_message_types": ["shout_message"]}, "include_return_message_types.0"),
        ({"input": "a", "client_tools": [{"name": ""}]}, "client_tools.0.name"),
        ({"input": "a", "client_tools": [{"description": "no name"}]}, "client_tools.0.name"),
        ({"input": []}, "input.str"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.message.role"),
        ({"messages": [{"role": "user"}]}, "messages.0.message.content"),
        ({"messages": [{"role": "user", "content": 7}]}, "messages.0.message.content.str"),
        ({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}, "messages.0.message.content"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages.0.message.content"),
        ({"messages": ["hello"]}, "messages.0.message"),
        (
            {"messages": [{"type": "approval", "approvals": [{"type": "vote", "tool_call_id": "c"}]}]},
            "messages.0.approval.approvals.0",
        ),
        (
            {"messages": [{"type": "approval", "approvals": [{"type": "tool", "tool_call_id": "c"}]}]},
            "messages.0.approval.approvals.0.tool",
        ),
    ],
)
def test_a_malformed_turn_is_refused_naming_the_field(body: dict[str, Any], field: str) -> None:
    fields = refused_fields(TurnIn, body)
    assert any(found.startswith(field) for found in fields), fields


@pytest.mark.parametrize(
    "body",
    [{}, {"input": "a", "messages": [{"role": "user", "content": "b"}]}, {"max_steps": 3}],
    ids=["neither", "both", "options-only"],
)
def test_a_turn_needs_exactly_one_of_messages_or_input(body: dict[str, Any]) -> None:
    assert "exactly one of `messages` or `input`" in refusal_text(TurnIn, body)


def test_an_approval_that_decides_nothing_is_refused() -> None:
    text = refusal_text(TurnIn, {"messages": [{"type": "approval", "reason": "hmm"}]})
    assert "needs `approvals` or `approve`" in text


def test_a_batch_request_must_name_a_well_formed_agent() -> None:
    good = new_id(IdPrefix.AGENT)
    assert BatchRequestIn.model_validate({"agent_id": good, "input": "x"}).agent_id == good
    for bad in ["agent-123", new_id(IdPrefix.BLOCK), good.upper(), ""]:
        assert refused_fields(BatchRequestIn, {"agent_id": bad, "input": "x"}) == ["agent_id"], bad
    assert refused_fields(BatchRequestIn, {"input": "x"}) == ["agent_id"]


@pytest.mark.parametrize("custom_id", ["", "a" * 65, "has space", "slash/", "ünï"])
def test_a_custom_id_outside_its_alphabet_or_length_is_refused(custom_id: str) -> None:
    body = {"agent_id": new_id(IdPrefix.AGENT), "input": "x", "custom_id": custom_id}
    assert refused_fields(BatchRequestIn, body) == ["custom_id"]


@pytest.mark.parametrize("custom_id", ["a", "A-b_9", "x" * 64])
def test_a_custom_id_of_letters_digits_dashes_and_underscores_is_accepted(custom_id: str) -> None:
    body = {"agent_id": new_id(IdPrefix.AGENT), "input": "x", "custom_id": custom_id}
    assert BatchRequestIn.model_validate(body).custom_id == custom_id


def test_a_synchronous_send_takes_the_sdks_streaming_switches_without_keeping_them_as_options() -> None:
    body = SendMessageIn.model_validate({"input": "x", "streaming": True, "background": True})
    assert (body.streaming, body.stream_tokens, body.background) == (True, False, True)
    assert "streaming" not in body.to_request().extra
    assert refused_fields(SendMessageIn, {"input": "x", "stream_tokens": "loud"}) == ["stream_tokens"]
