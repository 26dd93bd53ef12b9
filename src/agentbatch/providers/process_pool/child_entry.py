"""The command a provider process runs: ``python -m agentbatch.providers.process_pool.child_entry FD
[PROVIDERS_FILE]``, FD its end of a socket pair with the engine.

The engine starts its provider processes with the server, but most servers wait a while for work. Until
the engine's first frame arrives (a ``warm`` when work is queued, or a ``call``), the child waits on the
socket having imported nothing but the standard library's ``select`` and the process hardening: ~12 MiB
instead of the ~26 MiB that asyncio, uvloop and the frame protocol bring. Then it imports them and serves
(``child``); the frame is still in the socket, unread, for the server to read.
"""

import select
import sys

from agentbatch.process_hardening import forbid_inspection


def main() -> None:
    forbid_inspection()  # it holds the provider keys: no other process may read its memory or environ
    fd = int(sys.argv[1])
    select.select([fd], [], [])  # readable: a first frame, or the engine went away (end of file)

    from agentbatch.providers.process_pool.child import run

    run(fd, sys.argv[2] if len(sys.argv) > 2 else None)


if __name__ == "__main__":
    main()
