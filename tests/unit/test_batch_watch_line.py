"""The `batches watch` progress line shows what the BatchJob says, cost included."""

from agentbatch.cli.batch_watch import progress_line


def test_the_line_shows_counts_rate_and_the_ledger_cost() -> None:
    batch = {
        "id": "job-1",
        "status": "running",
        "request_counts": {"total": 4, "succeeded": 3, "running": 1},
        "cost": {"currency": "USD", "total": "0.01234", "direct_equivalent": "0.02468", "saved": "0.01234"},
    }
    line = progress_line(batch, steps_per_s=12.5, eta_s=65).plain
    assert "3/4" in line and "succeeded 3" in line and "running 1" in line
    assert "12.5 steps/s" in line and "ETA 1m05s" in line
    assert "cost $0.0123" in line


def test_an_unpriced_batch_shows_no_cost() -> None:
    batch = {
        "id": "job-2",
        "status": "running",
        "request_counts": {"total": 1, "pending": 1},
        "cost": {"currency": "USD", "total": None},
    }
    assert "cost" not in progress_line(batch, steps_per_s=None, eta_s=None).plain
