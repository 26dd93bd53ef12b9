"""Which tool calls of a paused agent still wait for an answer: read from the history's tail, so a turn
knows whether the next request must be an approval reply, and for which calls."""

from agentbatch.domain.messages import Message, Role, ToolCall, ToolReturn
from agentbatch.domain.turn_requests import ApprovalReply
from agentbatch.runtime.tools.approvals import resolve, resolve_reply, waiting_calls
from tests.unit.runtime.fakes import NOW, history_message

TAGS: dict[str, str | None] = {"batch_id": None, "batch_item_id": "batch_item-7"}


def approval_request(*names: str) -> tuple[Message, list[ToolCall]]:
    made = [ToolCall(f"call-{name}", name, "{}") for name in names]
    return history_message(Role.APPROVAL, tool_calls=made), made


def answer(call: ToolCall, *, in_returns_only: bool = False) -> Message:
    return history_message(
        Role.TOOL,
        "done",
        tool_call_id=None if in_returns_only else call.id,
        tool_returns=[ToolReturn(call.id, "success", "done")],
    )


def test_nothing_waits_in_an_empty_history_or_after_an_answer() -> None:
    assert waiting_calls([]) is None
    assert waiting_calls([history_message(Role.USER, "hi"), history_message(Role.ASSISTANT, "hello")]) is None


def test_every_call_of_the_latest_approval_request_waits_until_answered() -> None:
    request, made = approval_request("a", "b")

    found = waiting_calls([history_message(Role.USER, "go"), request])

    assert found == (request, made)


def test_answered_calls_no_longer_wait_wherever_their_id_is_recorded() -> None:
    request, (first, second, third) = approval_request("a", "b", "c")

    found = waiting_calls([request, answer(first), answer(second, in_returns_only=True)])

    assert found == (request, [third])


def test_a_fully_answered_request_leaves_nothing_waiting() -> None:
    request, made = approval_request("a", "b")
    reply = history_message(Role.APPROVAL, approve=True)  # the reply itself carries no calls

    assert waiting_calls([request, reply, *(answer(call) for call in made)]) is None


def test_a_later_exchange_ends_the_wait_of_an_older_request() -> None:
    request, _ = approval_request("a")

    assert waiting_calls([request, history_message(Role.USER, "never mind")]) is None


def test_only_the_latest_request_counts() -> None:
    old, old_calls = approval_request("old")
    new, new_calls = approval_request("new")

    assert waiting_calls([old, answer(old_calls[0]), history_message(Role.APPROVAL), new]) == (new, new_calls)


def test_the_reply_and_results_carry_the_turns_tags_and_the_given_request_id() -> None:
    request, _ = approval_request("a")

    written = resolve([request], ApprovalReply(approval_request_id="message-given", approve=False), TAGS, NOW)

    assert written[0].approval_request_id == "message-given"
    assert all((m.batch_id, m.batch_item_id, m.created_at) == (None, "batch_item-7", NOW) for m in written)
    assert written[1].name == "a" and written[1].text.startswith("The user denied")


def test_a_call_the_server_cannot_run_is_not_handed_back_to_run() -> None:
    request, _ = approval_request("mine", "theirs")

    resolution = resolve_reply(
        [request],
        ApprovalReply(approve=False),
        TAGS,
        NOW,
        lambda name: name == "mine",
    )

    assert resolution.approved == []  # a denial runs nothing
    assert [m.tool_call_id for m in resolution.messages[1:]] == ["call-mine", "call-theirs"]


def test_without_a_reply_or_anything_waiting_nothing_is_added() -> None:
    resolution = resolve_reply([history_message(Role.USER, "hi")], None, TAGS, NOW, lambda _: True)

    assert resolution.messages == [] and resolution.approved == []
