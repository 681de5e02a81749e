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
from workbench.recommend import Recommendation, recommend, recommendation
from workbench.risk import Decision

__all__ = ["decision_json", "market_json", "recommendation_body", "recommendation_json",
           "strategies_json", "warm"]

_log = logging.getLogger("workbench.serve")


#: How ``json.dumps(..., ensure_ascii=False)`` writes a str (the C function it calls).
_text = json.encoder.encode_basestring


def _json_value(v: Any) -> str:
    """``v`` as ``json.dumps(v, ensure_ascii=False, allow_nan=False)`` writes it, a float
    that is not finite as ``null``."""
    if type(v) is float:
        return float.__repr__(v) if math.isfinite(v) else "null"  # what json.dumps writes
    if isinstance(v, float) and not math.isfinite(v):
        return "null"
    return json.dumps(v, ensure_ascii=False, allow_nan=False)


def _json_column(values: list[Any]) -> list[str]:
    """Each of ``values`` as :func:`_json_value` writes it (a column of one type at once)."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return list(map(_text, values))
    if kinds == {float}:
        finite, written = math.isfinite, float.__repr__
        return [written(v) if finite(v) else "null" for v in values]
    return list(map(_json_value, values))


def recommendation_body(market_name: str, answer: Recommendation) -> bytes:
    """``answer`` (:func:`workbench.recommend.recommendation`'s) as the JSON body of ``GET
    /v1/recommendations``: the market's name, the answer's ``attrs`` and its rows, one
    object per row (``recommend``'s table), a float that is not finite as null.

    The bytes are those of ``json.dumps`` of that document (``ensure_ascii=False``, default
    separators); the rows are written column by column with the encoders ``json.dumps``
    itself uses (a str by the same C function, a float by ``float.__repr__``), without
    building a dict per row.
    """
    info = answer.attrs
    head = json.dumps({"market": market_name, "strategy": jsonable(info["strategy"]),
                       "as_of": info["as_of"], "rule": info["rule"],
                       "inputs": jsonable(info["inputs"])},
                      ensure_ascii=False, allow_nan=False)
    columns = [_json_column(c.tolist() if isinstance(c, np.ndarray) else list(c))
               for c in answer.columns.values()]
    one = "{" + ", ".join(_text(str(k)).replace("%", "%%") + ": %s"
                          for k in answer.columns) + "}"  # a row: {"symbol": ..., ...}
    rows = ", ".join([one % row for row in zip(*columns, strict=True)])
    return f"{head[:-1]}, \"rows\": [{rows}]}}".encode()


def recommendation_json(market: Market, strategy: str, top: int, as_of: str | None,
                        symbols: str | None) -> bytes:
    """``recommendation(market, strategy, as_of, universe=symbols, top)`` as the JSON body
    of ``GET /v1/recommendations`` (:func:`recommendation_body`): the rows of
    ``recommend``'s table, NaN scores as null, written from the columns without building
    the table."""
    answer = recommendation(market, strategy, as_of=as_of, universe=symbols, top=top)
    return recommendation_body(market.name, answer)


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
