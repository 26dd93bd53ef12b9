"""What an operator reads: the counters on ``/metrics`` move as the work happened, and every event is
one log line, ``key=value`` or JSON, with its fields."""

import asyncio
import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client import generate_latest

from agentbatch.domain.batches import Batch
from agentbatch.domain.lanes import Lane
from agentbatch.domain.pricing import PriceTable
from agentbatch.domain.states import BatchStatus, ItemStatus, StopReason
from agentbatch.domain.turn_records import ClaimedItem, Commit, StepRecord
from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.engine import batch_events, metrics
from agentbatch.engine.events import EVENT_LOGGER, emit
from agentbatch.engine.log_format import EventFormatter, configure_logging


def sample(name: str, **labels: str) -> float:
    """A figure as ``GET /metrics`` shows it (0 before the series exists)."""
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def events() -> Iterator[list[logging.LogRecord]]:
    """The event records emitted while the test runs."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(EVENT_LOGGER)
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    return dict(getattr(record, "event_fields"))  # noqa: B009 - set through `extra`, unknown to mypy


def claimed(model: str) -> ClaimedItem:
    return ClaimedItem(
        id="item-1",
        batch_id="batch-1",
        agent_id="agent-1",
        owner_id="user-1",
        model=model,
        request=TurnRequest(),
        step_count=0,
        lease_owner="worker-1",
        started_at=datetime.now(UTC),
    )


def step(model: str, lane: Lane = Lane.DIRECT, finish: str = "stop") -> StepRecord:
    return StepRecord(1, "step-1", model, finish, 1_000_000, 500_000, 1, 1, lane=lane)


async def test_a_provider_call_is_counted_by_its_outcome_and_timed() -> None:
    model = "openai/observed-call"

    async def answers() -> str:
        return "ok"

    async def fails() -> str:
        raise ConnectionResetError("peer went away")

    async def hangs() -> str:
        await asyncio.Event().wait()
        return "never"

    assert await metrics.observed_call("openai", model, answers()) == "ok"
    with pytest.raises(ConnectionResetError):
        await metrics.observed_call("openai", model, fails(), lane="provider_batch")
    waiting = asyncio.create_task(metrics.observed_call("openai", model, hangs()))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    calls = "agentbatch_provider_calls_total"
    assert sample(calls, provider="openai", model=model, lane="direct", outcome="ok") == 1
    assert (
        sample(calls, provider="openai", model=model, lane="provider_batch", outcome="ConnectionResetError")
        == 1
    )
    assert sample(calls, provider="openai", model=model, lane="direct", outcome="cancelled") == 1
    timed = "agentbatch_provider_call_seconds_count"
    assert sample(timed, provider="openai", model=model, lane="direct") == 2
    assert sample(timed, provider="openai", model=model, lane="provider_batch") == 1


@pytest.mark.parametrize(("model", "provider"), [("openai/gpt-4o", "openai"), ("bare-model", "unknown")])
def test_steps_and_tokens_are_counted_under_the_models_provider(model: str, provider: str) -> None:
    labels = {"provider": provider, "model": model}
    steps_before = sample("agentbatch_steps_total", **labels, lane="direct", outcome="unknown")
    prompt_before = sample("agentbatch_tokens_total", **labels, kind="prompt")

    metrics.count_step(model, "direct", "", prompt_tokens=120, completion_tokens=30)

    assert sample("agentbatch_steps_total", **labels, lane="direct", outcome="unknown") == steps_before + 1
    assert sample("agentbatch_tokens_total", **labels, kind="prompt") == prompt_before + 120
    assert sample("agentbatch_tokens_total", **labels, kind="completion") >= 30


def test_a_committed_step_adds_its_list_price_and_what_the_batch_lane_saved() -> None:
    model = "openai/gpt-4o-mini"
    prices = PriceTable()
    labels = {"provider": "openai", "model": model}
    cost_before = {
        lane: sample("agentbatch_cost_usd_total", **labels, lane=lane)
        for lane in ("direct", "provider_batch")
    }
    saved_before = sample("agentbatch_saved_usd_total", **labels)

    # a million prompt and half a million completion tokens: $0.15 + $0.30 direct, half that by batch
    batch_events.commit_written(claimed(model), Commit(step(model)), prices)
    batch_events.commit_written(claimed(model), Commit(step(model, Lane.PROVIDER_BATCH)), prices)

    assert sample("agentbatch_cost_usd_total", **labels, lane="direct") == pytest.approx(
        cost_before["direct"] + 0.45
    )
    assert sample("agentbatch_cost_usd_total", **labels, lane="provider_batch") == pytest.approx(
        cost_before["provider_batch"] + 0.225
    )
    assert sample("agentbatch_saved_usd_total", **labels) == pytest.approx(saved_before + 0.225)


def test_an_unpriced_model_counts_its_step_but_no_cost() -> None:
    model = "openai/house-model-without-a-price"
    batch_events.commit_written(claimed(model), Commit(step(model)), PriceTable())

    labels = {"provider": "openai", "model": model}
    assert sample("agentbatch_steps_total", **labels, lane="direct", outcome="stop") == 1
    assert sample("agentbatch_cost_usd_total", **labels, lane="direct") == 0


@pytest.mark.parametrize(
    ("stop", "status"),
    [
        (StopReason.END_TURN, "succeeded"),
        (StopReason.MAX_STEPS, "succeeded"),
        (StopReason.LLM_API_ERROR, "errored"),
        (StopReason.CANCELLED, "cancelled"),
    ],
)
def test_a_turns_end_counts_one_finished_request_by_status_and_stop_reason(
    stop: StopReason, status: str, events: list[logging.LogRecord]
) -> None:
    before = sample("agentbatch_items_finished_total", status=status, stop_reason=stop.value)

    batch_events.commit_written(claimed("openai/m"), Commit(None, stop=stop, error="the provider said 500"))

    assert sample("agentbatch_items_finished_total", status=status, stop_reason=stop.value) == before + 1
    errored = [record for record in events if record.getMessage() == "item.errored"]
    if status == "errored":
        [record] = errored
        assert record.levelno == logging.WARNING
        assert fields_of(record) == {
            "batch_id": "batch-1",
            "item_id": "item-1",
            "agent_id": "agent-1",
            "model": "openai/m",
            "stop_reason": stop.value,
            "error": "the provider said 500",
        }
    else:
        assert errored == []


def finished_in_all() -> float:
    return sum(
        found.value
        for family in metrics.REGISTRY.collect()
        if family.name == "agentbatch_items_finished"
        for found in family.samples
        if found.name.endswith("_total")
    )


def test_a_step_that_does_not_end_its_turn_finishes_no_request() -> None:
    before = finished_in_all()
    batch_events.commit_written(claimed("openai/m"), Commit(step("openai/m")))
    assert finished_in_all() == before


@pytest.mark.parametrize(
    ("status", "reason", "count", "label"),
    [
        (ItemStatus.CANCELLED, StopReason.CANCELLED, 3, "cancelled"),
        (ItemStatus.EXPIRED, None, 2, ""),  # an expired request has no stop reason
    ],
)
def test_requests_a_batch_ended_wholesale_are_counted_at_once(
    status: ItemStatus, reason: StopReason | None, count: int, label: str
) -> None:
    before = sample("agentbatch_items_finished_total", status=status.value, stop_reason=label)
    batch_events.items_ended_by_batch(status, reason, count)
    batch_events.items_ended_by_batch(status, reason, 0)  # nothing ended: nothing counted
    assert sample("agentbatch_items_finished_total", status=status.value, stop_reason=label) == before + count


def test_the_batch_lifecycle_events_carry_the_figures_an_operator_looks_for(
    events: list[logging.LogRecord],
) -> None:
    now = datetime.now(UTC)
    batch = Batch(
        id="batch-9",
        owner_id="user-1",
        status=BatchStatus.COMPLETED,
        request_count=3,
        created_at=now,
        updated_at=now,
        stop_reason="end_turn",
    )
    batch.counts.add(ItemStatus.SUCCEEDED, 2)
    batch.counts.add(ItemStatus.ERRORED, 1)

    batch_events.batch_created(batch)
    batch_events.batch_ended(batch)

    assert [record.getMessage() for record in events] == ["batch.created", "batch.ended"]
    assert fields_of(events[0]) == {"batch_id": "batch-9", "owner_id": "user-1", "requests": 3}
    ended = fields_of(events[1])
    assert ended["status"] == "completed" and ended["stop_reason"] == "end_turn"
    assert (ended["total"], ended["succeeded"], ended["errored"], ended["cancelled"]) == (3, 2, 1, 0)


def test_the_exposition_names_and_explains_every_figure() -> None:
    text = generate_latest(metrics.REGISTRY).decode()
    for family, kind in [
        ("agentbatch_steps", "counter"),
        ("agentbatch_provider_calls", "counter"),
        ("agentbatch_provider_call_seconds", "histogram"),
        ("agentbatch_tokens", "counter"),
        ("agentbatch_cost_usd", "counter"),
        ("agentbatch_saved_usd", "counter"),
        ("agentbatch_items_finished", "counter"),
        ("agentbatch_lease_expiries", "counter"),
        ("agentbatch_callback_attempts", "counter"),
        ("agentbatch_callback_seconds", "histogram"),
    ]:
        shown = f"{family}_total" if kind == "counter" else family
        assert f"# TYPE {shown} {kind}" in text
        assert f"# HELP {shown} " in text


def record_of(message: str, fields: dict[str, object] | None = None, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(EVENT_LOGGER, logging.WARNING, __file__, 1, message, (), None)
    record.created = datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC).timestamp()
    if fields is not None:
        record.event_fields = fields
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_an_event_reads_as_key_value_pairs_quoting_only_what_needs_it() -> None:
    line = EventFormatter("kv").format(
        record_of(
            "callback.failed",
            {"batch_id": "batch-1", "error": 'HTTP 500 "oops"', "status_code": 500, "next": None, "x": "a=b"},
        )
    )
    assert line == (
        "ts=2026-03-04T05:06:07.890+00:00 level=warning logger=agentbatch.events event=callback.failed "
        'batch_id=batch-1 error="HTTP 500 \\"oops\\"" status_code=500 next="" x="a=b"'
    )


def test_an_event_reads_as_one_json_object_a_line() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    line = EventFormatter("json").format(record_of("batch.ended", {"batch_id": "b", "total": 3, "at": when}))
    assert "\n" not in line
    assert json.loads(line) == {
        "ts": "2026-03-04T05:06:07.890+00:00",
        "level": "warning",
        "logger": "agentbatch.events",
        "event": "batch.ended",
        "batch_id": "b",
        "total": 3,
        "at": when.isoformat(),
    }


def test_a_plain_log_record_carries_its_message_and_its_exception() -> None:
    try:
        raise ValueError("bad row")
    except ValueError:
        record = record_of("could not read %s", exc_info=sys.exc_info())
    record.args = ("callbacks",)

    parsed = json.loads(EventFormatter("json").format(record))

    assert parsed["msg"] == "could not read callbacks" and "event" not in parsed
    assert "ValueError: bad row" in parsed["exc"]
    kv = EventFormatter("kv").format(record)
    assert 'msg="could not read callbacks"' in kv and "\n" not in kv  # the traceback stays on one line


def test_an_event_below_the_loggers_level_is_not_built(events: list[logging.LogRecord]) -> None:
    logging.getLogger(EVENT_LOGGER).setLevel(logging.WARNING)
    emit("batch.created", batch_id="quiet")
    emit("callback.failed", level=logging.WARNING, batch_id="loud")
    assert [fields_of(record)["batch_id"] for record in events] == ["loud"]


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "aiosqlite")}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("root_logging")
def test_configured_logging_writes_events_to_the_current_stderr_and_quiets_chatty_libraries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure_logging("info", "json")
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)  # replaced after configuring: still written to

    emit("batch.created", batch_id="batch-5", owner_id="u", requests=1)
    logging.getLogger("httpx").info("HTTP Request: POST …")
    logging.getLogger("agentbatch.something").debug("below the level")

    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["event"] == "batch.created" and json.loads(line)["batch_id"] == "batch-5"
    assert logging.getLogger("httpx").level == logging.WARNING
    assert len(logging.getLogger().handlers) == 1
