"""Queue items for the work-queue tests: the store's own ``NewItem``, named by the ids a test reads back."""

from agentbatch.domain.turn_requests import TurnRequest
from agentbatch.store.new_items import NewItem


def queued_item(item_id: str, agent_id: str, model: str) -> NewItem:
    """A turn with the default request for ``agent_id`` on ``model``, under the id ``item_id``."""
    return NewItem(agent_id, model, TurnRequest(), id=item_id)
