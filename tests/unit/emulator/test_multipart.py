"""The emulator's file-upload parser against bodies encoded by httpx2 (the HTTP client the SDKs use), and its
refusals of bodies that are not multipart/form-data."""

import httpx2
import pytest

from agentbatch.emulator.multipart import FormPart, MultipartError, parse_form

JSONL = b'{"custom_id": "a", "body": {}}\r\n{"custom_id": "b"}\n'


def encoded(files: dict[str, tuple[str, bytes, str]], data: dict[str, str]) -> tuple[bytes, str]:
    request = httpx2.Request("POST", "http://emulator/v1/files", files=files, data=data)
    return request.read(), request.headers["content-type"]


def test_an_sdk_upload_yields_the_file_and_the_purpose() -> None:
    body, content_type = encoded({"file": ("input.jsonl", JSONL, "application/jsonl")}, {"purpose": "batch"})
    parts = parse_form(body, content_type)
    assert parts["file"] == FormPart("file", JSONL, "input.jsonl", "application/jsonl")
    assert parts["purpose"].data == b"batch" and parts["purpose"].filename is None


@pytest.mark.parametrize(
    "content",
    [b"", b"\r\n", b"line\r\n\r\n--not-the-boundary\r\n", bytes(range(256)), b"ends with CRLF\r\n"],
)
def test_file_bytes_come_back_exactly(content: bytes) -> None:
    body, content_type = encoded({"file": ("f.bin", content, "application/octet-stream")}, {})
    assert parse_form(body, content_type)["file"].data == content


def test_a_quoted_boundary_and_an_upper_case_content_type_are_read() -> None:
    body = b'--XyZ\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--XyZ--\r\n'
    assert parse_form(body, 'Multipart/Form-Data; boundary="XyZ"')["purpose"].data == b"batch"


def test_the_last_part_of_a_repeated_name_wins() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfirst\r\n'
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nsecond\r\n--b--'
    )
    assert parse_form(body, "multipart/form-data; boundary=b")["purpose"].data == b"second"


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"{}", "application/json", "multipart/form-data"),
        (b"--b--", "multipart/form-data", "no boundary"),
        (
            b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n',
            "multipart/form-data; boundary=b",
            "not terminated",
        ),
        (b"", "multipart/form-data; boundary=b", "not terminated"),
        (
            b'--b\r\nContent-Disposition: form-data; name="x"\r\n--b--',
            "multipart/form-data; boundary=b",
            "separator",
        ),
        (
            b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--",
            "multipart/form-data; boundary=b",
            "no name",
        ),
    ],
)
def test_a_malformed_body_is_refused_saying_what_is_wrong(
    body: bytes, content_type: str, problem: str
) -> None:
    with pytest.raises(MultipartError, match=problem):
        parse_form(body, content_type)


def test_a_refusal_is_a_value_error_the_routes_answer_with_a_400() -> None:
    assert issubclass(MultipartError, ValueError)
