"""A custom tool's schema read from its Python source: which function is the tool, how annotations
become JSON types, which parameters are required, what the docstring describes, and clear errors for
sources that cannot be a tool."""

from typing import Any

import pytest

from agentbatch.runtime.tools.tool_schema import ToolSourceError, schema_from_source, tool_name


def parameters(source: str) -> dict[str, Any]:
    params: dict[str, Any] = schema_from_source(source)["parameters"]
    return params


def property_of(annotation: str) -> dict[str, Any]:
    prop: dict[str, Any] = parameters(f"def tool(x: {annotation}):\n    pass\n")["properties"]["x"]
    return prop


@pytest.mark.parametrize(
    ("annotation", "schema"),
    [
        ("str", {"type": "string"}),
        ("int", {"type": "integer"}),
        ("float", {"type": "number"}),
        ("bool", {"type": "boolean"}),
        ("list", {"type": "array"}),
        ("dict", {"type": "object"}),
        ("list[int]", {"type": "array", "items": {"type": "integer"}}),
        ("List[str]", {"type": "array", "items": {"type": "string"}}),
        ("list[list[bool]]", {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}}),
        ("dict[str, int]", {"type": "object"}),
        ("Dict[str, Any]", {"type": "object"}),
        ("Optional[int]", {"type": "integer"}),
        ("int | None", {"type": "integer"}),
        ("None | float", {"type": "number"}),
        ("'int'", {"type": "integer"}),
        ("MyClass", {"type": "string"}),
        ("typing.Any", {"type": "string"}),
    ],
)
def test_annotations_become_json_types(annotation: str, schema: dict[str, Any]) -> None:
    assert property_of(annotation) == schema


@pytest.mark.parametrize("annotation", ["'list['", "'the user''s name'", "''", "'a b'"])
def test_a_string_annotation_that_is_not_a_type_is_a_string_not_a_crash(annotation: str) -> None:
    # valid Python (old PEP 3107 style annotations are prose); it used to raise a bare SyntaxError
    assert property_of(annotation) == {"type": "string"}


def test_an_unannotated_parameter_is_a_string() -> None:
    assert parameters("def tool(x):\n    pass\n")["properties"]["x"] == {"type": "string"}


def test_parameters_without_defaults_are_required_in_order() -> None:
    source = "def tool(b: int, a: str, c: int = 1, *, d: str, e: str = 'x'):\n    pass\n"

    params = parameters(source)

    assert list(params["properties"]) == ["b", "a", "c", "d", "e"]
    assert params["required"] == ["b", "a", "d"]


def test_the_agent_state_and_self_parameters_are_not_shown_to_the_model() -> None:
    params = parameters("def tool(self, agent_state, query: str):\n    pass\n")

    assert list(params["properties"]) == ["query"] and params["required"] == ["query"]


def test_an_async_function_is_a_tool_and_the_last_top_level_one_wins() -> None:
    source = (
        "def first():\n    pass\n\n"
        "class Helper:\n    def method(self):\n        pass\n\n"
        "async def fetch_page(url: str) -> str:\n    return url\n"
    )

    assert tool_name(source) == "fetch_page"
    assert schema_from_source(source)["name"] == "fetch_page"


def test_the_docstring_summary_and_argument_lines_describe_the_tool() -> None:
    source = '''
def convert(amount: float, currency: str = "EUR"):
    """Convert an amount of money.

    Uses today's rate.

    Args:
        amount (float): How much to convert.
        currency: The target currency,
            as an ISO code.

    Returns:
        str: the converted amount.

    Raises:
        ValueError: on an unknown currency.
    """
'''
    schema = schema_from_source(source)

    assert schema["description"] == "Convert an amount of money. Uses today's rate."
    props = schema["parameters"]["properties"]
    assert props["amount"] == {"type": "number", "description": "How much to convert."}
    assert props["currency"]["description"] == "The target currency, as an ISO code."
    assert "ValueError" not in str(schema) and "converted amount" not in str(schema)


@pytest.mark.parametrize("heading", ["Args:", "Arguments:", "Parameters:"])
def test_each_usual_argument_heading_is_understood(heading: str) -> None:
    source = f'def tool(x: int):\n    """Do it.\n\n    {heading}\n        x: the input.\n    """\n'

    assert parameters(source)["properties"]["x"]["description"] == "the input."


def test_a_documented_name_that_is_not_a_parameter_is_ignored() -> None:
    source = 'def tool(x: int):\n    """Do it.\n\n    Args:\n        y: not a parameter.\n    """\n'

    assert parameters(source)["properties"] == {"x": {"type": "integer"}}


def test_a_tool_without_a_docstring_gets_a_plain_description() -> None:
    assert schema_from_source("def ping():\n    return 'pong'\n") == {
        "name": "ping",
        "description": "The ping tool.",
        "parameters": {"type": "object", "properties": {}, "required": []},
    }


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("", "defines no top-level function"),
        ("import os\nVALUE = 1\n", "defines no top-level function"),
        ("class Tool:\n    def run(self):\n        pass\n", "defines no top-level function"),
        ("def broken(x:\n    pass\n", "does not parse"),
        ("def ok():\n    pass\n  bad indent\n", "does not parse"),
    ],
)
def test_a_source_that_cannot_be_a_tool_is_refused_naming_why(source: str, problem: str) -> None:
    with pytest.raises(ToolSourceError, match=problem):
        schema_from_source(source)
    with pytest.raises(ToolSourceError, match=problem):
        tool_name(source)


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(ToolSourceError, match=r"line 3"):
        schema_from_source("def tool():\n    pass\ndef (:\n")


def test_a_source_with_a_nul_character_is_refused_without_a_line_number_it_does_not_have() -> None:
    with pytest.raises(ToolSourceError) as refused:
        schema_from_source("def tool():\n    pass\n\x00")

    assert "null bytes" in str(refused.value) and "line None" not in str(refused.value)


def test_a_tool_source_error_is_a_value_error_for_callers_that_map_those_to_4xx() -> None:
    assert issubclass(ToolSourceError, ValueError)
