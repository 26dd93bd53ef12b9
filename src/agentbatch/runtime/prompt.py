"""The system prompt every step sends: the agent's instructions, then its memory blocks."""

from collections.abc import Sequence

from agentbatch.domain.agents import Block


def render_system(system: str, blocks: Sequence[Block]) -> str:
    if not blocks:
        return system
    sections = [system, "", "<memory_blocks>", "Your core memory; edit it with your memory tools.", ""]
    for block in blocks:
        sections.append(f"<{block.label}>")
        if block.description:
            sections.append(f"<description>{block.description}</description>")
        flags = f"chars_current={len(block.value)} chars_limit={block.limit}"
        if block.read_only:
            flags += " read_only=true"
        sections.extend(
            [f"<metadata>{flags}</metadata>", "<value>", block.value, "</value>", f"</{block.label}>"]
        )
    sections.append("</memory_blocks>")
    return "\n".join(sections)
