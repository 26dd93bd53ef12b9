"""One structured log line per event an operator cares about.

``emit("batch.ended", batch_id=..., succeeded=3)`` logs on the ``agentbatch.events`` logger with the
fields attached to the record; the formatter ``agentbatch.engine.log_format.EventFormatter`` writes them
as ``key=value`` pairs or as one JSON object per line. Any layer at or above the engine may call it.

Events: ``batch.created``, ``batch.started``, ``batch.ended``, ``item.errored``, ``lease.recovered``,
``callback.failed``, ``callback.delivered``, ``provider_batch.submitted``, ``provider_batch.ended``.
"""

import logging

EVENT_LOGGER = "agentbatch.events"
FIELDS_ATTRIBUTE = "event_fields"

_log = logging.getLogger(EVENT_LOGGER)


def emit(event: str, *, level: int = logging.INFO, **fields: object) -> None:
    """Log ``event`` with ``fields`` (ids first by convention: batch_id, item_id, agent_id)."""
    if _log.isEnabledFor(level):
        _log.log(level, event, extra={FIELDS_ATTRIBUTE: fields})
