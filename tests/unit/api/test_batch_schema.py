"""``POST /v1/messages/batches``: the create body's own fields (the requests' turns are tested apart)."""

from typing import Any

import pytest

from agentbatch.api.schemas.batches import CreateBatchIn
from agentbatch.domain.ids import IdPrefix, new_id
from agentbatch.domain.lanes import Dispatch
from tests.unit.api.refusals import refusal_text, refused_fields


def _body(**fields: Any) -> dict[str, Any]:
    requests = fields.pop("requests", [{"agent_id": new_id(IdPrefix.AGENT), "input": "hi"}])
    return {"requests": requests, **fields}


def test_a_bare_body_takes_the_servers_defaults() -> None:
    body = CreateBatchIn.model_validate(_body())
    assert (body.callback_url, body.completion_window, body.metadata, body.dispatch, body.priority) == (
        None,
        None,
        None,
        None,
        0,
    )


def test_extension_fields_are_read_as_given() -> None:
    body = CreateBatchIn.model_validate(
        _body(
            callback_url="https://hooks.example.com/done?x=1",
            completion_window="24h",
            metadata={"run": 7},
            dispatch="provider_batch",
            priority=-5,
        )
    )
    assert body.callback_url == "https://hooks.example.com/done?x=1"
    assert body.completion_window == "24h"
    assert body.metadata == {"run": 7}
    assert body.dispatch is Dispatch.PROVIDER_BATCH
    assert body.priority == -5


def test_an_unknown_top_level_field_is_refused_by_name() -> None:
    """Unlike a turn's options, the batch body is closed: a misspelt ``callback_uri`` must not vanish."""
    assert refused_fields(CreateBatchIn, _body(callback_uri="https://x")) == ["callback_uri"]


@pytest.mark.parametrize("requests", [[], None, "all", [{}]])
def test_requests_must_be_a_non_empty_list_of_requests(requests: Any) -> None:
    fields = refused_fields(CreateBatchIn, {"requests": requests})
    assert all(field.startswith("requests") for field in fields) and fields


def test_a_missing_requests_field_is_named() -> None:
    assert refused_fields(CreateBatchIn, {}) == ["requests"]


def test_the_error_in_one_request_names_its_index() -> None:
    good = {"agent_id": new_id(IdPrefix.AGENT), "input": "hi"}
    bad = {"agent_id": new_id(IdPrefix.AGENT), "input": "hi", "max_steps": -1}
    assert refused_fields(CreateBatchIn, _body(requests=[good, good, bad])) == ["requests.2.max_steps"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "example.com/hook",
        "/relative/hook",
        "http://",
        "https:///no-host",
    ],
)
def test_a_callback_url_that_is_not_absolute_http_is_refused(url: str) -> None:
    text = refusal_text(CreateBatchIn, _body(callback_url=url))
    assert text.startswith("callback_url:") and "absolute http:// or https:// URL" in text


def test_a_callback_url_longer_than_browsers_allow_is_refused() -> None:
    url = "https://example.com/" + "a" * 2100
    assert refused_fields(CreateBatchIn, _body(callback_url=url)) == ["callback_url"]


@pytest.mark.parametrize("window", ["3650d", "87600h", "1s", " 5 m ", "24h"])
def test_completion_windows_up_to_ten_years_are_accepted(window: str) -> None:
    assert CreateBatchIn.model_validate(_body(completion_window=window)).completion_window == window


@pytest.mark.parametrize("window", ["3651d", "87601h", "315360001s", "99999999999999999999d"])
def test_a_completion_window_beyond_ten_years_is_refused(window: str) -> None:
    assert "at most 3650 days" in refusal_text(CreateBatchIn, _body(completion_window=window))


@pytest.mark.parametrize("priority", [1_000_001, -1_000_001, 2**63, "high", 1.5])
def test_a_priority_out_of_range_or_not_an_integer_is_refused(priority: Any) -> None:
    assert refused_fields(CreateBatchIn, _body(priority=priority)) == ["priority"]


@pytest.mark.parametrize("dispatch", ["auto", "direct", "provider_batch"])
def test_every_documented_dispatch_is_accepted(dispatch: str) -> None:
    assert CreateBatchIn.model_validate(_body(dispatch=dispatch)).dispatch == dispatch


def test_an_unknown_dispatch_is_refused() -> None:
    assert refused_fields(CreateBatchIn, _body(dispatch="carrier_pigeon")) == ["dispatch"]


def test_metadata_must_be_an_object() -> None:
    assert refused_fields(CreateBatchIn, _body(metadata=["a"])) == ["metadata"]


def test_a_custom_id_used_twice_is_refused_naming_both_requests() -> None:
    agent = new_id(IdPrefix.AGENT)
    requests = [
        {"agent_id": agent, "input": "a", "custom_id": "one"},
        {"agent_id": agent, "input": "b", "custom_id": "two"},
        {"agent_id": agent, "input": "c"},
        {"agent_id": agent, "input": "d", "custom_id": "one"},
    ]
    assert "requests[3].custom_id: duplicate of requests[0]" in refusal_text(
        CreateBatchIn, _body(requests=requests)
    )


def test_requests_without_a_custom_id_may_share_an_agent() -> None:
    agent = new_id(IdPrefix.AGENT)
    body = CreateBatchIn.model_validate(_body(requests=[{"agent_id": agent, "input": "a"}] * 3))
    assert [request.custom_id for request in body.requests] == [None, None, None]
