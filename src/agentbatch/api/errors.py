"""Every error the API shows is rendered here, as ``{"detail": ...}`` JSON with its status."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from agentbatch.domain.errors import AgentbatchError


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentbatchError)
    async def _render(_request: Request, error: AgentbatchError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)

    @app.exception_handler(HTTPException)
    async def _no_route(request: Request, error: HTTPException) -> Response:
        """A method a path has no route for is a path with no route: 404, as Letta's server answers
        (``POST /v1/tools/search`` is not a wrong method of ``/v1/tools/{tool_id}``)."""
        if error.status_code == 405:
            detail = f"No route for {request.method} {request.url.path}"
            return JSONResponse({"detail": detail}, status_code=404)
        return await http_exception_handler(request, error)


class ErrorDetail(BaseModel):
    """The body of every error but 422 (whose ``detail`` lists the fields at fault)."""

    detail: str


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorDetail, "description": description}


DOCUMENTED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _documented("Understood but not possible as asked (a model nobody serves, a finished batch, …)"),
    401: _documented("A key is needed (API keys are configured) and none, or an unknown one, was sent"),
    404: _documented("No such object for this caller"),
    408: _documented("The request body stopped arriving (AGENTBATCH_BODY_READ_TIMEOUT_S)"),
    413: _documented("The request body is over AGENTBATCH_MAX_BODY_BYTES"),
}
"""Listed for every operation in the OpenAPI document (``api/app.py``), so clients and schemathesis know
every status an operation can answer with."""
