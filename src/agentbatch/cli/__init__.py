"""The ``agentbatch`` command."""
