"""The Files and Batch endpoints of OpenAI's Batch API, for image requests, processed in the background.

Routes (under the persona's prefix, e.g. ``/v1``):

* ``POST /files`` (multipart: ``purpose``, ``file``) -> a file object; ``GET /files/{id}`` and
  ``GET /files/{id}/content``;
* ``POST /batches`` (``input_file_id``, ``endpoint`` ``/v1/images/generations`` or ``/v1/images/edits``,
  ``completion_window: "24h"``) -> a batch object; ``GET /batches/{id}``; ``POST /batches/{id}/cancel``.

A batch is processed by a background task: each line of its input file (``{custom_id, method, url, body}``)
is sent to this same application in process, so the persona, the checks, ``--latency``, ``--faults`` and
``--rate-limit`` all apply (and the request log shows each line once). The Files and Batch requests
themselves take the faults an ``X-Imagewire-Fault`` header asks for that replace a whole answer
(``server-error;times=2``, ``rate-limit``, ``quota``, ...), counted per path as for image requests.
Answers go to the output file (2xx) or the error file (the others), one JSON line each: ``{id, custom_id,
response: {status_code, request_id, body}, error}``; a line that cannot be read at all gets ``response:
null`` and an ``error``.
Status: ``validating`` -> ``in_progress`` -> ``finalizing`` -> ``completed`` (or ``failed`` when the
input file is unusable, ``cancelling`` -> ``cancelled``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imagewire.server.errors import ApiError

__all__ = ["BatchStore", "routes"]

ENDPOINTS = ("/v1/images/generations", "/v1/images/edits")
#: requests of one batch processed at once
BATCH_CONCURRENCY = 8
MAX_FILE = 200 * 1024 * 1024


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


@dataclass
class Batch:
    id: str
    endpoint: str
    input_file_id: str
    completion_window: str
    metadata: dict[str, Any] | None
    created_at: int
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: dict[str, Any] | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    times: dict[str, int] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None

    def object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": self.errors,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "in_progress_at": self.times.get("in_progress_at"),
            "expires_at": self.created_at + 24 * 3600,
            "finalizing_at": self.times.get("finalizing_at"),
            "completed_at": self.times.get("completed_at"),
            "failed_at": self.times.get("failed_at"),
            "expired_at": None,
            "cancelling_at": self.times.get("cancelling_at"),
            "cancelled_at": self.times.get("cancelled_at"),
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "metadata": self.metadata,
        }


@dataclass
class BatchStore:
    files: dict[str, StoredFile] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)

    def add_file(self, data: bytes, filename: str, purpose: str) -> StoredFile:
        stored = StoredFile(f"file-{secrets.token_hex(12)}", filename, purpose, data, int(time.time()))
        self.files[stored.id] = stored
        return stored


#: sends one request to the application in process: (method, URL, headers, body) -> (status, headers, body)
Send = Callable[[str, str, dict[str, str], bytes], Awaitable[tuple[int, dict[str, str], bytes]]]


def _not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"No such {kind}: '{ident}'.", param="id", code="not_found")


class Service:
    """The handlers; ``authorize`` and ``error_response`` are the provider's own, ``prefix`` its path prefix."""

    def __init__(
        self,
        store: BatchStore,
        *,
        prefix: str,
        authorize: Callable[[Request], None],
        error_response: Callable[[ApiError], Response],
        send: Send,
        faults: Callable[[Request], Response | None] | None = None,
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.authorize = authorize
        self.error_response = error_response
        self.send = send
        self.faults = faults

    def _guard(self, handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            try:
                self.authorize(request)
                faulted = self.faults(request) if self.faults is not None else None
                return faulted if faulted is not None else await handler(request)
            except ApiError as err:
                return self.error_response(err)

        return guarded

    # -- files

    async def upload(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise ApiError(415, "Expected multipart/form-data with 'purpose' and 'file'.", code="unsupported_media")
        async with request.form(max_part_size=MAX_FILE) as form:
            purpose = form.get("purpose")
            upload = form.get("file")
            if not isinstance(purpose, str) or not purpose:
                raise ApiError(
                    400, "Missing required parameter: 'purpose'.", param="purpose", code="missing_required_parameter"
                )
            if upload is None or isinstance(upload, str):
                raise ApiError(
                    400, "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"
                )
            data = await upload.read()
            stored = self.store.add_file(data, upload.filename or "upload", purpose)
        return JSONResponse(stored.object())

    def _file(self, request: Request) -> StoredFile:
        ident = request.path_params["file_id"]
        stored = self.store.files.get(ident)
        if stored is None:
            raise _not_found("file", ident)
        return stored

    async def retrieve_file(self, request: Request) -> Response:
        return JSONResponse(self._file(request).object())

    async def content(self, request: Request) -> Response:
        stored = self._file(request)
        return Response(stored.data, media_type="application/jsonl" if stored.filename.endswith(".jsonl") else None)

    # -- batches

    async def create(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "We could not parse the JSON body of your request.", code="invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a JSON object.", code="invalid_type")
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(body.get(name), str):
                raise ApiError(
                    400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
                )
        if body["endpoint"] not in ENDPOINTS:
            raise ApiError(
                400,
                f"Invalid value: '{body['endpoint']}'. This server batches {', '.join(ENDPOINTS)}.",
                param="endpoint",
                code="invalid_value",
            )
        if body["completion_window"] != "24h":
            raise ApiError(
                400, "Invalid value: completion_window must be '24h'.", param="completion_window", code="invalid_value"
            )
        stored = self.store.files.get(body["input_file_id"])
        if stored is None:
            raise _not_found("file", body["input_file_id"])
        if stored.purpose != "batch":
            raise ApiError(
                400,
                f"File {stored.id} has purpose '{stored.purpose}', not 'batch'.",
                param="input_file_id",
                code="invalid_value",
            )
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
        batch = Batch(f"batch_{secrets.token_hex(12)}", body["endpoint"], stored.id, "24h", metadata, int(time.time()))
        self.store.batches[batch.id] = batch
        origin = str(request.base_url).rstrip("/")
        batch.task = asyncio.get_running_loop().create_task(self._process(batch, request.headers, origin))
        return JSONResponse(batch.object())

    def _batch(self, request: Request) -> Batch:
        ident = request.path_params["batch_id"]
        batch = self.store.batches.get(ident)
        if batch is None:
            raise _not_found("batch", ident)
        return batch

    async def retrieve(self, request: Request) -> Response:
        return JSONResponse(self._batch(request).object())

    async def cancel(self, request: Request) -> Response:
        batch = self._batch(request)
        if batch.status in ("validating", "in_progress", "finalizing"):
            batch.status = "cancelling"
            batch.times["cancelling_at"] = int(time.time())
        return JSONResponse(batch.object())

    # -- processing

    async def _process(self, batch: Batch, headers: Any, origin: str) -> None:
        auth = {k: v for k, v in headers.items() if k.lower() in ("authorization", "api-key")}
        lines = self.store.files[batch.input_file_id].data.decode("utf-8", "replace").splitlines()
        requests: list[dict[str, Any]] = []
        problems = []
        for number, text in enumerate(lines, 1):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError:
                problems.append(
                    {"code": "invalid_json_line", "message": "This line is not valid JSON.", "line": number}
                )
                continue
            if (
                not isinstance(line, dict)
                or not isinstance(line.get("custom_id"), str)
                or line.get("url") != batch.endpoint
            ):
                problems.append(
                    {
                        "code": "invalid_request",
                        "message": f"Each line needs a custom_id and url '{batch.endpoint}'.",
                        "line": number,
                    }
                )
                continue
            requests.append(line)
        ids = [line["custom_id"] for line in requests]
        if len(set(ids)) != len(ids):
            problems.append(
                {"code": "duplicate_custom_id", "message": "custom_id values must be unique.", "line": None}
            )
        if problems or not requests:
            batch.status = "failed"
            batch.times["failed_at"] = int(time.time())
            batch.errors = {"object": "list", "data": problems or [{"code": "empty_file", "message": "No requests."}]}
            return
        batch.total = len(requests)
        batch.status = "in_progress"
        batch.times["in_progress_at"] = int(time.time())
        outputs: list[str] = []
        errors: list[str] = []
        gate = asyncio.Semaphore(BATCH_CONCURRENCY)
        path = self.prefix + batch.endpoint.removeprefix("/v1")

        async def one(line: dict[str, Any]) -> None:
            async with gate:
                if batch.status != "in_progress":
                    return
                body = json.dumps(line.get("body") or {}).encode()
                status, answer_headers, content = await self.send(
                    "POST", origin + path, {**auth, "content-type": "application/json"}, body
                )
                try:
                    parsed: Any = json.loads(content)
                except ValueError:
                    parsed = content.decode("utf-8", "replace")
                record = {
                    "id": f"batch_req_{secrets.token_hex(12)}",
                    "custom_id": line["custom_id"],
                    "response": {
                        "status_code": status,
                        "request_id": answer_headers.get("x-request-id", ""),
                        "body": parsed,
                    },
                    "error": None,
                }
                if 200 <= status < 300:
                    batch.completed += 1
                    outputs.append(json.dumps(record))
                else:
                    batch.failed += 1
                    errors.append(json.dumps(record))

        await asyncio.gather(*(one(line) for line in requests))
        batch.status = "finalizing" if batch.status == "in_progress" else batch.status
        batch.times["finalizing_at"] = int(time.time())
        if outputs:
            batch.output_file_id = self.store.add_file(
                ("\n".join(outputs) + "\n").encode(), f"{batch.id}_output.jsonl", "batch_output"
            ).id
        if errors:
            batch.error_file_id = self.store.add_file(
                ("\n".join(errors) + "\n").encode(), f"{batch.id}_error.jsonl", "batch_output"
            ).id
        if batch.status == "cancelling":
            batch.status = "cancelled"
            batch.times["cancelled_at"] = int(time.time())
        else:
            batch.status = "completed"
            batch.times["completed_at"] = int(time.time())

    def routes(self, prefixes: tuple[str, ...]) -> list[Route]:
        table: list[Route] = []
        for prefix in prefixes:
            table += [
                Route(f"{prefix}/files", self._guard(self.upload), methods=["POST"]),
                Route(f"{prefix}/files/{{file_id}}", self._guard(self.retrieve_file), methods=["GET"]),
                Route(f"{prefix}/files/{{file_id}}/content", self._guard(self.content), methods=["GET"]),
                Route(f"{prefix}/batches", self._guard(self.create), methods=["POST"]),
                Route(f"{prefix}/batches/{{batch_id}}", self._guard(self.retrieve), methods=["GET"]),
                Route(f"{prefix}/batches/{{batch_id}}/cancel", self._guard(self.cancel), methods=["POST"]),
            ]
        return table


def routes(provider: Any, app_ref: Callable[[], Any]) -> list[Route]:
    """The Files and Batch routes of a provider (``imagewire.server.app.Provider``) whose persona offers batches.

    ``app_ref`` returns the finished application, to which batch lines are sent in process.
    """
    import httpx

    from imagewire_client import PROVIDERS

    persona = provider.persona
    entry = PROVIDERS.get(persona.name)
    if entry is None or entry.batch is None:  # only personas whose catalog entry declares a Batch API
        return []
    clients: dict[str, httpx.AsyncClient] = {}

    async def send(method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        client = clients.get("app")
        if client is None:
            client = clients["app"] = httpx.AsyncClient(transport=httpx.ASGITransport(app=app_ref()), timeout=None)
        answer = await client.request(method, url, headers=headers, content=body)
        return answer.status_code, dict(answer.headers), answer.content

    service = Service(
        BatchStore(),
        prefix=persona.prefix,
        authorize=provider._authorize,
        error_response=provider.error_response,
        send=send,
        faults=provider.header_faults,
    )
    return service.routes((persona.prefix, *persona.aliases))
