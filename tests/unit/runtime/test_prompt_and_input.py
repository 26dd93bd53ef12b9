"""What the model is shown: the system prompt (instructions, then each memory block with its metadata)
and the request's input messages as history entries (roles, content parts, images, ids kept)."""

import pytest

from agentbatch.domain.messages import Role, text_part
from agentbatch.domain.turn_requests import ApprovalReply, InputMessage, TurnRequest
from agentbatch.runtime.input_messages import input_messages
from agentbatch.runtime.prompt import render_system
from tests.unit.runtime.fakes import NOW, ScriptedGateway, agent, block, reply, request, run_turn, user

IMAGE = {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}


def test_without_blocks_the_system_prompt_is_the_agents_instructions() -> None:
    assert render_system("Be brief.", []) == "Be brief."


def test_the_instructions_come_first_then_every_block_in_order() -> None:
    rendered = render_system("Be brief.", [block("persona", "I am Sam."), block("human", "Ada")])

    assert rendered.startswith("Be brief.\n")
    assert rendered.index("<memory_blocks>") < rendered.index("<persona>") < rendered.index("<human>")
    assert rendered.rstrip().endswith("</memory_blocks>")
    persona = rendered[rendered.index("<persona>") : rendered.index("</persona>")]
    assert "<value>\nI am Sam.\n</value>" in persona and "Ada" not in persona


def test_a_blocks_size_and_limit_are_shown_so_the_model_can_stay_within_it() -> None:
    rendered = render_system("s", [block("human", "12345", limit=40)])

    assert "<metadata>chars_current=5 chars_limit=40</metadata>" in rendered


@pytest.mark.parametrize(
    ("options", "shown", "hidden"),
    [
        ({"description": "Facts about the user."}, "<description>Facts about the user.</description>", ""),
        ({"read_only": True}, "read_only=true", "<description>"),
        ({}, "chars_limit", "read_only"),
    ],
)
def test_a_blocks_description_and_read_only_flag_are_shown_when_set(
    options: dict[str, object], shown: str, hidden: str
) -> None:
    rendered = render_system("s", [block("human", "Ada", **options)])

    assert shown in rendered
    if hidden:
        assert hidden not in rendered


def test_a_multi_line_value_is_rendered_verbatim() -> None:
    value = "line one\n  indented <b>\n\nlast"

    assert f"<value>\n{value}\n</value>" in render_system("s", [block("notes", value)])


TAGS: dict[str, str | None] = {"batch_id": "job-9", "batch_item_id": "batch_item-9", "run_id": "run-9"}


class TestInputMessages:
    def test_each_plain_message_becomes_a_history_entry_with_its_role_and_ids(self) -> None:
        the_request = TurnRequest(
            messages=(
                InputMessage("system", (text_part("Be formal."),)),
                InputMessage(
                    "user", (text_part("hi"),), name="ada", otid="o-1", sender_id="s-1", group_id="g"
                ),
                InputMessage("assistant", (text_part("Good day."),)),
            )
        )

        made = input_messages(the_request, "agent-7", NOW, TAGS)

        assert [(m.role, m.text) for m in made] == [
            (Role.SYSTEM, "Be formal."),
            (Role.USER, "hi"),
            (Role.ASSISTANT, "Good day."),
        ]
        assert (made[1].name, made[1].otid, made[1].sender_id, made[1].group_id) == ("ada", "o-1", "s-1", "g")
        assert all(m.agent_id == "agent-7" and m.created_at == NOW for m in made)
        assert all(
            (m.batch_id, m.batch_item_id, m.run_id) == ("job-9", "batch_item-9", "run-9") for m in made
        )
        assert len({m.id for m in made}) == 3

    def test_content_parts_are_kept_as_sent_including_images(self) -> None:
        parts = (text_part("what is this?"), IMAGE, text_part(" and this"))

        [made] = input_messages(TurnRequest(messages=(InputMessage("user", parts),)), "a", NOW, TAGS)

        assert made.content == list(parts) and made.text == "what is this? and this"

    def test_an_approval_reply_is_not_an_input_message(self) -> None:
        the_request = TurnRequest(messages=(ApprovalReply(approve=True), user("and then?")))

        made = input_messages(the_request, "a", NOW, TAGS)

        assert [m.text for m in made] == ["and then?"]

    async def test_an_image_reaches_the_model_untouched_and_a_system_message_keeps_its_role(self) -> None:
        gateway = ScriptedGateway(reply("A cat."))
        the_request = request(
            InputMessage("system", (text_part("Answer in one word."),)), InputMessage("user", (IMAGE,))
        )

        await run_turn(gateway, agent(), the_request)

        sent = gateway.requests[0].messages
        assert [m.role for m in sent] == [Role.SYSTEM, Role.USER]
        assert sent[1].content == [IMAGE]

    async def test_the_system_prompt_the_model_gets_holds_the_agents_memory(self) -> None:
        gateway = ScriptedGateway(reply("ok"))

        await run_turn(gateway, agent(system="Rules.", blocks=[block("human", "Ada")]))

        assert gateway.requests[0].system == render_system("Rules.", [block("human", "Ada")])
