"""When a batch ends, its callback_url hears about it — signed per Standard Webhooks, retried with
backoff for a window that survives restarts, every attempt in the delivery log, replayable."""

import base64
import secrets
from typing import Any

import pytest
from letta_client import BadRequestError, Letta
from standardwebhooks import Webhook

from agentbatch.emulator.server import EmulatorThread
from agentbatch.server import ServerThread
from tests.acceptance.conftest import live_settings
from tests.acceptance.test_batch_engine import finished
from tests.support.live import point_sdks_at
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.receiver import CallbackReceiver

MODEL = "openai/gpt-4o-mini"


def _batch(client: Letta, url: str, text: str = "hi") -> str:
    agent = client.agents.create(model=MODEL).id
    return client.batches.create(requests=[{"agent_id": agent, "input": text}], callback_url=url).id


def _log(client: Letta, batch_id: str) -> list[dict[str, Any]]:
    found = client.get(f"/v1/messages/batches/{batch_id}/callbacks", cast_to=object)
    assert isinstance(found, dict)
    attempts: list[dict[str, Any]] = found["attempts"]
    return attempts


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
    [attempt] = _log(live, batch_id)
    assert attempt["status_code"] == 200 and attempt["error"] is None and attempt["latency_ms"] >= 0


def test_failed_attempts_are_retried_and_each_is_in_the_delivery_log(live: Letta) -> None:
    with CallbackReceiver(statuses=[500, 503]) as receiver:
        batch_id = _batch(live, receiver.url)
        recorded = wait_for(lambda: (b := live.batches.retrieve(batch_id)).callback_status_code == 200 and b)

    assert len(receiver.received) == 3
    assert recorded.callback_error is None
    log = _log(live, batch_id)
    assert [entry["status_code"] for entry in log] == [500, 503, 200]
    assert [entry["attempt"] for entry in log] == [1, 2, 3]
    assert "HTTP 500" in log[0]["error"] and log[0]["next_attempt_at"] is not None
    assert log[2]["next_attempt_at"] is None
    # One message, retried: every attempt carries the same webhook-id.
    assert len({entry["webhook_id"] for entry in log}) == 1


