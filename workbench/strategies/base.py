"""The strategy protocol: what a strategy is and what it returns.

A strategy is a frozen dataclass whose fields are its parameters, with a class-level
``name`` and one method::

    @register
    @dataclass(frozen=True, kw_only=True)
    class Momentum(Strategy):
        name: ClassVar[str] = "momentum"
        lookback: int = 60

        def target_weights(self, view: MarketView) -> Weights | None:
            ...

The backtester calls ``target_weights`` after the close of every session ``t`` with a
:class:`~workbench.view.MarketView` of the data up to and including ``t``; the orders it
implies fill on the next session. The method returns

* ``None``: no change today (keep the holdings; cheap for monthly rebalancers), or
* target weights, fractions of equity per symbol, as a float array aligned with
  ``view.symbols``, a ``pd.Series`` indexed by symbol or a ``{symbol: weight}`` mapping.
  Symbols left out get weight 0 (sold). Weights must be finite, >= 0 and sum to <= 1
  (the account is cash only: no shorting, no leverage); anything else stops the run with
  a :class:`~workbench.errors.ConfigError`, nothing is clipped (:func:`normalize_weights`).

Optionally a strategy also implements ``scores(view) -> Scores``: a rating of every symbol
(a score in [0, 1], the weights it would hold if it rebalanced after this close, the
factor values behind them and their reasons). :func:`workbench.recommend.recommend` uses
it to explain its picks; the backtester never calls it. A strategy whose inputs may be
missing for part of the universe (statements, valuation ratios) also implements
``coverage(view) -> Coverage``: which listed symbols it can score and why not the others;
the backtester samples it once a month and warns when it scores fewer than half (see
:mod:`workbench.result`). Strategies are found by name through
:mod:`workbench.strategies.registry`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeAlias

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, did_you_mean
from workbench.jsonable import jsonable
from workbench.view import MarketView

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["WEIGHT_TOLERANCE", "Coverage", "Factor", "Scores", "Strategy", "Weights",
           "normalize_weights"]

#: What ``target_weights`` may return besides ``None``.
Weights: TypeAlias = np.ndarray | pd.Series | Mapping[str, float]

#: Sum of weights allowed above 1.0 for floating-point noise (1/3 + 1/3 + 1/3 and the like).
WEIGHT_TOLERANCE = 1e-9


class Factor(NamedTuple):
    """One input behind a strategy's scores, per symbol, for explanations.

    Attributes
    ----------
    name
        What it is, e.g. ``'earnings yield'``.
    values
        Per symbol (aligned with ``view.symbols``), NaN where not available.
    fmt
        Format of one value, e.g. ``'{:.1%}'``.
    rank
        Optional percentile of the value among the rated symbols, 0-1 (1 is the most
        attractive); names the factor that drove a pick.
    """

    name: str
    values: np.ndarray
    fmt: str = "{:.3g}"
    rank: np.ndarray | None = None


class Coverage(NamedTuple):
    """Which listed symbols a strategy can score after one close, and why not the others.

    Attributes
    ----------
    scored
        Per symbol (aligned with ``view.symbols``): True where the strategy has every
        input it ranks on; always False for symbols not listed.
    reason
        Why the other listed symbols cannot be scored, with counts, e.g. ``'pe_ttm
        missing for 80 of 80 listed'``; ``''`` when every listed symbol is scored.

    Examples
    --------
    >>> c = Coverage(np.array([True, False, False]), "pe_ttm missing for 2 of 3 listed")
    >>> c.rate(np.array([True, True, True]))
    0.3333333333333333
    """

    scored: np.ndarray
    reason: str = ""

    def rate(self, listed: np.ndarray) -> float:
        """Fraction of the ``listed`` symbols scored (1.0 when none is listed)."""
        n = int(np.count_nonzero(listed))
        return 1.0 if n == 0 else int(np.count_nonzero(self.scored & listed)) / n


@dataclass(frozen=True, eq=False)
class Scores:
    """A strategy's rating of every symbol after one close (``Strategy.scores``).

    Attributes
    ----------
    score
        Per symbol, in [0, 1], higher is more attractive (each strategy says what it is,
        usually a percentile of its signal among the symbols it rated); NaN where not
        rated (not listed, not enough data).
    weights
        The target weights the strategy would hold if it rebalanced after this close,
        whatever its schedule (>= 0, sum <= 1).
    eligible
        Symbols the strategy may buy today (listed, tradable, its own filters).
    factors
        The inputs behind the score, for reasons.
    rule
        One line: how the strategy picks (``'top 20 by composite rank'``).
    """

    score: np.ndarray
    weights: np.ndarray
    eligible: np.ndarray
    factors: tuple[Factor, ...] = ()
    rule: str = ""

    def reason(self, i: int) -> str:
        """The factor values of symbol number ``i``, the strongest first when ranked.

        Examples
        --------
        >>> s = Scores(score=np.array([0.75]), weights=np.array([1.0]),
        ...            eligible=np.array([True]),
        ...            factors=(Factor("ROE", np.array([0.12]), "{:.0%}", np.array([0.75])),
        ...                     Factor("P/E", np.array([9.0]), "{:.1f}", np.array([0.25]))))
        >>> s.reason(0)
        'ROE 12% (pct 0.75), P/E 9.0 (pct 0.25)'
        """
        return self.reasons([i])[0]

    def reasons(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        """:meth:`reason` for each of ``rows`` (symbol numbers), written in one pass (the
        one implementation: :meth:`reason` is a row of it).

        Each factor's text is ``'name value'`` (``'name n/a'`` for a value that is not
        finite), followed by ``' (pct 0.75)'`` where its rank is finite; the texts are
        joined with ``', '``, the highest rank first, unranked ones last, ties in the
        factors' order.
        """
        at = np.asarray(rows, dtype=np.intp).reshape(-1)
        if not self.factors:
            return [""] * at.size
        texts: list[list[str]] = []  # factor x row
        ranks: list[np.ndarray] = []  # of the ranked factors: where each row's rank is
        for f in self.factors:
            name, fmt = f.name, f.fmt.format
            values = np.asarray(f.values[at], dtype=np.float64)
            column = [f"{name} {fmt(v)}" if isfinite else f"{name} n/a" for v, isfinite in
                      zip(values.tolist(), np.isfinite(values).tolist(), strict=True)]
            if f.rank is not None:
                r = np.asarray(f.rank[at], dtype=np.float64)
                ok = np.isfinite(r)
                column = [f"{t} (pct {p:.2f})" if good else t for t, p, good in
                          zip(column, r.tolist(), ok.tolist(), strict=True)]
                ranks.append(np.where(ok, -r, np.inf))
            else:
                ranks.append(np.full(at.size, np.inf))
            texts.append(column)
        if len(texts) == 1:
            return texts[0]
        # the driver first: the highest finite rank; the others keep the factors' order
        order = np.argsort(np.stack(ranks), axis=0, kind="stable").T.tolist()
        return [", ".join([texts[j][k] for j in factor_order])
                for k, factor_order in enumerate(order)]


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """Base of every strategy: a frozen dataclass of parameters with a ``name``.

    Subclasses set ``name`` (a ``ClassVar``), declare their parameters as typed fields with
    defaults, validate them in ``__post_init__`` (raising ConfigError) and implement
    :meth:`target_weights`; optionally :meth:`scores` (for recommendations),
    :meth:`coverage` (for the backtest's coverage warning) and :meth:`describe_inputs`.
    """

    name: ClassVar[str] = "strategy"

    def target_weights(self, view: MarketView) -> Weights | None:
        """Target weights after the close of ``view.date``, or None for no change."""
        raise NotImplementedError(f"{type(self).__name__} must implement target_weights")

    def scores(self, view: MarketView) -> Scores:
        """Rate every symbol after the close of ``view.date`` (optional; see :class:`Scores`).

        Unlike :meth:`target_weights` it ignores the rebalancing schedule: its ``weights``
        are what the strategy would hold if it rebalanced now.
        """
        raise NotImplementedError(f"strategy {self.name!r} does not rate stocks; implement "
                                  "scores(view) to use it for recommendations")

    def coverage(self, view: MarketView) -> Coverage | None:
        """Which listed symbols the strategy can score after the close of ``view.date``.

        Optional: strategies whose inputs may be missing for much of the universe (e.g.
        fundamentals that start years after the bars) override it, so that a backtest can
        warn when they could score fewer than half of the listed stocks. The backtester
        calls it once a month, so it should cost no more than :meth:`scores`. The default,
        None, means the strategy does not say (price-based strategies, whose only gap is
        their warm-up, which the invested fraction already shows).
        """
        return None

    def describe_inputs(self, market: Market) -> str:
        """One line saying which data the strategy reads on ``market``."""
        return "daily bars (backward-adjusted close)"

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def describe(self) -> dict[str, Any]:
        """Name and parameters, JSON-ready (for results and reports)."""
        return {"name": self.name, "params": jsonable(self.params)}


def normalize_weights(raw: Weights, symbols: pd.Index, *, date: pd.Timestamp,
                      strategy: str = "strategy") -> np.ndarray:
    """Turn a strategy's weights into a float array aligned with ``symbols``, or raise.

    Raises
    ------
    ConfigError
        For an unknown symbol, a NaN, infinite or negative weight, weights summing to more
        than 1, or an array of the wrong shape; the message names the value and the fix.

    Examples
    --------
    >>> syms = pd.Index(["000001.SZ", "600000.SH"])
    >>> normalize_weights({"600000.SH": 0.5}, syms, date=pd.Timestamp("2024-01-02")).tolist()
    [0.0, 0.5]
    """
    if (type(raw) is np.ndarray and raw.shape == (len(symbols),) and raw.size
            and raw.dtype == np.float64):
        # the fast path, taken every session by array strategies
        total = float(raw.sum())
        if np.isfinite(total) and total <= 1.0 + WEIGHT_TOLERANCE and raw.min() >= 0:
            return raw.copy()
    where = f"{strategy} on {pd.Timestamp(date).date()}"
    if isinstance(raw, Mapping) and not isinstance(raw, pd.Series):
        raw = pd.Series(dict(raw), dtype=float)
    if isinstance(raw, pd.Series):
        if raw.index.has_duplicates:
            dup = raw.index[raw.index.duplicated()][0]
            raise ConfigError(f"{where}: symbol {dup!r} appears twice in the weights; give "
                              "one weight per symbol")
        pos = symbols.get_indexer(raw.index.astype(str))
        if (pos < 0).any():
            bad = str(raw.index[np.flatnonzero(pos < 0)[0]])
            raise ConfigError(f"{where}: symbol {bad!r} is not in the market; "
                              f"{did_you_mean(bad, symbols)}")
        w = np.zeros(len(symbols))
        try:
            w[pos] = raw.to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: weights must be numbers, got dtype "
                              f"{raw.dtype}") from None
    elif isinstance(raw, np.ndarray):
        if raw.shape != (len(symbols),):
            raise ConfigError(f"{where}: a weight array must have shape ({len(symbols)},), one "
                              f"weight per view.symbols entry; got {raw.shape}")
        w = raw.astype(float)
    else:
        raise ConfigError(f"{where}: target_weights returned {type(raw).__name__}; return an "
                          "array aligned with view.symbols, a Series or dict of weights by "
                          "symbol, or None for no change")
    if not np.isfinite(w).all():
        i = int(np.flatnonzero(~np.isfinite(w))[0])
        raise ConfigError(f"{where}: weight {float(w[i])!r} for {symbols[i]} is not a finite "
                          "number; "
                          "give 0 for stocks not to hold")
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise ConfigError(f"{where}: weight {float(w[i])!r} for {symbols[i]} is negative; A-share "
                          "cash accounts cannot sell short, use weights >= 0")
    total = float(w.sum())
    if total > 1.0 + WEIGHT_TOLERANCE:
        raise ConfigError(f"{where}: weights sum to {total:.10g} > 1; the account has no "
                          "leverage, scale the weights so they sum to at most 1")
    return w
