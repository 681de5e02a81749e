"""Stock recommendations: what a strategy would buy, hold, sell or avoid after a close, and why.

:func:`recommend` rates a whole universe in one vectorised pass of the strategy's
``scores(view)`` (see :class:`workbench.strategies.Scores`) on a point-in-time view of the
session ``as_of``: nothing after that close is read. Each row of the answer carries an
action and its reasons: the factor values behind the score (the strongest first) and, where
an exchange rule stands in the way, the rule:

* **buy**: the strategy wants the stock and does not hold it;
* **hold**: held and still wanted, or held and wanted out but a rule blocks the sale
  (suspended, closed at limit-down);
* **sell**: held and no longer wanted;
* **avoid**: not wanted, or wanted but blocked: under risk warning (ST / *ST), suspended,
  or closed at limit-up (a buy at the next open would most likely not fill).

**Cache.** Per market (in the Market object's own cache, so it goes with the market) the
module keeps a :class:`~workbench.strategies.ViewContext` with its dense arrays, the
security names and sectors, and recently used universes; per-strategy arrays such as RSI
or volatility live in the market's derived-array cache, keyed by the parameters they
depend on (see :mod:`workbench.strategies.base`). The first call on a market pays for
them; later calls reuse them. :func:`clear_cache` empties both, e.g. after editing a
market's tables in place.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench import strategies as _strategies
from workbench.checks import real_number, whole_number
from workbench.errors import ConfigError, DataError, LookupFailed
from workbench.strategies.base import Scores, Strategy, normalize_weights
from workbench.symbols import normalize_symbol
from workbench.view import MarketView, ViewContext

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["ACTIONS", "COLUMNS", "Recommendation", "clear_cache", "recommend", "recommendation"]

#: The actions, in the order a table lists them.
ACTIONS: tuple[str, ...] = ("buy", "hold", "sell", "avoid")
#: Columns of the table :func:`recommend` returns.
COLUMNS: tuple[str, ...] = ("symbol", "name", "sector", "action", "score", "target_weight",
                            "reasons")
_MAX_UNIVERSES = 64  # universes remembered per market


class _Warm:
    """What repeated recommendations on one market share."""

    __slots__ = ("ctx", "names", "positions", "sectors", "sessions", "symbols", "universes")

    def __init__(self, market: Market) -> None:
        self.ctx = ViewContext(market)
        sec = self.ctx.securities
        self.symbols = np.asarray(self.ctx.symbols, dtype=object)
        self.positions = {s: i for i, s in enumerate(self.symbols.tolist())}
        self.sessions = {d.date().isoformat(): i for i, d in enumerate(market.calendar)}
        self.names = sec["name"].astype(str).to_numpy()
        self.sectors = sec["sector"].astype(str).to_numpy()
        self.universes: dict[tuple[str, ...], np.ndarray] = {}


_KEY = "recommend:warm"  # the state refers to the market, so it lives on it (Market.memo)


def clear_cache(market: Market) -> None:
    """Drop what is kept warm for ``market``, derived arrays too (e.g. after editing it)."""
    market.forget(_KEY)
    _strategies.clear_cache(market)


def _warm(market: Market) -> _Warm:
    return market.memo(_KEY, lambda: _Warm(market))


@dataclass(frozen=True, eq=False)
class Recommendation:
    """What :func:`recommendation` answers: the table's columns, and what it was made of.

    Attributes
    ----------
    columns
        :data:`COLUMNS` in order, each one value per row (best score first): ``symbol``,
        ``name``, ``sector`` (object arrays), ``action`` and ``reasons`` (lists of str),
        ``score`` and ``target_weight`` (float64 arrays; a score is NaN where not rated,
        a weight is a fraction of equity).
    attrs
        ``strategy`` (name and parameters), ``as_of`` (ISO date), ``rule`` (one line) and
        ``inputs`` (which data it read): the table's ``attrs``.
    """

    columns: dict[str, Any]
    attrs: dict[str, Any]

    def frame(self) -> pd.DataFrame:
        """The table :func:`recommend` returns: one row per name, :data:`COLUMNS`, with
        :attr:`attrs`."""
        table = pd.DataFrame(self.columns)
        table.attrs = self.attrs
        return table

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row, :data:`COLUMNS` as keys, Python values (a NaN score stays NaN)."""
        values = [c.tolist() if isinstance(c, np.ndarray) else c for c in self.columns.values()]
        return [dict(zip(self.columns, row, strict=True)) for row in zip(*values, strict=True)]


