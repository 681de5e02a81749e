"""Fundamental strategies: value and quality from point-in-time statements or daily ratios."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from workbench.errors import ConfigError, DataError
from workbench.strategies.base import Coverage, Factor, Scores, Strategy
from workbench.strategies.ranking import (
    check_count,
    equal_weights,
    percentile_ranks,
    rebalance_due,
    top_n,
)
from workbench.strategies.registry import register
from workbench.view import MarketView

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["ValueQuality"]

Inputs = Literal["auto", "statements", "ratios"]
_RATIOS = ("pe_ttm", "pb_mrq")
_STATEMENT_FIGURES = ("eps", "bvps", "roe", "profit_growth")


@register
@dataclass(frozen=True, kw_only=True)
class ValueQuality(Strategy):
    """Value and quality: hold the cheapest, most profitable, growing stocks, monthly.

    On the first session of each month (and the backtest's first day) every listed stock
    with a bar today and all inputs available is ranked on each factor (mid-rank
    percentiles, within its sector when ``sector_neutral``); its composite score is the
    mean of those percentiles. The strategy buys the ``top_n`` best composites among
    tradable (not suspended), non-ST stocks in equal weights and sells the rest.

    The factors come from the market's point-in-time statements when it has any, each
    stock's latest report *announced* on or before the day (``fundamentals_asof``): earnings
    yield ``eps / price`` and book-to-price ``bvps / price`` (price in the report's shares,
    so later bonus issues do not distort them), ROE and year-over-year profit growth. A
    market without statements but with daily valuation ratios (baostock's ``peTTM`` and
    ``pbMRQ``, as in an imported market) is ranked on those as of each day: earnings yield
    ``1 / pe_ttm``, book-to-price ``1 / pb_mrq`` and ROE ``pb_mrq / pe_ttm``; profit growth
    is then not available. :meth:`describe_inputs` says which applies, and
    :meth:`coverage` which listed stocks lack an input (a backtest warns when more than
    half do for more than 60 sessions, e.g. daily ratios that start years after the bars).

    Parameters
    ----------
    top_n
        Stocks held (>= 1), equally weighted.
    sector_neutral
        Rank each factor within the stock's sector instead of the whole market.
    inputs
        ``'auto'`` (statements when the market has any, else the ratios),
        ``'statements'`` or ``'ratios'``.

    Examples
    --------
    >>> ValueQuality(top_n=10, sector_neutral=True).params
    {'top_n': 10, 'sector_neutral': True, 'inputs': 'auto'}
    """

    name: ClassVar[str] = "value_quality"
    top_n: int = 20
    sector_neutral: bool = False
    inputs: Inputs = "auto"

    def __post_init__(self) -> None:
        check_count("value_quality", "top_n", self.top_n)
        if not isinstance(self.sector_neutral, bool):
            raise ConfigError(f"value_quality: sector_neutral must be True or False, got "
                              f"{self.sector_neutral!r}")
        if self.inputs not in ("auto", "statements", "ratios"):
            raise ConfigError(f"value_quality: inputs must be 'auto', 'statements' or "
                              f"'ratios', got {self.inputs!r}")

    # -- inputs -----------------------------------------------------------------------------
    def input_mode(self, market: Market) -> Literal["statements", "ratios"]:
        """``'statements'`` or ``'ratios'``: what the strategy ranks on for ``market``.

        Raises
        ------
        DataError
            When the market lacks what ``inputs`` asks for (or, for ``'auto'``, both).
        """
        return self._mode(len(market.fundamentals) > 0, market.bar_columns)

    def _mode(self, has_statements: bool,
              columns: tuple[str, ...]) -> Literal["statements", "ratios"]:
        if self.inputs == "statements" or (self.inputs == "auto" and has_statements):
            if not has_statements:
                raise DataError("value_quality: the market has no statements (fundamentals "
                                "is empty); use inputs='ratios' for markets with daily "
                                "pe_ttm/pb_mrq")
            return "statements"
        if not all(c in columns for c in _RATIOS):
            raise DataError(f"value_quality: the market has neither statements nor the daily "
                            f"valuation ratios {list(_RATIOS)}; import bars from baostock "
                            "(peTTM, pbMRQ) or add point-in-time fundamentals")
        return "ratios"

    def describe_inputs(self, market: Market) -> str:
        """Which data the ranking uses on ``market``, in one line."""
        if self.input_mode(market) == "statements":
            return (f"point-in-time statements ({len(market.fundamentals):,} reports), each "
                    "stock's latest report announced by the day: earnings yield eps/price, "
                    "book-to-price bvps/price, ROE, profit growth")
        return ("daily valuation ratios as of each day (no statements): earnings yield "
                "1/pe_ttm, book-to-price 1/pb_mrq, ROE pb_mrq/pe_ttm; profit growth not "
                "available")

    def _factors(self, view: MarketView) -> tuple[Factor, ...]:
        if self._mode(view.has_statements, view.bar_columns) == "statements":
            price = view.report_price
            with np.errstate(divide="ignore", invalid="ignore"):
                ey = view.fundamental("eps") / price
                bp = view.fundamental("bvps") / price
            return (Factor("earnings yield", ey, "{:.1%}"),
                    Factor("book/price", bp, "{:.2f}"),
                    Factor("ROE", view.fundamental("roe"), "{:.1%}"),
                    Factor("profit growth", view.fundamental("profit_growth"), "{:+.0%}"))
        pe, pb = view.latest("pe_ttm"), view.latest("pb_mrq")
        pe = np.where(pe == 0, np.nan, pe)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (Factor("earnings yield (1/PE TTM)", 1.0 / pe, "{:.1%}"),
                    Factor("book/price (1/PB MRQ)", 1.0 / pb, "{:.2f}"),
                    Factor("ROE (PB/PE)", pb / pe, "{:.1%}"))

    def coverage(self, view: MarketView) -> Coverage:
        """The listed stocks that have every input today, and what the others lack.

        The reason counts, among the listed stocks, those without a bar today and those
        missing each input: ``pe_ttm`` and ``pb_mrq`` (NaN or 0) when ranking on the daily
        ratios; ``statement`` (none announced yet), then ``eps``, ``bvps``, ``roe`` and
        ``profit_growth`` of the latest announced one when ranking on statements.
        """
        listed = view.listed
        scored = _rated(view, self._factors(view))
        gaps = {"bar": ~view.has_bar}
        if self._mode(view.has_statements, view.bar_columns) == "statements":
            announced = view.report_index >= 0
            gaps["statement"] = ~announced
            for column in _STATEMENT_FIGURES:
                gaps[column] = announced & ~np.isfinite(view.fundamental(column))
        else:
            for column in _RATIOS:
                value = view.latest(column)
                gaps[column] = ~np.isfinite(value) | (value == 0)
        counts = {k: int(np.count_nonzero(v & listed)) for k, v in gaps.items()}
        parts = [f"no bar for {n}" if k == "bar" else
                 f"no statement announced for {n}" if k == "statement" else
                 f"{k} missing for {n}"
                 for k, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n]
        n_listed = int(np.count_nonzero(listed))
        reason = f"of {n_listed} listed: {', '.join(parts)}" if parts else ""
        return Coverage(scored=scored, reason=reason)

    # -- the rule ---------------------------------------------------------------------------
    def scores(self, view: MarketView) -> Scores:
        raw = self._factors(view)
        rated = _rated(view, raw)
        groups = view.sector_codes if self.sector_neutral else None
        ranks = percentile_ranks([f.values for f in raw], rated, groups)
        factors = tuple(f._replace(rank=r) for f, r in zip(raw, ranks, strict=True))
        composite = np.mean(ranks, axis=0)  # NaN where not rated
        eligible = rated & view.tradable & ~view.is_st
        weights = equal_weights(top_n(composite, eligible, self.top_n), len(composite))
        within = " within sector" if self.sector_neutral else ""
        return Scores(score=composite, weights=weights, eligible=eligible, factors=factors,
                      rule=f"top {self.top_n} by mean percentile of {len(factors)} "
                           f"factors{within}, monthly")

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        if not rebalance_due(view):
            return None
        return self.scores(view).weights


def _rated(view: MarketView, factors: tuple[Factor, ...]) -> np.ndarray:
    """Listed stocks with a bar today and every factor finite: the ones ranked."""
    rated = view.listed & view.has_bar
    for f in factors:
        rated &= np.isfinite(f.values)
    return rated
