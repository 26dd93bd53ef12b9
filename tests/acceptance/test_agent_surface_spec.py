"""Every response of the agent, block and tool calls validates against Letta's 1.7.0 OpenAPI schema."""

from typing import Any

import httpx
import pytest

from agentbatch.server import ServerThread
from tests.support.openapi import assert_matches_spec, declared_fields

SOURCE = '''
def roll(sides: int) -> int:
    """Roll a die.

    Args:
        sides: How many sides the die has.
    """
    return 4
'''


@pytest.fixture
def http(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=30)


def _call(http: httpx.Client, method: str, spec_path: str, path: str, body: Any = None) -> Any:
    response = http.request(method, path, json=body)
    assert response.status_code == 200, (method, path, response.text)
    data = response.json()
    assert_matches_spec(data, method, spec_path)
    return data


def test_agent_tool_and_block_responses_match_the_spec(http: httpx.Client) -> None:
    tool = _call(http, "POST", "/v1/tools/", "/v1/tools/", {"source_code": SOURCE, "metadata_": {"a": 1}})
    agent = _call(
        http,
        "POST",
        "/v1/agents/",
        "/v1/agents/",
        {"model": "anthropic/claude-sonnet-4", "memory_blocks": [{"label": "human", "value": "Ada"}]},
    )
    a, t = agent["id"], tool["id"]
    assert set(tool) <= declared_fields("Tool"), set(tool) - declared_fields("Tool")
    assert agent["model_settings"]["provider_type"] == "anthropic" and agent["message_ids"] == []
    assert agent["pending_approval"] is None

    block = _call(http, "POST", "/v1/blocks/", "/v1/blocks/", {"label": "notes", "value": "n"})
    calls = [
        ("PATCH", "/v1/agents/{agent_id}", f"/v1/agents/{a}", {"name": "n2", "tags": ["x"]}),
        ("GET", "/v1/agents/{agent_id}", f"/v1/agents/{a}", None),
        ("GET", "/v1/agents/", "/v1/agents/?limit=0", None),
        ("PATCH", "/v1/agents/{agent_id}/tools/attach/{tool_id}", f"/v1/agents/{a}/tools/attach/{t}", None),
        ("GET", "/v1/agents/{agent_id}/tools", f"/v1/agents/{a}/tools", None),
        (
            "PATCH",
            "/v1/agents/{agent_id}/tools/approval/{tool_name}",
            f"/v1/agents/{a}/tools/approval/roll",
            {"requires_approval": True},
        ),
        ("PATCH", "/v1/agents/{agent_id}/tools/detach/{tool_id}", f"/v1/agents/{a}/tools/detach/{t}", None),
        ("GET", "/v1/agents/{agent_id}/core-memory/blocks", f"/v1/agents/{a}/core-memory/blocks", None),
        (
            "GET",
            "/v1/agents/{agent_id}/core-memory/blocks/{block_label}",
            f"/v1/agents/{a}/core-memory/blocks/human",
            None,
        ),
        (
            "PATCH",
            "/v1/agents/{agent_id}/core-memory/blocks/{block_label}",
            f"/v1/agents/{a}/core-memory/blocks/human",
            {"value": "Ada L."},
        ),
        (
            "PATCH",
            "/v1/agents/{agent_id}/core-memory/blocks/attach/{block_id}",
            f"/v1/agents/{a}/core-memory/blocks/attach/{block['id']}",
            None,
        ),
        (
            "PATCH",
            "/v1/agents/{agent_id}/core-memory/blocks/detach/{block_id}",
            f"/v1/agents/{a}/core-memory/blocks/detach/{block['id']}",
            None,
        ),
        ("GET", "/v1/blocks/", "/v1/blocks/", None),
        ("GET", "/v1/blocks/{block_id}", f"/v1/blocks/{block['id']}", None),
        ("PATCH", "/v1/blocks/{block_id}", f"/v1/blocks/{block['id']}", {"value": "m"}),
        ("PATCH", "/v1/agents/{agent_id}/reset-messages", f"/v1/agents/{a}/reset-messages", {}),
        ("POST", "/v1/agents/{agent_id}/messages/cancel", f"/v1/agents/{a}/messages/cancel", {}),
        ("PATCH", "/v1/tools/{tool_id}", f"/v1/tools/{t}", {"description": "Dice."}),
        ("PUT", "/v1/tools/", "/v1/tools/", {"source_code": SOURCE}),
        ("GET", "/v1/tools/", "/v1/tools/", None),
        ("GET", "/v1/tools/{tool_id}", f"/v1/tools/{t}", None),
    ]
    for method, spec_path, path, body in calls:
        _call(http, method, spec_path, path, body)
