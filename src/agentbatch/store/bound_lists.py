"""Long lists of values bound into ``IN (…)`` a part at a time.

asyncpg refuses a statement with more than 32,767 bound values, and SQLite's default limit is about the
same, so a statement that names agents or items by the thousand names them ``BOUND_PART`` at a time.
"""

from collections.abc import Iterator, Sequence
from typing import TypeVar

BOUND_PART = 5_000
"""Values bound in one statement; with one or two more per row, well within every driver's limit."""

T = TypeVar("T")


def in_parts(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in consecutive parts of at most ``BOUND_PART``."""
    for start in range(0, len(values), BOUND_PART):
        yield values[start : start + BOUND_PART]
