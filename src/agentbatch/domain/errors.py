"""The project's exception tree. The API renders each with its status in one place (``api/errors.py``).

    AgentbatchError
    ├── NotFound            404: an id that is well formed but names nothing the caller can see
    ├── InvalidRequest      400: the request is understood but cannot be carried out as asked
    │   └── StateConflict   400: the target is in a state that forbids the action (e.g. cancel a
    │                            finished batch). Deliberately not 409: the SDK retries 409s.
    │   └── Unprocessable   422: well formed, but not something this server can run as asked (e.g.
    │                            dispatch provider_batch for agents whose provider has no batch API)
    ├── PayloadTooLarge     413: a request body over the configured limit
    ├── IdempotencyKeyReused 422: an Idempotency-Key sent again with a different body
    └── Unauthorized        401: a missing or unknown API key

Provider failures have their own tree in ``agentbatch.providers.errors``.
"""


class AgentbatchError(Exception):
    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(AgentbatchError):
    status_code = 404


class InvalidRequest(AgentbatchError):
    status_code = 400


class StateConflict(InvalidRequest):
    pass


class Unprocessable(InvalidRequest):
    status_code = 422


class PayloadTooLarge(AgentbatchError):
    status_code = 413


class Unauthorized(AgentbatchError):
    status_code = 401


class IdempotencyKeyReused(AgentbatchError):
    """422: an ``Idempotency-Key`` already used with a different request body."""

    status_code = 422
