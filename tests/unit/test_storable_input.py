"""The fast check of request bodies (byte screening, then numbers and nesting) never lets through what
the full check (every string too) rejects, however the client encoded its JSON."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentbatch.api.storable_input import MAX_DEPTH, unstorable_errors

# Text with NUL characters, lone and paired surrogates, Hangul (whose UTF-8 starts with 0xED) and ASCII.
text = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\x00", "\ud800", "\udfff", "\U0001f600", "\ud7a3", "a", "\\", "u", "0"]),
        st.characters(),
    ),
    max_size=8,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def _encodings(document: Any) -> list[bytes]:
    """What clients send: ASCII-escaped JSON, and raw UTF-8 (lone surrogates as Python's decoder reads
    them back, 'surrogatepass')."""
    return [
        json.dumps(document, ensure_ascii=True).encode(),
        json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ]


@settings(max_examples=400, deadline=None)
@given(documents)
def test_the_fast_check_agrees_with_the_full_check(document: Any) -> None:
    full = unstorable_errors(document, ("body",))
    for raw in _encodings(document):
        decoded = json.loads(raw)
        assert bool(unstorable_errors(decoded, ("body",), raw)) == bool(full), raw


def test_each_problem_is_reported_at_its_field() -> None:
    document = {"a": [1, {"b": "x\x00"}], "c\ud800": 1, "n": 2**64, "f": float("nan")}
    errors = unstorable_errors(document, ("body",))
    assert [(error["loc"], error["msg"].split()[0]) for error in errors] == [
        (["body"], "a"),  # a key's problem is the object's
        (["body", "a", 1, "b"], "NUL"),
        (["body", "n"], "integers"),
        (["body", "f"], "numbers"),
    ]


def test_nesting_is_bounded() -> None:
    shallow: Any = "leaf"
    for _ in range(MAX_DEPTH):
        shallow = [shallow]
    assert unstorable_errors(shallow, ("body",)) == []
    assert unstorable_errors([shallow], ("body",))[0]["msg"] == f"nested deeper than {MAX_DEPTH} levels"
