"""Changing tools and the 1.7.0 list/route rules, through letta-client over real HTTP (API alone)."""

import httpx
import pytest
from letta_client import BadRequestError, Letta, NotFoundError

from agentbatch.server import ServerThread

V1 = '''
def roll(sides: int) -> int:
    """Roll a die.

    Args:
        sides: How many sides the die has.
    """
    return 4
'''
V2 = '''
def roll(sides: int, times: int = 1) -> list:
    """Roll a die several times.

    Args:
        sides: How many sides the die has.
        times: How many rolls.
    """
    return [4] * times
'''
OTHER = V1.replace("def roll", "def flip")


def test_patch_with_new_source_rederives_the_schema(client: Letta) -> None:
    tool = client.tools.create(source_code=V1, tags=["dice"])

    updated = client.tools.update(tool.id, source_code=V2, metadata={"v": 2})

    assert updated.id == tool.id and updated.name == "roll"
    assert updated.description == "Roll a die several times."
    assert set(updated.json_schema["parameters"]["properties"]) == {"sides", "times"}
    assert updated.json_schema["parameters"]["required"] == ["sides"]
    assert updated.tags == ["dice"]  # left out: unchanged
    fetched = client.tools.retrieve(tool.id)
    assert fetched.source_code == V2 and fetched.metadata == {"v": 2}
    assert client.tools.update(tool.id, description="Dice.").json_schema["description"] == "Dice."


def test_patch_refuses_builtin_tools_name_clashes_and_bad_source(client: Letta) -> None:
    tool = client.tools.create(source_code=V1)
    client.tools.create(source_code=OTHER)
    builtin = next(iter(client.tools.list(name="core_memory_append")))

    with pytest.raises(BadRequestError, match="built-in"):
        client.tools.update(builtin.id, description="mine now")
    with pytest.raises(BadRequestError, match="'flip'"):
        client.tools.update(tool.id, source_code=OTHER)
    with pytest.raises(BadRequestError):
        client.tools.update(tool.id, source_code="x = 1")
    with pytest.raises(NotFoundError):
        client.tools.update("tool-00000000-0000-4000-8000-000000000000", description="x")
    assert client.tools.retrieve(tool.id).source_code == V1


def test_upsert_creates_then_replaces_by_name(client: Letta) -> None:
    created = client.tools.upsert(source_code=V1)
    replaced = client.tools.upsert(source_code=V2, tags=["v2"])

    assert replaced.id == created.id
    assert set(replaced.json_schema["parameters"]["properties"]) == {"sides", "times"}
    assert [t.id for t in client.tools.list(name="roll")] == [created.id]
    with pytest.raises(BadRequestError, match="built-in"):
        client.tools.upsert(source_code=V1.replace("def roll", "def core_memory_append"))


def test_tool_json_carries_metadata_underscore_and_only_declared_fields(
    server: ServerThread, client: Letta
) -> None:
    tool = client.tools.create(source_code=V1, extra_body={"metadata_": {"team": "a"}})
    raw = httpx.get(f"{server.base_url}/v1/tools/{tool.id}").json()

    assert raw["metadata_"] == {"team": "a"} and "metadata" not in raw
    assert tool.metadata == {"team": "a"}
    assert "created_at" not in raw and "updated_at" not in raw


def test_limit_zero_and_routes_that_do_not_exist(server: ServerThread, client: Letta) -> None:
    client.tools.create(source_code=V1)
    agent = client.agents.create(model="openai/gpt-4o-mini")

    assert list(client.tools.list(limit=0)) == []
    assert list(client.agents.list(limit=0)) == []
    assert list(client.agents.messages.list(agent.id, limit=0)) == []
    assert list(client.agents.blocks.list(agent.id, limit=0)) == []
    assert list(client.batches.list(limit=0)) == []
    for method, path in [
        ("POST", "/v1/tools/search"),
        ("PUT", "/v1/agents/" + agent.id),
        ("POST", "/v1/nope"),
    ]:
        response = httpx.request(method, server.base_url + path, json={})
        assert response.status_code == 404, (method, path, response.text)
