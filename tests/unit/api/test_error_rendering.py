"""Every error the API shows: a domain error becomes its status and ``{"detail": ...}``; FastAPI's own
422 names the field even when the bad input cannot be encoded; a wrong method is a 404."""

import json
from typing import Any

import pytest
from fastapi import Body, Depends, FastAPI
from pydantic import BaseModel

from agentbatch.api.errors import DOCUMENTED_ERRORS, install_error_handlers
from agentbatch.api.storable_input import install_validation_error_rendering, reject_unstorable_input
from agentbatch.domain.errors import (
    AgentbatchError,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    StateConflict,
    Unauthorized,
    Unprocessable,
)
from tests.unit.api.conftest import AppClient


class Echo(BaseModel):
    count: int
    note: str = ""


def _app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(reject_unstorable_input)])
    install_error_handlers(app)
    install_validation_error_rendering(app)

    @app.get("/raise/{kind}")
    async def _raise(kind: str) -> None:
        raise ERRORS[kind]

    @app.post("/echo")
    async def _echo(body: Echo) -> dict[str, Any]:
        return body.model_dump()

    @app.post("/anything")
    async def _anything(body: Any = Body()) -> dict[str, bool]:
        return {"stored": True}

    @app.get("/search")
    async def _search(q: str = "") -> dict[str, str]:
        return {"q": q}

    return app


ERRORS: dict[str, AgentbatchError] = {
    "not_found": NotFound("Agent agent-1 not found"),
    "invalid": InvalidRequest("model nobody serves"),
    "conflict": StateConflict("batch already finished"),
    "unprocessable": Unprocessable("no batch API for this provider"),
    "too_large": PayloadTooLarge("too big"),
    "unauthorized": Unauthorized("unknown or revoked API key"),
    "reused": IdempotencyKeyReused("key used with another body"),
}
STATUSES = {
    "not_found": 404,
    "invalid": 400,
    "conflict": 400,
    "unprocessable": 422,
    "too_large": 413,
    "unauthorized": 401,
    "reused": 422,
}


@pytest.mark.parametrize("kind", sorted(ERRORS))
async def test_each_domain_error_is_its_status_with_its_detail(client_of: AppClient, kind: str) -> None:
    response = await client_of(_app()).get(f"/raise/{kind}")
    assert response.status_code == STATUSES[kind]
    assert response.json() == {"detail": ERRORS[kind].detail}


async def test_a_conflict_is_400_so_that_sdks_do_not_retry_it(client_of: AppClient) -> None:
    """Letta's SDK retries 409s; a finished batch will not become cancellable by retrying."""
    assert (await client_of(_app()).get("/raise/conflict")).status_code == 400


async def test_only_401_asks_for_a_bearer_key(client_of: AppClient) -> None:
    client = client_of(_app())
    assert (await client.get("/raise/unauthorized")).headers["www-authenticate"] == "Bearer"
    assert "www-authenticate" not in (await client.get("/raise/not_found")).headers


async def test_a_wrong_method_is_a_404_naming_the_method_and_path(client_of: AppClient) -> None:
    response = await client_of(_app()).delete("/echo")
    assert response.status_code == 404
    assert response.json() == {"detail": "No route for DELETE /echo"}


async def test_an_unknown_path_is_a_plain_404(client_of: AppClient) -> None:
    response = await client_of(_app()).get("/nowhere")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


async def test_a_validation_error_names_the_field_and_echoes_the_input(client_of: AppClient) -> None:
    response = await client_of(_app()).post("/echo", json={"count": "many"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "count"] and error["input"] == "many"


async def test_malformed_json_is_a_422_not_a_500(client_of: AppClient) -> None:
    response = await client_of(_app()).post(
        "/echo", content=b'{"count": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("raw", "loc", "words"),
    [
        (b'{"count": 1, "note": "a\\u0000b"}', ["body", "note"], "NUL characters"),
        (b'{"count": 1, "note": "\\ud800"}', ["body", "note"], "lone UTF-16 surrogates"),
        (b'{"count": 99999999999999999999}', ["body", "count"], "64 bits"),
        (b'{"count": NaN}', ["body", "count"], "finite"),
        (b'{"count": 1, "x": -Infinity}', ["body", "x"], "finite"),
        (b'{"count": 1, "k\\u0000": 1}', ["body"], "a key of this object"),
    ],
)
async def test_an_unstorable_value_is_a_422_naming_its_field(
    client_of: AppClient, raw: bytes, loc: list[str], words: str
) -> None:
    response = await client_of(_app()).post(
        "/echo", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == loc and words in error["msg"]


async def test_every_route_is_guarded_even_one_that_takes_any_json(client_of: AppClient) -> None:
    raw = json.dumps({"deep": {"list": [1, {"text": "\x00"}]}}).encode()
    response = await client_of(_app()).post(
        "/anything", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "deep", "list", 1, "text"]


async def test_a_body_with_many_problems_reports_at_most_twenty(client_of: AppClient) -> None:
    raw = json.dumps({"count": 1, "x": ["\x00"] * 50}).encode()
    response = await client_of(_app()).post(
        "/anything", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and len(response.json()["detail"]) == 20


async def test_a_nul_in_a_declared_query_parameter_is_refused_but_undeclared_ones_are_ignored(
    client_of: AppClient,
) -> None:
    client = client_of(_app())
    refused = await client.get("/search", params={"q": "a\x00b"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "q"]
    ignored = await client.get("/search", params={"q": "fine", "other": "a\x00b"})
    assert ignored.status_code == 200 and ignored.json() == {"q": "fine"}


async def test_a_body_that_is_not_json_is_left_to_the_route(client_of: AppClient) -> None:
    response = await client_of(_app()).post(
        "/echo", content=b"count=1\x00", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 422
    assert all(error["type"] != "unstorable_value" for error in response.json()["detail"])


async def test_a_vendor_json_media_type_is_checked_too(client_of: AppClient) -> None:
    response = await client_of(_app()).post(
        "/anything", content=b'{"a": "\\u0000"}', headers={"content-type": "application/merge-patch+json"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "a"]


def test_every_documented_error_status_has_a_description_and_the_detail_shape() -> None:
    assert set(DOCUMENTED_ERRORS) == {400, 401, 404, 408, 413}
    for documented in DOCUMENTED_ERRORS.values():
        assert documented["description"]
        assert documented["model"].model_json_schema()["required"] == ["detail"]


@pytest.mark.parametrize(
    "raw", [b'{"count": "\\ud800"}', b'{"count": NaN, "note": 5}', b'{"count": [Infinity]}']
)
async def test_an_input_that_cannot_be_echoed_still_gets_a_422_in_json(
    client_of: AppClient, raw: bytes
) -> None:
    """FastAPI's stock handler would fail encoding such an input back (a 500)."""
    response = await client_of(_app()).post(
        "/echo", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "count"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b'{"count": "\xff\xfe"}', 400), (b"\xef\xbb\xbf{}", 422), (b"[" * 10_000, 400)],
    ids=["not-utf8", "byte-order-mark", "nested-too-deep-to-parse"],
)
async def test_bytes_that_are_not_json_text_are_a_4xx_not_a_500(
    client_of: AppClient, raw: bytes, status: int
) -> None:
    response = await client_of(_app()).post(
        "/echo", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == status and response.json()["detail"]
