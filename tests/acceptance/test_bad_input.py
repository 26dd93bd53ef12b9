"""Bad input gets a clear 4xx naming the problem, and nothing half-written stays behind."""

import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from letta_client import Letta, NotFoundError, UnprocessableEntityError

from agentbatch.server import ServerThread
from agentbatch.settings import Settings

MODEL = "openai/gpt-4o-mini"


def _nothing_stored(client: Letta) -> bool:
    return list(client.batches.list()) == []


def test_a_batch_naming_an_unknown_agent_is_rejected_whole(client: Letta) -> None:
    real = client.agents.create(model=MODEL).id
    ghost = f"agent-{uuid.uuid4()}"

    with pytest.raises(NotFoundError) as raised:
        client.batches.create(requests=[{"agent_id": real, "input": "a"}, {"agent_id": ghost, "input": "b"}])

    assert ghost in str(raised.value) and "requests[1]" in str(raised.value)
    assert _nothing_stored(client)


@pytest.mark.parametrize(
    ("requests", "problem"),
    [
        ([], "requests"),
        ([{"agent_id": "agent-123", "input": "x"}], "agent_id"),
        ([{"agent_id": "{agent}"}], "exactly one of"),
        (
            [{"agent_id": "{agent}", "input": "x", "messages": [{"role": "user", "content": "y"}]}],
            "exactly one of",
        ),
        ([{"agent_id": "{agent}", "messages": [{"role": "wizard", "content": "y"}]}], "role"),
        ([{"agent_id": "{agent}", "messages": [{"role": "user"}]}], "content"),
        ([{"agent_id": "{agent}", "messages": []}], "messages"),
        ([{"agent_id": "{agent}", "input": "x", "max_steps": 0}], "max_steps"),
    ],
)
def test_malformed_requests_are_422_naming_the_field(
    client: Letta, requests: list[dict[str, Any]], problem: str
) -> None:
    agent = client.agents.create(model=MODEL).id
    body = [
        {key: (agent if value == "{agent}" else value) for key, value in request.items()}
        for request in requests
    ]

    with pytest.raises(UnprocessableEntityError) as raised:
        client.batches.create(requests=body)  # type: ignore[arg-type]

    assert problem in str(raised.value)
    assert isinstance(raised.value.body, dict) and isinstance(raised.value.body["detail"], list)
    assert _nothing_stored(client)


def test_a_bad_callback_url_is_rejected(client: Letta) -> None:
    agent = client.agents.create(model=MODEL).id
    with pytest.raises(UnprocessableEntityError, match="callback_url"):
        client.batches.create(requests=[{"agent_id": agent, "input": "x"}], callback_url="ftp://nowhere")
    assert _nothing_stored(client)


