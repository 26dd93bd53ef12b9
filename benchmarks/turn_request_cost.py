"""What the typed turn request costs per request, beside what accepting a request costs anyway.

For a batch body of ``--requests`` single-message requests (the shape of the 100,000-request create in
``accept_large_batch.py``) it times, in one run: pydantic validation of the body (the baseline: the API
did this before ``TurnRequest`` existed), building each ``TurnRequest`` (``to_request``), writing its
stored JSON (``request_to_json``, at insert) and reading it back (``request_from_json``, at claim).

    .venv/bin/python benchmarks/turn_request_cost.py [--requests 100000]
"""

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

from rich.console import Console
from rich.table import Table

from agentbatch.api.schemas.batches import CreateBatchIn
from agentbatch.domain.turn_request_json import request_from_json, request_to_json

T = TypeVar("T")
AGENT = "agent-00000000-0000-4000-8000-000000000000"


def timed(work: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    count = parser.parse_args().requests
    body = {
        "requests": [
            {"agent_id": AGENT, "messages": [{"role": "user", "content": f"question {n}"}], "max_steps": 2}
            for n in range(count)
        ]
    }
    validate_s, parsed = timed(lambda: CreateBatchIn.model_validate(body))
    build_s, requests = timed(lambda: [request.to_request() for request in parsed.requests])
    write_s, stored = timed(lambda: [request_to_json(request) for request in requests])
    read_s, read = timed(lambda: [request_from_json(row) for row in stored])
    assert read == requests
    table = Table(title=f"Typed turn request, {count:,} single-message requests (one process, one core)")
    for column in ("step", "total s", "µs per request", "vs validation"):
        table.add_column(column, justify="right" if column != "step" else "left")
    for name, seconds in (
        ("validate the body (baseline)", validate_s),
        ("build TurnRequest (API)", build_s),
        ("to stored JSON (insert)", write_s),
        ("from stored JSON (claim)", read_s),
    ):
        table.add_row(name, f"{seconds:.3f}", f"{seconds / count * 1e6:.2f}", f"{seconds / validate_s:.0%}")
    Console().print(table)


if __name__ == "__main__":
    main()
