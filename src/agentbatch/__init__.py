"""agentbatch: batches of stateful LLM-agent conversations behind Letta's Batches API."""

__version__ = "0.1.0"
