"""Cursor pagination as Letta's SDK drives it: ``after``/``before`` are ids of items, exclusive."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PageRequest:
    after: str | None = None
    before: str | None = None
    limit: int = 100
    descending: bool = True
