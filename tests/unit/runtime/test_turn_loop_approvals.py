"""Human-in-the-loop through the turn loop: a tool that requires approval pauses the turn without
running; the next request's approval reply runs it (approve), answers it with an error (deny) or with
the caller's own result (client tools), and the turn goes on from there."""

import pytest

from agentbatch.domain.agents import Agent, AgentType
from agentbatch.domain.messages import Message, Role, ToolCall
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_requests import (
    ApprovalDecision,
    ApprovalReply,
    ClientTool,
    ToolResultDecision,
    TurnRequest,
)
from agentbatch.runtime.tools.approvals import TurnRejected
from agentbatch.runtime.tools.sandbox import SandboxResult
from tests.unit.runtime.fakes import (
    FakeSandbox,
    RecordingSink,
    ScriptedGateway,
    agent,
    base_tools,
    block,
    call,
    calls,
    custom_tool,
    reply,
    request,
    run_turn,
    user,
)

APPROVE_DELETE = {"type": "requires_approval", "tool_name": "delete_files"}


def guarded_agent(*extra_rules: dict[str, object]) -> Agent:
    tools = [*base_tools(), custom_tool("delete_files"), custom_tool("list_files")]
    return agent(tools=tools, tool_rules=[APPROVE_DELETE, *extra_rules], blocks=[block("human", "Ada")])


async def paused(the_agent: Agent, *waiting: ToolCall, first: TurnRequest | None = None) -> list[Message]:
    """The history of a turn that stopped for approval of ``waiting``."""
    result, sink = await run_turn(ScriptedGateway(calls(*waiting)), the_agent, first)
    assert result.stop is StopReason.REQUIRES_APPROVAL
    return sink.messages


async def test_a_call_that_requires_approval_pauses_the_turn_without_running() -> None:
    sandbox = FakeSandbox()
    delete = call("delete_files", path="/")
    gateway = ScriptedGateway(calls(delete))

    result, sink = await run_turn(gateway, guarded_agent(), sandbox=sandbox)

    assert result.stop is StopReason.REQUIRES_APPROVAL and result.steps == 1
    assert sandbox.runs == [] and sink.tool_results() == []
    request_message = sink.messages[-1]
    assert request_message.role is Role.APPROVAL and request_message.tool_calls == [delete]
    assert sink.commits[-1].stop is StopReason.REQUIRES_APPROVAL


async def test_a_requires_approval_rule_alone_leaves_every_tool_on_offer() -> None:
    gateway = ScriptedGateway(reply("no tools needed"))

    await run_turn(gateway, guarded_agent())

    assert {"delete_files", "list_files", "send_message"} <= set(gateway.offered(1))
    assert gateway.requests[0].tool_choice == "auto"


async def test_an_approved_call_runs_first_and_the_model_sees_its_result() -> None:
    the_agent = guarded_agent()
    delete = call("delete_files", path="/tmp/x")
    history = await paused(the_agent, delete)
    approval_request = history[-1]
    sandbox = FakeSandbox(SandboxResult("success", "deleted 3 files"))
    gateway = ScriptedGateway(reply("Done, 3 files deleted."))

    result, sink = await run_turn(
        gateway,
        the_agent,
        TurnRequest(messages=(ApprovalReply(approve=True),)),
        history=history,
        sandbox=sandbox,
    )

    assert result.stop is StopReason.END_TURN
    assert sandbox.runs == [("delete_files", {"path": "/tmp/x"}, False)]
    written = sink.commits[0].messages
    assert [m.role for m in written] == [Role.APPROVAL, Role.TOOL, Role.ASSISTANT]
    assert written[0].approve is True and written[0].approval_request_id == approval_request.id
    assert written[1].tool_call_id == delete.id and written[1].tool_returns[0].content == "deleted 3 files"
    sent = gateway.requests[0].messages
    assert sent[-1].role is Role.TOOL and sent[-1].tool_call_id == delete.id


async def test_a_denied_call_is_answered_with_the_reason_and_the_turn_goes_on() -> None:
    the_agent = guarded_agent()
    history = await paused(the_agent, call("delete_files", path="/"))
    sandbox = FakeSandbox()
    gateway = ScriptedGateway(reply("Understood, I will not delete anything."))
    deny = ApprovalReply(approve=False, reason="too dangerous")

    result, sink = await run_turn(
        gateway, the_agent, TurnRequest(messages=(deny,)), history=history, sandbox=sandbox
    )

    assert result.stop is StopReason.END_TURN and sandbox.runs == []
    assert sink.tool_results() == [("delete_files", "error", "The user denied this tool call: too dangerous")]
    assert gateway.requests[0].messages[-1].tool_returns[0].status == "error"


