"""Per-body attempt counting (for ``[[error:...]]`` and random faults) and request statistics."""

from collections import Counter


class AttemptCounter:
    """Counts how often each distinct request body has been seen, forgetting the oldest bodies
    once ``capacity`` distinct ones are tracked."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._counts: dict[bytes, int] = {}

    def next(self, key: bytes) -> int:
        """Record one more attempt of the body ``key`` and return its number (1 for the first)."""
        count = self._counts.get(key, 0) + 1
        if count == 1 and len(self._counts) >= self._capacity:
            del self._counts[next(iter(self._counts))]
        self._counts[key] = count
        return count

    def clear(self) -> None:
        self._counts.clear()


class RequestStats:
    """How many model requests each endpoint answered, by HTTP status, and how many were in flight at
    once (so a client's concurrency limit can be checked from outside)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int]] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0

    def started(self) -> None:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def finished(self) -> None:
        self.in_flight -= 1

    def record(self, endpoint: str, status: int) -> None:
        self._counts[(endpoint, status)] += 1

    def count(self, endpoint: str, status: int | None = None) -> int:
        """Requests seen at ``endpoint`` (e.g. ``"POST /v1/messages"``), optionally of one status."""
        return sum(
            n for (seen, code), n in self._counts.items() if seen == endpoint and status in (None, code)
        )

    def snapshot(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for (endpoint, status), count in sorted(self._counts.items()):
            result.setdefault(endpoint, {})[str(status)] = count
        return result

    def clear(self) -> None:
        self._counts.clear()
        self.peak_in_flight = self.in_flight
