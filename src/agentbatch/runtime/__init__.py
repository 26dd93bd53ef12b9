"""One agent turn: the step loop, memory, tools."""
