"""The ASGI layer in front of every route: the bearer token, the body-size limit and one
log line per request.

Written as plain ASGI (not Starlette's ``BaseHTTPMiddleware``, which adds a task and a
stream per request) because it runs on every request, including microsecond risk checks.
It answers on its own, without reaching the routes, when

* a token is set and the request is not ``GET /v1/health``: the ``Authorization`` header
  must be ``Bearer <token>``; the token is compared with :func:`hmac.compare_digest`, so
  the time taken does not tell how much of a guess was right (401 otherwise, with
  ``WWW-Authenticate: Bearer``);
* ``Content-Length`` is over the limit (413, before the body is read). A body sent
  without a length (chunked) is counted as it arrives and refused the same way once it
  passes the limit.

Every request, answered here or by a route, is logged as one line at INFO on the
``workbench.serve`` logger: method, path, status and duration in milliseconds.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from workbench.serve.problems import PROBLEM_JSON, problem_body

__all__ = ["HEALTH_PATH", "BodyTooLarge", "Guard"]

#: The one route that needs no token: a load balancer's or a supervisor's probe.
HEALTH_PATH = "/v1/health"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logging.getLogger("workbench.serve")


class BodyTooLarge(HTTPException):
    """A body sent without ``Content-Length`` grew past the limit while it was read (an
    HTTP exception, so that the route reading the body lets it through: 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit:,} bytes; send "
                         "less (e.g. split a batch), or start the service with a larger "
                         "--max-body-bytes")


class Guard:
    """Wrap ``app``: token, body limit and request log (see the module docstring).

    Parameters
    ----------
    app
        The ASGI application behind the guard.
    token
        The bearer token every route but :data:`HEALTH_PATH` requires; None for none.
    max_body_bytes
        Largest request body accepted, bytes.
    """

    def __init__(self, app: ASGIApp, *, token: str | None, max_body_bytes: int) -> None:
        self.app = app
        self.expected = None if token is None else token.encode()
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        path = scope.get("path", "")

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is None:
                await self.app(scope, self._limited(receive), send_status)
            else:
                code, detail, headers = refusal
                await _answer(send_status, code, detail, path, headers)
        finally:
            if _log.isEnabledFor(logging.INFO):  # a record made directly: no caller lookup
                _log.handle(_log.makeRecord(
                    _log.name, logging.INFO, __file__, 0, "%s %s %d %.2fms",
                    (scope.get("method", "?"), path, status,
                     (time.perf_counter() - start) * 1000.0), None))

    def _refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """Status, detail and headers of a request refused here, or None to let it pass."""
        headers = scope.get("headers", ())
        if self.expected is not None and scope.get("path") != HEALTH_PATH:
            given = next((v for k, v in headers if k == b"authorization"), None)
            scheme, _, token = (given or b"").partition(b" ")
            # compare_digest's time depends on the lengths only, never on the content
            if not (scheme.lower() == b"bearer"
                    and hmac.compare_digest(token.strip(), self.expected)):
                why = "no bearer token was sent" if given is None else "the token is wrong"
                return 401, (f"{why}; send the header 'Authorization: Bearer <token>' with "
                             "the token of the service's --token-file"), [
                    (b"www-authenticate", b'Bearer realm="workbench"')]
        length = next((v for k, v in headers if k == b"content-length"), None)
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return 400, f"Content-Length {length.decode(errors='replace')!r} is not a " \
                            "number of bytes", []
            if n > self.max_body_bytes:
                return 413, (f"the request body has {n:,} bytes, over the limit of "
                             f"{self.max_body_bytes:,}; send less (e.g. split a batch), or "
                             "start the service with a larger --max-body-bytes"), []
        return None

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body_bytes

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return counted


async def _answer(send: Send, status: int, detail: str, path: str,
                  headers: list[tuple[bytes, bytes]]) -> None:
    body = problem_body(status, detail, instance=path)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