def test_an_unreachable_endpoint_never_counts_as_sent_and_is_given_up_after_the_window(
    sqlite_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    dead = f"http://127.0.0.1:{free_port()}/nobody-home"
    with ServerThread(live_settings(sqlite_url, callback_retry_window_s=0.5)) as server:
        client = Letta(base_url=server.base_url, max_retries=0)
        batch_id = _batch(client, dead)
        recorded = wait_for(
            lambda: "gave up" in ((b := client.batches.retrieve(batch_id)).callback_error or "") and b
        )
        log = _log(client, batch_id)
        # Other work is not held up by it.
        agent = client.agents.create(model=MODEL).id
        assert client.agents.messages.create(agent, input="still?").stop_reason.stop_reason == "end_turn"

    assert recorded.status == "completed" and recorded.callback_status_code is None
    assert recorded.callback_sent_at is None, "no attempt reached the endpoint"
    assert len(log) >= 2 and all(entry["status_code"] is None for entry in log)
    assert "ConnectError" in log[0]["error"]


def test_a_retry_that_is_due_survives_a_restart(
    sqlite_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    with CallbackReceiver(statuses=[500] * 10_000) as receiver:
        with ServerThread(live_settings(sqlite_url, callback_backoff_base_s=0.2)) as server:
            client = Letta(base_url=server.base_url, max_retries=0)
            batch_id = _batch(client, receiver.url)
            wait_for(lambda: _log(client, batch_id), what="a failed attempt")
        receiver.answer([])
        failed_before_restart = len(receiver.received)
        with ServerThread(live_settings(sqlite_url, callback_backoff_base_s=0.2)) as server:
            client = Letta(base_url=server.base_url, max_retries=0)
            wait_for(lambda: client.batches.retrieve(batch_id).callback_status_code == 200, what="delivery")
            log = _log(client, batch_id)

    assert failed_before_restart >= 1
    assert log[-1]["status_code"] == 200 and all(e["status_code"] == 500 for e in log[:-1])


def test_a_cancelled_batch_calls_back_too(live: Letta) -> None:
    with CallbackReceiver() as receiver:
        agent = live.agents.create(model=MODEL).id
        batch = live.batches.create(
            requests=[{"agent_id": agent, "input": "[[sleep:20000]] x"}], callback_url=receiver.url
        )
        live.batches.cancel(batch.id)
        wait_for(lambda: receiver.received, what="the callback")
    assert receiver.received[0]["status"] == "cancelled"


def test_an_expired_batch_calls_back_too(live: Letta) -> None:
    with CallbackReceiver() as receiver:
        agent = live.agents.create(model=MODEL).id
        live.batches.create(
            requests=[{"agent_id": agent, "input": "[[sleep:20000]] x"}],
            callback_url=receiver.url,
            extra_body={"completion_window": "1s"},
        )
        wait_for(lambda: receiver.received, what="the callback")
    assert receiver.received[0]["status"] == "expired"
    assert receiver.received[0]["request_counts"]["expired"] == 1


def test_callbacks_are_signed_per_standard_webhooks(
    sqlite_url: str, fresh_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_sdks_at(monkeypatch, fresh_emulator)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    with (
        ServerThread(live_settings(sqlite_url, callback_secret=secret)) as server,
        CallbackReceiver(statuses=[500]) as receiver,
    ):
        client = Letta(base_url=server.base_url, max_retries=0)
        batch_id = _batch(client, receiver.url)
        wait_for(lambda: len(receiver.raw) == 2, what="a retried callback")

    for headers, body in receiver.raw:
        assert Webhook(secret).verify(body, headers)["job_id"] == batch_id
    first, second = ({k.lower(): v for k, v in headers.items()} for headers, _ in receiver.raw)
    assert first["webhook-id"] == second["webhook-id"], "a retry is the same message"
    assert first["webhook-signature"].startswith("v1,")
    tampered = receiver.raw[0][1].replace(b"completed", b"failed")
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(tampered, receiver.raw[0][0])
    other = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(receiver.raw[0][1], receiver.raw[0][0])


def test_a_secret_not_in_whsec_form_is_refused_at_start(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="whsec_"):
        live_settings(sqlite_url, callback_secret="s3cret")


def test_a_replay_sends_the_callback_again_as_a_new_message(live: Letta) -> None:
    with CallbackReceiver() as receiver:
        batch_id = _batch(live, receiver.url)
        wait_for(lambda: receiver.received, what="the callback")
        replay = live.post(f"/v1/messages/batches/{batch_id}/callbacks/replay", cast_to=object)
        wait_for(lambda: len(receiver.received) == 2, what="the replayed callback")
        log = wait_for(lambda: len(entries := _log(live, batch_id)) == 2 and entries)

    assert isinstance(replay, dict) and replay["webhook_id"] != batch_id
    assert receiver.received[1] == receiver.received[0]
    assert [entry["webhook_id"] for entry in log] == [batch_id, replay["webhook_id"]]


def test_a_batch_without_callback_or_unfinished_cannot_be_replayed(live: Letta) -> None:
    agent = live.agents.create(model=MODEL).id
    plain = live.batches.create(requests=[{"agent_id": agent, "input": "hi"}]).id
    with pytest.raises(BadRequestError, match="no callback_url"):
        live.post(f"/v1/messages/batches/{plain}/callbacks/replay", cast_to=object)
    busy = _batch(live, "http://127.0.0.1:9/x", "[[sleep:20000]] x")
    with pytest.raises(BadRequestError, match="still"):
        live.post(f"/v1/messages/batches/{busy}/callbacks/replay", cast_to=object)


INTERNAL_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.7/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
]


def test_with_api_keys_on_internal_callback_urls_are_refused(sqlite_url: str) -> None:
    settings = live_settings(sqlite_url, api_keys="key-alice", run_worker=False)
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, api_key="key-alice", max_retries=0)
        agent = client.agents.create(model=MODEL).id
        for url in INTERNAL_URLS:
            with pytest.raises(BadRequestError, match="loopback, private or link-local"):
                client.batches.create(requests=[{"agent_id": agent, "input": "hi"}], callback_url=url)
        assert list(client.batches.list()) == []


def test_the_operator_can_allow_internal_callback_urls(sqlite_url: str) -> None:
    settings = live_settings(
        sqlite_url, api_keys="key-alice", run_worker=False, callback_allow_private_urls=True
    )
    with ServerThread(settings) as server:
        client = Letta(base_url=server.base_url, api_key="key-alice", max_retries=0)
        agent = client.agents.create(model=MODEL).id
        batch = client.batches.create(
            requests=[{"agent_id": agent, "input": "hi"}], callback_url="http://127.0.0.1:9/hook"
        )
    assert batch.callback_url == "http://127.0.0.1:9/hook"
