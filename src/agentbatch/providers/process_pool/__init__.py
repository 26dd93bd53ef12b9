"""Provider processes: SDK calls run in child processes (``pool``), over a frame protocol with typed
errors (``frames``), served by ``child``. See docs/decisions/0003-provider-calls.md."""

from agentbatch.providers.process_pool.pool import PooledTransport, ProviderProcess, ProviderProcessPool

__all__ = ["PooledTransport", "ProviderProcess", "ProviderProcessPool"]
