"""What a provider protocol (OpenAI chat completions, Anthropic messages) supplies to the responder."""

from typing import Any, Protocol

from agentbatch.emulator.faults import ErrorReply
from agentbatch.emulator.ids import IdMaker
from agentbatch.emulator.scripting import Reply, Turn


class InvalidRequest(ValueError):
    """The request body breaks the provider's API contract; answered with a 400 in its shape."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ModelProtocol(Protocol):
    """Parses a model request into a neutral :class:`Turn` and renders replies and errors."""

    @property
    def is_anthropic(self) -> bool: ...

    @property
    def request_id_header(self) -> str: ...

    def parse(self, body: dict[str, Any]) -> Turn:
        """Validate ``body`` and extract the turn; raises InvalidRequest or DirectiveError."""
        ...

    def render(self, turn: Turn, reply: Reply, ids: IdMaker) -> dict[str, Any]:
        """The provider's response object for ``reply``."""
        ...

    def error(
        self,
        status: int,
        message: str | None,
        *,
        request_id: str,
        retry_after_ms: int,
        param: str | None = None,
    ) -> ErrorReply:
        """An error response in the provider's shape (a stock message when ``message`` is None)."""
        ...


def require_int(body: dict[str, Any], name: str, *, minimum: int = 1) -> int | None:
    """An optional integer parameter, validated; None when absent."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidRequest(f"{name}: expected an integer >= {minimum}", name)
    return value


def text_of_parts(content: object) -> str:
    """The text of a message ``content``: a string, or the ``text`` of its text parts joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
        ]
        return "\n".join(texts)
    return ""
