"""``agentbatch serve`` says what it is doing: a start line, then one structured line per event."""

import json
import logging
from pathlib import Path

from letta_client import Letta

from agentbatch.emulator.server import EmulatorThread
from agentbatch.engine.log_format import EventFormatter
from tests.operator.conftest import serve_process
from tests.support.polling import wait_for
from tests.support.processes import free_port

MODEL = "openai/gpt-4o-mini"


def _kv(line: str) -> dict[str, str]:
    """Parse one key=value line (values may be JSON-quoted)."""
    fields: dict[str, str] = {}
    rest = line.strip()
    while rest:
        key, _, rest = rest.partition("=")
        if rest.startswith('"'):
            decoder = json.JSONDecoder()
            value, end = decoder.raw_decode(rest)
            rest = rest[end:].lstrip()
        else:
            value, _, rest = rest.partition(" ")
        fields[key.strip()] = str(value)
    return fields


def _run_a_batch(base_url: str) -> str:
    client = Letta(base_url=base_url, max_retries=0)
    good, bad = (client.agents.create(model=MODEL).id for _ in range(2))
    batch = client.batches.create(
        requests=[
            {"agent_id": good, "input": "hello"},
            {"agent_id": bad, "input": "[[error:400:always]] doomed"},
        ],
        callback_url=f"http://127.0.0.1:{free_port()}/nobody",
    )
    wait_for(lambda: client.batches.retrieve(batch.id).status == "completed", what="the batch to end")
    return batch.id


def test_serve_logs_its_start_and_each_event_of_a_batch_as_key_value_lines(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    with serve_process(
        tmp_path, emulator, AGENTBATCH_DATABASE_URL="sqlite:///" + str(tmp_path / "x.db")
    ) as server:
        batch_id = _run_a_batch(server.base_url)
        log = server.log_path
        wait_for(lambda: "callback.failed" in log.read_text(), what="a failed callback attempt in the log")
    lines = [_kv(line) for line in log.read_text().splitlines() if line.startswith("ts=")]

    start = next(line for line in lines if line.get("msg", "").startswith("listening on http://127.0.0.1:"))
    assert f"database=sqlite:///{tmp_path / 'x.db'}" in start["msg"]
    assert "providers=anthropic,openai" in start["msg"] and "worker=yes" in start["msg"]
    events = {line["event"]: line for line in lines if "event" in line and line.get("batch_id") == batch_id}
    assert events["batch.created"]["requests"] == "2"
    assert "batch.started" in events
    errored = events["item.errored"]
    assert errored["item_id"].startswith("batch_item-") and errored["stop_reason"] == "llm_api_error"
    assert errored["error"], "the provider's message is in the line"
    ended = events["batch.ended"]
    assert (ended["status"], ended["succeeded"], ended["errored"]) == ("completed", "1", "1")
    assert ended["stop_reason"] == ""  # as stored: its requests ended differently
    assert (
        events["callback.failed"]["level"] == "warning"
        and "ConnectError" in events["callback.failed"]["error"]
    )


def test_json_lines_carry_the_same_fields() -> None:
    record = logging.LogRecord("agentbatch.events", logging.WARNING, __file__, 1, "item.errored", None, None)
    record.event_fields = {"batch_id": "job-1", "item_id": "batch_item-1", "error": 'quote " and = sign'}
    line = json.loads(EventFormatter("json").format(record))
    assert line["event"] == "item.errored" and line["level"] == "warning"
    assert line["batch_id"] == "job-1" and line["error"] == 'quote " and = sign'
    kv = _kv(EventFormatter("kv").format(record))
    assert kv["item_id"] == "batch_item-1" and kv["error"] == 'quote " and = sign'


def test_the_start_line_hides_a_database_password() -> None:
    from agentbatch.server import database_for_humans

    shown = database_for_humans("postgresql://me:hunter2@db:5432/agentbatch")
    assert shown == "postgresql://me:***@db:5432/agentbatch" and "hunter2" not in shown