async def test_per_call_decisions_approve_one_call_and_deny_another() -> None:
    the_agent = guarded_agent()
    keep, drop = call("delete_files", path="/tmp/a"), call("delete_files", path="/home")
    history = await paused(the_agent, keep, drop)
    sandbox = FakeSandbox(SandboxResult("success", "deleted"))
    decisions = (
        ApprovalDecision(keep.id, approve=True),
        ApprovalDecision(drop.id, approve=False, reason="home"),
    )

    _, sink = await run_turn(
        ScriptedGateway(reply("ok")),
        the_agent,
        TurnRequest(messages=(ApprovalReply(approvals=decisions),)),
        history=history,
        sandbox=sandbox,
    )

    assert sandbox.runs == [("delete_files", {"path": "/tmp/a"}, False)]
    results = {m.tool_call_id: m.tool_returns[0] for m in sink.messages if m.role is Role.TOOL}
    assert results[keep.id].content == "deleted"
    assert results[drop.id].content == "The user denied this tool call: home"


async def test_an_approved_memory_edit_is_committed_with_the_first_step() -> None:
    rule = {"type": "requires_approval", "tool_name": "core_memory_replace"}
    the_agent = agent(tool_rules=[rule], blocks=[block("human", "Name: Ada")])
    history = await paused(
        the_agent, call("core_memory_replace", label="human", old_content="Ada", new_content="Eve")
    )

    _, sink = await run_turn(
        ScriptedGateway(reply("Renamed.")),
        the_agent,
        TurnRequest(messages=(ApprovalReply(approve=True),)),
        history=history,
    )

    first = sink.commits[0]
    assert [(b.label, b.value) for b in first.changed_blocks] == [("human", "Name: Eve")]
    assert first.block_bases == {"block-human": "Name: Ada"}


async def test_an_approved_call_counts_toward_the_tool_rules() -> None:
    limit = {"type": "max_count_per_step", "tool_name": "delete_files", "max_count_limit": 1}
    the_agent = guarded_agent(limit)
    history = await paused(the_agent, call("delete_files", path="/tmp"))
    gateway = ScriptedGateway(reply("ok"))

    await run_turn(gateway, the_agent, TurnRequest(messages=(ApprovalReply(approve=True),)), history=history)

    assert "delete_files" not in gateway.offered(1)


async def test_a_client_tools_result_comes_back_in_the_approval_reply() -> None:
    weather = ClientTool("get_weather")
    the_agent = agent()
    asked = call("get_weather", city="Oslo")
    history = await paused(the_agent, asked, first=request(user("weather?"), client_tools=(weather,)))
    reply_with_result = ApprovalReply(
        approvals=(ToolResultDecision(asked.id, "success", "-3 °C, snow", stdout=("fetched\n",)),)
    )
    gateway = ScriptedGateway(reply("It is -3 °C and snowing in Oslo."))

    result, sink = await run_turn(
        gateway,
        the_agent,
        TurnRequest(messages=(reply_with_result,), client_tools=(weather,)),
        history=history,
    )

    assert result.stop is StopReason.END_TURN
    [ret] = [m.tool_returns[0] for m in sink.messages if m.role is Role.TOOL]
    assert (ret.status, ret.content, ret.stdout) == ("success", "-3 °C, snow", ["fetched\n"])


async def test_a_client_tool_cannot_be_approved_to_run_on_the_server() -> None:
    the_agent = agent()
    history = await paused(
        the_agent,
        call("get_weather"),
        first=request(user("weather?"), client_tools=(ClientTool("get_weather"),)),
    )
    gateway = ScriptedGateway()

    with pytest.raises(TurnRejected, match="is a client tool"):
        await run_turn(
            gateway, the_agent, TurnRequest(messages=(ApprovalReply(approve=True),)), history=history
        )

    assert gateway.requests == []


@pytest.mark.parametrize(
    ("next_request", "problem"),
    [
        (request(user("hello again")), "send a message of type 'approval' first"),
        (TurnRequest(messages=(ApprovalReply(approvals=()),)), "says nothing about tool call"),
    ],
)
async def test_a_request_that_does_not_answer_the_paused_call_is_refused_before_anything_is_written(
    next_request: TurnRequest, problem: str
) -> None:
    the_agent = guarded_agent()
    history = await paused(the_agent, call("delete_files", path="/"))
    gateway, sink = ScriptedGateway(), RecordingSink()

    with pytest.raises(TurnRejected, match=problem):
        await run_turn(gateway, the_agent, next_request, history=history, sink=sink)

    assert gateway.requests == [] and sink.commits == []


async def test_an_approval_reply_when_nothing_waits_is_refused() -> None:
    with pytest.raises(TurnRejected, match="no tool call of this agent is waiting"):
        await run_turn(ScriptedGateway(), agent(), TurnRequest(messages=(ApprovalReply(approve=True),)))


async def test_an_input_message_beside_the_approval_follows_the_results() -> None:
    the_agent = guarded_agent()
    history = await paused(the_agent, call("delete_files", path="/"))
    gateway = ScriptedGateway(reply("ok"))
    both = TurnRequest(messages=(ApprovalReply(approve=False), user("and tell me why")))

    _, sink = await run_turn(gateway, the_agent, both, history=history)

    assert [m.role for m in sink.commits[0].messages] == [Role.APPROVAL, Role.TOOL, Role.USER, Role.ASSISTANT]
    assert sink.tool_results()[0][2] == "The user denied this tool call: no reason given"


