"""Which providers a model handle may name, and how to reach each.

``openai/<model>`` and ``anthropic/<model>`` are built in and configured by the SDKs' own variables
(``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``ANTHROPIC_BASE_URL``, ``ANTHROPIC_API_KEY``). Further
OpenAI-compatible providers come from a small TOML file::

    [providers.vllm]
    base_url = "http://127.0.0.1:8000/v1"
    api_key_env = "VLLM_API_KEY"      # optional: the variable holding its key
    context_window = 32768            # optional
    protocol = "openai"               # optional: "anthropic" for an Anthropic-compatible server

Any other key, a missing ``base_url`` or a value of the wrong kind stops the server at start with a
message naming the table.

The same file may set or override model prices (USD per million tokens; see ``domain/pricing.py``)::

    [prices."vllm/llama-3.1-8b"]
    input = 0.05
    output = 0.10
    cached_input = 0.05               # optional: default the input price
    cache_write_input = 0.05          # optional: default the input price
    batch_discount = 0.5              # optional: share off in the provider-batch lane
"""

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from agentbatch.domain.pricing import DEFAULT_BATCH_DISCOUNT, ModelPrice, PriceTable


class WireProtocol(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


@dataclass(frozen=True, slots=True)
class ProviderEndpoint:
    name: str
    protocol: WireProtocol
    base_url: str | None = None
    api_key_env: str | None = None
    context_window: int | None = None


@dataclass(frozen=True, slots=True)
class ModelHandle:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


BUILT_IN = {
    "openai": ProviderEndpoint("openai", WireProtocol.OPENAI),
    "anthropic": ProviderEndpoint("anthropic", WireProtocol.ANTHROPIC),
}
DEFAULT_CONTEXT_WINDOW = {WireProtocol.OPENAI: 128_000, WireProtocol.ANTHROPIC: 200_000}


class ProviderCatalog:
    def __init__(
        self, extra: dict[str, ProviderEndpoint] | None = None, prices: PriceTable | None = None
    ) -> None:
        self._endpoints = {**BUILT_IN, **(extra or {})}
        self.prices = prices or PriceTable()

    @classmethod
    def from_file(cls, path: Path | None) -> "ProviderCatalog":
        if path is None:
            return cls()
        document = tomllib.loads(path.read_text())
        extra = {name: _endpoint(name, entry) for name, entry in document.get("providers", {}).items()}
        prices = {handle: _model_price(handle, entry) for handle, entry in document.get("prices", {}).items()}
        return cls(extra, PriceTable(prices))

    @property
    def names(self) -> list[str]:
        return sorted(self._endpoints)

    def endpoint(self, provider: str) -> ProviderEndpoint | None:
        return self._endpoints.get(provider)

    def parse(self, handle: str) -> ModelHandle:
        """Split ``provider/model``; ValueError naming the problem if it is not one we can serve."""
        provider, _, model = handle.partition("/")
        if not provider or not model:
            raise ValueError(
                f"model handle {handle!r} must look like 'provider/model', e.g. 'openai/gpt-4o-mini'"
            )
        if provider not in self._endpoints:
            raise ValueError(
                f"unknown provider {provider!r} in model handle {handle!r}; known: {', '.join(self.names)}"
            )
        return ModelHandle(provider, model)

    def context_window(self, handle: ModelHandle) -> int:
        endpoint = self._endpoints[handle.provider]
        return endpoint.context_window or DEFAULT_CONTEXT_WINDOW[endpoint.protocol]


_ENDPOINT_KEYS = ("base_url", "protocol", "api_key_env", "context_window")


def _endpoint(name: str, entry: dict[str, Any]) -> ProviderEndpoint:
    """One ``[providers.NAME]`` table; a ValueError naming the table and what is wrong with it."""
    where = f"[providers.{name}]"
    unknown = sorted(set(entry) - set(_ENDPOINT_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; known: {list(_ENDPOINT_KEYS)}")
    base_url = entry.get("base_url")
    if not isinstance(base_url, str) or not base_url:
        raise ValueError(f'{where} needs `base_url`, the server\'s URL (e.g. "http://127.0.0.1:8000/v1")')
    protocol = entry.get("protocol", WireProtocol.OPENAI.value)
    if protocol not in set(WireProtocol):
        raise ValueError(
            f"{where}: protocol must be one of {[p.value for p in WireProtocol]}, got {protocol!r}"
        )
    window = entry.get("context_window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise ValueError(f"{where}: context_window must be a whole number of tokens, got {window!r}")
    key_env = entry.get("api_key_env")
    if key_env is not None and not isinstance(key_env, str):
        raise ValueError(f"{where}: api_key_env must be the name of an environment variable, got {key_env!r}")
    return ProviderEndpoint(name, WireProtocol(protocol), base_url, key_env, window)


def _model_price(handle: str, entry: dict[str, Any]) -> ModelPrice:
    """One ``[prices."provider/model"]`` table; numbers become Decimals through their text (no float)."""
    unknown = set(entry) - {"input", "output", "cached_input", "cache_write_input", "batch_discount"}
    if unknown or "input" not in entry or "output" not in entry:
        raise ValueError(
            f"[prices.{handle!r}] needs `input` and `output` (USD per million tokens), "
            f"optionally `cached_input`, `cache_write_input` and `batch_discount`; got {sorted(entry)}"
        )
    try:
        cached = entry.get("cached_input")
        written = entry.get("cache_write_input")
        return ModelPrice(
            input=Decimal(str(entry["input"])),
            output=Decimal(str(entry["output"])),
            cached_input=None if cached is None else Decimal(str(cached)),
            batch_discount=Decimal(str(entry.get("batch_discount", DEFAULT_BATCH_DISCOUNT))),
            cache_write_input=None if written is None else Decimal(str(written)),
        )
    except InvalidOperation as error:
        raise ValueError(f"[prices.{handle!r}]: prices must be numbers") from error
