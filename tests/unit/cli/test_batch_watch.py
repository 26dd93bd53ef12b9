"""``agentbatch batches watch``: the progress line, and following a batch to its end with the exit code
its final status calls for."""

from typing import Any

import httpx
import pytest
import typer
from rich.console import Console

from agentbatch.cli.batch_watch import EXIT_CODES, progress_line, watch
from tests.unit.cli.conftest import FakeServer

BATCH = "job-00000000-0000-4000-8000-000000000001"
PATH = f"/v1/messages/batches/{BATCH}"


def _batch(status: str, steps: int = 0, **counts: int) -> dict[str, Any]:
    return {"id": BATCH, "status": status, "request_counts": counts, "usage": {"step_count": steps}}


def _bar(line: str) -> tuple[int, int]:
    return line.count("█"), line.count("░")


@pytest.mark.parametrize(
    ("counts", "filled", "shown"),
    [
        ({"total": 4}, 0, "0/4"),
        ({"total": 4, "succeeded": 1, "running": 3}, 7, "1/4"),
        ({"total": 4, "succeeded": 1, "errored": 1, "cancelled": 1, "expired": 1}, 30, "4/4"),
        ({"total": 3, "errored": 2, "pending": 1}, 20, "2/3"),
    ],
)
def test_the_bar_fills_with_every_finished_request_whatever_its_outcome(
    counts: dict[str, int], filled: int, shown: str
) -> None:
    line = progress_line(_batch("running", **counts), None, None).plain
    assert _bar(line) == (filled, 30 - filled)
    assert f" {shown} " in line


def test_a_batch_with_no_counts_yet_shows_an_empty_bar_not_an_error() -> None:
    line = progress_line({"id": BATCH, "status": "created", "request_counts": None}, None, None).plain
    assert _bar(line) == (0, 30) and "0/1" in line and "pending 0" in line


def test_every_status_count_is_shown_by_name() -> None:
    line = progress_line(_batch("running", total=6, pending=1, running=2, succeeded=3), None, None).plain
    for shown in ["pending 1", "running 2", "succeeded 3", "errored 0", "cancelled 0", "expired 0"]:
        assert shown in line


@pytest.mark.parametrize(("eta_s", "shown"), [(0, "ETA 0m00s"), (59.9, "ETA 0m59s"), (3_725, "ETA 62m05s")])
def test_the_eta_is_minutes_and_seconds(eta_s: float, shown: str) -> None:
    assert shown in progress_line(_batch("running", total=1), None, eta_s).plain


def test_rates_are_shown_with_thousands_separators() -> None:
    assert "12,345.7 steps/s" in progress_line(_batch("running", total=1), 12_345.67, None).plain


def test_before_any_rate_is_known_no_rate_or_eta_is_shown() -> None:
    line = progress_line(_batch("running", total=1), None, None).plain
    assert "steps/s" not in line and "ETA" not in line


def _following(statuses: list[dict[str, Any]]) -> FakeServer:
    server = FakeServer()
    answers = iter(statuses)
    last: list[dict[str, Any]] = []

    def next_state(_request: httpx.Request) -> httpx.Response:
        last[:] = [next(answers, last[0] if last else statuses[-1])]
        return httpx.Response(200, json=last[0])

    server.routes[("GET", PATH)] = next_state
    return server


@pytest.mark.parametrize(("status", "code"), sorted(EXIT_CODES.items()))
def test_watch_exits_with_the_code_of_the_final_status(status: str, code: int) -> None:
    server = _following([_batch("running", total=2, running=2), _batch(status, total=2, succeeded=2)])
    assert watch(server.client(), BATCH, Console(file=None, quiet=True), interval_s=0) == code


def test_watch_polls_until_the_batch_ends_and_shows_the_last_state() -> None:
    server = _following(
        [
            _batch("created", total=2, pending=2),
            _batch("running", steps=1, total=2, running=2),
            _batch("running", steps=3, total=2, succeeded=1, running=1),
            _batch("completed", steps=4, total=2, succeeded=2),
        ]
    )
    console = Console(record=True, width=200, force_terminal=False)
    assert watch(server.client(), BATCH, console, interval_s=0) == 0
    assert len(server.seen) == 4
    shown = console.export_text()
    assert "completed" in shown and "2/2" in shown


def test_watching_a_finished_batch_returns_at_once() -> None:
    server = _following([_batch("failed", total=1, errored=1)])
    assert watch(server.client(), BATCH, Console(quiet=True), interval_s=0) == 1
    assert len(server.seen) == 1


def test_watching_a_batch_that_does_not_exist_exits_1_with_the_servers_detail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(typer.Exit) as exited:
        watch(FakeServer().client(), BATCH, Console(quiet=True), interval_s=0)
    assert exited.value.exit_code == 1
    assert f"HTTP 404: No route for GET {PATH}" in capsys.readouterr().err
