"""Every error the API shows is rendered here, as ``{"detail": ...}`` JSON with its status."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agentbatch.domain.errors import AgentbatchError


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentbatchError)
    async def _render(_request: Request, error: AgentbatchError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)
