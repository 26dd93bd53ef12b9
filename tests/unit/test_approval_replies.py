"""A typed approval reply resumes a paused turn: each waiting call gets its decision, a returned result,
or the reply's answer for all; a reply that does not fit the agent's state is refused with the reason."""

from datetime import UTC, datetime

import pytest

from agentbatch.domain.messages import Message, Role, ToolCall
from agentbatch.domain.turn_requests import ApprovalDecision, ApprovalReply, ToolResultDecision
from agentbatch.runtime.tools.approvals import TurnRejected, resolve, resolve_reply

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TAGS: dict[str, str | None] = {"batch_id": "job-1", "batch_item_id": "batch_item-1"}


def _paused(*names: str) -> list[Message]:
    calls = [ToolCall(f"call-{n}", name, "{}") for n, name in enumerate(names, 1)]
    return [
        Message("message-0", "agent-1", Role.USER, NOW, content=[{"type": "text", "text": "go"}]),
        Message("message-1", "agent-1", Role.APPROVAL, NOW, tool_calls=calls),
    ]


def test_per_call_decisions_deny_with_their_reason_and_return_client_results() -> None:
    reply = ApprovalReply(
        approvals=(
            ApprovalDecision("call-1", approve=False, reason="unsafe"),
            ToolResultDecision("call-2", "success", "42", stdout=("printed",)),
        )
    )
    written = resolve(_paused("delete_all", "lookup"), reply, TAGS, NOW)
    assert written[0].role is Role.APPROVAL and written[0].approval_request_id == "message-1"
    assert written[0].approvals == [
        {"type": "approval", "tool_call_id": "call-1", "approve": False, "reason": "unsafe"},
        {
            "type": "tool",
            "tool_call_id": "call-2",
            "status": "success",
            "tool_return": "42",
            "stdout": ["printed"],
        },
    ]
    denied, returned = written[1].tool_returns[0], written[2].tool_returns[0]
    assert (denied.status, denied.content) == ("error", "The user denied this tool call: unsafe")
    assert (returned.status, returned.content, returned.stdout) == ("success", "42", ["printed"])


def test_an_approval_for_all_hands_the_agents_own_tools_back_to_run() -> None:
    resolution = resolve_reply(
        _paused("archival_search"), ApprovalReply(approve=True), TAGS, NOW, lambda _: True
    )
    assert [call.id for call in resolution.approved] == ["call-1"]
    assert [message.role for message in resolution.messages] == [Role.APPROVAL]


def test_a_denial_for_all_uses_the_replys_reason() -> None:
    written = resolve(_paused("lookup"), ApprovalReply(approve=False, reason="not now"), TAGS, NOW)
    assert written[1].tool_returns[0].content == "The user denied this tool call: not now"


def test_a_returned_result_is_not_an_approval_to_run_the_call() -> None:
    reply = ApprovalReply(approvals=(ToolResultDecision("call-1", "success", "done"),))
    resolution = resolve_reply(_paused("archival_search"), reply, TAGS, NOW, lambda _: True)
    assert resolution.approved == []


def test_a_reply_silent_on_a_waiting_call_is_refused() -> None:
    reply = ApprovalReply(approvals=(ApprovalDecision("call-1", approve=False),))
    with pytest.raises(TurnRejected, match="says nothing about tool call call-2"):
        resolve(_paused("lookup", "fetch"), reply, TAGS, NOW)


def test_a_message_to_a_paused_agent_is_refused_until_it_gets_its_reply() -> None:
    with pytest.raises(TurnRejected, match="send a message of type 'approval' first"):
        resolve(_paused("lookup"), None, TAGS, NOW)


def test_a_reply_when_nothing_waits_is_refused() -> None:
    with pytest.raises(TurnRejected, match="no tool call of this agent is waiting"):
        resolve(_paused("lookup")[:1], ApprovalReply(approve=True), TAGS, NOW)
