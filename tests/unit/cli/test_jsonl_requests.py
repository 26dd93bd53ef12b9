"""A JSONL file of batch requests streamed out as one create body: what the server receives, and how a
bad line is named by its number before the body is complete (so the server creates nothing)."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from agentbatch.cli.jsonl_requests import CHUNK_BYTES, BadLine, RequestLines

AGENT = "agent-00000000-0000-4000-8000-000000000001"


def _line(**fields: Any) -> bytes:
    return json.dumps({"agent_id": AGENT, "input": "hi", **fields}).encode() + b"\n"


def _body(lines: list[bytes], extra: dict[str, Any] | None = None) -> Any:
    return json.loads(b"".join(RequestLines(lines, extra or {})))


def test_the_lines_become_the_requests_of_one_body_in_order() -> None:
    body = _body([_line(custom_id="a"), _line(custom_id="b"), _line(custom_id="c")])
    assert [request["custom_id"] for request in body["requests"]] == ["a", "b", "c"]
    assert set(body) == {"requests"}


def test_command_line_options_are_added_after_the_requests() -> None:
    body = _body([_line()], {"callback_url": "https://x.example/h", "priority": 5})
    assert body == {
        "requests": [{"agent_id": AGENT, "input": "hi"}],
        "callback_url": "https://x.example/h",
        "priority": 5,
    }


@pytest.mark.parametrize("blank", [b"\n", b"   \n", b"\r\n", b"\t\n", b""])
def test_blank_lines_are_skipped_but_still_counted(blank: bytes) -> None:
    body = RequestLines([blank, _line(custom_id="a"), blank, _line(custom_id="b")], {})
    assert len(json.loads(b"".join(body))["requests"]) == 2
    assert [body.line_of(0), body.line_of(1)] == [2, 4]


def test_windows_line_endings_and_surrounding_spaces_are_accepted() -> None:
    raw = b"  " + json.dumps({"agent_id": AGENT, "input": "x"}).encode() + b"  \r\n"
    assert _body([raw])["requests"] == [{"agent_id": AGENT, "input": "x"}]


def test_an_index_the_server_names_maps_back_to_its_line() -> None:
    body = RequestLines([b"\n", _line(), b"\n", b"\n", _line()], {})
    b"".join(body)
    assert (body.line_of(0), body.line_of(1)) == (2, 5)
    assert body.line_of(2) is None and body.line_of(-1) is None


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"agent_id": "a", }', "not valid JSON"),
        (b'"just a string"', "must be a JSON object"),
        (b"[1, 2]", "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b'{"input": "x"}', "has no agent_id"),
        (b'{"agent_id": 7, "input": "x"}', "has no agent_id"),
        (b'{"agent_id": null, "input": "x"}', "has no agent_id"),
        (b"\xff\xfe{}", "not valid JSON"),
    ],
)
def test_a_bad_line_is_named_by_its_number_and_says_what_is_wrong(raw: bytes, problem: str) -> None:
    with pytest.raises(BadLine) as bad:
        b"".join(RequestLines([_line(), b"\n", raw, _line()], {}))
    assert bad.value.line_no == 3
    assert str(bad.value).startswith(f"line 3: {problem}")


@pytest.mark.parametrize("lines", [[], [b"\n", b"   \n"]], ids=["empty", "only-blank"])
def test_a_file_without_requests_is_refused(lines: list[bytes]) -> None:
    with pytest.raises(BadLine, match="the file holds no requests"):
        b"".join(RequestLines(lines, {}))


def test_lines_are_read_as_the_body_is_sent_never_all_at_once() -> None:
    """Only about one chunk ahead of what has been sent has been read: a huge file never sits in memory
    whole (lines go out in chunks of about CHUNK_BYTES, not one tiny write per line)."""
    read = 0
    line = _line(input="x" * 1_000)

    def lines() -> Iterator[bytes]:
        nonlocal read
        for _ in range(10_000):  # ~10 MB
            read += 1
            yield line

    chunks = iter(RequestLines(lines(), {}))
    first = next(chunks)
    per_chunk = CHUNK_BYTES // len(line) + 1
    assert read <= per_chunk  # not the 10,000 lines of the file
    assert len(first) <= CHUNK_BYTES + len(line)
    next(chunks)
    assert read <= 2 * per_chunk


def test_a_bad_line_stops_the_body_before_it_is_complete() -> None:
    """The server then sees a cut-off body, which is not valid JSON, and creates nothing."""
    sent: list[bytes] = []
    with pytest.raises(BadLine):
        for chunk in RequestLines([_line(), _line(), b"oops"], {}):
            sent.append(chunk)
    with pytest.raises(json.JSONDecodeError):
        json.loads(b"".join(sent))
