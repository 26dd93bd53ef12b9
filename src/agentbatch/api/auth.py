"""Who is calling: the owner of the API key, or the single default user of an open server."""

import hmac

from fastapi import Depends, Request

from agentbatch.api.services import ApiServices, services
from agentbatch.domain.errors import Unauthorized
from agentbatch.domain.ids import DEFAULT_USER_ID, user_id_for_key


def caller(request: Request, svc: ApiServices = Depends(services)) -> str:
    keys = svc.settings.api_key_list
    if not keys:
        return DEFAULT_USER_ID
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("missing API key: send `Authorization: Bearer <key>`")
    for key in keys:
        if hmac.compare_digest(key.encode(), token.strip().encode()):
            return user_id_for_key(key)
    raise Unauthorized("unknown API key")
