"""Everything a turn's tool calls need: the base and memory tools, running a call (``tool_calls``),
tool rules, schemas from source, approval replies to paused calls, and the custom-tool sandbox."""
