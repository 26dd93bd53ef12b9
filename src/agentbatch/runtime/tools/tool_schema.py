"""A custom tool's JSON schema, read from its Python source when the caller does not give one.

The tool is the last top-level function in the source. Parameter types come from annotations
(str, int, float, bool, list[...], dict[...], Optional/``| None``); descriptions from a Google-style
docstring (a summary, then ``Args:`` with ``name (type): text`` or ``name: text`` lines).
"""

import ast
import re
from typing import Any

_SIMPLE_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
}
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


class ToolSourceError(ValueError):
    pass


def tool_name(source: str) -> str:
    return _function(source).name


def schema_from_source(source: str) -> dict[str, Any]:
    function = _function(source)
    summary, arg_docs = _docstring(ast.get_docstring(function) or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    args = function.args
    defaults_start = len(args.args) - len(args.defaults)
    for index, arg in enumerate(args.args):
        if arg.arg in ("self", "agent_state"):
            continue
        prop = _annotation_schema(arg.annotation)
        if arg.arg in arg_docs:
            prop["description"] = arg_docs[arg.arg]
        properties[arg.arg] = prop
        if index < defaults_start:
            required.append(arg.arg)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        prop = _annotation_schema(arg.annotation)
        if arg.arg in arg_docs:
            prop["description"] = arg_docs[arg.arg]
        properties[arg.arg] = prop
        if default is None:
            required.append(arg.arg)
    return {
        "name": function.name,
        "description": summary or f"The {function.name} tool.",
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


def _function(source: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        where = f" (line {error.lineno})" if error.lineno else ""
        raise ToolSourceError(f"source_code does not parse: {error.msg}{where}") from error
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not functions:
        raise ToolSourceError("source_code defines no top-level function to use as the tool")
    return functions[-1]


def _annotation_schema(annotation: ast.expr | None) -> dict[str, Any]:
    if annotation is None:
        return {"type": "string"}
    if isinstance(annotation, ast.Name):
        return {"type": _SIMPLE_TYPES.get(annotation.id, "string")}
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            return _annotation_schema(ast.parse(annotation.value, mode="eval").body)
        except SyntaxError:  # a string annotation that is prose, not a type: as unknown types, a string
            return {"type": "string"}
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        for side in (annotation.left, annotation.right):
            if not (isinstance(side, ast.Constant) and side.value is None):
                return _annotation_schema(side)
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name):
        outer = annotation.value.id
        if outer == "Optional":
            return _annotation_schema(annotation.slice)
        if outer in ("list", "List"):
            return {"type": "array", "items": _annotation_schema(annotation.slice)}
        if outer in ("dict", "Dict"):
            return {"type": "object"}
    return {"type": "string"}


def _docstring(doc: str) -> tuple[str, dict[str, str]]:
    lines = doc.splitlines()
    summary_lines: list[str] = []
    args: dict[str, str] = {}
    section = "summary"
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            section = "args"
            continue
        if stripped.endswith(":") and stripped[:-1] in ("Returns", "Raises", "Yields", "Examples"):
            section = "other"
            continue
        if section == "summary":
            if stripped:
                summary_lines.append(stripped)
        elif section == "args" and stripped:
            match = _ARG_LINE.match(line)
            if match and line.startswith(" " * 4) and not line.startswith(" " * 9):
                current = match.group(1).lstrip("*")
                args[current] = match.group(3).strip()
            elif current is not None:
                args[current] = f"{args[current]} {stripped}".strip()
    return " ".join(summary_lines), args
