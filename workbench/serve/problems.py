"""Every error as an RFC 9457 problem detail (``application/problem+json``).

A problem is a JSON object with ``type`` (a URI naming the kind of problem), ``title``
(its short, fixed summary), ``status`` (the HTTP status), ``detail`` (this occurrence, in
the workbench's own words: what is wrong and how to fix it) and ``instance`` (the request
path), plus extension members where they help (``errors`` for invalid input, ``error``
for the workbench exception's class).

The statuses:

* **422**: bad input. Malformed JSON, a wrong type, a missing field (pydantic's
  ``RequestValidationError``), and every :class:`~workbench.errors.ConfigError`,
  :class:`~workbench.errors.DataError` or :class:`~workbench.errors.LookupFailed` that a
  workbench function raises on the request's values (an unknown strategy or symbol, a date
  outside the data): the same message the function gives in a notebook.
* **404**: a resource that does not exist (an unknown session, backtest or report id) or
  an unknown route; **405** a method the route does not have.
* **401**: a missing or wrong bearer token; **413**: a body over the size limit; **429**:
  the backtest queue (or the session table) is full.
* **500**: a bug; the traceback goes to the log, never to the client.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from workbench.errors import WorkbenchError
from workbench.jsonable import jsonable

__all__ = ["PROBLEM_JSON", "Problem", "install_problem_handlers", "problem_body",
           "problem_response", "validation_detail", "workbench_problem"]

PROBLEM_JSON = "application/problem+json"
_TYPE = "urn:workbench:problem:"
_log = logging.getLogger("workbench.serve")


class Problem(Exception):
    """Raised by a handler to answer with a problem detail.

    Parameters
    ----------
    status
        The HTTP status (404, 413, 422, 429, ...).
    detail
        What is wrong and how to fix it.
    kind
        The last part of the problem's ``type`` URI (default: from the status).
    headers
        Extra response headers (e.g. ``Retry-After``).
    **extra
        Extension members of the problem object.
    """

    def __init__(self, status: int, detail: str, *, kind: str | None = None,
                 headers: Mapping[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.headers = dict(headers or {})
        self.extra = extra


def _kind(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def problem_body(status: int, detail: str, *, instance: str | None = None,
                 kind: str | None = None, **extra: Any) -> bytes:
    """The JSON bytes of a problem detail.

    Examples
    --------
    >>> json.loads(problem_body(404, "no session 'x'", instance="/v1/risk/sessions/x"))
    {'type': 'urn:workbench:problem:not-found', 'title': 'Not Found', 'status': 404, \
'detail': "no session 'x'", 'instance': '/v1/risk/sessions/x'}
    """
    body: dict[str, Any] = {"type": _TYPE + (kind or _kind(status)),
                            "title": HTTPStatus(status).phrase, "status": status,
                            "detail": detail}
    if instance is not None:
        body["instance"] = instance
    body |= jsonable(extra)
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode()


def workbench_problem(exc: WorkbenchError, instance: str) -> bytes:
    """The 422 problem of a workbench error raised on the request's values (its message
    and class), as the body of the answer to ``instance``."""
    return problem_body(422, str(exc), instance=instance, kind="invalid-request",
                        error=type(exc).__name__)


def problem_response(status: int, detail: str, *, instance: str | None = None,
                     kind: str | None = None, headers: Mapping[str, str] | None = None,
                     **extra: Any) -> Response:
    """A problem detail as a response (``application/problem+json``)."""
    return Response(problem_body(status, detail, instance=instance, kind=kind, **extra),
                    status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


def validation_detail(errors: list[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """One sentence naming each invalid field, and the errors as JSON-ready dicts.

    Examples
    --------
    >>> validation_detail([{"loc": ("body", "quantity"), "msg": "Input should be a valid "
    ...                     "integer", "type": "int_type"}])[0]
    'invalid request: body.quantity: Input should be a valid integer'
    """
    parts, out = [], []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "")
            at = f" at character {loc[-1]}" if len(loc) > 1 else ""
            msg = f"the body is not valid JSON ({reason}){at}"
            loc = ["body"]
        where = ".".join(loc)
        parts.append(f"{where}: {msg}" if where else msg)
        out.append({"loc": loc, "msg": msg, "type": str(err.get("type", ""))})
    return "invalid request: " + "; ".join(parts), out


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem detail (see the module docstring)."""

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail, errors = validation_detail(list(exc.errors()))
        return problem_response(422, detail, instance=request.url.path, kind="invalid-request",
                                errors=errors)

    async def workbench_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WorkbenchError)
        return Response(workbench_problem(exc, request.url.path), status_code=422,
                        media_type=PROBLEM_JSON)

    async def problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.detail, instance=request.url.path,
                                kind=exc.kind, headers=exc.headers, **exc.extra)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = (f"no route {request.url.path}; the routes are listed at /docs "
                      "(OpenAPI: /openapi.json)")
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(exc.status_code, detail, instance=request.url.path,
                                headers=exc.headers)

    async def internal(request: Request, exc: Exception) -> Response:
        _log.error("internal error on %s %s", request.method, request.url.path,
                   exc_info=exc)
        return problem_response(500, "internal error: a bug in the workbench service; the "
                                "server log has the traceback", instance=request.url.path)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(WorkbenchError, workbench_error)
    app.add_exception_handler(Problem, problem)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal)
