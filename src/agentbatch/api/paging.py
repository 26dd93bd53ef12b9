"""Query parameters of the list endpoints, as one dependency."""

from typing import Literal

from fastapi import Query

from agentbatch.domain.paging import PageRequest

MAX_LIMIT = 1_000


def page_params(
    after: str | None = Query(default=None, description="Exclusive cursor: items after this id."),
    before: str | None = Query(default=None, description="Exclusive cursor: items before this id."),
    limit: int = Query(default=100, ge=0, le=MAX_LIMIT, description="At most this many; 0: an empty page."),
    order: Literal["asc", "desc"] = Query(default="desc"),
    order_by: Literal["created_at"] = Query(default="created_at"),
) -> PageRequest:
    return PageRequest(after=after, before=before, limit=limit, descending=order == "desc")