@pytest.fixture
def small_limit_server(sqlite_url: str) -> Iterator[ServerThread]:
    with ServerThread(
        Settings(database_url=sqlite_url, max_body_bytes=4096, run_worker=False, provider_processes=0)
    ) as running:
        yield running


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(small_limit_server: ServerThread) -> None:
    client = Letta(base_url=small_limit_server.base_url, max_retries=0)
    agent = client.agents.create(model=MODEL).id
    huge = [{"agent_id": agent, "input": "x" * 100} for _ in range(100)]

    declared = httpx.post(f"{small_limit_server.base_url}/v1/messages/batches", json={"requests": huge})
    streamed = httpx.post(
        f"{small_limit_server.base_url}/v1/messages/batches",
        content=iter([httpx.Request("POST", "/", json={"requests": huge}).read()]),
        headers={"content-type": "application/json"},
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert "larger than the limit of 4096 bytes" in response.json()["detail"]
    assert list(client.batches.list()) == []


# --- Values no database can store: one check for every body, 422 naming the field, nothing written ---

BIG = str(2**70)
AGENT_BODIES = [
    ('{"model": "%s", "name": "a\\u0000b"}', ["body", "name"]),
    ('{"model": "%s", "name": "\\ud800"}', ["body", "name"]),
    ('{"model": "%s", "system": "x\\udfff y"}', ["body", "system"]),
    ('{"model": "%s", "memory_blocks": [{"label": "human", "value": "x\\u0000"}]}', ["memory_blocks", 0]),
    ('{"model": "%s", "memory_blocks": [{"label": "h\\u0000", "value": "x"}]}', ["memory_blocks", 0]),
    ('{"model": "%s", "memory_blocks": [{"label": "h", "value": "x", "limit": ' + BIG + "}]}", ["limit"]),
    ('{"model": "%s", "memory_blocks": [{"label": "h", "value": "x", "limit": 1099511627776}]}', ["limit"]),
    ('{"model": "%s", "metadata": {"k\\u0000": 1}}', ["body", "metadata"]),
    ('{"model": "%s", "metadata": {"k": "v\\u0000"}}', ["body", "metadata", "k"]),
    ('{"model": "%s", "metadata": {"n": ' + BIG + "}}", ["body", "metadata", "n"]),
    ('{"model": "%s", "metadata": {"n": NaN}}', ["body", "metadata", "n"]),
    ('{"model": "%s", "metadata": {"n": 1e400}}', ["body", "metadata", "n"]),
    ('{"model": "%s", "metadata": ' + "[" * 100 + "]" * 100 + "}", ["body", "metadata"]),
    ('{"model": "%s", "tags": ["ok", "t\\ud800"]}', ["body", "tags", 1]),
    (
        '{"model": "%s", "llm_config": {"model": "gpt-4o-mini", "context_window": ' + BIG + "}}",
        ["context_window"],
    ),
    ('{"model": "%s", "llm_config": {"model": 0}}', ["body", "llm_config", "model"]),
    ('{"model": "%s", "llm_config": {"context_window": -5}}', ["llm_config", "context_window"]),
    ('{"model": "%s", "llm_config": {"context_window": "wide"}}', ["llm_config", "context_window"]),
    ('{"model": "%s", "llm_config": {"temperature": 9}}', ["llm_config", "temperature"]),
    ('{"llm_config": {"context_window": 1000}}', ["llm_config.model"]),
]


def _post(server: ServerThread, path: str, raw_json: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}{path}", content=raw_json.encode(), headers={"content-type": "application/json"}
    )


def _assert_422_naming(response: httpx.Response, names: list[Any]) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    rendered = str([(entry["loc"], entry["msg"]) for entry in detail])
    for name in names:
        assert repr(name) in rendered or str(name) in rendered, rendered


def test_an_agent_with_an_unstorable_value_is_422_naming_the_field(
    server: ServerThread, client: Letta
) -> None:
    for body, names in AGENT_BODIES:
        _assert_422_naming(_post(server, "/v1/agents/", body.replace("%s", MODEL)), names)
    assert list(client.agents.list()) == []


TOOL_BODIES = [
    (
        '{"source_code": "def f() -> str:\\n    return 1", "return_char_limit": ' + BIG + "}",
        ["return_char_limit"],
    ),
    (
        '{"source_code": "def f() -> str:\\n    return 1", "return_char_limit": 4294967296}',
        ["return_char_limit"],
    ),
    ('{"source_code": "def f() -> str:\\n    return \'\\u0000\'"}', ["body", "source_code"]),
    ('{"source_code": "def f():\\n    pass", "description": "\\udc00"}', ["body", "description"]),
    ('{"source_code": "def f():\\n    pass", "json_schema": {"name": 7}}', ["json_schema.name"]),
]


def test_a_tool_with_an_unstorable_value_is_422_naming_the_field(server: ServerThread, client: Letta) -> None:
    before = [tool.id for tool in client.tools.list()]
    for body, names in TOOL_BODIES:
        _assert_422_naming(_post(server, "/v1/tools/", body), names)
    assert [tool.id for tool in client.tools.list()] == before


