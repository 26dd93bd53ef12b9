"""``agentbatch batches …`` against a scripted server: what each command sends, prints and exits with."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from agentbatch.cli.main import app
from tests.unit.cli.conftest import FakeServer

runner = CliRunner()
AGENT = "agent-00000000-0000-4000-8000-000000000001"
BATCH = "job-00000000-0000-4000-8000-000000000002"


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _request(**fields: Any) -> str:
    return json.dumps({"agent_id": AGENT, "input": "hi", **fields})


def test_submit_sends_every_line_and_the_options_and_prints_the_id(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.answer("POST", "/v1/messages/batches", json={"id": BATCH, "status": "created"})
    path = _jsonl(tmp_path / "in.jsonl", [_request(custom_id="a"), "", _request(custom_id="b")])
    submitted = runner.invoke(
        app,
        ["batches", "submit", str(path), "--callback-url", "https://h.example/x", "--priority", "3"],
    )
    assert submitted.exit_code == 0, submitted.output
    assert submitted.stdout.strip() == BATCH
    sent = json.loads(fake_server.bodies[0])
    assert [request["custom_id"] for request in sent["requests"]] == ["a", "b"]
    assert (sent["callback_url"], sent["priority"]) == ("https://h.example/x", 3)
    assert "completion_window" not in sent


def test_a_refusal_naming_a_request_is_reported_at_its_line(fake_server: FakeServer, tmp_path: Path) -> None:
    def refuse(_request: httpx.Request) -> httpx.Response:
        error = {"loc": ["body", "requests", 1, "max_steps"], "msg": "Input should be greater than 0"}
        return httpx.Response(422, json={"detail": [error]})

    fake_server.routes[("POST", "/v1/messages/batches")] = refuse
    path = _jsonl(tmp_path / "in.jsonl", ["", _request(), "", "", _request(max_steps=0)])
    submitted = runner.invoke(app, ["batches", "submit", str(path)])
    assert submitted.exit_code == 1
    assert "HTTP 422: line 5: body.requests.1.max_steps" in submitted.stderr
    assert "no batch was created" in submitted.stderr


def test_a_refusal_of_the_whole_batch_names_no_line(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.answer("POST", "/v1/messages/batches", 400, {"detail": "Agent agent-x not found"})
    submitted = runner.invoke(app, ["batches", "submit", str(_jsonl(tmp_path / "in.jsonl", [_request()]))])
    assert submitted.exit_code == 1
    assert "HTTP 400: Agent agent-x not found; no batch was created" in submitted.stderr
    assert "line" not in submitted.stderr


def test_a_missing_file_is_named_and_nothing_is_sent(fake_server: FakeServer, tmp_path: Path) -> None:
    submitted = runner.invoke(app, ["batches", "submit", str(tmp_path / "absent.jsonl")])
    assert submitted.exit_code == 1 and "absent.jsonl: no such file" in submitted.stderr
    assert fake_server.seen == []


def test_list_prints_one_row_per_batch_with_progress(fake_server: FakeServer) -> None:
    fake_server.answer(
        "GET",
        "/v1/messages/batches",
        json=[
            {
                "id": BATCH,
                "status": "running",
                "created_at": "2026-01-02T03:04:05+00:00",
                "request_counts": {"total": 5, "succeeded": 2, "errored": 1, "running": 2},
            }
        ],
    )
    listed = runner.invoke(app, ["batches", "list", "--status", "running", "--limit", "5"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "id\tstatus\tdone/total\terrored\tcreated",
        f"{BATCH}\trunning\t3/5\t1\t2026-01-02T03:04:05+00:00",
    ]
    params = fake_server.seen[0].url.params
    assert (params.get_list("status"), params["limit"]) == (["running"], "5")


@pytest.mark.parametrize("limit", ["0", "1001"])
def test_list_refuses_a_limit_the_server_would_refuse(fake_server: FakeServer, limit: str) -> None:
    listed = runner.invoke(app, ["batches", "list", "--limit", limit])
    assert listed.exit_code == 2 and fake_server.seen == []


def test_get_prints_the_batch_as_json(fake_server: FakeServer) -> None:
    fake_server.answer("GET", f"/v1/messages/batches/{BATCH}", json={"id": BATCH, "status": "completed"})
    got = runner.invoke(app, ["batches", "get", BATCH])
    assert got.exit_code == 0 and json.loads(got.stdout) == {"id": BATCH, "status": "completed"}


def test_cancel_prints_the_new_status_and_a_refusal_exits_1(fake_server: FakeServer) -> None:
    fake_server.answer(
        "PATCH", f"/v1/messages/batches/{BATCH}/cancel", json={"id": BATCH, "status": "cancelled"}
    )
    cancelled = runner.invoke(app, ["batches", "cancel", BATCH])
    assert cancelled.exit_code == 0 and cancelled.stdout == f"{BATCH} cancelled\n"
    fake_server.answer("PATCH", f"/v1/messages/batches/{BATCH}/cancel", 400, {"detail": "already completed"})
    refused = runner.invoke(app, ["batches", "cancel", BATCH])
    assert refused.exit_code == 1 and "HTTP 400: already completed" in refused.stderr


def test_results_are_written_to_a_file_as_they_arrive(fake_server: FakeServer, tmp_path: Path) -> None:
    lines = b'{"custom_id": "a"}\n{"custom_id": "b"}\n'
    fake_server.routes[("GET", f"/v1/messages/batches/{BATCH}/results")] = lambda _r: httpx.Response(
        200, content=lines
    )
    out = tmp_path / "results.jsonl"
    exported = runner.invoke(app, ["batches", "results", BATCH, "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == lines and exported.stdout == ""


def test_results_of_an_unknown_batch_exit_1_and_write_nothing(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    out = tmp_path / "results.jsonl"
    exported = runner.invoke(app, ["batches", "results", BATCH, "-o", str(out)])
    assert exported.exit_code == 1 and "HTTP 404" in exported.stderr
    assert not out.exists()
