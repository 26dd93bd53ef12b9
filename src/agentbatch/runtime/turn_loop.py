"""One agent turn (Letta's ``letta_v1_agent`` loop, and ``send_message`` for the older types).

    input joins the history ─▶ step: prompt = system + memory + history ─▶ model
      ▲                              │ text only ─────────────▶ end_turn
      │                              │ tool calls ─▶ run them ─▶ send_message ─▶ end_turn
      └──────── results recorded ◀───┘                        ├▶ invalid call ─▶ invalid_tool_call
                                                              └▶ client tool ─▶ requires_approval
    max_steps reached ─▶ max_steps · provider gave up ─▶ llm_api_error · unusable ─▶ invalid_llm_response

Every step is handed to the ``StepSink`` whole (step, messages, memory edits); a turn resumed after a
crash starts from the steps already committed, so no step is written twice or lost.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from agentbatch.domain.agents import Agent
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.messages import ContentPart, Message, Role, ToolCall, ToolReturn, text_part
from agentbatch.domain.states import StopReason
from agentbatch.domain.turn_records import Commit, StepRecord
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.providers.base import ModelRequest, ModelResponse, ToolSpec
from agentbatch.providers.catalog import ModelHandle
from agentbatch.providers.errors import InvalidResponse, ProviderError
from agentbatch.runtime.context_window import (
    SystemPromptOverflow,
    context_window_of,
    fit,
    output_reserve,
    window_note,
)
from agentbatch.runtime.input_messages import input_messages
from agentbatch.runtime.ports import ModelGateway, Recall, StepSink
from agentbatch.runtime.prompt import render_system
from agentbatch.runtime.tools.approvals import resolve_reply
from agentbatch.runtime.tools.memory_tools import Memory
from agentbatch.runtime.tools.sandbox import ToolSandbox
from agentbatch.runtime.tools.tool_calls import Effect, ToolExecutor, ToolOutcome
from agentbatch.runtime.tools.tool_rules import CONSTRAINT_ERROR, ToolRuleSolver, parse_rules

NOT_RUN = "Not run: another call of this step was invalid."


@dataclass(slots=True)
class TurnInput:
    agent: Agent
    handle: ModelHandle
    history: list[Message]
    request: TurnRequest
    max_steps: int
    """The request's ``max_steps``, or the server's default when it set none."""
    item_id: str
    batch_id: str | None = None
    steps_done: int = 0
    """Steps of this turn already committed (non-zero when a turn is resumed elsewhere)."""
    earlier: int = 0
    """The agent's messages older than ``history`` that were not loaded: too old to fit the context
    window (``store/messages.py``, ``recent_histories``)."""
    recall: Recall | None = None
    """The whole history, for ``conversation_search``, when ``earlier`` messages were not loaded."""


@dataclass(slots=True)
class TurnResult:
    stop: StopReason
    messages: list[Message] = field(default_factory=list)
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ns: int | None = None
    error: str | None = None
    cached_tokens: int = 0
    cache_write_tokens: int = 0


class TurnRunner:
    def __init__(self, gateway: ModelGateway, sandbox: ToolSandbox) -> None:
        self._gateway = gateway
        self._sandbox = sandbox

    async def run(self, turn: TurnInput, sink: StepSink) -> TurnResult:
        """Run the turn to a stop reason. Raises ``TurnRejected`` (nothing written) if it cannot start,
        and ``TurnAborted`` if the sink refuses a commit (cancelled, or the lease was lost)."""
        agent, request = turn.agent, turn.request
        tags = {"batch_id": turn.batch_id, "batch_item_id": turn.item_id}
        history = turn.history
        bases = {block.id: block.value for block in agent.blocks}  # before any edit of this turn
        memory = Memory(agent.blocks)
        sends_message = agent.agent_type.replies_through_send_message
        assistant_tool = (request.assistant_message_tool_name, request.assistant_message_tool_kwarg)
        executor = ToolExecutor(
            agent.tools,
            [tool.name for tool in request.client_tools],
            memory,
            history,
            self._sandbox,
            assistant_tool if sends_message else None,
            turn.recall if turn.earlier else None,
        )
        rules = ToolRuleSolver(parse_rules(agent.tool_rules))
        pending, approved_stop = await self._start(turn, executor, rules, tags)
        tools = [
            ToolSpec(t.name, t.description or "", t.json_schema.get("parameters") or {}) for t in agent.tools
        ]
        tools += [ToolSpec(t.name, t.described, dict(t.schema)) for t in request.client_tools]
        names = [tool.name for tool in tools]
        if approved_stop is not None and not rules.uncalled_required(names):
            # an approved call ended the turn (send_message, a terminal rule): no model call after it
            changed = list(memory.changed.values())
            edited_from = {block.id: bases[block.id] for block in changed if block.id in bases}
            await sink.commit(Commit(None, pending, changed, approved_stop, None, edited_from))
            return TurnResult(stop=approved_stop, messages=pending)
        must_call: list[str] = []
        result = TurnResult(stop=StopReason.END_TURN)
        step_no = turn.steps_done

        context_window = context_window_of(agent.llm_config)
        reserve = output_reserve(context_window, agent.llm_config.get("max_tokens"))
        while True:
            if step_no >= turn.max_steps:
                return await self._end(sink, result, pending, StopReason.MAX_STEPS, None)
            system = render_system(agent.system, memory.blocks)
            try:
                window = fit(system, tools, [*history, *pending], context_window, reserve)
            except SystemPromptOverflow as overflow:
                overflowed = StopReason.CONTEXT_WINDOW_OVERFLOW_IN_SYSTEM_PROMPT
                return await self._end(sink, result, pending, overflowed, str(overflow))
            dropped = window.dropped + turn.earlier  # older messages outside the window, loaded or not
            allowed = frozenset(must_call) if must_call else rules.next_step(names).allowed
            offered = [tool for tool in tools if tool.name in allowed] if rules.active else tools
            forced = sends_message or bool(must_call) or (rules.active and rules.next_step(names).forced)
            model_request = ModelRequest(
                model=turn.handle.model,
                system=system + window_note(dropped) if dropped else system,
                messages=window.messages,
                tools=offered,
                tool_choice="required" if forced and offered else "auto",
                max_tokens=agent.llm_config.get("max_tokens"),
                temperature=agent.llm_config.get("temperature"),
            )
            started = time.perf_counter_ns()
            try:
                response = await self._gateway.complete(turn.handle, model_request)
            except InvalidResponse as error:
                return await self._end(sink, result, pending, StopReason.INVALID_LLM_RESPONSE, str(error))
            except ProviderError as error:
                return await self._end(sink, result, pending, StopReason.LLM_API_ERROR, str(error))
            ttft = time.perf_counter_ns() - started
            step_no += 1
            step = StepRecord(
                step_no=step_no,
                step_id=new_id(IdPrefix.STEP),
                model=str(turn.handle),
                finish=response.finish,
                prompt_tokens=response.prompt_tokens,
                completion_tokens=response.completion_tokens,
                ttft_ns=ttft,
                duration_ns=0,
                cached_tokens=response.cached_tokens,
                cache_write_tokens=response.cache_write_tokens,
            )
            assistant = _assistant_message(agent.id, response, step.step_id, str(turn.handle), tags)
            messages = [*pending, assistant]
            pending = []
            # Only a known tool can break a rule; an unknown one is an invalid call, rules or not.
            called = {call.name for call in response.tool_calls}
            allowed = allowed | (called - set(names)) if rules.active else frozenset(called)
            stop, problem = await self._act(
                executor, rules, allowed, sends_message, response, assistant, messages, step.step_id, tags
            )
            must_call = (
                rules.uncalled_required(names) if stop in (StopReason.END_TURN, StopReason.TOOL_RULE) else []
            )
            if must_call:  # required before exit: the turn goes on, and the next step must call them
                stop = None
            step.duration_ns = time.perf_counter_ns() - started
            changed = list(memory.changed.values())
            memory.changed.clear()
            edited_from = {block.id: bases[block.id] for block in changed if block.id in bases}
            await sink.commit(Commit(step, messages, changed, stop, problem, edited_from))
            bases.update({block.id: block.value for block in changed})
            history.extend(messages)
            _account(result, step, messages)
            if stop is not None:
                result.stop, result.error = stop, problem
                return result

    async def _start(
        self, turn: TurnInput, executor: ToolExecutor, rules: ToolRuleSolver, tags: dict[str, str | None]
    ) -> tuple[list[Message], StopReason | None]:
        """The messages the turn's first step adds before the model's reply (an approval reply, the
        results of the calls it approves, run now, and the input), and the stop reason if an approved
        call ends the turn; for a resumed turn, none, but the calls it made count for its rules."""
        agent, request, history = turn.agent, turn.request, turn.history
        if turn.steps_done > 0:
            made = [
                m
                for m in history
                if m.role is Role.TOOL
                and m.batch_item_id == turn.item_id
                and m.name
                and not m.text.startswith(CONSTRAINT_ERROR)
            ]
            rules.called = [m.name for m in made if m.name]
            rules.last_output = made[-1].text if made else None
            return [], None
        now = datetime.now(UTC)
        own_tools = {tool.name for tool in agent.tools}
        resolution = resolve_reply(history, request.approval, tags, now, own_tools.__contains__)
        pending = resolution.messages
        stop: StopReason | None = None
        for call in resolution.approved:
            outcome = await executor.run(call)
            rules.record(call.name, outcome.content)
            pending.append(_tool_message(agent.id, call, outcome, None, tags))
            if outcome.effect is Effect.TERMINAL and not rules.is_continue(call.name):
                stop = stop or StopReason.END_TURN
            elif outcome.effect is not Effect.INVALID and rules.is_terminal(call.name):
                stop = stop or StopReason.TOOL_RULE
        inputs = input_messages(request, agent.id, now, tags)
        return pending + inputs, None if inputs else stop

    async def _act(
        self,
        executor: ToolExecutor,
        rules: ToolRuleSolver,
        allowed: frozenset[str],
        sends_message: bool,
        response: ModelResponse,
        assistant: Message,
        messages: list[Message],
        step_id: str,
        tags: dict[str, str | None],
    ) -> tuple[StopReason | None, str | None]:
        """Run the step's tool calls (recording each result); the stop reason, if the turn ends here."""
        if not response.tool_calls:
            if not response.text and not response.reasoning:
                return StopReason.INVALID_LLM_RESPONSE, "the model returned neither text nor a tool call"
            if response.finish == "length":
                return StopReason.MAX_TOKENS_EXCEEDED, "the reply was cut off at the output token limit"
            if sends_message:
                return (
                    StopReason.NO_TOOL_CALL,
                    "the agent must answer by calling a tool but replied in plain text",
                )
            return StopReason.END_TURN, None
        stop: StopReason | None = None
        error: str | None = None
        for index, call in enumerate(response.tool_calls):
            fixed = rules.fixed_args(call.name)
            if fixed is not None:
                call = ToolCall(call.id, call.name, orjson.dumps(fixed).decode())
                assistant.tool_calls[index] = call
            broken = rules.violation(call.name, allowed)
            outcome = await _carry_out(executor, rules, call, broken, stop is StopReason.INVALID_TOOL_CALL)
            if outcome.effect is Effect.NEEDS_CLIENT:
                assistant.role = Role.APPROVAL
                stop = stop or StopReason.REQUIRES_APPROVAL
                continue
            messages.append(_tool_message(assistant.agent_id, call, outcome, step_id, tags))
            if outcome.effect is Effect.INVALID and stop is not StopReason.INVALID_TOOL_CALL:
                stop, error = StopReason.INVALID_TOOL_CALL, outcome.content
            elif outcome.effect is Effect.TERMINAL and stop is None and not rules.is_continue(call.name):
                stop = StopReason.END_TURN
            elif broken is None and stop is None and rules.is_terminal(call.name):
                stop = StopReason.TOOL_RULE
        if stop is StopReason.INVALID_TOOL_CALL and assistant.role is Role.APPROVAL:
            _release_paused(assistant, messages, step_id, tags)
        return stop, error

    async def _end(
        self, sink: StepSink, result: TurnResult, pending: list[Message], stop: StopReason, error: str | None
    ) -> TurnResult:
        """End the turn without a model step (the input, if not yet written, is written now)."""
        await sink.commit(Commit(None, pending, [], stop, error))
        result.messages.extend(pending)
        result.stop, result.error = stop, error
        return result