class TestAnApprovedCallThatEndsTheTurn:
    """As in Letta, an approved call that ends a turn (a terminal rule, send_message) ends it without
    another model call, unless a required tool is still uncalled or the request says more."""

    async def test_an_approved_terminal_tool_ends_the_turn_with_the_tool_rule_reason(self) -> None:
        the_agent = guarded_agent({"type": "exit_loop", "tool_name": "delete_files"})
        history = await paused(the_agent, call("delete_files", path="/tmp"))
        gateway = ScriptedGateway()

        result, sink = await run_turn(
            gateway, the_agent, TurnRequest(messages=(ApprovalReply(approve=True),)), history=history
        )

        assert result.stop is StopReason.TOOL_RULE and result.steps == 0 and gateway.requests == []
        [commit] = sink.commits
        assert commit.step is None and commit.stop is StopReason.TOOL_RULE
        assert [m.role for m in commit.messages] == [Role.APPROVAL, Role.TOOL]
        assert result.messages == commit.messages

    async def test_an_approved_send_message_ends_the_turn(self) -> None:
        rule = {"type": "requires_approval", "tool_name": "send_message"}
        the_agent = agent(agent_type=AgentType.MEMGPT, tool_rules=[rule])
        history = await paused(the_agent, call("send_message", message="Hello!"))

        result, sink = await run_turn(
            ScriptedGateway(),
            the_agent,
            TurnRequest(messages=(ApprovalReply(approve=True),)),
            history=history,
        )

        assert result.stop is StopReason.END_TURN
        assert sink.tool_results() == [("send_message", "success", "Sent message successfully.")]

    async def test_its_memory_edit_is_committed_with_the_end(self) -> None:
        rules = [
            {"type": "requires_approval", "tool_name": "core_memory_append"},
            {"type": "exit_loop", "tool_name": "core_memory_append"},
        ]
        the_agent = agent(tool_rules=rules, blocks=[block("human", "Ada")])
        history = await paused(the_agent, call("core_memory_append", label="human", content="Tea"))

        _, sink = await run_turn(
            ScriptedGateway(),
            the_agent,
            TurnRequest(messages=(ApprovalReply(approve=True),)),
            history=history,
        )

        [commit] = sink.commits
        assert [(b.label, b.value) for b in commit.changed_blocks] == [("human", "Ada\nTea")]
        assert commit.block_bases == {"block-human": "Ada"}

    async def test_a_required_tool_still_uncalled_keeps_the_turn_going(self) -> None:
        the_agent = guarded_agent(
            {"type": "exit_loop", "tool_name": "delete_files"},
            {"type": "required_before_exit", "tool_name": "list_files"},
        )
        history = await paused(the_agent, call("delete_files", path="/tmp"))
        gateway = ScriptedGateway(calls(call("list_files")), reply("done"))

        result, _ = await run_turn(
            gateway, the_agent, TurnRequest(messages=(ApprovalReply(approve=True),)), history=history
        )

        assert result.stop is StopReason.END_TURN and len(gateway.requests) == 2

    async def test_a_message_sent_with_the_approval_still_gets_an_answer(self) -> None:
        the_agent = guarded_agent({"type": "exit_loop", "tool_name": "delete_files"})
        history = await paused(the_agent, call("delete_files", path="/tmp"))
        gateway = ScriptedGateway(reply("Deleted, and here is why."))
        both = TurnRequest(messages=(ApprovalReply(approve=True), user("and tell me why")))

        result, _ = await run_turn(gateway, the_agent, both, history=history)

        assert result.stop is StopReason.END_TURN and len(gateway.requests) == 1

    async def test_a_denied_terminal_call_lets_the_model_answer_the_denial(self) -> None:
        the_agent = guarded_agent({"type": "exit_loop", "tool_name": "delete_files"})
        history = await paused(the_agent, call("delete_files", path="/"))
        gateway = ScriptedGateway(reply("I will not delete anything."))

        result, _ = await run_turn(
            gateway, the_agent, TurnRequest(messages=(ApprovalReply(approve=False),)), history=history
        )

        assert result.stop is StopReason.END_TURN and len(gateway.requests) == 1


async def test_a_step_ending_invalid_leaves_no_call_waiting_for_approval() -> None:
    held, bad = call("delete_files", path="/"), call("no_such_tool")
    gateway = ScriptedGateway(calls(held, bad))

    result, sink = await run_turn(gateway, guarded_agent())

    assert result.stop is StopReason.INVALID_TOOL_CALL
    assert [m.role for m in sink.messages] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL]
    results = {m.tool_call_id: m.tool_returns[0].content for m in sink.messages if m.role is Role.TOOL}
    assert results[held.id] == "Not run: another call of this step was invalid."
    # the agent's next message is a plain one, not an approval reply
    next_turn, _ = await run_turn(ScriptedGateway(reply("hi")), guarded_agent(), history=sink.messages)
    assert next_turn.stop is StopReason.END_TURN
