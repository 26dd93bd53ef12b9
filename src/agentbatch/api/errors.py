"""Every error the API shows is rendered here, as ``{"detail": ...}`` JSON with its status."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from agentbatch.domain.errors import AgentbatchError


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentbatchError)
    async def _render(_request: Request, error: AgentbatchError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)


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
