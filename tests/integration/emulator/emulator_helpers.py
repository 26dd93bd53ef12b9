"""Shared constants and helpers of the emulator's tests (fixtures live in conftest.py)."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

BATCH_DELAY_S = 0.2
CHAT = "POST /v1/chat/completions"
MESSAGES = "POST /v1/messages"

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer"},
        "threshold": {"type": "number"},
        "alerts": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "where": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "label": {"type": "string"}},
            "required": ["label"],
        },
        "note": {"type": "string"},
    },
    "required": ["city", "unit", "days", "threshold", "alerts", "tags", "where"],
}
WEATHER_ARGUMENTS = {
    "city": "city-value",
    "unit": "celsius",
    "days": 1,
    "threshold": 1.0,
    "alerts": True,
    "tags": [],
    "where": {"label": "label-value"},
}
MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}
LOOKUP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"query": {"type": "string"}},
    "required": ["query"],
}


def openai_tool(name: str, schema: dict[str, Any], description: str = "A tool.") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}


def anthropic_tool(name: str, schema: dict[str, Any], description: str = "A tool.") -> dict[str, Any]:
    return {"name": name, "description": description, "input_schema": schema}


async def poll_until(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], deadline_s: float = 10.0
) -> T:
    """Fetch until ``done`` holds; fail when the deadline passes first."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {deadline_s} s; last value: {value!r}")
        await asyncio.sleep(0.02)
