"""``python -m agentbatch`` is the ``agentbatch`` command."""

from agentbatch.cli.main import main

main()
