"""Liveness: the process answers and its database does too."""

from typing import Any

from fastapi import APIRouter, Depends

from agentbatch import __version__
from agentbatch.api.services import ApiServices, services
from agentbatch.store.health import database_answers

router = APIRouter(tags=["health"])


@router.get("/v1/health/", summary="Health check")
@router.get("/v1/health", include_in_schema=False)
async def health(svc: ApiServices = Depends(services)) -> dict[str, Any]:
    async with svc.db.read() as conn:
        await database_answers(conn)
    return {"status": "ok", "version": __version__}