def _release_paused(
    assistant: Message, messages: list[Message], step_id: str, tags: dict[str, str | None]
) -> None:
    """A step that ends invalid runs none of the calls it held for approval: each gets a not-run
    result, so the agent is left waiting for nothing."""
    assistant.role = Role.ASSISTANT
    answered = {message.tool_call_id for message in messages if message.role is Role.TOOL}
    not_run = ToolOutcome(Effect.INVALID, "error", NOT_RUN)
    messages.extend(
        _tool_message(assistant.agent_id, call, not_run, step_id, tags)
        for call in assistant.tool_calls
        if call.id not in answered
    )


async def _carry_out(
    executor: ToolExecutor, rules: ToolRuleSolver, call: ToolCall, broken: str | None, after_invalid: bool
) -> ToolOutcome:
    """Run one call of a step, unless an earlier call was invalid, the rules forbid it now (the model
    is told why and may try again), or it waits for approval."""
    if after_invalid:
        return ToolOutcome(Effect.INVALID, "error", NOT_RUN)
    if broken is not None:
        return ToolOutcome(Effect.CONTINUE, "error", broken)
    if rules.needs_approval(call.name):
        return ToolOutcome(Effect.NEEDS_CLIENT)
    outcome = await executor.run(call)
    if outcome.effect is not Effect.INVALID:
        rules.record(call.name, outcome.content)
    return outcome


