"""Reading Letta message lists in tests."""

from collections.abc import Sequence
from typing import Any


def message_types(messages: Sequence[Any]) -> list[str]:
    return [message.message_type for message in messages]


def contents(messages: Sequence[Any]) -> list[str]:
    return [message.content for message in messages if message.message_type == "assistant_message"]