# -- arguments --------------------------------------------------------------------------------
def _row(market: Market, as_of: Any, sessions: Mapping[str, int]) -> int:
    if isinstance(as_of, str) and (found := sessions.get(as_of)) is not None:
        return found  # a session written as an ISO date (what the HTTP service sends)
    cal = market.calendar
    if len(cal) == 0:
        raise DataError(f"market {market.name!r} has no sessions to recommend from")
    if as_of is None:
        return len(cal) - 1
    try:
        day = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise ConfigError(f"as_of {as_of!r} is not a date; write e.g. '2024-06-28'") from None
    if pd.isna(day):
        raise ConfigError("as_of is NaT; give a date such as '2024-06-28' or None for the "
                          "last session")
    day = day.normalize()
    if day < cal[0] or day > cal[-1]:
        raise ConfigError(f"as_of {day.date()} is outside the data of market {market.name!r} "
                          f"({cal[0].date()}..{cal[-1].date()}); choose a date within it, or "
                          "None for the last session")
    return int(cal.searchsorted(day, side="right")) - 1  # the last session on or before


def _unknown(raw: object, symbols: pd.Index, what: str) -> LookupFailed:
    close = difflib.get_close_matches(str(raw), list(symbols), n=3)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    return LookupFailed(f"unknown symbol {raw!r} in {what}; {hint}the market has "
                        f"{len(symbols)} symbols (see market.symbols)")


def _position(raw: object, warm: _Warm, what: str) -> int:
    try:
        sym = normalize_symbol(raw)
    except DataError:
        raise _unknown(raw, warm.ctx.symbols, what) from None
    pos = warm.positions.get(sym)
    if pos is None:
        raise _unknown(sym, warm.ctx.symbols, what)
    return pos


def _universe(warm: _Warm, universe: Sequence[str] | str | None) -> np.ndarray | None:
    if universe is None:
        return None
    if isinstance(universe, str):
        universe = [u for u in universe.split(",") if u.strip()]
    key = tuple(str(u).strip() for u in universe)
    found = warm.universes.get(key)
    if found is None:
        if not key:
            raise ConfigError("universe is empty; give symbols such as ['600000.SH'] or None "
                              "for the whole market")
        found = np.zeros(len(warm.ctx.symbols), dtype=bool)
        for raw in key:
            found[_position(raw, warm, "universe")] = True
        found.flags.writeable = False
        kept = list(warm.universes)  # threads (the HTTP service) may evict the same one
        for old in kept[:max(0, len(kept) - _MAX_UNIVERSES + 1)]:
            warm.universes.pop(old, None)
        warm.universes[key] = found
    return found


def _holdings(warm: _Warm, holdings: Mapping[str, float] | pd.Series | None) -> np.ndarray:
    shares = np.zeros(len(warm.ctx.symbols), dtype=np.int64)
    if holdings is None:
        return shares
    items = holdings.items() if isinstance(holdings, (Mapping, pd.Series)) else None
    if items is None:
        raise ConfigError(f"holdings must map symbol -> shares held, got "
                          f"{type(holdings).__name__}; e.g. {{'600000.SH': 1000}}")
    for raw, qty in items:
        pos = _position(raw, warm, "holdings")
        shares[pos] += int(real_number(qty, f"holdings[{raw!r}]", minimum=0.0,
                                       kind="number of shares"))
    return shares


def _fallback_scores(strategy: Strategy, ctx: ViewContext, row: int, holdings: np.ndarray,
                     equity: float, mask: np.ndarray | None) -> Scores:
    """Scores from ``target_weights`` for a strategy without ``scores``: score = weight."""
    first = ViewContext(ctx.market, start_row=row)  # its first day: periodic ones rebalance
    view = MarketView(first, row, holdings=holdings, equity_cny=equity, universe=mask)
    raw = strategy.target_weights(view)
    w = (view.weights.copy() if raw is None else
         normalize_weights(raw, ctx.symbols, date=view.date, strategy=strategy.name))
    top = float(w.max()) if w.size else 0.0
    return Scores(score=np.where(view.listed, w / top if top > 0 else 0.0, np.nan),
                  weights=w, eligible=view.tradable, rule="target weights (no scores)")


