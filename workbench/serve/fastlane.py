"""The fast lane: the two most frequent requests answered straight from ASGI.

A risk check (``POST /v1/risk/sessions/{id}/check``) is a few microseconds of work in
process and a recommendation a few hundred; FastAPI's routing, dependency resolution
(the query parameters of ``GET /v1/recommendations`` alone take about 0.1 ms) and
exception middleware cost more than the check itself. :class:`FastLane` sits between the
:class:`~workbench.serve.guard.Guard` (token, body limit, request log: they apply to
every request) and the FastAPI application, and answers those two requests when they are
plain: a well-formed body or query, an existing session. It calls the same function the
FastAPI route calls (``check`` and ``recommendation`` in :mod:`workbench.serve.app`), so
the answer is the same bytes.

Every other request, and every one of the two that is not plain (malformed JSON, a wrong
type, an unknown session, an unusual query string), goes on to the FastAPI application
unchanged, its body replayed, where the route gives the documented answer (422 with the
field, 404, ...). The routes stay declared in FastAPI, so ``/docs`` shows them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["CHECK_PREFIX", "CHECK_SUFFIX", "RECOMMENDATIONS_PATH", "FastLane", "Headers",
           "plain_query"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: ``(session id, body) -> JSON body``, or None: not plain, let the FastAPI route answer.
CheckAnswer = Callable[[str, bytes], Awaitable[bytes | None]]
#: A response's headers beyond its length and type, as ASGI sends them.
Headers = list[tuple[bytes, bytes]]
#: ``(query parameters) -> (status, content type, body, other headers)``.
RecommendationAnswer = Callable[[dict[str, Any], str],
                                Awaitable[tuple[int, bytes, bytes, Headers]]]

RECOMMENDATIONS_PATH = "/v1/recommendations"
CHECK_PREFIX = "/v1/risk/sessions/"
CHECK_SUFFIX = "/check"
_QUERY = frozenset({"strategy", "top", "as_of", "symbols"})
_JSON_HEADERS = b"application/json"


def plain_query(query_string: bytes) -> dict[str, Any] | None:
    """The recommendation query as the route's parameters, or None when it is not plain.

    Plain: only ``strategy``, ``top``, ``as_of`` and ``symbols``, each at most once and
    not empty, ``top`` written with digits only. The values are decoded as Starlette
    decodes them (``parse_qsl`` of the Latin-1 text), so a plain query means the same as
    it does to the FastAPI route; anything else is left to that route and its checks.

    Examples
    --------
    >>> plain_query(b"top=5&symbols=600000.SH%2C000001.SZ")
    {'top': 5, 'symbols': '600000.SH,000001.SZ'}
    >>> plain_query(b"top=5.0"), plain_query(b"top=1&top=2"), plain_query(b"sort=score")
    (None, None, None)
    """
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in _QUERY or key in out or not value:
            return None
        if key == "top":
            if not (value.isascii() and value.isdigit()) or len(value) > 9:
                return None
            out[key] = int(value)
        else:
            out[key] = value
    return out


class FastLane:
    """Answer plain risk checks and recommendations before FastAPI (module docstring).

    Parameters
    ----------
    app
        The FastAPI application: every request this does not answer goes there.
    check
        Answers a check's body for a session id (None: let the route answer).
    recommendation
        Answers a plain recommendation query (status, content type, body).
    """

    def __init__(self, app: ASGIApp, *, check: CheckAnswer,
                 recommendation: RecommendationAnswer) -> None:
        self.app = app
        self.check = check
        self.recommendation = recommendation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            method: str = scope["method"]
            if method == "POST" and path.startswith(CHECK_PREFIX) and path.endswith(
                    CHECK_SUFFIX):
                session_id = path[len(CHECK_PREFIX):-len(CHECK_SUFFIX)]
                # a body without Content-Length (chunked) is the route's: the guard counts
                # it as it arrives and the route answers 413 past the limit
                if session_id and "/" not in session_id and any(
                        k == b"content-length" for k, _ in scope["headers"]):
                    await self._check(session_id, scope, receive, send)
                    return
            elif method == "GET" and path == RECOMMENDATIONS_PATH:
                query = plain_query(scope["query_string"])
                if query is not None:
                    status, kind, body, headers = await self.recommendation(query, path)
                    await _send(send, status, kind, body, headers)
                    return
        await self.app(scope, receive, send)

    async def _check(self, session_id: str, scope: Scope, receive: Receive,
                     send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        answer = await self.check(session_id, body)
        if answer is not None:
            await _send(send, 200, _JSON_HEADERS, answer)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _send(send: Send, status: int, kind: bytes, body: bytes,
                headers: Headers | None = None) -> None:
    sent = [(b"content-length", str(len(body)).encode()), (b"content-type", kind)]
    if headers:
        sent += headers
    await send({"type": "http.response.start", "status": status, "headers": sent})
    await send({"type": "http.response.body", "body": body})
