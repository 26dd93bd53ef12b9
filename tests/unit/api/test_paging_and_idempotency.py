"""The list endpoints' query parameters, and the ``Idempotency-Key`` header of batch creation."""

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Header, Request

from agentbatch.api.idempotency import IDEMPOTENCY_KEY, idempotency_key
from agentbatch.api.paging import MAX_LIMIT, page_params
from agentbatch.api.storable_input import install_validation_error_rendering, reject_unstorable_input
from agentbatch.domain.paging import PageRequest
from tests.unit.api.conftest import AppClient


def _app() -> FastAPI:
    app = FastAPI(dependencies=[Depends(reject_unstorable_input)])
    install_validation_error_rendering(app)

    @app.get("/items")
    async def _items(page: PageRequest = Depends(page_params)) -> dict[str, Any]:
        return {
            "after": page.after,
            "before": page.before,
            "limit": page.limit,
            "descending": page.descending,
        }

    @app.post("/batches")
    async def _create(
        request: Request, key: str | None = Header(default=None, alias="Idempotency-Key", **IDEMPOTENCY_KEY)
    ) -> dict[str, Any]:
        found = await idempotency_key(key, request)
        return {
            "key": None if found is None else found.key,
            "hash": None if found is None else found.body_hash,
        }

    return app


async def test_a_list_without_parameters_is_the_newest_hundred(client_of: AppClient) -> None:
    response = await client_of(_app()).get("/items")
    assert response.json() == {"after": None, "before": None, "limit": 100, "descending": True}


async def test_cursors_limit_and_order_are_passed_on(client_of: AppClient) -> None:
    params = {"after": "job-a", "before": "job-b", "limit": "7", "order": "asc", "order_by": "created_at"}
    response = await client_of(_app()).get("/items", params=params)
    assert response.json() == {"after": "job-a", "before": "job-b", "limit": 7, "descending": False}


@pytest.mark.parametrize("limit", [0, MAX_LIMIT])
async def test_a_limit_from_zero_to_the_maximum_is_accepted(client_of: AppClient, limit: int) -> None:
    response = await client_of(_app()).get("/items", params={"limit": limit})
    assert response.status_code == 200 and response.json()["limit"] == limit


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": -1}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"order": "newest"}, "order"),
        ({"order_by": "name"}, "order_by"),
    ],
)
async def test_a_bad_paging_parameter_is_a_422_naming_it(
    client_of: AppClient, params: dict[str, Any], field: str
) -> None:
    response = await client_of(_app()).get("/items", params=params)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


async def _hash(client_of: AppClient, raw: bytes, key: str = "k-1") -> Any:
    response = await client_of(_app()).post(
        "/batches", content=raw, headers={"Idempotency-Key": key, "content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response.json()["hash"]


async def test_the_same_body_in_another_key_order_or_spacing_is_the_same_request(
    client_of: AppClient,
) -> None:
    first = await _hash(client_of, b'{"requests": [{"a": 1, "b": [1, 2]}], "metadata": {"x": "y"}}')
    again = await _hash(client_of, b'{"metadata":{"x":"y"},\n "requests":[{"b":[1,2],"a":1}]}')
    assert first == again and len(first) == 64


@pytest.mark.parametrize(
    "other",
    [
        b'{"requests": [{"a": 1, "b": [2, 1]}], "metadata": {"x": "y"}}',
        b'{"requests": [{"a": 1.0, "b": [1, 2]}], "metadata": {"x": "y"}}',
        b'{"requests": [{"a": 1, "b": [1, 2]}], "metadata": {"x": "Y"}}',
        b'{"requests": [{"a": 1, "b": [1, 2]}]}',
    ],
    ids=["list-order", "int-vs-float", "case", "field-missing"],
)
async def test_any_change_in_value_is_a_different_request(client_of: AppClient, other: bytes) -> None:
    first = await _hash(client_of, b'{"requests": [{"a": 1, "b": [1, 2]}], "metadata": {"x": "y"}}')
    assert await _hash(client_of, other) != first


async def test_without_the_header_there_is_no_idempotency(client_of: AppClient) -> None:
    response = await client_of(_app()).post("/batches", json={"requests": []})
    assert response.json() == {"key": None, "hash": None}


async def test_the_key_is_kept_as_sent(client_of: AppClient) -> None:
    response = await client_of(_app()).post("/batches", json={}, headers={"Idempotency-Key": "Run~42!"})
    assert response.json()["key"] == "Run~42!"


@pytest.mark.parametrize("key", ["", "has space", "tab\tkey", "x" * 256, "caf\u00e9"])
async def test_a_key_that_is_empty_too_long_or_not_printable_ascii_is_a_422(
    client_of: AppClient, key: str
) -> None:
    response = await client_of(_app()).post(
        "/batches", json={}, headers=[(b"Idempotency-Key", key.encode("utf-8"))]
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_a_nul_in_a_paging_cursor_is_refused_though_the_route_only_declares_a_dependency(
    client_of: AppClient,
) -> None:
    """Parameters a dependency declares are checked like the route's own (they reach the store too)."""
    response = await client_of(_app()).get("/items", params={"after": "job-\x00"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "after"]
