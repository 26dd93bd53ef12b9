"""Provider processes: SDK calls run in child processes (``pool``), over a frame protocol with typed
errors (``frames``), served by ``child``; ``child_entry`` is the command a child runs. See
docs/decisions/0003-provider-calls.md.

Nothing is imported here: a waiting child imports this package and must stay small.
"""
