"""Letta's ``LLMConfig`` as a create-agent field: every field typed and bounded, unknown ones kept.

Each field is optional because ``model`` (a handle) may supply the rest; what is given is merged over the
configuration the handle resolves to. Bounds are the ones the providers accept.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

INT32_MAX = 2**31 - 1
"""Largest value of an integer column (PostgreSQL ``integer``)."""


class LlmConfigIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str | None = Field(default=None, min_length=1, max_length=255, description="LLM model name.")
    model_endpoint_type: str | None = Field(
        default=None, min_length=1, max_length=64, description="The provider protocol, e.g. 'openai'."
    )
    model_endpoint: str | None = Field(default=None, max_length=2083)
    context_window: int | None = Field(default=None, ge=1, le=INT32_MAX)
    max_tokens: int | None = Field(default=None, ge=1, le=INT32_MAX)
    max_reasoning_tokens: int | None = Field(default=None, ge=0, le=INT32_MAX)
    temperature: float | None = Field(default=None, ge=0, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    display_name: str | None = Field(default=None, max_length=255)
    provider_name: str | None = Field(default=None, max_length=255)
    provider_category: str | None = Field(default=None, max_length=64)
    model_wrapper: str | None = Field(default=None, max_length=255)
    handle: str | None = Field(default=None, max_length=255)
    tier: str | None = Field(default=None, max_length=64)
    put_inner_thoughts_in_kwargs: bool | None = None
    enable_reasoner: bool | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    effort: Literal["low", "medium", "high"] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    compatibility_type: Literal["gguf", "mlx"] | None = None
    response_format: dict[str, Any] | None = None

    def given(self) -> dict[str, Any]:
        """Only what the caller sent (unknown fields included), to be merged over the resolved config."""
        return self.model_dump(mode="json", exclude_unset=True)
