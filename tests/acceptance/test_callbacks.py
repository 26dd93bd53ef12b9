"""When a batch ends, its callback_url hears about it — retried when it fails, recorded either way."""

from letta_client import Letta

from tests.acceptance.test_batch_engine import finished
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.receiver import CallbackReceiver

MODEL = "openai/gpt-4o-mini"


def _batch(client: Letta, url: str) -> str:
    agent = client.agents.create(model=MODEL).id
    return client.batches.create(requests=[{"agent_id": agent, "input": "hi"}], callback_url=url).id


def test_the_callback_carries_lettas_fields_and_the_counts(live: Letta) -> None:
    with CallbackReceiver() as receiver:
        batch_id = _batch(live, receiver.url)
        finished(live, batch_id)
        wait_for(lambda: receiver.received, what="the callback")
        recorded = wait_for(lambda: (b := live.batches.retrieve(batch_id)).callback_status_code and b)

    body = receiver.received[0]
    assert body["job_id"] == batch_id and body["status"] == "completed"
    assert body["completed_at"] and body["metadata"] == {"job_type": "batch_messages"}
    assert body["request_counts"]["succeeded"] == 1
    assert recorded.callback_status_code == 200 and recorded.callback_error is None
    assert recorded.callback_sent_at is not None


def test_a_failing_endpoint_is_retried_until_it_answers(live: Letta) -> None:
    with CallbackReceiver(statuses=[500, 503]) as receiver:
        batch_id = _batch(live, receiver.url)
        recorded = wait_for(lambda: (b := live.batches.retrieve(batch_id)).callback_status_code == 200 and b)

    assert len(receiver.received) == 3
    assert recorded.callback_error is None


def test_a_dead_endpoint_is_given_up_on_and_recorded(live: Letta) -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody-home"
    batch_id = _batch(live, dead)

    recorded = wait_for(
        lambda: "gave up" in ((b := live.batches.retrieve(batch_id)).callback_error or "") and b
    )

    assert recorded.status == "completed" and recorded.callback_status_code is None
    # Other work is not held up by it.
    agent = live.agents.create(model=MODEL).id
    assert live.agents.messages.create(agent, input="still working?").stop_reason.stop_reason == "end_turn"


def test_a_cancelled_batch_calls_back_too(live: Letta) -> None:
    with CallbackReceiver() as receiver:
        agent = live.agents.create(model=MODEL).id
        batch = live.batches.create(
            requests=[{"agent_id": agent, "input": "[[sleep:20000]] x"}], callback_url=receiver.url
        )
        live.batches.cancel(batch.id)
        wait_for(lambda: receiver.received, what="the callback")
    assert receiver.received[0]["status"] == "cancelled"
