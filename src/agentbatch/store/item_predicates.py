"""The queue's item predicates, each spelled exactly as the predicate of the partial index that serves it.

Both planners use a partial index only for a query that implies its predicate: SQLite matches the same
literal terms (a bound parameter, or SQLAlchemy's ``ready = 1`` for a Boolean column, does not match
``ready``), PostgreSQL's generic plans never prove anything from bound values. So the index definitions
(``tables.py``) and the queries (``item_is_*``) are written from the same strings here.
"""

from sqlalchemy import TextClause, text

from agentbatch.domain.states import UNFINISHED_ITEM_STATUSES

_PENDING = "status = 'pending'"
_READY = "ready"
_UNFINISHED = "status IN ({})".format(", ".join(f"'{status.value}'" for status in UNFINISHED_ITEM_STATUSES))


def _on_items(*terms: str) -> TextClause:
    """The query's form of an index predicate: the same terms, each column named with its table."""
    return text(" AND ".join(f"batch_items.{term}" for term in terms))


_CLAIMABLE = (_PENDING, _READY)
_AGENT_HEAD = (_READY, _UNFINISHED)

CLAIMABLE_SQL = " AND ".join(_CLAIMABLE)
UNFINISHED_SQL = _UNFINISHED
AGENT_HEAD_SQL = " AND ".join(_AGENT_HEAD)
"""The partial indexes' predicates (``tables.py``); the ``item_is_*`` below are the same terms in queries."""

item_is_claimable = _on_items(*_CLAIMABLE)
"""An item a worker may claim: pending and its agent's next. Spelled as the predicate of
``ix_batch_items_claimable``, literally, so that both planners see the query implies it: SQLAlchemy writes
a Boolean column as ``ready = 1`` on SQLite, which SQLite does not take to imply ``ready`` (the claim and
the model list scanned every item: 27 ms a claim at 100,000 pending items, 0.2 ms through the index), and
a bound ``status`` would hide it from PostgreSQL's generic plans. Queries on claimable items use this."""

item_is_unfinished = _on_items(_UNFINISHED)
"""An item still to run or running, spelled as the predicate of ``ix_batch_items_agent_unfinished``: every
query of an agent's items names it, so it reads only the agent's unfinished items, never its history
(an agent's ended items leave that index)."""

item_is_agent_head = _on_items(*_AGENT_HEAD)
"""The one unfinished item of an agent that is ``ready`` (claimable or running): an agent has unfinished
items exactly when it has a head, so ``ix_batch_items_agent_head`` (one entry per busy agent) answers
"which of these agents are busy" without reading their queued items."""
