"""The typed turn request: its defaults, the JSON form the store keeps, and rows of earlier releases.

``OLD_ROWS`` are the exact ``batch_items.request`` values the previous release wrote for the bodies in
``BODIES`` (its ``TurnIn.normalised()``); each must still read as the request the API builds today.
"""

from typing import Any

import pytest

from agentbatch.api.schemas.turns import TurnIn
from agentbatch.api.views.messages import RenderOptions
from agentbatch.domain.turn_request_json import request_from_json, request_to_json
from agentbatch.domain.turn_requests import (
    ApprovalDecision,
    ApprovalReply,
    ClientTool,
    InputMessage,
    ToolResultDecision,
    TurnRequest,
)

BODIES: dict[str, dict[str, Any]] = {
    "input": {"input": "hello"},
    "options": {
        "messages": [{"role": "user", "content": "hi", "name": "ann", "otid": "o-1", "batch_item_id": "x"}],
        "max_steps": 3,
        "use_assistant_message": False,
        "assistant_message_tool_name": "reply",
        "assistant_message_tool_kwarg": "text",
        "include_return_message_types": ["assistant_message"],
        "enable_thinking": "true",
        "top_p": 0.5,
    },
    "defaults_set": {
        "messages": [{"role": "system", "content": [{"type": "text", "text": "be brief"}]}],
        "use_assistant_message": True,
        "max_steps": None,
    },
    "parts": {
        "messages": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image", "source": {"type": "url", "url": "http://x/a.png"}},
                ],
                "sender_id": "s-1",
                "group_id": "g-1",
                "extra_field": 1,
            }
        ]
    },
    "client_tools": {
        "input": "go",
        "client_tools": [
            {
                "name": "lookup",
                "description": "Look it up",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
            {"name": "bare"},
        ],
    },
    "approve_all": {
        "messages": [
            {"type": "approval", "approval_request_id": "message-1", "approve": False, "reason": "no"}
        ]
    },
    "approvals": {
        "messages": [
            {
                "type": "approval",
                "approvals": [
                    {"type": "approval", "tool_call_id": "call-1", "approve": True},
                    {"type": "approval", "tool_call_id": "call-2", "approve": False, "reason": "unsafe"},
                    {
                        "type": "tool",
                        "tool_call_id": "call-3",
                        "status": "error",
                        "tool_return": "boom",
                        "stdout": ["a"],
                        "stderr": [],
                    },
                ],
                "group_id": "g-2",
            }
        ]
    },
}

OLD_ROWS: dict[str, dict[str, Any]] = {
    "input": {
        "messages": [{"type": "message", "role": "user", "content": [{"type": "text", "text": "hello"}]}]
    },
    "options": {
        "assistant_message_tool_kwarg": "text",
        "max_steps": 3,
        "use_assistant_message": False,
        "enable_thinking": "true",
        "assistant_message_tool_name": "reply",
        "include_return_message_types": ["assistant_message"],
        "top_p": 0.5,
        "messages": [
            {
                "type": "message",
                "role": "user",
                "name": "ann",
                "otid": "o-1",
                "content": [{"type": "text", "text": "hi"}],
            }
        ],
    },
    "defaults_set": {
        "use_assistant_message": True,
        "messages": [
            {"type": "message", "role": "system", "content": [{"type": "text", "text": "be brief"}]}
        ],
    },
    "parts": {
        "messages": [
            {
                "type": "message",
                "role": "user",
                "sender_id": "s-1",
                "group_id": "g-1",
                "extra_field": 1,
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image", "source": {"type": "url", "url": "http://x/a.png"}},
                ],
            }
        ]
    },
    "client_tools": {
        "client_tools": [
            {
                "name": "lookup",
                "description": "Look it up",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
            {"name": "bare"},
        ],
        "messages": [{"type": "message", "role": "user", "content": [{"type": "text", "text": "go"}]}],
    },
    "approve_all": {
        "messages": [
            {"type": "approval", "approval_request_id": "message-1", "approve": False, "reason": "no"}
        ]
    },
    "approvals": {
        "messages": [
            {
                "type": "approval",
                "approvals": [
                    {"type": "approval", "tool_call_id": "call-1", "approve": True},
                    {"type": "approval", "tool_call_id": "call-2", "approve": False, "reason": "unsafe"},
                    {
                        "type": "tool",
                        "tool_call_id": "call-3",
                        "status": "error",
                        "tool_return": "boom",
                        "stdout": ["a"],
                        "stderr": [],
                    },
                ],
                "group_id": "g-2",
            }
        ]
    },
}