def _assistant_message(
    agent_id: str, response: ModelResponse, step_id: str, model: str, tags: dict[str, str | None]
) -> Message:
    content: list[ContentPart] = [*response.reasoning]
    if response.text:
        content.append(text_part(response.text))
    return Message(
        id=new_id(IdPrefix.MESSAGE),
        agent_id=agent_id,
        role=Role.ASSISTANT,
        created_at=datetime.now(UTC),
        content=content,
        tool_calls=list(response.tool_calls),
        step_id=step_id,
        model=model,
        batch_id=tags.get("batch_id"),
        batch_item_id=tags.get("batch_item_id"),
    )


def _tool_message(
    agent_id: str, call: ToolCall, outcome: ToolOutcome, step_id: str | None, tags: dict[str, str | None]
) -> Message:
    return Message(
        id=new_id(IdPrefix.MESSAGE),
        agent_id=agent_id,
        role=Role.TOOL,
        created_at=datetime.now(UTC),
        content=[text_part(outcome.content)],
        tool_call_id=call.id,
        tool_returns=[
            ToolReturn(
                tool_call_id=call.id,
                status=outcome.status,
                content=outcome.content,
                stdout=outcome.stdout or None,
                stderr=outcome.stderr or None,
            )
        ],
        name=call.name,
        step_id=step_id,
        is_err=outcome.status == "error",
        batch_id=tags.get("batch_id"),
        batch_item_id=tags.get("batch_item_id"),
    )


def _account(result: TurnResult, step: StepRecord, messages: list[Message]) -> None:
    result.messages.extend(messages)
    result.steps += 1
    result.prompt_tokens += step.prompt_tokens
    result.completion_tokens += step.completion_tokens
    result.cached_tokens += step.cached_tokens
    result.cache_write_tokens += step.cache_write_tokens
    if result.ttft_ns is None:
        result.ttft_ns = step.ttft_ns
