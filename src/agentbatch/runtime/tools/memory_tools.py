"""The memory tools: edits of an agent's blocks, with limits and read-only enforced.

Each returns the text the model reads; a ``ToolError`` is returned to the model as an error result.
"""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from agentbatch.domain.agents import Block
from agentbatch.domain.messages import Message, Role


class ToolError(Exception):
    """A tool call that could not be carried out; the message is what the model is told."""


class Memory:
    """The agent's blocks during a turn, and which ones the turn changed."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = list(blocks)
        self.changed: dict[str, Block] = {}

    def _block(self, label: str) -> Block:
        for block in self.blocks:
            if block.label == label:
                return block
        known = ", ".join(block.label for block in self.blocks) or "none"
        raise ToolError(f"no memory block labelled {label!r} (blocks: {known})")

    def _write(self, label: str, value: str) -> str:
        block = self._block(label)
        if block.read_only:
            raise ToolError(f"memory block {label!r} is read-only")
        if len(value) > block.limit:
            raise ToolError(
                f"the edit would make block {label!r} {len(value)} characters long, over its limit of "
                f"{block.limit}; shorten it or remove something first"
            )
        block.value = value
        self.changed[label] = block
        return f"The memory block {label!r} now reads:\n{value}"

    def memory_insert(self, label: str, new_string: str, insert_line: int = -1) -> str:
        lines = self._block(label).value.split("\n") if self._block(label).value else []
        if insert_line == -1 or insert_line >= len(lines):
            lines.append(new_string)
        elif insert_line < -1:
            raise ToolError(f"insert_line must be -1 (end) or a line number >= 0, not {insert_line}")
        else:
            lines.insert(insert_line, new_string)
        return self._write(label, "\n".join(lines))

    def memory_replace(self, label: str, old_string: str, new_string: str) -> str:
        value = self._block(label).value
        count = value.count(old_string) if old_string else 0
        if count != 1:
            problem = "does not occur" if count == 0 else f"occurs {count} times; make it unique"
            raise ToolError(f"old_string {old_string!r} {problem} in block {label!r}")
        return self._write(label, value.replace(old_string, new_string, 1))

    def core_memory_append(self, label: str, content: str) -> str:
        value = self._block(label).value
        return self._write(label, f"{value}\n{content}" if value else content)

    def core_memory_replace(self, label: str, old_content: str, new_content: str) -> str:
        value = self._block(label).value
        if not old_content or old_content not in value:
            raise ToolError(f"old_content {old_content!r} not found in block {label!r}")
        return self._write(label, value.replace(old_content, new_content))

    def handlers(self) -> dict[str, Callable[..., str]]:
        return {
            "memory_insert": self.memory_insert,
            "memory_replace": self.memory_replace,
            "core_memory_append": self.core_memory_append,
            "core_memory_replace": self.core_memory_replace,
        }


class ConversationSearch:
    """``conversation_search``: messages whose text contains ``query`` (case-insensitive), newest first,
    at most ``limit``. Fed the history newest first, page by page, until it has enough (``scan``)."""

    def __init__(self, query: str, limit: int = 10) -> None:
        if not query:
            raise ToolError("query must not be empty")
        self.query = query
        self._needle = query.lower()
        self._limit = max(1, limit)
        self._hits: list[dict[str, Any]] = []

    def scan(self, newest_first: Iterable[Message]) -> bool:
        """Look through these messages; True once ``limit`` were found (the rest need not be read)."""
        for message in newest_first:
            if message.role not in (Role.USER, Role.ASSISTANT):
                continue
            text = message.text
            if self._needle in text.lower():
                self._hits.append(
                    {"role": message.role.value, "text": text, "date": message.created_at.isoformat()}
                )
                if len(self._hits) >= self._limit:
                    return True
        return False

    def result(self) -> str:
        if not self._hits:
            return f"No messages found containing {self.query!r}."
        return orjson.dumps(self._hits).decode()


def conversation_search(history: Sequence[Message], query: str, limit: int = 10) -> str:
    """A search of a history held whole (oldest first)."""
    search = ConversationSearch(query, limit)
    search.scan(reversed(history))
    return search.result()
