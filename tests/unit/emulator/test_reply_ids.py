"""The emulator's ids and draws come from the request body: identical requests (an SDK retry, a rerun)
get identical ids, and nothing depends on the order requests arrive in."""

from hypothesis import given
from hypothesis import strategies as st

from agentbatch.emulator.ids import IdMaker, body_key, sequential_id, uniform

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "temperature": 0}


def test_the_body_key_ignores_key_order_but_not_content() -> None:
    reordered = {"temperature": 0, "messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o-mini"}
    assert body_key(BODY) == body_key(reordered)
    assert body_key(BODY) != body_key({**BODY, "temperature": 1})
    assert len(body_key(BODY)) == 16


def test_reply_ids_are_stable_per_body_attempt_and_label() -> None:
    key = body_key(BODY)
    first = IdMaker(key, 1)
    assert first.make("chatcmpl-", "reply") == IdMaker(key, 1).make("chatcmpl-", "reply")
    assert first.make("call_", "tool-0") != first.make("call_", "tool-1")
    assert first.make("chatcmpl-", "reply") != IdMaker(key, 2).make("chatcmpl-", "reply")


def test_ids_have_the_asked_prefix_and_length() -> None:
    made = IdMaker(body_key(BODY)).make("toolu_", "tool-0", length=24)
    assert made.startswith("toolu_") and len(made) == len("toolu_") + 24
    assert len(IdMaker(body_key(BODY)).make("x", "y", length=7)) == 1 + 7


def test_sequential_ids_number_files_and_batches_stably() -> None:
    assert sequential_id("file-", "file", 1) == sequential_id("file-", "file", 1)
    assert len({sequential_id("batch_", "batch", n) for n in range(1_000)}) == 1_000
    assert sequential_id("file-", "file", 1) != sequential_id("file-", "batch", 1)


@given(st.integers(0, 2**64), st.binary(max_size=32), st.integers(1, 100), st.binary(max_size=8))
def test_draws_are_in_the_unit_interval_and_repeat(seed: int, key: bytes, attempt: int, label: bytes) -> None:
    draw = uniform(seed, key, attempt, label)
    assert 0 <= draw < 1
    assert draw == uniform(seed, key, attempt, label)
