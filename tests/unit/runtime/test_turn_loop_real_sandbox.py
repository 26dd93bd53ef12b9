"""One custom tool end to end in a turn, with the real sandbox: its schema read from its source, the
model's call checked against it, the function run out of process, its result and output returned."""

from agentbatch.domain.agents import Tool, ToolType
from agentbatch.domain.messages import Role
from agentbatch.domain.states import StopReason
from agentbatch.runtime.tools.sandbox import SandboxIsolation, SandboxLimits, ToolSandbox
from agentbatch.runtime.tools.tool_schema import schema_from_source
from tests.unit.runtime.fakes import ScriptedGateway, agent, call, calls, reply, run_turn

SOURCE = '''
def word_count(text: str, unique: bool = False) -> int:
    """Count the words of a text.

    Args:
        text: The text to count.
        unique: Count each distinct word once.
    """
    words = text.split()
    print(f"counting {len(words)} words")
    return len(set(words)) if unique else len(words)
'''


async def test_a_custom_tool_from_source_runs_in_the_sandbox_and_its_result_reaches_the_model() -> None:
    schema = schema_from_source(SOURCE)
    tool = Tool("tool-wc", "word_count", ToolType.CUSTOM, schema, schema["description"], source_code=SOURCE)
    # isolated where bubblewrap works; a plain subprocess where it does not (this test is about the turn)
    sandbox = ToolSandbox(
        SandboxLimits(timeout_s=20.0), isolation=SandboxIsolation(unsafe_without_isolation=True)
    )
    gateway = ScriptedGateway(
        calls(call("word_count", text="a b a c", unique=True)), reply("3 distinct words.")
    )

    result, sink = await run_turn(gateway, agent(tools=[tool]), sandbox=sandbox)

    assert result.stop is StopReason.END_TURN
    [spec] = gateway.requests[0].tools
    assert spec.description == "Count the words of a text." and spec.parameters["required"] == ["text"]
    ret = next(m for m in sink.messages if m.role is Role.TOOL).tool_returns[0]
    assert (ret.status, ret.content) == ("success", "3")
    assert ret.stdout is not None and "counting 4 words" in "".join(ret.stdout)
    assert gateway.requests[1].messages[-1].tool_returns[0].content == "3"
