"""The protocol-neutral pipeline from a model request body to a response or an error.

Used both by the live endpoints (with attempts, latency and faults) and by the provider batches
(each line evaluated once, with an error directive always making the line fail).
"""

from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any, Literal

import orjson

from agentbatch.emulator.attempts import AttemptCounter
from agentbatch.emulator.config import EmulatorConfig
from agentbatch.emulator.directives import DirectiveError
from agentbatch.emulator.faults import jitter_s, random_fault
from agentbatch.emulator.ids import IdMaker, body_key
from agentbatch.emulator.protocol import InvalidRequest, ModelProtocol
from agentbatch.emulator.scripting import Turn, decide


@dataclass(slots=True)
class Outcome:
    """A live response: status, JSON body, extra headers and how long to wait before sending it."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class LineResult:
    """The result of one provider-batch request."""

    kind: Literal["succeeded", "errored", "expired"]
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""


class Responder:
    def __init__(self, protocol: ModelProtocol, config: EmulatorConfig, attempts: AttemptCounter) -> None:
        self.protocol = protocol
        self.config = config
        self.attempts = attempts

    def respond(self, raw: bytes) -> Outcome:
        """Answer one live request whose raw body is ``raw``."""
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self._invalid(raw, "We could not parse the JSON body of your request.")
        if not isinstance(body, dict):
            return self._invalid(raw, "The request body must be a JSON object.")
        try:
            turn = self.protocol.parse(body)
        except InvalidRequest as error:
            return self._invalid(raw, str(error), error.param)
        except DirectiveError as error:
            return self._invalid(raw, f"malformed emulator directive: {error}", "messages")
        key = body_key(body)
        directives = turn.directives
        config = self.config
        attempt = self.attempts.next(key) if directives.error is not None or config.error_rate > 0 else 1
        ids = IdMaker(key, attempt)
        request_id = ids.make("req_", "request")
        delay_s = directives.sleep_ms / 1000
        if config.latency_ms or config.jitter_ms:
            delay_s += jitter_s(config, key, attempt)
        status = (
            directives.error.status
            if directives.error is not None and directives.error.applies_to(attempt)
            else random_fault(config, key, attempt, anthropic=self.protocol.is_anthropic)
        )
        if status is not None:
            fault = self.protocol.error(
                status, None, request_id=request_id, retry_after_ms=config.retry_after_ms
            )
            return Outcome(status, fault.body, fault.headers, delay_s)
        response = self.protocol.render(turn, decide(turn), ids)
        return Outcome(200, response, {self.protocol.request_id_header: request_id}, delay_s)

    def evaluate_line(self, body: object, custom_id: str) -> LineResult:
        """Evaluate one batch request: no latency, no retries, ``[[expire]]`` honoured."""
        if not isinstance(body, dict):
            return self._errored_line(400, "The request body must be a JSON object.", "")
        key = blake2b(body_key(body) + custom_id.encode(), digest_size=16).digest()
        ids = IdMaker(key)
        request_id = ids.make("req_", "request")
        try:
            turn: Turn = self.protocol.parse(body)
        except InvalidRequest as error:
            return self._errored_line(400, str(error), request_id, error.param)
        except DirectiveError as error:
            return self._errored_line(400, f"malformed emulator directive: {error}", request_id, "messages")
        directives = turn.directives
        if directives.expire:
            return LineResult("expired", request_id=request_id)
        status = directives.error.status if directives.error is not None else None
        if status is None:
            status = random_fault(self.config, key, 1, anthropic=self.protocol.is_anthropic)
        if status is not None:
            return self._errored_line(status, None, request_id)
        return LineResult("succeeded", 200, self.protocol.render(turn, decide(turn), ids), request_id)

    def _invalid(self, raw: bytes, message: str, param: str | None = None) -> Outcome:
        request_id = "req_" + blake2b(raw, digest_size=12).hexdigest()
        error = self.protocol.error(400, message, request_id=request_id, retry_after_ms=0, param=param)
        return Outcome(400, error.body, error.headers)

    def _errored_line(
        self, status: int, message: str | None, request_id: str, param: str | None = None
    ) -> LineResult:
        error = self.protocol.error(status, message, request_id=request_id, retry_after_ms=0, param=param)
        return LineResult("errored", status, error.body, request_id)
