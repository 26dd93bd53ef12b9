"""The memory tools as the model uses them: each edit's effect on the block, and refusals (limit,
read-only, unknown label, ambiguous text) that name the block and change nothing."""

import inspect
from datetime import timedelta

import orjson
import pytest

from agentbatch.domain.messages import Message, Role
from agentbatch.runtime.tools.memory_tools import Memory, ToolError, conversation_search
from tests.unit.runtime.fakes import NOW, block, history_message


def memory(value: str = "", **options: object) -> Memory:
    return Memory([block("human", value, **options), block("persona", "I am helpful.")])


def value_of(mem: Memory, label: str = "human") -> str:
    return next(b.value for b in mem.blocks if b.label == label)


@pytest.mark.parametrize(
    ("before", "content", "after"),
    [("", "Likes tea", "Likes tea"), ("Name: Ada", "Likes tea", "Name: Ada\nLikes tea")],
)
def test_core_memory_append_adds_a_line(before: str, content: str, after: str) -> None:
    mem = memory(before)

    answer = mem.core_memory_append("human", content)

    assert value_of(mem) == after
    assert answer == f"The memory block 'human' now reads:\n{after}"
    assert list(mem.changed) == ["human"]


def test_core_memory_replace_replaces_every_occurrence() -> None:
    mem = memory("cat, dog, cat")

    mem.core_memory_replace("human", "cat", "bird")

    assert value_of(mem) == "bird, dog, bird"


@pytest.mark.parametrize("old", ["", "fish"])
def test_core_memory_replace_of_absent_text_is_refused(old: str) -> None:
    mem = memory("cat, dog")

    with pytest.raises(ToolError, match=f"old_content {old!r} not found in block 'human'"):
        mem.core_memory_replace("human", old, "bird")

    assert value_of(mem) == "cat, dog" and mem.changed == {}


def test_memory_replace_needs_a_unique_occurrence() -> None:
    mem = memory("cat, dog, cat")

    with pytest.raises(ToolError, match="occurs 2 times; make it unique"):
        mem.memory_replace("human", "cat", "bird")
    with pytest.raises(ToolError, match="does not occur in block 'human'"):
        mem.memory_replace("human", "fish", "bird")
    mem.memory_replace("human", "dog", "bird")

    assert value_of(mem) == "cat, bird, cat"


@pytest.mark.parametrize(
    ("line", "after"),
    [
        (-1, "one\ntwo\nNEW"),
        (0, "NEW\none\ntwo"),
        (1, "one\nNEW\ntwo"),
        (2, "one\ntwo\nNEW"),
        (99, "one\ntwo\nNEW"),
    ],
)
def test_memory_insert_puts_the_text_at_the_line(line: int, after: str) -> None:
    mem = memory("one\ntwo")

    mem.memory_insert("human", "NEW", insert_line=line)

    assert value_of(mem) == after


def test_memory_insert_into_an_empty_block_and_a_bad_line() -> None:
    mem = memory("")
    mem.memory_insert("human", "first")
    assert value_of(mem) == "first"

    with pytest.raises(ToolError, match="insert_line must be -1"):
        mem.memory_insert("human", "x", insert_line=-2)


@pytest.mark.parametrize(
    ("edit", "arguments"),
    [
        ("core_memory_append", {"content": "y" * 20}),
        ("core_memory_replace", {"old_content": "short", "new_content": "y" * 20}),
        ("memory_replace", {"old_string": "short", "new_string": "y" * 20}),
        ("memory_insert", {"new_string": "y" * 20}),
    ],
)
def test_an_edit_over_the_blocks_limit_is_refused_naming_block_size_and_limit(
    edit: str, arguments: dict[str, str]
) -> None:
    mem = memory("short", limit=12)

    with pytest.raises(ToolError) as refused:
        mem.handlers()[edit](label="human", **arguments)

    message = str(refused.value)
    assert "block 'human'" in message and "over its limit of 12" in message
    assert value_of(mem) == "short" and mem.changed == {}


def test_an_edit_exactly_at_the_limit_is_accepted_one_character_more_is_not() -> None:
    mem = memory("", limit=5)

    mem.core_memory_append("human", "12345")
    with pytest.raises(ToolError, match="6 characters long, over its limit of 5"):
        mem.memory_replace("human", "5", "56")

    assert value_of(mem) == "12345"


@pytest.mark.parametrize("edit", ["core_memory_append", "memory_insert"])
def test_a_read_only_block_cannot_be_edited(edit: str) -> None:
    mem = memory("fixed", read_only=True)
    argument = "content" if edit == "core_memory_append" else "new_string"

    with pytest.raises(ToolError, match="memory block 'human' is read-only"):
        mem.handlers()[edit](label="human", **{argument: "more"})

    assert value_of(mem) == "fixed"


def test_an_unknown_label_is_refused_listing_the_blocks() -> None:
    with pytest.raises(ToolError, match=r"no memory block labelled 'notes' \(blocks: human, persona\)"):
        memory().core_memory_append("notes", "x")


def test_an_agent_without_blocks_is_told_it_has_none() -> None:
    with pytest.raises(ToolError, match=r"\(blocks: none\)"):
        Memory([]).memory_insert("human", "x")


def test_memory_edits_the_agents_blocks_and_tracks_only_the_changed_ones() -> None:
    human, persona = block("human", "a"), block("persona", "b")
    mem = Memory([human, persona])

    mem.core_memory_append("persona", "c")

    assert persona.value == "b\nc" and human.value == "a"
    assert mem.changed == {"persona": persona}


def test_every_edit_has_a_handler_whose_parameters_the_model_can_name() -> None:
    handlers = Memory([]).handlers()

    assert set(handlers) == {"memory_insert", "memory_replace", "core_memory_append", "core_memory_replace"}
    for handler in handlers.values():
        assert next(iter(inspect.signature(handler).parameters)) == "label"


class TestConversationSearch:
    def history(self) -> list[Message]:
        return [
            history_message(Role.USER, "I adopted a cat", created_at=NOW),
            history_message(Role.ASSISTANT, "What is the CAT called?", created_at=NOW + timedelta(seconds=1)),
            history_message(Role.TOOL, "cat facts from a tool", created_at=NOW + timedelta(seconds=2)),
            history_message(Role.SYSTEM, "cat system note", created_at=NOW + timedelta(seconds=3)),
            history_message(Role.USER, "Her name is Mia", created_at=NOW + timedelta(seconds=4)),
        ]

    def test_finds_user_and_assistant_text_case_insensitively_newest_first(self) -> None:
        hits = orjson.loads(conversation_search(self.history(), "Cat"))

        assert [(hit["role"], hit["text"]) for hit in hits] == [
            ("assistant", "What is the CAT called?"),
            ("user", "I adopted a cat"),
        ]
        assert hits[0]["date"] == (NOW + timedelta(seconds=1)).isoformat()

    @pytest.mark.parametrize(("limit", "count"), [(1, 1), (0, 1), (10, 2)])
    def test_returns_at_most_the_limit(self, limit: int, count: int) -> None:
        hits = orjson.loads(conversation_search(self.history(), "cat", limit=limit))

        assert len(hits) == count

    def test_says_so_when_nothing_matches(self) -> None:
        assert conversation_search(self.history(), "dog") == "No messages found containing 'dog'."

    def test_an_empty_query_is_refused(self) -> None:
        with pytest.raises(ToolError, match="query must not be empty"):
            conversation_search([], "")
