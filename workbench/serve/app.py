"""The FastAPI application: the routes, over the workbench's own functions.

Every route calls the function a notebook calls, on the market loaded at start-up:

==========================================  ===============================================
route                                       in process
==========================================  ===============================================
``GET /v1/health``                          (liveness; the one route without a token)
``GET /v1/market``                          :func:`workbench.data.provenance.provenance`,
                                            ``Market.summary``, the security master
``GET /v1/strategies``                      :func:`workbench.strategies.parameters`,
                                            :func:`~workbench.strategies.parameter_types`
``GET /v1/recommendations``                 :func:`workbench.recommend.recommend` (its
                                            columns: :func:`~workbench.recommend.recommendation`)
``POST /v1/risk/sessions``                  :class:`workbench.risk.PreTradeValidator`
                                            (:func:`workbench.serve.sessions.open_validator`)
``GET /v1/risk/sessions/{id}``              its state
``POST /v1/risk/sessions/{id}/check``       :meth:`~workbench.risk.PreTradeValidator.check`
``POST /v1/risk/sessions/{id}/check-batch`` :meth:`~workbench.risk.PreTradeValidator.check_batch`
``POST /v1/risk/sessions/{id}/fills``       :meth:`~workbench.risk.PreTradeValidator.on_fill`
``POST /v1/risk/sessions/{id}/prices``      :meth:`~workbench.risk.PreTradeValidator.on_prices`
``DELETE /v1/risk/sessions/{id}``           (closes the session)
``POST /v1/backtests``                      :func:`workbench.backtest.run` in a worker
``GET /v1/backtests/{id}``                  ``BacktestResult.summary``, ``metrics``,
                                            ``risk_summary``, ``warnings``
``GET /v1/backtests/{id}/{table}.{fmt}``    ``trades`` or ``daily`` (equity) as CSV / JSON
``GET /v1/reports``                         the reports' index
``GET /v1/reports/{name}``                  a report's HTML page
==========================================  ===============================================

**Recommendations are answered once per query.** The market does not change while it is
served, so a query asked again (a dashboard polling its 20 stocks) is answered from the
last ``ServeSettings.recommendation_cache`` answers (:class:`Answers`) without a thread or a
computation; a new query is computed as below.

**Recommendations are computed in worker processes** (``ServeSettings.recommendation_workers``,
one per core and at most 4 by default; :mod:`workbench.serve.recommenders`), each holding
the market: the server's process only reads and writes HTTP, the event loop never computes
one, and concurrent ones are computed side by side, one per worker. A computed answer names
its worker's process id in the ``X-Workbench-Worker`` header (:data:`WORKER_HEADER`; not
sent with a kept answer, nor by the server's own process). With 0 workers
(or none left) they are computed in the server's process: on the event loop while their
kind is measured short (at most ``ServeSettings.inline_budget_ms`` of CPU, 2 ms by
default, under the interpreter's 5 ms switch interval: a thread would not free the loop
sooner, see :mod:`workbench.serve.offload`), otherwise in the thread pool, where 20 at once
run side by side.

**Other long work never runs on the event loop either.** Backtests run in worker processes
or on Dask (:mod:`workbench.serve.jobs`); a batch check, the result tables, the reports and
the start-up warm-up run in the thread pool, so requests are served while they run. A
single risk check (a few microseconds) and the session events run on the loop: handing
them to a thread would cost more than the check, and keeping every change of a session on
one thread, behind the session's lock, orders them.

**The two most frequent requests take a short path** (:mod:`workbench.serve.fastlane`): a
plain risk check or recommendation is answered before FastAPI's routing, by the same
functions as the routes below, which answer everything else (and document both in
``/docs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from typing import Annotated, Any, TypeVar

import pandas as pd
from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from workbench import strategies
from workbench.data.market import Market
from workbench.errors import WorkbenchError
from workbench.report.runner import default_reports_dir
from workbench.research.cluster import connect
from workbench.serve import models as m
from workbench.serve.bodies import (
    decision_json,
    market_json,
    recommendation_json,
    strategies_json,
    warm,
)
from workbench.serve.fastlane import FastLane, Headers
from workbench.serve.guard import Guard
from workbench.serve.jobs import (
    Backtests,
    DaskRunner,
    PoolRunner,
    Runner,
    backtest_config,
    table_csv,
    table_json,
)
from workbench.serve.offload import Offload
from workbench.serve.problems import (
    PROBLEM_JSON,
    Problem,
    install_problem_handlers,
    workbench_problem,
)
from workbench.serve.recommenders import Recommenders, WorkerLost
from workbench.serve.reports import report_index, report_page
from workbench.serve.sessions import (
    RiskSessions,
    account,
    open_validator,
    order_of,
    orders_frame,
    risk_limits,
)
from workbench.serve.settings import ServeSettings

__all__ = ["CHECK_PATH", "DEFAULT_STRATEGY", "WORKER_HEADER", "Answers", "create_app",
           "decision_json", "market_json", "recommendation_json", "strategies_json", "warm"]

#: The strategy ``GET /v1/recommendations`` uses when none is named (as ``workbench recommend``).
DEFAULT_STRATEGY = "value_quality"
#: The header of a computed recommendation naming the worker process that computed it.
WORKER_HEADER = b"x-workbench-worker"
_JSON = "application/json"
_JSON_BYTES = _JSON.encode()
_PROBLEM = PROBLEM_JSON.encode()
Body = TypeVar("Body", bound=BaseModel)
_log = logging.getLogger("workbench.serve")
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.Problem, "description": what} for code, what in (
        (401, "missing or wrong bearer token"), (404, "no such resource"),
        (413, "body over the size limit"), (422, "invalid input"))}


#: The risk check's route: the most frequent request, so it takes the shortest path (its
#: body parsed in one pass, its id read from the path, matched first among the routes).
CHECK_PATH = "/v1/risk/sessions/{session_id}/check"
_SESSION_PARAMETER: dict[str, Any] = {"parameters": [{
    "name": "session_id", "in": "path", "required": True, "schema": {"type": "string"},
    "description": "the id POST /v1/risk/sessions returned"}]}
SessionId = Annotated[str, Path(description="the id POST /v1/risk/sessions returned")]
JobId = Annotated[str, Path(description="the id POST /v1/backtests returned")]


def _json(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False, allow_nan=False).encode(),
                    status_code=status, media_type=_JSON)


class Answers:
    """Recommendation answers by query, the ``size`` most recently used (0: none kept).

    A query is the route's four parameters as sent. The market is loaded once and never
    changes while it is served, and :func:`~workbench.recommend.recommend` reads nothing
    else, so the same query has the same answer; it is sent again without recomputing it.
    Only answers are kept, never errors. Thread-safe.

    Examples
    --------
    >>> kept = Answers(2)
    >>> for key in "abc":
    ...     kept.put(key, key.encode())
    >>> kept.get("a"), kept.get("c")
    (None, b'c')
    >>> Answers(0).put("a", b"a")
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        """The kept answer to ``key``, or None."""
        with self._lock:
            body = self._kept.get(key)
            if body is not None:
                self._kept.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        """Keep ``body`` as the answer to ``key``, dropping the least recently used."""
        if self.size:
            with self._lock:
                self._kept[key] = body
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)


