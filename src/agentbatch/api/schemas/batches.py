"""``POST /v1/messages/batches``."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentbatch.api.schemas.turns import TurnIn
from agentbatch.domain.ids import IdPrefix, id_pattern
from agentbatch.domain.lanes import Dispatch


class BatchRequestIn(TurnIn):
    agent_id: str = Field(pattern=id_pattern(IdPrefix.AGENT), description="agent-<uuid4>")


class CreateBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests: Annotated[list[BatchRequestIn], Field(min_length=1)]
    callback_url: str | None = Field(default=None, max_length=2083)
    completion_window: str | None = Field(
        default=None, description="Extension: expire unfinished requests after this long, e.g. '24h'."
    )
    metadata: dict[str, Any] | None = Field(default=None, description="Extension: kept on the batch.")
    dispatch: Dispatch | None = Field(
        default=None,
        description="Extension: direct, provider_batch (the providers' half-price batch APIs) or auto; "
        "default AGENTBATCH_DISPATCH.",
    )

    @field_validator("callback_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("callback_url must be an absolute http:// or https:// URL")
        return value
