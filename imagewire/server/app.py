"""The reference provider as a Starlette application: :func:`make_app`.

Per request, in this order: route (the persona's URL shape; 404 ``Invalid URL``, 405 for a method other
than POST, 404 for an operation the persona does not offer), Azure's ``api-version``, auth (401), faults,
latency, then reading (:mod:`~imagewire.server.reading`: content type 415, size 413, the spec's request
schema 400), deciding (:mod:`~imagewire.server.planning`: the persona's model table 404
``model_not_found``, input files 413 over a model's limit, the model catalog's checks 400, the moderation
marker word ``forbidden`` 400) and answering (:mod:`~imagewire.server.answers`: the images, as JSON or an
event stream).

``created`` and ``created_at`` are the real unix time of the answer; the image bytes do not depend on it.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagewire.record.scrub import scrub_url
from imagewire.server import answers, planning, reading
from imagewire.server.contract import load
from imagewire.server.errors import ApiError
from imagewire.server.faults import HEADER, PRE, Canned, parse_header, parse_list, pre_fault
from imagewire.server.files import FileStore
from imagewire.server.personas import persona as find_persona
from imagewire.server.state import DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_CONCURRENT, ServerState

__all__ = ["DEFAULT_BODY_TIMEOUT", "DEFAULT_MAX_BODY", "DEFAULT_MAX_CONCURRENT", "ServerState", "make_app"]

_AZURE_401 = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)


# ---------------------------------------------------------------- request log


class RequestLog:
    """ASGI middleware: every request but ``/_imagewire/*`` is logged when its answer starts (never a header);
    one that ends without an answer (the client went away first) is logged with status ``None``.

    The path and query string are logged as :func:`imagewire.record.scrub.scrub_url` leaves them: a key or a
    signature sent in the URL (``?api-key=...``, ``&sig=...``) never reaches the log.
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith("/_imagewire/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        state.seq += 1
        entry: dict[str, Any] = {
            "seq": state.seq,
            "time": time.time(),
            "method": scope.get("method"),
            "path": scrub_url(str(scope.get("path") or "")),
            "query": _scrubbed_query(bytes(scope.get("query_string") or b"").decode("latin-1")),
            "status": None,
        }
        scope["imagewire.log"] = entry
        started = time.perf_counter()

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start" and entry["status"] is None:
                entry["status"] = message["status"]
                entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
                state.log.append(entry)
            await send(message)

        try:
            await self.app(scope, receive, logged)
        finally:
            if entry["status"] is None:  # no answer started: the client went away (or the server failed)
                entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
                entry["outcome"] = "no answer"
                state.log.append(entry)


def _scrubbed_query(query: str) -> str:
    """A raw query string with credentials and signed-URL values replaced (as recordings scrub them)."""
    return scrub_url("?" + query)[1:] if query else ""


# ---------------------------------------------------------------- the application


class Provider:
    """The request handlers of one server instance."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.persona = state.persona

    # -- plumbing

    def _log(self, request: Request, **values: Any) -> None:
        entry = request.scope.get("imagewire.log")
        if isinstance(entry, dict):
            entry.update(values)

    def error_response(self, err: ApiError) -> Response:
        body = err.envelope()
        if err.status == 401 and self.persona.has("error-401-numeric-code"):
            body = {"error": {"code": "401", "message": _AZURE_401}}
        return JSONResponse(body, status_code=err.status, headers=err.headers)

    def _asked(self, request: Request, path: str) -> list[str]:
        """The faults the ``X-Imagewire-Fault`` header asks of this request (``times=N`` counted per path)."""
        header = request.headers.get(HEADER)
        if not header:
            return []
        try:
            items = parse_header(header)
        except ValueError as err:
            raise ApiError(400, str(err), param=HEADER, code="unknown_fault") from None
        asked = []
        for fault in items:
            key = (fault.key, path)
            self.state.counters[key] = self.state.counters.get(key, 0) + 1
            if fault.times is None or self.state.counters[key] <= fault.times:
                asked.append(fault.name)
        return asked

    def _pre(self, request: Request, active: list[str]) -> Response | None:
        """Log the faults; raise or answer the first that replaces the whole request (None: none does)."""
        if active:
            self._log(request, faults=active)
        for name in active:
            if name in PRE:
                answer = pre_fault(name)
                if isinstance(answer, ApiError):
                    raise answer
                if isinstance(answer, Canned):
                    return self._canned(answer)
        return None

    def header_faults(self, request: Request) -> Response | None:
        """The Files and Batch routes: the faults the header asks for that replace a whole request."""
        return self._pre(request, self._asked(request, request.url.path))

    def _canned(self, canned: Canned) -> Response:
        return Response(
            canned.body, status_code=canned.status, headers={**canned.headers, "content-type": canned.content_type}
        )

    # -- the API

    async def api(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = f"req_{uuid.uuid4().hex}"
        post: list[str] = []
        state = self.state
        try:
            state.active += 1
            if state.active > state.max_concurrent:
                raise _busy(state.max_concurrent)
            response = await self._api(request, request_id, post)
        except ApiError as err:
            response = self.error_response(err)
        finally:
            state.active -= 1
        response.headers["x-request-id"] = request_id
        if self.persona.request_id_header:
            response.headers[self.persona.request_id_header] = str(uuid.UUID(request_id[4:]))
        response.headers["openai-processing-ms"] = str(int((time.perf_counter() - started) * 1000))
        if "truncated" in post or "drop" in post:
            response = await answers.post_fault(response, drop="drop" in post)
        return response

    async def _api(self, request: Request, request_id: str, post: list[str]) -> Response:
        state, p = self.state, self.persona
        method, path = request.method, request.url.path
        matched = p.match(path)
        if matched is None:
            raise ApiError(404, f"Invalid URL ({method} {path})")
        op, deployment = matched
        self._log(request, operation=op)
        if method != "POST":
            raise ApiError(405, f"Invalid method for URL ({method} {path})")
        if op not in p.operations:
            raise ApiError(404, f"Invalid URL ({method} {path})")
        if p.model_from_deployment and not p.in_body(path) and not request.query_params.get("api-version"):
            raise ApiError(
                400,
                "Missing required query parameter 'api-version'.",
                param="api-version",
                code="missing_required_parameter",
            )
        self._authorize(request)

        active = [*state.faults, *self._asked(request, path)]
        canned = self._pre(request, active)
        if canned is not None:
            return canned
        post.extend(name for name in active if name in ("truncated", "drop"))
        delay = state.latency_ms / 1000
        if "slow" in active:
            delay = delay or 2.0
        if delay > 0:
            await asyncio.sleep(delay)

        with await reading.read(request, state, op) as parsed:  # its spooled files deleted at the end
            if p.in_body(path):  # the deployment is the body's model
                body_model = parsed.fields.get("model")
                deployment = body_model if isinstance(body_model, str) else None
            model_id = planning.model_for(p, op, parsed.fields, deployment)
            self._log(request, model=model_id)
            model = p.models.get(model_id)
            if model is None:
                raise ApiError(
                    404,
                    f"The model `{model_id}` does not exist or you do not have access to it.",
                    code="model_not_found",
                )
            rules = model.operations.get(op)
            if rules is None:
                offering = [m for m, entry in p.models.items() if op in entry.operations]
                raise ApiError(
                    400,
                    f"Invalid value: '{model_id}'. {model_id} does not offer {op}; models that do: {', '.join(offering)}.",
                    param="model",
                    code="invalid_value",
                )
            if parsed.encoding == "json" and op == "edits":
                reading.resolve_references(request, state, parsed)
            planning.limits(model_id, rules, parsed)
            parsed.load()  # the files, into memory once their sizes passed the model's limits
            planning.check_request(p, op, model_id, parsed)
            planning.inputs_usable(model_id, rules, parsed)
            prompt = str(parsed.fields.get("prompt") or "")
            if "moderation_blocked" in active or planning.MARKER.search(prompt):
                raise planning.moderation(p, model_id, rules, request_id)
            plan = planning.plan(p, op, model_id, rules, parsed)
            rendered = answers.cached_all(plan)
            if rendered is None:  # Pillow runs in a worker thread; a cached picture answers without the hop
                rendered = await run_in_threadpool(answers.render_all, plan)
            if plan.stream:
                return answers.stream_answer(p, plan, rendered)
            return answers.json_answer(state, request, plan, rendered)

    def _authorize(self, request: Request) -> None:
        key = self.state.api_key
        if key is None:
            return
        p = self.persona
        raw = request.headers.get(p.auth_header, "")
        token = raw.strip()
        bearer = request.headers.get("authorization", "").strip()
        by_token = p.token and not token and bearer.lower().startswith("bearer ")  # a token instead of the key
        if by_token:
            token = bearer
        if p.bearer or by_token:
            scheme, _, rest = token.partition(" ")
            token = rest.strip() if scheme.lower() == "bearer" else ""
        if not token:
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using "
                "Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
                "https://platform.openai.com/account/api-keys."
                if p.bearer
                else f"You didn't provide an API key in the {p.auth_header} header.",
                code="invalid_api_key",
            )
        if not hmac.compare_digest(token.encode(), key.encode()):
            shown = f"{token[:3]}***{token[-4:]}" if len(token) >= 12 else "***"
            raise ApiError(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    # -- the rest of the routes

    async def files(self, request: Request) -> Response:
        name = request.path_params["name"]
        status, body, content_type = self.state.files.fetch(
            name, request.query_params.get("se"), request.query_params.get("sig")
        )
        headers = {"x-ms-request-id": str(uuid.uuid4())}
        if status == 200:
            headers["cache-control"] = "private, max-age=0"
        return Response(body, status_code=status, media_type=content_type, headers=headers)

    async def health(self, request: Request) -> Response:
        origin = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "status": "ok",
                "persona": self.persona.name,
                "base_url": self.persona.base_url(origin),
                "pid": os.getpid(),
            }
        )

    async def requests(self, request: Request) -> Response:
        """The request log; behind the key, like the API."""
        try:
            self._authorize(request)
        except ApiError as err:
            return self.error_response(err)
        return JSONResponse({"requests": list(self.state.log)})

    async def reset(self, request: Request) -> Response:
        """Forget the log and the fault counters; behind the key, like the API."""
        try:
            self._authorize(request)
        except ApiError as err:
            return self.error_response(err)
        self.state.reset()
        return JSONResponse({"reset": True})


# ---------------------------------------------------------------- helpers


def _busy(limit: int) -> ApiError:
    return ApiError(
        429,
        f"Rate limit reached for concurrent requests: Limit {limit}, Used {limit}, Requested 1. "
        "Please try again in 1s.",
        type="requests",
        code="rate_limit_exceeded",
        headers={"retry-after": "1", "retry-after-ms": "1000"},
    )


class AnyMethod:
    """An ASGI endpoint (not a function), so that its route matches every HTTP method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def make_app(
    persona: str = "local",
    *,
    api_key: str | None = None,
    latency_ms: int = 0,
    faults: Sequence[str] | str = (),
    url_ttl: int = 3600,
    max_body_bytes: int | None = None,
    max_concurrent: int | None = None,
    body_timeout: float | None = None,
    spec_path: str | None = None,
    rate_limit: float | None = None,
) -> Starlette:
    """The reference provider as an ASGI application (for ``uvicorn``, ``httpx.ASGITransport`` or Starlette's TestClient).

    ``rate_limit``: image requests allowed a second (429 beyond; :mod:`imagewire.server.ratelimit`).
    """
    from imagewire.server.batches import routes as batch_routes
    from imagewire.server.ratelimit import RateLimit

    state = ServerState(
        persona=find_persona(persona),
        contract=load(spec_path),
        api_key=api_key,
        latency_ms=latency_ms,
        faults=parse_list(faults),
        url_ttl=url_ttl,
        max_body=DEFAULT_MAX_BODY if max_body_bytes is None else max_body_bytes,
        max_concurrent=DEFAULT_MAX_CONCURRENT if max_concurrent is None else max_concurrent,
        body_timeout=DEFAULT_BODY_TIMEOUT if body_timeout is None else body_timeout,
        files=FileStore(url_ttl),
    )
    provider = Provider(state)

    async def on_error(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            ApiError(
                500, f"The server had an error while processing your request: {type(exc).__name__}", type="server_error"
            ).envelope(),
            status_code=500,
        )

    app = Starlette(
        routes=[
            Route("/_imagewire/health", provider.health, methods=["GET"]),
            Route("/_imagewire/requests", provider.requests, methods=["GET"]),
            Route("/_imagewire/reset", provider.reset, methods=["POST"]),
            Route("/files/{name}", provider.files, methods=["GET"]),
            *batch_routes(provider, lambda: app),  # Files and Batch API (imagewire.server.batches)
            Route("/{path:path}", AnyMethod(request_response(provider.api))),  # every method: 405 is ours
        ],
        middleware=[Middleware(RequestLog, state=state), Middleware(RateLimit, persona=state.persona, rate=rate_limit)],
        exception_handlers={Exception: on_error},
    )
    app.state.imagewire = state
    return app
