"""The HTTP side of the client commands: a server's answer, whatever its shape, becomes one readable
error line and a non-zero exit; an unreachable server says where it looked."""

from typing import Any

import httpx
import pytest
import typer

from agentbatch.cli.api_client import call, connect, detail_of, print_rows
from tests.unit.cli.conftest import FakeServer


@pytest.mark.parametrize(
    ("response", "shown"),
    [
        (httpx.Response(404, json={"detail": "Batch job-1 not found"}), "Batch job-1 not found"),
        (
            httpx.Response(
                422,
                json={
                    "detail": [
                        {"loc": ["body", "requests", 1, "max_steps"], "msg": "too small"},
                        {"loc": ["query", "limit"], "msg": "too big"},
                    ]
                },
            ),
            "body.requests.1.max_steps: too small; query.limit: too big",
        ),
        (httpx.Response(500, json={"error": "boom"}), "{'error': 'boom'}"),
        (httpx.Response(500, json=["a", "b"]), "['a', 'b']"),
        (httpx.Response(400, json={"detail": ["first", "second"]}), "['first', 'second']"),
        (httpx.Response(502, text="Bad gateway from the proxy"), "Bad gateway from the proxy"),
        (httpx.Response(503, content=b""), "Service Unavailable"),
        (httpx.Response(500, text="x" * 2_000), "x" * 500),
    ],
    ids=["detail", "validation", "other-object", "list", "detail-list", "text", "empty", "long-text"],
)
def test_the_detail_of_an_error_is_one_readable_line(response: httpx.Response, shown: str) -> None:
    assert detail_of(response) == shown


def test_a_successful_call_returns_the_decoded_body() -> None:
    server = FakeServer()
    server.answer("GET", "/v1/things", json=[{"id": 1}])
    assert call(server.client(), "GET", "/v1/things", params={"limit": 3}) == [{"id": 1}]
    assert server.seen[0].url.params["limit"] == "3"


def test_an_error_answer_exits_1_with_the_status_and_detail(capsys: pytest.CaptureFixture[str]) -> None:
    server = FakeServer()
    server.answer("PATCH", "/v1/x/cancel", 400, {"detail": "batch already finished"})
    with pytest.raises(typer.Exit) as exited:
        call(server.client(), "PATCH", "/v1/x/cancel")
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err == "error: HTTP 400: batch already finished\n"


def test_an_unreachable_server_exits_1_naming_where_it_looked(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse), base_url="http://10.9.8.7:8283")
    with pytest.raises(typer.Exit) as exited:
        call(client, "GET", "/v1/messages/batches")
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err.startswith("error: cannot reach http://10.9.8.7:8283: Connection refused")


@pytest.mark.parametrize(
    ("api_key", "authorization"), [("ab-secret", "Bearer ab-secret"), (None, None), ("", None)]
)
def test_connect_sends_the_key_only_when_one_is_given(api_key: str | None, authorization: str | None) -> None:
    with connect("http://server.test:8283/", api_key, None) as client:
        assert client.headers.get("authorization") == authorization
        assert str(client.base_url) == "http://server.test:8283"


def test_piped_rows_are_tab_separated_with_whole_ids(capsys: pytest.CaptureFixture[str]) -> None:
    long_id = "job-00000000-0000-4000-8000-000000000001"
    print_rows(["id", "status"], [[long_id, "running"], ["job-2", "completed"]])
    assert capsys.readouterr().out.splitlines() == ["id\tstatus", f"{long_id}\trunning", "job-2\tcompleted"]


def test_a_call_keeps_the_clients_key_on_every_request() -> None:
    seen: list[Any] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json={})

    client = httpx.Client(
        transport=httpx.MockTransport(record), base_url="http://s", headers={"Authorization": "Bearer k"}
    )
    call(client, "GET", "/a")
    call(client, "POST", "/b", json={})
    assert seen == ["Bearer k", "Bearer k"]
