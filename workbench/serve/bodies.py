"""The JSON bodies of the service's answers, written from the workbench's own functions.

Each body is what a route sends, made by the function a notebook calls: a recommendation
from :func:`workbench.recommend.recommendation` (``recommend``'s columns), a decision from
:meth:`workbench.risk.PreTradeValidator.check`, the market's description and the strategies'
parameters. They are plain functions of the market, so the service computes them in its
own process or in worker processes (:mod:`workbench.serve.recommenders`) alike: the same
function, the same bytes.
"""

from __future__ import annotations

import json
import logging
import math
import typing
from typing import Any

import numpy as np

from workbench import strategies
from workbench.data.market import Market
from workbench.data.provenance import provenance
from workbench.errors import WorkbenchError
from workbench.jsonable import jsonable
from workbench.recommend import recommend, recommendation
from workbench.risk import Decision

__all__ = ["decision_json", "market_json", "recommendation_json", "strategies_json", "warm"]

_log = logging.getLogger("workbench.serve")


def _finite(values: list[Any]) -> list[Any]:
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]


def recommendation_json(market: Market, strategy: str, top: int, as_of: str | None,
                        symbols: str | None) -> bytes:
    """``recommendation(market, strategy, as_of, universe=symbols, top)`` as the JSON body
    of ``GET /v1/recommendations``: the rows of ``recommend``'s table, NaN scores as null,
    written from the columns without building the table."""
    answer = recommendation(market, strategy, as_of=as_of, universe=symbols, top=top)
    info = answer.attrs
    columns = [_finite(c.tolist()) if isinstance(c, np.ndarray) else c
               for c in answer.columns.values()]
    keys = list(answer.columns)
    doc = {"market": market.name, "strategy": jsonable(info["strategy"]),
           "as_of": info["as_of"], "rule": info["rule"], "inputs": jsonable(info["inputs"]),
           "rows": [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode()


def decision_json(decision: Decision) -> bytes:
    """A :class:`~workbench.risk.Decision` as the JSON body of the check route."""
    return json.dumps({"accepted": decision.accepted,
                       "layer": None if decision.layer is None else decision.layer.value,
                       "reason": decision.reason.value, "message": decision.message},
                      ensure_ascii=False, allow_nan=False).encode()


def market_json(market: Market) -> bytes:
    """The body of ``GET /v1/market``: provenance, summary (range, boards) and securities."""
    sec = market.securities
    columns = [c for c in ("symbol", "name", "board", "sector", "list_date", "delist_date")
               if c in sec.columns]
    securities = [jsonable(r) for r in sec[columns].to_dict("records")]
    doc = {"provenance": provenance(market).to_dict(), "summary": jsonable(market.summary()),
           "securities": securities}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode()


def strategies_json() -> bytes:
    """The body of ``GET /v1/strategies``: each strategy's parameters, types and defaults."""
    out = []
    for name in strategies.available():
        kinds = strategies.parameter_types(name)
        doc = (type(strategies.get(name)).__doc__ or "").strip().splitlines()
        out.append({"name": name, "summary": doc[0] if doc else "",
                    "parameters": [{"name": k, "type": _type_name(kinds[k]),
                                    "default": jsonable(v)}
                                   for k, v in strategies.parameters(name).items()]})
    return json.dumps(out, ensure_ascii=False, allow_nan=False).encode()


def _type_name(kind: Any) -> str:
    """``int``, ``float``, ``Literal['never', 'monthly']``, ... (the declared type)."""
    if typing.get_origin(kind) is not None:
        return repr(kind).replace("typing.", "")
    return str(getattr(kind, "__name__", kind))


def warm(market: Market) -> None:
    """Build what requests read, before the first one: each strategy's recommendation
    state on the last session and the panels a risk session is opened from."""
    for column in ("close", "prev_close", "limit_up", "limit_down", "suspended", "is_st"):
        market.grid(column)
    for name in strategies.available():
        try:
            recommend(market, name, top=20)
        except WorkbenchError as exc:  # e.g. nothing tradable on a tiny market
            _log.warning("warm-up: %s on %s: %s", name, market.name, exc)
