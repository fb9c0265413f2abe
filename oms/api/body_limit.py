"""Refuses request bodies larger than the endpoint needs, before any view, parser or
authentication runs, with 413 and the structured error body (nothing takes effect).

The limit is the one of the longest prefix of `settings.REQUEST_BODY_LIMITS` that the path
starts with (the JSON API: 64 KiB), else Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`.

Three guards, because the declared length is not the whole story:
- `AsgiBodyLimit` wraps the ASGI application (config/asgi.py, the ws role) and
  `WsgiBodyLimit` the WSGI one (config/wsgi.py, the web role under gunicorn): they count
  the bytes as they arrive, so a chunked body, which declares no length, is refused as
  soon as it passes the limit, before Django has buffered it. One within the limit gets
  the `Content-Length` it turned out to have: DRF reads a body without one as empty,
  while Django (signatures, the audit log) reads all of it, and both must see the same.
- `RequestBodyLimitMiddleware` judges `Content-Length` in Django's middleware, which is
  all there is under WSGI and the test client: there Django reads no more than the
  declared length (a body without one is read as empty), so it bounds what a view sees."""

from __future__ import annotations

import io
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

CODE = "request_too_large"

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def limit_for(path: str) -> int:
    """The body limit of a path: its longest configured prefix's, else Django's own."""
    prefixes = sorted(settings.REQUEST_BODY_LIMITS.items(), key=lambda item: len(item[0]),
                      reverse=True)
    return next((limit for prefix, limit in prefixes if path.startswith(prefix)),
                int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


def error_body(limit: int) -> dict[str, list[dict[str, str | None]]]:
    return {"errors": [{"field": None, "code": CODE,
                        "message": f"the request body exceeds {limit} bytes"}]}


class AsgiBodyLimit:
    """Reads an HTTP request's body up to its limit before the application sees any of it,
    then hands the application the messages it read; past the limit it answers 413 itself
    and the application never runs. Holding at most the limit in memory is no more than
    Django would buffer for a body it accepts."""

    def __init__(self, app: Callable[[Message, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the application hears it as usual
            size += len(message.get("body", b""))
            if size > limit:
                await self.refuse(send, limit)
                return
            if not message.get("more_body", False):
                break
        pending = iter(received)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        headers = scope.get("headers", [])
        if not any(name == b"content-length" for name, _ in headers):
            scope = {**scope, "headers": [*headers, (b"content-length", str(size).encode())]}
        await self.app(scope, replay, send)

    @staticmethod
    async def refuse(send: Send, limit: int) -> None:
        body = json.dumps(error_body(limit)).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
READ_CHUNK_BYTES = 16 * 1024


class WsgiBodyLimit:
    """The WSGI twin of `AsgiBodyLimit`. A body that declares its length is left to
    `RequestBodyLimitMiddleware` (Django reads no more than that length), so the common
    request costs nothing here; a chunked one is read up to one byte past its limit, then
    either refused with 413 or handed on in memory with the length it turned out to have."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() != "chunked":
            return self.app(environ, start_response)
        limit = limit_for(environ.get("PATH_INFO", ""))
        stream = environ["wsgi.input"]
        body = bytearray()
        while len(body) <= limit and (chunk := stream.read(min(READ_CHUNK_BYTES,
                                                              limit + 1 - len(body)))):
            body += chunk
        if len(body) > limit:
            refusal = json.dumps(error_body(limit)).encode()
            start_response("413 Request Entity Too Large", [
                ("Content-Type", "application/json"), ("Content-Length", str(len(refusal))),
                ("Connection", "close")])
            return [refusal]
        environ["wsgi.input"] = io.BytesIO(bytes(body))
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def declared_length(request: HttpRequest) -> int:
    """The body's declared length; a missing or malformed one counts as 0, as Django reads
    it."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = limit_for(request.path)
        if declared_length(request) > limit:
            return JsonResponse(error_body(limit), status=413)
        return self.get_response(request)
