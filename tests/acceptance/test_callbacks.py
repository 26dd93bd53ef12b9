"""When a batch ends, its callback_url hears about it — retried when it fails, recorded either way."""

import hashlib
import hmac
import time

import pytest
from letta_client import Letta

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.acceptance.test_batch_engine import finished
from tests.support.live import point_sdks_at
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


def test_callbacks_are_signed_when_a_secret_is_set(
    sqlite_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    with (
        ServerThread(live_settings(sqlite_url, callback_secret="s3cret")) as server,
        CallbackReceiver() as receiver,
    ):
        client = Letta(base_url=server.base_url, max_retries=0)
        _batch(client, receiver.url)
        wait_for(lambda: receiver.raw, what="the callback")

    headers, body = receiver.raw[0]
    headers = {name.lower(): value for name, value in headers.items()}
    timestamp = headers["x-agentbatch-timestamp"]
    expected = hmac.new(b"s3cret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["x-agentbatch-signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - time.time()) < 300
