"""The performance tricks of agentbatch, in one place: what each does, why, and which benchmark shows it.

Every process that runs steps (``serve``, ``worker``, a provider process) calls these; nothing else
tunes the interpreter. ``benchmarks/overhead.py`` measures the whole (steps/s beside a user's own loop,
start-up, idle memory, accepting a large batch); each entry names its own evidence.

1. ``new_event_loop`` — uvloop instead of asyncio's default loop: the engine's loop does little but
   socket I/O, and uvloop's is cheaper per read/write (``benchmarks/provider_call_cpu.py``).
2. ``tune_garbage_collector`` — called once start-up is done. A step allocates thousands of short-lived
   objects (SDK request models, headers, rows), so the default thresholds run collections constantly and
   each walks every long-lived object (modules, SQLAlchemy and pydantic schemas). Freezing what start-up
   built and collecting the young generation less often cut the CPU per step from ~1,240 µs to ~800 µs
   (docs/decisions/0003-provider-calls.md).
3. Provider processes start right after start-up, in the background (``serve`` is ready without
   waiting for them), and import nothing until their first frame, and a provider's SDK only with the
   first call to it: an idle ``serve`` is its main process without either SDK (nor httpx: the CLI and
   the callback sender import it when first used) plus ~13 MiB children (``overhead.py``: idle RSS of the
   process tree; docs/decisions/0011-overhead.md). The pool is in ``providers/process_pool/``; the SDK
   modules are imported by the functions that build transports.

4. ``collection_paused`` — the cyclic garbage collector is paused while a request with a large body
   (1 MiB or more, or streamed) is handled (``api/large_bodies.py``). Accepting a 100,000-request batch
   builds about a million objects that all live until the rows are written: every collection meanwhile
   walks them again and finds nothing to free (~25 % of the accept's CPU; ``overhead.py``).
5. Rows are read by key (``row._mapping["name"]``) or, for a message history, unpacked by position
   (``store/messages.py``), never as ``row.name``: SQLAlchemy 2.1 reaches a Row's attribute through
   ``__getattr__`` after an ordinary lookup fails, ~380 ns a column against ~66 ns by key and ~47 ns by
   index; a message took 13.6 µs to read, 4.2 µs unpacked (``engine_throughput.py``, ``queued``: agents
   whose turns read a growing history, 1.3x steps/s).
6. A large batch is written in parts of ``ITEM_PART`` (10,000) items, each part built while SQLite
   writes the one before (``store/bulk.py``: ``overlapped_inserts``). The API hands the engine its
   requests lazily (``BatchRequests``: a request's typed ``TurnRequest`` is built when its part is), and
   on SQLite a part of 500 rows or more is one ``INSERT … SELECT … FROM json_each(?)`` over the rows as
   one JSON text: SQLite reads it in C in its own thread without the interpreter's lock, where
   ``executemany`` takes the lock back for every row (so the two threads never ran at once; decision
   0011, round five). A 100,000-request accept went from 1.68 s to 1.23 s of server time, 1.5 s of CPU
   on two cores (``overhead.py``, accept; decision 0015).

This module sits outside the layers (like ``process_hardening``): it imports no agentbatch module.
"""

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator

import uvloop

YOUNG_GENERATION_THRESHOLD = 50_000
"""Allocations between young-generation collections (the default is 700)."""


def tune_garbage_collector() -> None:
    """Freeze what start-up built and collect the young generation every 50,000 allocations."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 20, 100)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop every agentbatch process runs on (uvloop)."""
    return uvloop.new_event_loop()


EVENT_LOOP_FACTORY: Callable[[], asyncio.AbstractEventLoop] = new_event_loop
UVICORN_LOOP = "uvloop"
"""uvicorn's name for the same loop, for ``uvicorn.Config(loop=…)``."""


_pauses = 0


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (nor in whatever runs meanwhile on this loop); it
    resumes when the last of overlapping pauses ends. Reference counting still frees what is dropped."""
    global _pauses
    _pauses += 1
    if _pauses == 1:
        gc.disable()
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0:
            gc.enable()