def create_app(market: Market, settings: ServeSettings | None = None, *,
               market_path: str | None = None, runner: Runner | None = None) -> FastAPI:
    """The service over ``market`` (see the module docstring).

    Parameters
    ----------
    market
        The market every route reads, loaded once.
    settings
        Limits, token, workers, scheduler, reports folder (:class:`ServeSettings`).
    market_path
        The folder ``market`` was loaded from: backtest workers load it from there
        instead of receiving a copy.
    runner
        Where backtests run; default a :class:`~workbench.serve.jobs.PoolRunner`, or a
        :class:`~workbench.serve.jobs.DaskRunner` on ``settings.scheduler``.
    """
    cfg = settings or ServeSettings()
    reports_root = cfg.reports_dir or default_reports_dir()
    sessions = RiskSessions(cfg.max_sessions)
    answers = Answers(cfg.recommendation_cache)
    offload = Offload(cfg.inline_budget_ms / 1000.0)
    workers: list[Recommenders] = []  # started with the service
    computed = {"workers": 0}
    known = frozenset(strategies.available())
    cached: dict[str, bytes] = {}
    jobs: list[Backtests] = []

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        source: Market | str = market if market_path is None else market_path
        if cfg.recommendation_workers:  # they load and warm the market meanwhile
            workers.append(Recommenders(source, cfg.recommendation_workers))
        await asyncio.gather(run_in_threadpool(warm, market),
                             *(w.start() for w in workers))
        cached["market"] = await run_in_threadpool(market_json, market)
        cached["strategies"] = await run_in_threadpool(strategies_json)
        cluster: Any = None
        used = runner
        if used is None and cfg.scheduler is not None:
            # entered and left on the loop's own thread and context: distributed's Client
            # keeps a context variable that must be reset where it was set (before the
            # first request, and after the last: nothing else waits meanwhile)
            cluster = connect(cfg.scheduler)
            used = DaskRunner(cluster.__enter__(), source)
        elif used is None:
            used = PoolRunner(source, cfg.workers)
        jobs.append(Backtests(used, workers=cfg.workers, max_queued=cfg.max_queued,
                              keep=cfg.keep_jobs))
        loop = type(asyncio.get_running_loop())
        _log.info("serving market %s (%d symbols, %s..%s); event loop %s.%s; recommendations "
                  "computed by %s", market.name, len(market.symbols),
                  market.calendar[0].date(), market.calendar[-1].date(), loop.__module__,
                  loop.__qualname__, f"{len(workers[0].pids)} worker processes (pids "
                  f"{', '.join(map(str, workers[0].pids))})" if workers else
                  "the server's process")
        try:
            yield
        finally:
            _log.info("recommendations computed: %d by workers, %d on the event loop, %d in "
                      "threads", computed["workers"], offload.on_loop, offload.in_threads)
            for w in workers:
                await w.close()
            await jobs[0].close()
            if cluster is not None:
                cluster.__exit__(None, None, None)

    app = FastAPI(title="workbench", version="1", lifespan=lifespan, responses=_PROBLEMS,
                  description="A-share research workbench: recommendations, pre-trade risk "
                  "checks and backtests over HTTP, computed by the same functions as in a "
                  "notebook. Errors are RFC 9457 problem details.")
    install_problem_handlers(app)

    async def recommendation_answer(strategy: str, top: int, as_of: str | None,
                                  symbols: str | None) -> tuple[bytes, Headers]:
        """The body, and the header naming the worker process that computed it (none for
        an answer kept or computed in the server's process)."""
        key = (strategy, top, as_of, symbols)
        body = answers.get(key)
        if body is not None:
            return body, []
        headers: Headers = []
        if workers:
            try:
                pid, body = await workers[0].computed(strategy, top, as_of, symbols)
                computed["workers"] += 1
                headers = [(WORKER_HEADER, str(pid).encode())]
            except WorkerLost:
                pass  # computed here, as without workers
        if body is None:
            # its kind: the strategy, and the number of rows and of symbols to within a
            # factor of two (what a recommendation's time depends on, the market aside)
            kind = (strategy if strategy in known else None, top.bit_length(),
                    0 if symbols is None else (symbols.count(",") + 1).bit_length())
            body = await offload.run(kind, recommendation_json, market, strategy, top, as_of,
                                     symbols)
        answers.put(key, body)
        return body, headers

    async def fast_recommendation(query: dict[str, Any], path: str
                                  ) -> tuple[int, bytes, bytes, Headers]:
        try:
            body, headers = await recommendation_answer(
                query.get("strategy", DEFAULT_STRATEGY), query.get("top", 20),
                query.get("as_of"), query.get("symbols"))
        except WorkbenchError as exc:
            return 422, _PROBLEM, workbench_problem(exc, path), []
        return 200, _JSON_BYTES, body, headers

    async def fast_check(session_id: str, body: bytes) -> bytes | None:
        session = sessions.sessions.get(session_id)
        if session is None:
            return None
        try:
            order = order_of(m.OrderIn.model_validate_json(body).model_dump())
        except (ValidationError, WorkbenchError):
            return None
        async with session.lock:
            return decision_json(session.validator.check(order))

    # innermost first: the fast lane behind the guard, so the token, the body limit and the
    # request log apply to what it answers too
    app.add_middleware(FastLane, check=fast_check, recommendation=fast_recommendation)
    app.add_middleware(Guard, token=cfg.token, max_body_bytes=cfg.max_body_bytes)
    if cfg.cors_origins:  # outside the guard: a browser's preflight carries no token
        app.add_middleware(CORSMiddleware, allow_origins=list(cfg.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])

    # -- general ------------------------------------------------------------------------------
    @app.get("/v1/health", response_model=m.Health, tags=["general"])
    async def health() -> Response:
        """Liveness: answers without a token."""
        return _json({"status": "ok"})

    @app.get("/v1/market", response_model=m.MarketOut, tags=["general"])
    async def market_info() -> Response:
        """The served market: provenance, date range, symbols and boards."""
        return Response(cached["market"], media_type=_JSON)

    @app.get("/v1/strategies", response_model=list[m.StrategyOut], tags=["general"])
    async def strategy_list() -> Response:
        """Every registered strategy with its parameters' types and defaults."""
        return Response(cached["strategies"], media_type=_JSON)

    # -- recommendations ----------------------------------------------------------------------
    @app.get("/v1/recommendations", response_model=m.Recommendations,
             tags=["recommendations"], responses={200: {"headers": {"X-Workbench-Worker": {
                 "description": "the process id of the worker that computed the answer "
                 "(not sent with an answer kept from an earlier request)",
                 "schema": {"type": "integer"}}}}})
    async def recommendations(
        strategy: str = Query(DEFAULT_STRATEGY, description="a registered strategy"),
        top: int = Query(20, description="rows of candidates"),
        as_of: str | None = Query(None, description="session to decide after (default: "
                                  "the last)", examples=["2024-06-28"]),
        symbols: str | None = Query(None, description="comma-separated symbols to analyse, "
                                    "or an index name (e.g. csi300); default the whole "
                                    "market"),
    ) -> Response:
        """What ``strategy`` would buy, hold, sell or avoid after a close, with reasons."""
        body, headers = await recommendation_answer(strategy, top, as_of, symbols)
        return Response(body, media_type=_JSON,
                        headers={k.decode(): v.decode() for k, v in headers})

    # -- risk ---------------------------------------------------------------------------------
    @app.post("/v1/risk/sessions", response_model=m.SessionOut, status_code=201,
              tags=["risk"], responses={429: {"model": m.Problem,
                                              "description": "too many sessions"}})
    async def open_session(body: m.SessionIn) -> Response:
        """Open a pre-trade validator on a session of the market, with cash and positions."""
        limits = risk_limits(body.limits)
        validator, _ = await run_in_threadpool(
            lambda: open_validator(market, cash_cny=body.cash_cny, date=body.date,
                                   limits=limits, positions=body.positions,
                                   prices=body.prices))
        session = sessions.add(validator)
        return _json(_session_doc(session.id, account(validator)), 201)

    @app.get("/v1/risk/sessions/{session_id}", response_model=m.SessionOut, tags=["risk"])
    async def get_session(session_id: SessionId) -> Response:
        """The session's account: cash, equity, the stops and the positions."""
        session = sessions.get(session_id)
        return _json(_session_doc(session.id, account(session.validator)))

    @app.post(CHECK_PATH, response_model=m.DecisionOut, tags=["risk"],
              openapi_extra=_body_schema(m.OrderIn) | _SESSION_PARAMETER)
    async def check(request: Request) -> Response:
        """Judge one order (an OrderIn): accepted, or the layer, reason code and message of
        the first check it fails."""
        session = sessions.get(request.path_params["session_id"])
        parsed = order_of((await _parsed(request, m.OrderIn)).model_dump())
        async with session.lock:
            body = decision_json(session.validator.check(parsed))
        return Response(body, media_type=_JSON)

    @app.post("/v1/risk/sessions/{session_id}/check-batch", response_model=m.BatchOut,
              tags=["risk"])
    async def check_batch(batch: m.BatchIn, session_id: SessionId) -> Response:
        """Judge many orders, each as if it were the only one (``check_batch``)."""
        session = sessions.get(session_id)
        if len(batch.orders) > cfg.max_batch:
            raise Problem(422, f"a batch of {len(batch.orders):,} orders is over the limit of "
                          f"{cfg.max_batch:,} (--max-batch); split it", kind="invalid-request")
        orders = [o.model_dump() for o in batch.orders]
        async with session.lock:
            body = await run_in_threadpool(_batch_json, session.validator, orders)
        return Response(body, media_type=_JSON)

    @app.post("/v1/risk/sessions/{session_id}/fills", response_model=m.SessionOut,
              tags=["risk"])
    async def fills(body: m.FillsIn, session_id: SessionId) -> Response:
        """Book executed trades in order (``on_fill``); on a refused fill the earlier ones
        stay booked and the problem says how many were."""
        session = sessions.get(session_id)
        async with session.lock:
            for i, f in enumerate(body.fills):
                try:
                    session.validator.on_fill(f.symbol, f.side, f.quantity, f.price,
                                              fee_cny=f.fee_cny)
                except WorkbenchError as exc:
                    raise Problem(422, f"fills[{i}]: {exc}", kind="invalid-request",
                                  error=type(exc).__name__, booked=i) from None
            return _json(_session_doc(session.id, account(session.validator)))

    @app.post("/v1/risk/sessions/{session_id}/prices", response_model=m.SessionOut,
              tags=["risk"])
    async def prices(body: m.PricesIn, session_id: SessionId) -> Response:
        """Mark positions (``on_prices``); an unknown symbol changes nothing (422)."""
        session = sessions.get(session_id)
        async with session.lock:
            known = session.validator.state.securities
            if unknown := [s for s in body.prices if s not in known][:1]:
                raise Problem(422, f"prices: unknown symbol {unknown[0]!r}; nothing was "
                              "marked. GET /v1/market lists the symbols",
                              kind="invalid-request")
            session.validator.on_prices(body.prices)
            return _json(_session_doc(session.id, account(session.validator)))

    @app.delete("/v1/risk/sessions/{session_id}", status_code=204, tags=["risk"])
    async def close_session(session_id: SessionId) -> Response:
        """Close the session."""
        sessions.remove(session_id)
        return Response(status_code=204)

    # -- backtests ----------------------------------------------------------------------------
    @app.post("/v1/backtests", response_model=m.BacktestOut, status_code=202,
              tags=["backtests"], responses={429: {"model": m.Problem,
                                                   "description": "the queue is full"}})
    async def submit(body: m.BacktestIn) -> Response:
        """Queue a backtest; poll ``GET /v1/backtests/{id}`` for its status and results."""
        config = backtest_config(body.config)
        job = jobs[0].submit(body.strategy, body.params, config)
        doc = job.to_json()
        response = _json(doc, 202)
        response.headers["Location"] = doc["links"]["self"]
        return response

    @app.get("/v1/backtests/{job_id}", response_model=m.BacktestOut, tags=["backtests"])
    async def backtest_status(job_id: JobId) -> Response:
        """Status, and once done the summary, metrics, risk summary, warnings and links."""
        return _json(jobs[0].get(job_id).to_json())

    @app.get("/v1/backtests/{job_id}/{table}", tags=["backtests"],
             responses={200: {"content": {"text/csv": {}, _JSON: {}}}})
    async def backtest_table(
        job_id: JobId,
        table: str = Path(pattern=r"^(trades|equity)\.(csv|json)$",
                          description="trades.csv, trades.json, equity.csv or equity.json"),
    ) -> Response:
        """The trade log or the daily equity table of a finished backtest."""
        job = jobs[0].get(job_id)
        if job.status != "done":
            raise Problem(404, f"backtest {job_id} is {job.status}: its tables exist once it "
                          "is done", kind="not-ready")
        name, fmt = table.split(".")
        frame: pd.DataFrame = job.outcome["trades" if name == "trades" else "equity"]
        if fmt == "csv":
            text = await run_in_threadpool(table_csv, frame)
            return Response(text, media_type="text/csv")
        return _json(await run_in_threadpool(table_json, frame))

    # -- reports ------------------------------------------------------------------------------
    @app.get("/v1/reports", response_model=m.ReportIndex, tags=["reports"])
    async def reports() -> Response:
        """Every report in the reports folder, with its status and headline metrics."""
        return _json({"reports": await run_in_threadpool(report_index, reports_root)})

    @app.get("/v1/reports/{name:path}", tags=["reports"],
             responses={200: {"content": {"text/html": {}}}})
    async def report(name: str) -> Response:
        """A report's self-contained HTML page, served only from the reports folder."""
        page = await run_in_threadpool(report_page, reports_root, name)
        return FileResponse(page, media_type="text/html",
                            headers={"X-Content-Type-Options": "nosniff"})

    app.openapi()  # the schema, in the order written above; then the hot route first
    app.router.routes.sort(key=lambda route: getattr(route, "path", "") != CHECK_PATH)
    return app


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that parses ``model`` itself (see _parsed)."""
    return {"requestBody": {"required": True, "content": {_JSON: {
        "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


async def _parsed(request: Request, model: type[Body]) -> Body:
    """The body as ``model``, parsed and validated in one pass by pydantic-core.

    The risk check's route reads its body this way rather than through FastAPI's body
    parameters, which resolve a dependency graph and parse the JSON twice; the same
    pydantic model validates it, and an error is the same 422 problem.
    """
    body = await request.body()
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _session_doc(session_id: str, acct: dict[str, Any]) -> dict[str, Any]:
    base = f"/v1/risk/sessions/{session_id}"
    return {"id": session_id, "account": acct,
            "links": {"self": base, "check": f"{base}/check",
                      "check-batch": f"{base}/check-batch", "fills": f"{base}/fills",
                      "prices": f"{base}/prices"}}


def _batch_json(validator: Any, orders: list[dict[str, Any]]) -> bytes:
    verdicts = validator.check_batch(orders_frame(orders))
    accepted = verdicts["accepted"].tolist()
    layers = verdicts["layer"].astype(object).tolist()
    reasons = verdicts["reason"].astype(str).tolist()
    decisions = [{"accepted": a, "layer": None if isinstance(la, float) else la, "reason": r}
                 for a, la, r in zip(accepted, layers, reasons, strict=True)]
    n = sum(accepted)
    return json.dumps({"decisions": decisions, "accepted": n,
                       "rejected": len(accepted) - n}).encode()