def test_a_request_that_sets_nothing_takes_lettas_defaults() -> None:
    request = TurnIn.model_validate({"input": "hello"}).to_request()
    assert request.use_assistant_message is True
    assert (request.assistant_message_tool_name, request.assistant_message_tool_kwarg) == (
        "send_message",
        "message",
    )
    assert request.include_return_message_types is None
    assert request.steps_limit(server_default=50) == 50
    assert request.messages == (InputMessage(role="user", content=({"type": "text", "text": "hello"},)),)
    assert request.approval is None


def test_the_server_step_limit_applies_only_when_the_request_sets_none() -> None:
    assert TurnRequest(max_steps=3).steps_limit(server_default=50) == 3
    assert TurnRequest().steps_limit(server_default=50) == 50


def test_a_client_tool_without_description_or_schema_is_offered_with_defaults() -> None:
    tool = ClientTool("lookup")
    assert tool.described == "The client-side tool lookup."
    assert tool.schema == {"type": "object", "properties": {}}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_row_of_the_previous_release_reads_as_the_request_built_today(name: str) -> None:
    assert request_from_json(OLD_ROWS[name]) == TurnIn.model_validate(BODIES[name]).to_request()


@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_stored_request_reads_back_unchanged(name: str) -> None:
    request = TurnIn.model_validate(BODIES[name]).to_request()
    assert request_from_json(request_to_json(request)) == request


@pytest.mark.parametrize("name", sorted(set(BODIES) - {"defaults_set"}))
def test_the_stored_shape_is_the_one_earlier_releases_wrote(name: str) -> None:
    """Rows written now still read in the previous release (a rollback keeps its queue)."""
    assert request_to_json(TurnIn.model_validate(BODIES[name]).to_request()) == OLD_ROWS[name]


def test_options_left_at_their_defaults_are_not_written() -> None:
    stored = request_to_json(TurnIn.model_validate(BODIES["defaults_set"]).to_request())
    assert stored == {"messages": OLD_ROWS["defaults_set"]["messages"]}


def test_sparse_rows_of_older_writers_read_with_defaults() -> None:
    """Rows written by hand or by the first releases: empty, null options, string content, bare input."""
    assert request_from_json({}) == TurnRequest()
    assert request_from_json({"messages": []}) == TurnRequest()
    nulls = request_from_json({"max_steps": None, "use_assistant_message": None, "messages": []})
    assert nulls.steps_limit(7) == 7 and nulls.use_assistant_message is True
    plain = request_from_json({"messages": [{"role": "user", "content": "hi"}]})
    assert plain.input_messages == [InputMessage(role="user", content=({"type": "text", "text": "hi"},))]
    bare = request_from_json({"input": "hi"})
    assert bare.input_messages == plain.input_messages


def test_an_approval_reply_keeps_every_decision() -> None:
    request = request_from_json(OLD_ROWS["approvals"])
    reply = request.approval
    assert isinstance(reply, ApprovalReply) and request.input_messages == []
    assert reply.decision_for("call-1") == ApprovalDecision("call-1", approve=True)
    assert reply.decision_for("call-2") == ApprovalDecision("call-2", approve=False, reason="unsafe")
    assert reply.decision_for("call-3") == ToolResultDecision("call-3", "error", "boom", ("a",), ())
    assert reply.decision_for("call-4") is None


def test_unknown_letta_options_are_kept() -> None:
    request = request_from_json(OLD_ROWS["options"])
    assert dict(request.extra) == {"top_p": 0.5}
    assert request_to_json(request)["top_p"] == 0.5


def test_results_render_with_the_options_the_request_set() -> None:
    options = RenderOptions.of(request_from_json(OLD_ROWS["options"]))
    assert options == RenderOptions(False, "reply", "text", frozenset({"assistant_message"}))
    assert RenderOptions.of(request_from_json({})) == RenderOptions()


def test_a_stored_message_of_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        request_from_json({"messages": [{"role": "tool", "content": "x"}]})