# -- the recommendation -----------------------------------------------------------------------
def recommend(market: Market, strategy: str | Strategy, as_of: Any = None,
              universe: Sequence[str] | str | None = None, top: int = 20,
              holdings: Mapping[str, float] | pd.Series | None = None) -> pd.DataFrame:
    """Recommend what to buy, hold, sell or avoid after the close of ``as_of``, with reasons.

    Parameters
    ----------
    market
        The data (:func:`workbench.load_market`).
    strategy
        A registered strategy name (default parameters) or a Strategy instance; it needs
        ``scores(view)`` (every registered one has it), else its target weights are used.
    as_of
        The session to decide after; the last session on or before a non-session date.
        None (default): the market's last session. Only data up to its close is used.
    universe
        Symbols to analyse (a list or a comma-separated string; any spelling
        :func:`workbench.symbols.normalize_symbol` reads), or the name of an index the market
        has membership for (:attr:`~workbench.data.Market.indexes`, e.g. ``'csi300'``): its
        members as of ``as_of``, point in time. The strategy ranks and picks within them.
        None: the whole listed market.
    top
        Rows of candidates: the ``top`` best-scored names of the universe (>= 1). Held
        names are listed too, whatever their score.
    holdings
        Current positions, symbol -> shares; they turn buys into holds and give sells.

    Returns
    -------
    pd.DataFrame
        One row per name, best score first, columns :data:`COLUMNS`: ``action`` in
        :data:`ACTIONS`, ``score`` in [0, 1] (NaN: not rated), ``target_weight`` the fraction
        of equity the strategy wants in it, ``reasons`` a sentence. ``attrs`` holds the
        strategy, ``as_of``, its ``rule`` and the ``inputs`` it read.

    Raises
    ------
    ConfigError
        For an ``as_of`` outside the data, a bad ``top`` or holdings, or a universe in
        which nothing is tradable on ``as_of``.
    LookupFailed
        For an unknown strategy, or an unknown symbol in ``universe`` or ``holdings``
        (with the closest ones).

    Examples
    --------
    >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
    >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03", end="2023-12-29"))
    >>> table = recommend(m, "momentum", top=3)
    >>> list(table.columns) == list(COLUMNS), len(table) == 3
    (True, True)
    """
    return recommendation(market, strategy, as_of=as_of, universe=universe, top=top,
                          holdings=holdings).frame()


def recommendation(market: Market, strategy: str | Strategy, as_of: Any = None,
                   universe: Sequence[str] | str | None = None, top: int = 20,
                   holdings: Mapping[str, float] | pd.Series | None = None) -> Recommendation:
    """:func:`recommend`'s answer as plain columns, before it becomes a table.

    The same arguments, checks and errors as :func:`recommend`, which is
    ``recommendation(...).frame()``; a caller that writes the rows out itself (the HTTP
    service writes them as JSON) skips building the DataFrame.

    Examples
    --------
    >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
    >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03", end="2023-12-29"))
    >>> answer = recommendation(m, "momentum", top=3)
    >>> answer.frame().equals(recommend(m, "momentum", top=3)), len(answer.rows())
    (True, 3)
    """
    strat = _strategies.resolve(strategy)
    top = whole_number(top, "top (rows)", hint="e.g. top=20")
    warm = _warm(market)
    ctx = warm.ctx
    row = _row(market, as_of, warm.sessions)
    if isinstance(universe, str) and universe in market.indexes:
        mask = market.membership(universe)[row]  # the members known on that day
    else:
        mask = _universe(warm, universe)
    shares = _holdings(warm, holdings)
    held = shares > 0
    if mask is not None and held.any():
        mask = mask | held
    close = ctx.array("close")[row]
    value = float(np.nansum(shares * close)) if held.any() else 0.0
    view = MarketView(ctx, row, holdings=shares, equity_cny=value if value > 0 else math.nan,
                      universe=mask)
    st = view.is_st
    if not (view.tradable & ~st).any():
        _nothing_tradable(view, mask)
    try:
        scores = strat.scores(view)
    except NotImplementedError:
        scores = _fallback_scores(strat, ctx, row, shares, value, mask)
    return _answer(warm, strat, view, scores, shares, top)


def _nothing_tradable(view: MarketView, mask: np.ndarray | None) -> None:
    day = view.date.date()
    if mask is None:
        raise ConfigError(f"nothing is tradable on {day}: no listed stock has an unsuspended "
                          "bar and no risk warning; choose another as_of")
    status = []
    for i in np.flatnonzero(mask)[:10]:
        sym = view.symbols[i]
        if not view.listed[i]:
            status.append(f"{sym} not listed")
        elif not view.has_bar[i]:
            status.append(f"{sym} no bar")
        elif view.latest("suspended")[i]:
            status.append(f"{sym} suspended")
        else:
            status.append(f"{sym} ST")
    raise ConfigError(f"nothing in the universe is tradable on {day} ({', '.join(status)}); "
                      "choose other symbols or another as_of")


