"""A minimal ``multipart/form-data`` parser for file uploads (no python-multipart dependency)."""

import re
from dataclasses import dataclass

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PARAMETER = re.compile(r';\s*([a-zA-Z*]+)="((?:[^"\\]|\\.)*)"')


class MultipartError(ValueError):
    """The body is not well-formed multipart/form-data."""


@dataclass(frozen=True, slots=True)
class FormPart:
    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


def parse_form(body: bytes, content_type: str) -> dict[str, FormPart]:
    """The parts of a multipart/form-data ``body``, by field name (the last part of a name wins)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("expected a multipart/form-data body")
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise MultipartError("the multipart content type has no boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    sections = body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise MultipartError("the multipart body is not terminated")
    parts: dict[str, FormPart] = {}
    for section in sections[1:-1]:
        part = _parse_part(section)
        parts[part.name] = part
    return parts


def _parse_part(section: bytes) -> FormPart:
    if section.startswith(b"\r\n"):
        section = section[2:]
    head, separator, data = section.partition(b"\r\n\r\n")
    if not separator:
        raise MultipartError("a multipart part has no header/body separator")
    if data.endswith(b"\r\n"):
        data = data[:-2]
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    parameters = {
        key.lower(): value for key, value in _PARAMETER.findall(headers.get("content-disposition", ""))
    }
    if "name" not in parameters:
        raise MultipartError("a multipart part has no name")
    return FormPart(parameters["name"], data, parameters.get("filename"), headers.get("content-type"))
