"""A custom tool's JSON schema is read from its signature and docstring."""

import pytest

from agentbatch.runtime.tools.tool_schema import ToolSourceError, schema_from_source

SOURCE = '''
import math

def helper():
    pass

def roll_dice(sides: int, times: int = 1, label: str | None = None, weights: list[float] | None = None):
    """Roll dice and report the total.

    Args:
        sides (int): Faces on each die.
        times: How many dice to roll,
            at least one.
        label: A name for the roll.

    Returns:
        str: the total.
    """
    return str(sides * times)
'''


def test_the_last_function_becomes_the_tool_with_types_and_descriptions() -> None:
    schema = schema_from_source(SOURCE)

    assert schema["name"] == "roll_dice"
    assert schema["description"] == "Roll dice and report the total."
    params = schema["parameters"]
    assert params["required"] == ["sides"]
    assert params["properties"]["sides"] == {"type": "integer", "description": "Faces on each die."}
    assert params["properties"]["times"]["description"] == "How many dice to roll, at least one."
    assert params["properties"]["label"]["type"] == "string"
    assert params["properties"]["weights"] == {"type": "array", "items": {"type": "number"}}


@pytest.mark.parametrize(
    ("source", "problem"), [("def broken(:\n", "does not parse"), ("x = 1\n", "no top-level function")]
)
def test_sources_without_a_usable_function_are_rejected(source: str, problem: str) -> None:
    with pytest.raises(ToolSourceError, match=problem):
        schema_from_source(source)