def _answer(warm: _Warm, strat: Strategy, view: MarketView, scores: Scores,
            shares: np.ndarray, top: int) -> Recommendation:
    ctx = warm.ctx
    row = view.row
    score, weights = scores.score, scores.weights
    held = shares > 0
    analysed = np.flatnonzero(view.listed | held)
    key = np.where(np.isfinite(score[analysed]), -score[analysed], np.inf)
    ranked = analysed[np.argsort(key, kind="stable")]
    n_rated = int(np.isfinite(score[analysed]).sum())
    chosen = ranked[:top]
    extra = np.flatnonzero(held)
    if extra.size:
        extra = extra[~np.isin(extra, chosen)]
    if extra.size:
        chosen = np.concatenate([chosen, extra])
    day = str(view.date.date())
    close = ctx.array("close")[row][chosen]
    limit_up = (close >= ctx.array("limit_up")[row][chosen]).tolist()
    limit_down = (close <= ctx.array("limit_down")[row][chosen]).tolist()
    position = np.empty(len(score), dtype=np.int64)  # place in the ranking, by symbol
    position[ranked] = np.arange(len(ranked))
    actions, reasons = [], []
    factors = scores.reasons(chosen)
    for k, (i, p, want, own, listed, st, suspended, eligible) in enumerate(zip(
            chosen.tolist(), position[chosen].tolist(), (weights[chosen] > 0).tolist(),
            held[chosen].tolist(), view.listed[chosen].tolist(), view.is_st[chosen].tolist(),
            ctx.array("suspended")[row][chosen].astype(bool).tolist(),
            scores.eligible[chosen].tolist(), strict=True)):
        action, why = _action(
            i, want=want, held=own, listed=listed, st=st, suspended=suspended,
            limit_up=limit_up[k], limit_down=limit_down[k], close=float(close[k]), day=day,
            eligible=eligible, rank=p + 1 if p < n_rated else None, n_rated=n_rated,
            rule=scores.rule)
        actions.append(action)
        reasons.append(f"{why}; {factors[k]}" if factors[k] else why)
    return Recommendation(
        columns={"symbol": warm.symbols[chosen], "name": warm.names[chosen],
                 "sector": warm.sectors[chosen], "action": actions, "score": score[chosen],
                 "target_weight": weights[chosen], "reasons": reasons},
        attrs={"strategy": strat.describe(), "as_of": day, "rule": scores.rule,
               "inputs": strat.describe_inputs(ctx.market)})


def _action(i: int, *, want: bool, held: bool, listed: bool, st: bool, suspended: bool,
            limit_up: bool, limit_down: bool, close: float, day: str, eligible: bool,
            rank: int | None, n_rated: int, rule: str) -> tuple[str, str]:
    """The action for one name and the rule or signal behind it."""
    ranked = f"rank {rank} of {n_rated}" if rank is not None else "not rated"
    if not listed:
        return ("sell" if held else "avoid"), f"not listed on {day}"
    if want and not held:
        if st:
            return "avoid", f"{ranked}, but ST (risk warning) on {day}: not bought"
        if suspended:
            return "avoid", f"{ranked}, but suspended on {day}: cannot be bought"
        if limit_up:
            return "avoid", (f"{ranked}, but closed at limit-up {close:.2f} on {day}: a buy "
                             "at the next open would most likely not fill")
        return "buy", f"{ranked}: picked"
    if want:
        return "hold", f"{ranked}: still picked"
    if held:
        if suspended:
            return "hold", f"{ranked}, to sell, but suspended on {day}: cannot be sold"
        if limit_down:
            return "hold", (f"{ranked}, to sell, but closed at limit-down {close:.2f} on "
                            f"{day}: a sale at the next open would most likely not fill")
        why = "ST (risk warning)" if st else "no longer picked"
        return "sell", f"{ranked}: {why}"
    if st:
        return "avoid", f"{ranked}: ST (risk warning) on {day}, excluded"
    if suspended:
        return "avoid", f"{ranked}: suspended on {day}"
    if not eligible:
        return "avoid", f"{ranked}: outside the rule ({rule})"
    return "avoid", f"{ranked}: not among the picks ({rule})"
