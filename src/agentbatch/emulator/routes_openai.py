"""OpenAI files and batches endpoints (Starlette; off the hot path)."""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agentbatch.emulator.batch_timeline import page_after
from agentbatch.emulator.batches_openai import CHAT_ENDPOINT, OpenAIBatch, OpenAIBatchStore
from agentbatch.emulator.files import PURPOSES, FileStore
from agentbatch.emulator.multipart import MultipartError, parse_form
from agentbatch.emulator.responses import json_body, json_response, openai_error_response, query_int


class OpenAIRoutes:
    """``/v1/files`` and ``/v1/batches``."""

    def __init__(self, files: FileStore, batches: OpenAIBatchStore) -> None:
        self.files = files
        self.batches = batches

    async def upload_file(self, request: Request) -> Response:
        try:
            form = parse_form(await request.body(), request.headers.get("content-type", ""))
        except MultipartError as error:
            return openai_error_response(400, f"Invalid multipart body: {error}")
        upload, purpose = form.get("file"), form.get("purpose")
        if upload is None:
            return openai_error_response(400, "Missing required parameter: 'file'.", param="file")
        purpose_text = purpose.data.decode() if purpose is not None else ""
        if purpose_text not in PURPOSES:
            return openai_error_response(
                400, f"Invalid value for 'purpose': {purpose_text!r}.", param="purpose"
            )
        stored = self.files.add(upload.filename or "upload", purpose_text, upload.data)
        return json_response(stored.to_json())

    async def list_files(self, request: Request) -> Response:
        limit = query_int(request, "limit", 10_000, 10_000)
        if limit is None:
            return openai_error_response(400, "Invalid 'limit'.", param="limit")
        stored = self.files.newest_first(request.query_params.get("purpose"))
        page = page_after(stored, [item.id for item in stored], request.query_params.get("after"), limit)
        if page is None:
            return openai_error_response(400, "Invalid 'after': no such file.", param="after")
        return json_response(_list_page([item.to_json() for item in page[0]], page[1]))

    async def get_file(self, request: Request) -> Response:
        stored = self.files.get(request.path_params["file_id"])
        return json_response(stored.to_json()) if stored else _no_file(request)

    async def file_content(self, request: Request) -> Response:
        stored = self.files.get(request.path_params["file_id"])
        if stored is None:
            return _no_file(request)
        return Response(stored.data, media_type="application/octet-stream")

    async def delete_file(self, request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if not self.files.delete(file_id):
            return _no_file(request)
        return json_response({"id": file_id, "object": "file", "deleted": True})

    async def create_batch(self, request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            return openai_error_response(400, "The request body must be a JSON object.")
        problem = _create_problem(body)
        if problem is not None:
            return openai_error_response(400, problem[0], param=problem[1])
        stored = self.files.get(body["input_file_id"])
        if stored is None:
            return openai_error_response(
                404, f"No such File object: {body['input_file_id']}", param="input_file_id"
            )
        if stored.purpose != "batch":
            message = f"File {stored.id} was not uploaded with purpose 'batch'."
            return openai_error_response(400, message, param="input_file_id")
        batch = self.batches.create(stored.id, stored.data, body.get("metadata"))
        return json_response(batch.to_json())

    async def get_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        return json_response(batch.to_json()) if batch else _no_batch(request)

    async def cancel_batch(self, request: Request) -> Response:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return _no_batch(request)
        if not self.batches.cancel(batch):
            return openai_error_response(400, f"Cannot cancel a batch with status '{batch.status}'.")
        return json_response(batch.to_json())

    async def list_batches(self, request: Request) -> Response:
        limit = query_int(request, "limit", 20, 100)
        if limit is None:
            return openai_error_response(
                400, "Invalid 'limit': expected an integer between 1 and 100.", param="limit"
            )
        items: list[OpenAIBatch] = self.batches.newest_first()
        page = page_after(items, [batch.id for batch in items], request.query_params.get("after"), limit)
        if page is None:
            return openai_error_response(400, "Invalid 'after': no such batch.", param="after")
        return json_response(_list_page([batch.to_json() for batch in page[0]], page[1]))

    def routes(self) -> list[Route]:
        return [
            Route("/v1/files", self.upload_file, methods=["POST"]),
            Route("/v1/files", self.list_files, methods=["GET"]),
            Route("/v1/files/{file_id}", self.get_file, methods=["GET"]),
            Route("/v1/files/{file_id}", self.delete_file, methods=["DELETE"]),
            Route("/v1/files/{file_id}/content", self.file_content, methods=["GET"]),
            Route("/v1/batches", self.create_batch, methods=["POST"]),
            Route("/v1/batches", self.list_batches, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self.get_batch, methods=["GET"]),
            Route("/v1/batches/{batch_id}/cancel", self.cancel_batch, methods=["POST"]),
        ]


def _create_problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """(message, param) of what is wrong with a create-batch body, or None."""
    if not isinstance(body.get("input_file_id"), str):
        return "Missing required parameter: 'input_file_id'.", "input_file_id"
    if body.get("endpoint") != CHAT_ENDPOINT:
        return f"Invalid 'endpoint': the emulator supports only {CHAT_ENDPOINT}.", "endpoint"
    if body.get("completion_window") != "24h":
        return "Invalid 'completion_window': only '24h' is supported.", "completion_window"
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return "Invalid 'metadata': expected an object.", "metadata"
    return None


def _list_page(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def _no_file(request: Request) -> Response:
    return openai_error_response(404, f"No such File object: {request.path_params['file_id']}", param="id")


def _no_batch(request: Request) -> Response:
    return openai_error_response(404, f"No batch found with id '{request.path_params['batch_id']}'.")
