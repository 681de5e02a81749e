"""``workbench serve``: recommendations, pre-trade risk checks and backtests over HTTP.

A FastAPI application on uvicorn over the same functions a notebook calls, so the two can
never disagree: :func:`workbench.recommend.recommend`, the
:class:`workbench.risk.PreTradeValidator` (``check``, ``check_batch`` and its events),
:func:`workbench.backtest.run` with a :class:`workbench.BacktestConfig`, and the reports
folder. The market is loaded once at start-up and the recommendation caches are warmed
before the first request. OpenAPI docs are at ``/docs``.

Modules, bottom to top: ``settings`` (:class:`ServeSettings`, :func:`read_token`),
``problems`` (every error as an RFC 9457 problem detail), ``guard`` (the bearer token,
the body-size limit and the request log, in plain ASGI), ``fastlane`` (plain risk checks
and recommendations answered before FastAPI's routing), ``models`` (the pydantic bodies),
``bodies`` (the JSON answers, from the workbench's functions), ``offload`` (on the event
loop while measured short, else in a thread), ``recommenders`` (worker processes computing
recommendations), ``sessions`` (risk sessions), ``jobs`` (the backtest queue and where jobs
run), ``reports`` (the index and the pages, traversal refused), ``app`` (:func:`create_app`:
the routes), ``server`` (:func:`serve`: uvicorn on a bound socket).

Examples
--------
From a shell::

    workbench serve --market data/real --token-file ~/.workbench-token

In Python (e.g. a test), the app without a server:

>>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
>>> app = create_app(synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03",
...                                                   end="2023-12-29")))
>>> sorted(r.path for r in app.routes if r.path.startswith("/v1/risk"))[:2]
['/v1/risk/sessions', '/v1/risk/sessions/{session_id}']
"""

from workbench.serve.app import DEFAULT_STRATEGY, create_app
from workbench.serve.server import serve
from workbench.serve.settings import LOOPBACK, ServeSettings, read_token

__all__ = ["DEFAULT_STRATEGY", "LOOPBACK", "ServeSettings", "create_app", "read_token",
           "serve"]
