"""Letta's agent files: ``GET /v1/agents/{id}/export`` and ``POST /v1/agents/import`` (multipart)."""

from typing import Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Path, UploadFile

from agentbatch.api.auth import caller
from agentbatch.api.responses import OrjsonResponse
from agentbatch.api.services import ApiServices, services
from agentbatch.domain.errors import InvalidRequest
from agentbatch.domain.ids import IdPrefix, id_pattern
from agentbatch.engine.agent_files import ImportOptions

router = APIRouter(prefix="/v1/agents", tags=["agents"], default_response_class=OrjsonResponse)
AgentId = Path(pattern=id_pattern(IdPrefix.AGENT), description="agent-<uuid4>")


@router.get("/{agent_id}/export", summary="The agent as a Letta agent file (.af)")
async def export_agent(
    agent_id: str = AgentId, owner: str = Depends(caller), svc: ApiServices = Depends(services)
) -> dict[str, Any]:
    return await svc.agents.files.export(owner, agent_id)


@router.post("/import", summary="Create agents from a Letta agent file (.af)")
async def import_agent(
    file: UploadFile = File(description="The agent file (JSON)."),
    name: str | None = Form(default=None),
    override_name: str | None = Form(default=None),
    strip_messages: bool = Form(default=False),
    override_existing_tools: bool = Form(default=True),
    model: str | None = Form(default=None, description="Extension: run the imported agents on this model."),
    owner: str = Depends(caller),
    svc: ApiServices = Depends(services),
) -> dict[str, Any]:
    try:
        data = orjson.loads(await file.read())
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"the agent file is not valid JSON: {error}") from error
    options = ImportOptions(
        name=name or override_name,
        model=model,
        strip_messages=strip_messages,
        override_existing_tools=override_existing_tools,
    )
    result = await svc.agents.files.import_file(owner, data, options)
    return {"agent_ids": result.agent_ids, "warnings": result.warnings}
