"""``POST /v1/messages/batches``."""

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentbatch.api.schemas.turns import TurnIn
from agentbatch.domain.ids import IdPrefix, id_pattern
from agentbatch.domain.lanes import Dispatch

MAX_WINDOW_S = 3650 * 86_400
_WINDOW = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


class BatchRequestIn(TurnIn):
    agent_id: str = Field(pattern=id_pattern(IdPrefix.AGENT), description="agent-<uuid4>")
    custom_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Extension: the caller's own id for this request (unique in the batch), carried onto "
        "/items and the results.",
    )


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
    priority: int = Field(
        default=0,
        ge=-1_000_000,
        le=1_000_000,
        description="Extension: among ready requests, those of higher-priority batches are claimed first.",
    )

    @field_validator("completion_window")
    @classmethod
    def _window_within_reach(cls, value: str | None) -> str | None:
        found = _WINDOW.match(value) if value is not None else None
        if found is not None and int(found.group(1)) * _UNIT_SECONDS[found.group(2)] > MAX_WINDOW_S:
            raise ValueError("completion_window may be at most 3650 days")
        return value

    @field_validator("callback_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("callback_url must be an absolute http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _unique_custom_ids(self) -> "CreateBatchIn":
        first: dict[str, int] = {}
        for index, request in enumerate(self.requests):
            if request.custom_id is None:
                continue
            seen = first.setdefault(request.custom_id, index)
            if seen != index:
                raise ValueError(f"requests[{index}].custom_id: duplicate of requests[{seen}]")
        return self
