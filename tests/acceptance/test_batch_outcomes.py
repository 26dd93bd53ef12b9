"""A BatchJob says only what happened: its status and stop reason follow from what its requests ended
with, expired requests say which window passed, and ``agent_id`` names the batch's one agent. Run on
SQLite and PostgreSQL, through the SDK over real HTTP."""

from typing import Any

import pytest
from letta_client import Letta

from tests.acceptance.test_batch_engine import finished, items
from tests.support.openapi import assert_matches_spec, declared_fields
from tests.support.polling import wait_for
from tests.support.receiver import CallbackReceiver

MODEL = "openai/gpt-4o-mini"
EXTENSION_FIELDS = {"request_counts", "usage", "cost", "expires_at", "priority", "dispatch"}
"""The BatchJob's extension fields ``docs/api.md`` lists; every other field is checked against the spec."""


@pytest.fixture
def client(live_on_each_database: Letta) -> Letta:
    return live_on_each_database


def _run(client: Letta, scripts: list[str], **extra: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    agents = [client.agents.create(model=MODEL).id for _ in scripts]
    callback_url = extra.pop("callback_url", None)
    batch = client.batches.create(
        requests=[{"agent_id": a, "input": s} for a, s in zip(agents, scripts, strict=True)],
        callback_url=callback_url,
        extra_body=extra or None,
    )
    finished(client, batch.id)
    raw = client.get(f"/v1/messages/batches/{batch.id}", cast_to=object)
    assert isinstance(raw, dict)
    assert set(raw) - declared_fields("BatchJob") == EXTENSION_FIELDS
    declared = {key: value for key, value in raw.items() if key not in EXTENSION_FIELDS}
    assert_matches_spec(declared, "GET", "/v1/messages/batches/{batch_id}")
    return raw, items(client, batch.id)


def test_a_batch_whose_every_request_errored_fails_with_their_stop_reason(client: Letta) -> None:
    with CallbackReceiver() as receiver:
        batch, ended = _run(
            client, ["[[error:400:always]] one", "[[error:400:always]] two"], callback_url=receiver.url
        )
        wait_for(lambda: receiver.received, what="the callback")

    assert (batch["status"], batch["stop_reason"]) == ("failed", "llm_api_error")
    assert [(i["status"], i["stop_reason"]) for i in ended] == [("errored", "llm_api_error")] * 2
    called = receiver.received[0]
    assert (called["status"], called["stop_reason"], called["request_counts"]["errored"]) == (
        "failed",
        "llm_api_error",
        2,
    )


def test_a_batch_whose_requests_errored_differently_fails_naming_no_reason(client: Letta) -> None:
    batch, _ = _run(client, ["[[error:400:always]] one", "[[tool:nope]] two"])

    assert (batch["status"], batch["stop_reason"]) == ("failed", None)


def test_a_batch_with_some_requests_errored_completes_naming_no_reason(client: Letta) -> None:
    batch, ended = _run(client, ["hello", "[[error:400:always]] doomed"])

    assert (batch["status"], batch["stop_reason"]) == ("completed", None)
    assert [(i["status"], i["stop_reason"]) for i in ended] == [
        ("succeeded", "end_turn"),
        ("errored", "llm_api_error"),
    ]


def test_a_batch_whose_every_request_ended_its_turn_says_end_turn(client: Letta) -> None:
    batch, _ = _run(client, ["hello", "there"])

    assert (batch["status"], batch["stop_reason"]) == ("completed", "end_turn")


def test_an_expired_batch_names_no_reason_and_its_unfinished_requests_name_the_window(
    client: Letta,
) -> None:
    batch, ended = _run(client, ["quick", "[[sleep:20000]] never in time"], completion_window="5s")

    assert (batch["status"], batch["stop_reason"]) == ("expired", None)
    assert [(i["status"], i["stop_reason"], i["error"]) for i in ended] == [
        ("succeeded", "end_turn", None),
        ("expired", None, "completion window of 5 s passed before this request ended"),
    ]


def test_agent_id_names_the_one_agent_a_batch_addresses_and_is_null_for_several(client: Letta) -> None:
    one, other = (client.agents.create(model=MODEL).id for _ in range(2))
    single = client.batches.create(requests=[{"agent_id": one, "input": f"turn {i}"} for i in range(2)])
    several = client.batches.create(
        requests=[{"agent_id": one, "input": "a"}, {"agent_id": other, "input": "b"}]
    )

    assert single.agent_id == one and several.agent_id is None
    assert finished(client, single.id).agent_id == one
    assert finished(client, several.id).agent_id is None
    listed = {batch.id: batch.agent_id for batch in client.batches.list()}
    assert listed.get(single.id, one) == one and listed.get(several.id) is None