BATCH_REQUESTS = [
    ('"input": "hi\\u0000"', ["requests", 0, "input"]),
    ('"input": "\\ud83d alone"', ["requests", 0, "input"]),
    ('"messages": [{"role": "user", "content": [{"type": "text", "text": "\\u0000"}]}]', ["content"]),
    ('"input": "x", "max_steps": ' + BIG, ["requests", 0, "max_steps"]),
    ('"input": "x", "some_letta_option": {"deep": ' + BIG + "}", ["some_letta_option", "deep"]),
]


def test_a_batch_with_an_unstorable_value_is_422_and_the_database_still_answers(
    server: ServerThread, client: Letta
) -> None:
    agent = client.agents.create(model=MODEL).id
    for request_json, names in BATCH_REQUESTS:
        body = '{"requests": [{"agent_id": "%s", %s}]}' % (agent, request_json)  # noqa: UP031
        _assert_422_naming(_post(server, "/v1/messages/batches", body), names)
    assert _nothing_stored(client)
    # The connection survived: the next, sound batch goes through (on PostgreSQL a NUL used to reset it).
    assert client.batches.create(requests=[{"agent_id": agent, "input": "fine"}]).status == "created"


def test_batch_metadata_and_a_synchronous_send_are_checked_too(server: ServerThread, client: Letta) -> None:
    agent = client.agents.create(model=MODEL).id

    batch = '{"requests": [{"agent_id": "%s", "input": "x"}], "metadata": {"n": %s}}' % (agent, BIG)  # noqa: UP031
    _assert_422_naming(_post(server, "/v1/messages/batches", batch), ["body", "metadata", "n"])
    far = '{"requests": [{"agent_id": "%s", "input": "x"}], "completion_window": "99999999999d"}' % agent  # noqa: UP031
    _assert_422_naming(_post(server, "/v1/messages/batches", far), ["completion_window"])
    _assert_422_naming(_post(server, f"/v1/agents/{agent}/messages", '{"input": "a\\u0000"}'), ["input"])
    assert _nothing_stored(client)
    assert list(client.agents.messages.list(agent)) == []


def test_a_nul_in_a_query_value_is_422_naming_the_parameter(server: ServerThread) -> None:
    for path in ("/v1/agents/?name=a%00b", "/v1/tools/?name=%00", "/v1/agents/?tags=%00"):
        _assert_422_naming(httpx.get(f"{server.base_url}{path}"), ["query"])


def test_text_outside_the_basic_plane_is_accepted_as_a_surrogate_pair_or_as_utf8(
    server: ServerThread, client: Letta
) -> None:
    escaped = _post(server, "/v1/agents/", '{"model": "%s", "name": "smile \\ud83d\\ude00"}' % MODEL)  # noqa: UP031
    raw = httpx.post(f"{server.base_url}/v1/agents/", json={"model": MODEL, "name": "smile \U0001f600 ü"})

    assert escaped.status_code == 200 and raw.status_code == 200
    assert client.agents.retrieve(escaped.json()["id"]).name == "smile \U0001f600"
    assert client.agents.retrieve(raw.json()["id"]).name == "smile \U0001f600 ü"


@pytest.fixture
def short_read_timeout_server(sqlite_url: str) -> Iterator[ServerThread]:
    settings = Settings(
        database_url=sqlite_url, body_read_timeout_s=0.5, run_worker=False, provider_processes=0
    )
    with ServerThread(settings) as running:
        yield running


def test_a_body_shorter_than_its_content_length_gets_408_and_a_closed_connection(
    short_read_timeout_server: ServerThread,
) -> None:
    host, port = short_read_timeout_server.base_url.removeprefix("http://").split(":")
    partial = b'{"model": "openai/gpt-4o-mini", "na'
    head = (
        "POST /v1/agents/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(partial) + 100}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head + partial)
        answer = b""
        while chunk := conn.recv(65536):  # returns b"" once the server closes the connection
            answer += chunk
    waited = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"did not arrive within 0.5 s" in answer
    assert 0.4 < waited < 5
    client = Letta(base_url=short_read_timeout_server.base_url, max_retries=0)
    assert list(client.agents.list()) == []
