"""Small helpers for the Starlette (non hot-path) endpoints."""

import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from agentbatch.emulator.faults import ErrorReply, anthropic_error, openai_error


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def error_response(error: ErrorReply) -> Response:
    return json_response(error.body, error.status, error.headers)


def openai_error_response(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> Response:
    return error_response(openai_error(status, message, param=param, code=code))


def anthropic_error_response(status: int, message: str) -> Response:
    return error_response(anthropic_error(status, message, request_id="req_" + uuid.uuid4().hex[:24]))


def wants_anthropic(request: Request) -> bool:
    """Whether the caller speaks Anthropic's API (its SDK always sends ``anthropic-version``)."""
    return "anthropic-version" in request.headers


async def json_body(request: Request) -> Any:
    """The parsed JSON body, or None when it is missing or not JSON."""
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None


def query_int(request: Request, name: str, default: int, maximum: int) -> int | None:
    """An integer query parameter within [1, maximum], ``default`` when absent, None when invalid."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 1 <= value <= maximum else None
