"""A turn's memory edit merged into a block value changed through the API while the turn ran."""

import pytest

from agentbatch.store.blocks import merge_edit


@pytest.mark.parametrize(
    ("base", "edited", "current", "merged"),
    [
        # the turn appended; the API rewrote the start
        ("Name: Ada", "Name: Ada\nLikes tea", "Name: Ada Lovelace", "Name: Ada Lovelace\nLikes tea"),
        # the turn replaced a word; the API appended a line
        ("Likes tea", "Likes green tea", "Likes tea\nBorn 1815", "Likes green tea\nBorn 1815"),
        # the turn inserted a line in the middle; the API changed the last line
        ("a\nc", "a\nb\nc", "a\nC!", "a\nb\nC!"),
        # the turn prepended
        ("x", "note\nx", "y", "note\ny"),
        # the API removed what the turn replaced: the new text is kept on a line of its own
        ("tea", "coffee", "nothing", "nothing\ncoffee"),
        # the turn removed what the API already removed
        ("a b", "a", "c", "c"),
        # no edit at all
        ("same", "same", "moved on", "moved on"),
    ],
)
def test_neither_the_api_change_nor_the_turn_edit_is_lost(
    base: str, edited: str, current: str, merged: str
) -> None:
    assert merge_edit(base, edited, current) == merged
