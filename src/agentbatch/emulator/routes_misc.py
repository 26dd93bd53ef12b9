"""Model listings in either provider's shape, the emulator's own endpoints, and unknown URLs."""

from datetime import UTC, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agentbatch.emulator.responses import (
    anthropic_error_response,
    json_response,
    openai_error_response,
    wants_anthropic,
)
from agentbatch.emulator.state import EmulatorState

OPENAI_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini")
ANTHROPIC_MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")
_MODELS_CREATED = 1_700_000_000


def _openai_model(model_id: str) -> dict[str, object]:
    return {"id": model_id, "object": "model", "created": _MODELS_CREATED, "owned_by": "agentbatch-emulator"}


def _anthropic_model(model_id: str) -> dict[str, object]:
    created = datetime.fromtimestamp(_MODELS_CREATED, UTC).isoformat().replace("+00:00", "Z")
    return {"id": model_id, "type": "model", "display_name": model_id, "created_at": created}


def misc_routes(state: EmulatorState) -> list[Route]:
    """``/v1/models`` and ``/_emulator/*`` (health, stats, reset)."""

    async def list_models(request: Request) -> Response:
        if wants_anthropic(request):
            data = [_anthropic_model(model) for model in ANTHROPIC_MODELS]
            return json_response(
                {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
            )
        return json_response({"object": "list", "data": [_openai_model(model) for model in OPENAI_MODELS]})

    async def get_model(request: Request) -> Response:
        model_id = request.path_params["model_id"]
        return json_response(
            _anthropic_model(model_id) if wants_anthropic(request) else _openai_model(model_id)
        )

    async def health(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def stats(request: Request) -> Response:
        return json_response(
            {
                "requests": state.stats.snapshot(),
                "in_flight": state.stats.in_flight,
                "peak_in_flight": state.stats.peak_in_flight,
            }
        )

    async def reset(request: Request) -> Response:
        state.reset()
        return json_response({"reset": True})

    return [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
        Route("/_emulator/health", health, methods=["GET"]),
        Route("/_emulator/stats", stats, methods=["GET"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
    ]


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown URLs and methods, answered in the caller's provider shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = f"Invalid URL ({request.method} {request.url.path})"
    if wants_anthropic(request):
        return anthropic_error_response(status, message)
    return openai_error_response(status, message)
