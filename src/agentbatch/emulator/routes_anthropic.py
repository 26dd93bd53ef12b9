"""Anthropic Message Batches and token counting endpoints (Starlette; off the hot path)."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agentbatch.emulator.anthropic_protocol import AnthropicMessagesProtocol
from agentbatch.emulator.batch_timeline import page_after, page_before
from agentbatch.emulator.batches_anthropic import AnthropicBatchStore, QueueFull
from agentbatch.emulator.directives import DirectiveError
from agentbatch.emulator.protocol import InvalidRequest
from agentbatch.emulator.responses import anthropic_error_response, json_body, json_response, query_int


class AnthropicRoutes:
    """``/v1/messages/batches`` and ``/v1/messages/count_tokens``."""

    def __init__(self, batches: AnthropicBatchStore) -> None:
        self.batches = batches
        self.counter = AnthropicMessagesProtocol()

    async def create_batch(self, request: Request) -> Response:
        try:
            batch = self.batches.create(await json_body(request))
        except InvalidRequest as error:
            return anthropic_error_response(400, str(error))
        except QueueFull as error:
            return anthropic_error_response(429, str(error))
        return json_response(batch.to_json(_origin(request)))

    async def get_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        return json_response(batch.to_json(_origin(request))) if batch else _no_batch(request)

    async def cancel_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return _no_batch(request)
        if not self.batches.cancel(batch):
            return anthropic_error_response(400, f"Batch {batch.id} has ended and can no longer be canceled.")
        return json_response(batch.to_json(_origin(request)))

    async def delete_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return _no_batch(request)
        if not self.batches.delete(batch):
            return anthropic_error_response(400, f"Batch {batch.id} is still processing; cancel it first.")
        return json_response({"id": batch.id, "type": "message_batch_deleted"})

    async def batch_results(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return _no_batch(request)
        if batch.processing_status != "ended":
            return anthropic_error_response(
                400, f"Batch {batch.id} has not ended; its results are not ready."
            )
        return Response(batch.results_jsonl(), media_type="application/binary")

    async def list_batches(self, request: Request) -> Response:
        limit = query_int(request, "limit", 20, 1000)
        if limit is None:
            return anthropic_error_response(400, "limit: expected an integer between 1 and 1000")
        items = self.batches.newest_first()
        ids = [batch.id for batch in items]
        before = request.query_params.get("before_id")
        if before is not None:
            page = page_before(items, ids, before, limit)
        else:
            page = page_after(items, ids, request.query_params.get("after_id"), limit)
        if page is None:
            return anthropic_error_response(400, "after_id/before_id: no such message batch")
        origin = _origin(request)
        data = [batch.to_json(origin) for batch in page[0]]
        return json_response(
            {
                "data": data,
                "has_more": page[1],
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )

    async def count_tokens(self, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            return anthropic_error_response(400, "The request body must be a JSON object.")
        try:
            turn = self.counter.parse({"max_tokens": 1, **body})
        except (InvalidRequest, DirectiveError) as error:
            return anthropic_error_response(400, str(error))
        return json_response({"input_tokens": turn.prompt_tokens})

    def routes(self) -> list[Route]:
        return [
            Route("/v1/messages/count_tokens", self.count_tokens, methods=["POST"]),
            Route("/v1/messages/batches", self.create_batch, methods=["POST"]),
            Route("/v1/messages/batches", self.list_batches, methods=["GET"]),
            Route("/v1/messages/batches/{batch_id}", self.get_batch, methods=["GET"]),
            Route("/v1/messages/batches/{batch_id}", self.delete_batch, methods=["DELETE"]),
            Route("/v1/messages/batches/{batch_id}/cancel", self.cancel_batch, methods=["POST"]),
            Route("/v1/messages/batches/{batch_id}/results", self.batch_results, methods=["GET"]),
        ]


def _origin(request: Request) -> str:
    """``scheme://host[:port]`` as the client addressed this server, for absolute result URLs."""
    return f"{request.url.scheme}://{request.url.netloc}"


def _no_batch(request: Request) -> Response:
    return anthropic_error_response(
        404, f"No message batch found with id {request.path_params['batch_id']!r}."
    )
