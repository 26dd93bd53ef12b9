"""Builders and fakes for testing one agent turn without a database or a network.

``ScriptedGateway`` answers each model call with the next scripted reply (or raises the scripted
error) and keeps every request it saw; ``RecordingSink`` keeps every commit (or refuses one, as a
lost lease would); ``FakeSandbox`` stands in for the custom-tool sandbox.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from agentbatch.domain.agents import Agent, AgentType, Block, Tool, ToolType
from agentbatch.domain.messages import Message, Role, ToolCall, text_part
from agentbatch.domain.turn_records import Commit
from agentbatch.domain.turn_requests import InputMessage, RequestMessage, TurnRequest
from agentbatch.providers.base import Finish, ModelRequest, ModelResponse
from agentbatch.providers.catalog import ModelHandle
from agentbatch.runtime.ports import Recall, TurnAborted
from agentbatch.runtime.tools.base_tools import builtin_tools
from agentbatch.runtime.tools.sandbox import SandboxResult, ToolSandbox
from agentbatch.runtime.turn_loop import TurnInput, TurnResult, TurnRunner

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HANDLE = ModelHandle("openai", "gpt-test")
AGENT_ID = "agent-1"
ITEM_ID = "batch_item-1"
BATCH_ID = "job-1"


def reply(text: str, *, finish: Finish = "stop", prompt: int = 10, completion: int = 5) -> ModelResponse:
    """A model reply in plain text."""
    return ModelResponse(text, [], finish, prompt, completion, HANDLE.model)


def calls(*tool_calls: ToolCall, text: str = "", prompt: int = 10, completion: int = 5) -> ModelResponse:
    """A model reply that calls tools."""
    return ModelResponse(text, list(tool_calls), "tool_calls", prompt, completion, HANDLE.model)


_call_numbers = iter(range(1, 1_000_000))


def call(name: str, /, **arguments: Any) -> ToolCall:
    """A tool call with a fresh id and JSON arguments."""
    return ToolCall(f"call-{next(_call_numbers)}", name, orjson.dumps(arguments).decode())


class ScriptedGateway:
    """A ModelGateway that plays a script: each entry a reply, or an exception to raise."""

    def __init__(self, *script: ModelResponse | Exception) -> None:
        self._script = list(script)
        self.requests: list[ModelRequest] = []

    async def complete(self, handle: ModelHandle, request: ModelRequest) -> ModelResponse:
        # the turn may extend its history after the call: keep what was sent, as it was sent
        self.requests.append(
            ModelRequest(
                model=request.model,
                system=request.system,
                messages=list(request.messages),
                tools=list(request.tools),
                tool_choice=request.tool_choice,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
            )
        )
        if not self._script:
            raise AssertionError(f"the model was called {len(self.requests)} times, more than scripted")
        entry = self._script.pop(0)
        if isinstance(entry, Exception):
            raise entry
        return entry

    def offered(self, step: int) -> list[str]:
        """The tool names offered to the model at step ``step`` (1-based)."""
        return [tool.name for tool in self.requests[step - 1].tools]


@dataclass
class RecordingSink:
    """A StepSink that keeps every commit; refuses the commit numbered ``refuse_at`` (1-based)."""

    commits: list[Commit] = field(default_factory=list)
    refuse_at: int | None = None

    async def commit(self, commit: Commit) -> None:
        if self.refuse_at is not None and len(self.commits) + 1 == self.refuse_at:
            raise TurnAborted("the lease was lost")
        self.commits.append(commit)

    @property
    def messages(self) -> list[Message]:
        return [message for commit in self.commits for message in commit.messages]

    def tool_results(self) -> list[tuple[str | None, str, str]]:
        """(tool name, status, content) of every tool result written, in order."""
        return [
            (message.name, ret.status, ret.content)
            for message in self.messages
            if message.role is Role.TOOL
            for ret in message.tool_returns
        ]


class FakeSandbox(ToolSandbox):
    """Runs no process: answers every custom-tool call with ``result`` and records the call."""

    def __init__(self, result: SandboxResult | None = None) -> None:
        super().__init__()
        self.result = result or SandboxResult("success", "ok")
        self.runs: list[tuple[str, dict[str, object], bool]] = []

    async def run(
        self,
        source_code: str,
        function_name: str,
        arguments: Mapping[str, object],
        *,
        env: Mapping[str, str] | None = None,
        network: bool = False,
    ) -> SandboxResult:
        self.runs.append((function_name, dict(arguments), network))
        return self.result


def block(label: str, value: str = "", **options: Any) -> Block:
    return Block(id=f"block-{label}", label=label, value=value, **options)


def base_tools() -> list[Tool]:
    return [
        Tool(
            id=f"tool-{tool.name}",
            name=tool.name,
            tool_type=tool.tool_type,
            json_schema=tool.json_schema,
            description=tool.description,
            tags=tool.tags,
        )
        for tool in builtin_tools()
    ]


def custom_tool(
    name: str, properties: Mapping[str, Any] | None = None, *, required: Sequence[str] = (), **options: Any
) -> Tool:
    parameters = {"type": "object", "properties": dict(properties or {}), "required": list(required)}
    return Tool(
        id=f"tool-{name}",
        name=name,
        tool_type=ToolType.CUSTOM,
        json_schema={"name": name, "description": f"The {name} tool.", "parameters": parameters},
        description=f"The {name} tool.",
        source_code=f"def {name}():\n    return 'ok'\n",
        **options,
    )


def agent(
    *,
    agent_type: AgentType = AgentType.LETTA_V1,
    system: str = "You are a test agent.",
    blocks: Sequence[Block] = (),
    tools: Sequence[Tool] | None = None,
    tool_rules: Sequence[Mapping[str, Any]] | None = None,
    llm_config: Mapping[str, Any] | None = None,
) -> Agent:
    """An agent with the base tools (unless ``tools`` is given) and the given blocks and rules."""
    return Agent(
        id=AGENT_ID,
        owner_id="user-1",
        name="tester",
        agent_type=agent_type,
        system=system,
        model=str(HANDLE),
        llm_config=dict(llm_config or {}),
        created_at=NOW,
        updated_at=NOW,
        tool_rules=[dict(rule) for rule in tool_rules] if tool_rules is not None else None,
        blocks=list(blocks),
        tools=list(base_tools() if tools is None else tools),
    )


def user(text: str) -> InputMessage:
    return InputMessage("user", (text_part(text),))


def request(*messages: RequestMessage, **options: Any) -> TurnRequest:
    return TurnRequest(messages=messages or (user("hello"),), **options)


def history_message(role: Role, text: str = "", **fields: Any) -> Message:
    fields.setdefault("created_at", NOW)
    return Message(
        id=f"message-{next(_call_numbers)}",
        agent_id=AGENT_ID,
        role=role,
        content=[text_part(text)] if text else [],
        **fields,
    )


async def run_turn(
    gateway: ScriptedGateway,
    the_agent: Agent,
    the_request: TurnRequest | None = None,
    *,
    sink: RecordingSink | None = None,
    history: list[Message] | None = None,
    max_steps: int = 10,
    steps_done: int = 0,
    sandbox: ToolSandbox | None = None,
    earlier: int = 0,
    recall: Recall | None = None,
) -> tuple[TurnResult, RecordingSink]:
    """Run one turn of ``the_agent`` against the scripted model; the result and what was committed."""
    sink = sink or RecordingSink()
    turn = TurnInput(
        agent=the_agent,
        handle=HANDLE,
        history=history if history is not None else [],
        request=the_request or request(),
        max_steps=max_steps,
        item_id=ITEM_ID,
        batch_id=BATCH_ID,
        steps_done=steps_done,
        earlier=earlier,
        recall=recall,
    )
    result = await TurnRunner(gateway, sandbox or FakeSandbox()).run(turn, sink)
    return result, sink


class ListRecall:
    """A whole history kept in a list, given newest first ``page`` messages at a time; counts the pages
    read."""

    def __init__(self, history: list[Message], page: int = 10) -> None:
        self.history = history
        self.page = page
        self.reads = 0

    async def newest_first(self) -> AsyncIterator[list[Message]]:
        newest_first = list(reversed(self.history))
        for start in range(0, len(newest_first), self.page):
            self.reads += 1
            yield newest_first[start : start + self.page]
