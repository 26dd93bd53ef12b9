"""The queue's item predicates, each spelled exactly as the predicate of the partial index that serves it.

Both planners use a partial index only for a query that implies its predicate: SQLite matches the same
literal terms (a bound parameter, or SQLAlchemy's ``ready = 1`` for a Boolean column, does not match
``ready``), PostgreSQL's generic plans never prove anything from bound values. So the index definitions
(``tables.py``) and the queries (``item_is_*``) are written from the same strings here.
"""

from sqlalchemy import text

from agentbatch.domain.states import UNFINISHED_ITEM_STATUSES

CLAIMABLE_SQL = "status = 'pending' AND ready"
UNFINISHED_SQL = "status IN ({})".format(
    ", ".join(f"'{status.value}'" for status in UNFINISHED_ITEM_STATUSES)
)
AGENT_HEAD_SQL = f"ready AND {UNFINISHED_SQL}"

item_is_claimable = text("batch_items.status = 'pending' AND batch_items.ready")
"""An item a worker may claim: pending and its agent's next. Spelled as the predicate of
``ix_batch_items_claimable``, literally, so that both planners see the query implies it: SQLAlchemy writes
a Boolean column as ``ready = 1`` on SQLite, which SQLite does not take to imply ``ready`` (the claim and
the model list scanned every item: 27 ms a claim at 100,000 pending items, 0.2 ms through the index), and
a bound ``status`` would hide it from PostgreSQL's generic plans. Queries on claimable items use this."""

item_is_unfinished = text(f"batch_items.{UNFINISHED_SQL}")
"""An item still to run or running, spelled as the predicate of ``ix_batch_items_agent_unfinished``: every
query of an agent's items names it, so it reads only the agent's unfinished items, never its history
(an agent's ended items leave that index)."""

item_is_agent_head = text(f"batch_items.ready AND batch_items.{UNFINISHED_SQL}")
"""The one unfinished item of an agent that is ``ready`` (claimable or running): an agent has unfinished
items exactly when it has a head, so ``ix_batch_items_agent_head`` (one entry per busy agent) answers
"which of these agents are busy" without reading their queued items."""
