"""Every method of ``client.batches`` through letta-client 1.7.0 over real HTTP."""

import uuid

import pytest
from letta_client import BadRequestError, Letta, NotFoundError, UnprocessableEntityError

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def agent_ids(client: Letta) -> list[str]:
    return [client.agents.create(name=f"a{i}", model=MODEL).id for i in range(3)]


def test_create_returns_a_truthful_batch_job(client: Letta, agent_ids: list[str]) -> None:
    batch = client.batches.create(
        requests=[
            {"agent_id": agent_ids[0], "input": "hello"},
            {
                "agent_id": agent_ids[1],
                "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            },
            {"agent_id": agent_ids[2], "messages": [{"role": "user", "content": "hey"}], "max_steps": 3},
        ],
        callback_url="https://example.test/hooks/batch",
    )

    assert batch.id.startswith("job-")
    assert batch.job_type == "batch"
    assert batch.status in ("created", "running")
    assert batch.callback_url == "https://example.test/hooks/batch"
    assert batch.completed_at is None and batch.stop_reason is None
    assert batch.ttft_ns is None and batch.total_duration_ns is None
    assert batch.created_at is not None
    assert batch.metadata == {"job_type": "batch_messages"}
    assert batch.model_extra is not None and batch.model_extra["request_counts"]["total"] == 3


def test_without_callback_the_url_stays_null(client: Letta, agent_ids: list[str]) -> None:
    batch = client.batches.create(requests=[{"agent_id": agent_ids[0], "input": "x"}])
    assert client.batches.retrieve(batch.id).callback_url is None


def test_list_includes_finished_batches_and_filters_by_status(client: Letta, agent_ids: list[str]) -> None:
    first = client.batches.create(requests=[{"agent_id": agent_ids[0], "input": "one"}])
    second = client.batches.create(requests=[{"agent_id": agent_ids[1], "input": "two"}])
    client.batches.cancel(first.id)

    assert {batch.id for batch in client.batches.list()} == {first.id, second.id}
    cancelled = client.batches.list(extra_query={"status": "cancelled"})
    assert [batch.id for batch in cancelled] == [first.id]


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_auto_pagination_visits_every_batch_once(client: Letta, agent_ids: list[str], order: str) -> None:
    created = [
        client.batches.create(requests=[{"agent_id": agent_ids[0], "input": str(i)}]).id for i in range(5)
    ]

    seen = [batch.id for batch in client.batches.list(limit=2, order=order)]  # type: ignore[arg-type]

    assert seen == (created if order == "asc" else created[::-1])


def test_walking_backwards_with_before(client: Letta, agent_ids: list[str]) -> None:
    created = [
        client.batches.create(requests=[{"agent_id": agent_ids[0], "input": str(i)}]).id for i in range(5)
    ]

    # Newest first; "before" the oldest means everything newer, walked back page by page.
    seen = [batch.id for batch in client.batches.list(limit=2, order="desc", before=created[0])]

    assert sorted(seen) == sorted(created[1:])
    assert len(seen) == len(set(seen))


def test_cancel_marks_unfinished_requests_and_refuses_a_second_time(
    client: Letta, agent_ids: list[str]
) -> None:
    batch = client.batches.create(requests=[{"agent_id": agent_id, "input": "go"} for agent_id in agent_ids])

    result = client.batches.cancel(batch.id)
    after = client.batches.retrieve(batch.id)

    assert isinstance(result, dict) and result["status"] == "cancelled"
    assert after.status == "cancelled" and after.stop_reason == "cancelled"
    assert after.completed_at is not None and after.total_duration_ns is not None
    assert after.model_extra is not None and after.model_extra["request_counts"]["cancelled"] == 3
    with pytest.raises(BadRequestError, match="already ended"):
        client.batches.cancel(batch.id)


def test_unknown_batch_ids_are_404_everywhere(client: Letta) -> None:
    missing = f"job-{uuid.uuid4()}"
    with pytest.raises(NotFoundError):
        client.batches.retrieve(missing)
    with pytest.raises(NotFoundError):
        client.batches.cancel(missing)
    with pytest.raises(NotFoundError):
        client.batches.messages.list(missing)


def test_messages_of_a_batch_that_has_not_run_is_an_empty_page(client: Letta, agent_ids: list[str]) -> None:
    batch = client.batches.create(requests=[{"agent_id": agent_ids[0], "input": "x"}])
    assert list(client.batches.messages.list(batch.id, agent_id=agent_ids[0])) == []


def test_items_extension_lists_each_request(client: Letta, agent_ids: list[str]) -> None:
    batch = client.batches.create(requests=[{"agent_id": agent_id, "input": "x"} for agent_id in agent_ids])
    items = client.get(f"/v1/messages/batches/{batch.id}/items?order=asc", cast_to=object)

    assert isinstance(items, list)
    assert [item["agent_id"] for item in items] == agent_ids
    assert all(item["status"] == "pending" and item["step_count"] == 0 for item in items)


def test_a_malformed_batch_id_is_rejected_as_such(client: Letta) -> None:
    with pytest.raises(UnprocessableEntityError):
        client.batches.retrieve("job-42")
