"""``dispatch: "auto"`` with a completion window: a step goes to the lane only when, after the lane's
expected turnaround, the turn's remaining steps would still fit in the window by direct calls."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(slots=True)
class DeadlinePolicy:
    default_turnaround_s: float
    """Expected provider batch turnaround before any has been observed."""
    direct_step_s: float
    """Expected duration of one direct step."""
    reserve_steps: int
    """Direct steps the window must still hold after a lane step."""
    observed: Callable[[str], float | None] = lambda _provider: None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def turnaround(self, provider: str) -> float:
        seen = self.observed(provider)
        return self.default_turnaround_s if seen is None else seen

    def lane_fits(self, provider: str, deadline: datetime) -> bool:
        room = (deadline - self.clock()).total_seconds()
        return room >= self.turnaround(provider) + self.reserve_steps * self.direct_step_s
