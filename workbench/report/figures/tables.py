"""Compact tables for reports: the trade log's ends, unfilled orders by reason.

They hold raw numbers; a report shows them through :func:`workbench.report.present`, the
one formatting layer (:mod:`workbench.format`, where :func:`format_value` lives).

Reports show tables as HTML; a ten-year trade log has tens of thousands of fills, so the
report shows its first and last rows and the full log stays in the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.format import format_value, label

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["KEY_METRICS", "UNFILLED_EXPLANATIONS", "format_value", "key_value_table", "trade_table",
           "unfilled_table"]

#: The metrics of ``BacktestResult.metrics()`` a report shows first, in order.
KEY_METRICS: tuple[str, ...] = (
    "start", "end", "capital_cny", "final_equity_cny", "total_return", "annual_return",
    "benchmark_annual_return", "annual_volatility", "sharpe_ratio", "sharpe_standard_error",
    "probabilistic_sharpe_ratio", "sortino_ratio", "max_drawdown", "max_drawdown_peak",
    "max_drawdown_trough", "max_drawdown_recovery", "calmar_ratio", "alpha", "beta",
    "information_ratio", "n_trades", "n_settlements", "win_rate", "profit_factor",
    "avg_holding_days", "annual_turnover", "mean_invested_rate", "costs_cny", "slippage_cny",
    "dividends_cny", "dividend_tax_cny", "risk_rejections",
)
#: What each unfilled reason (``workbench.portfolio.UNFILLED_REASONS``) means, for readers.
UNFILLED_EXPLANATIONS: dict[str, str] = {
    "limit_up": "buy at a sealed limit-up price: no sellers",
    "limit_down": "sell at a sealed limit-down price: no buyers",
    "suspended": "trading suspended that session",
    "lot_too_small": "less than one board lot (100 shares; STAR 200)",
    "volume_cap": "beyond the participation cap of the session's volume",
    "t_plus_1": "shares bought that session cannot be sold until the next (T+1)",
    "insufficient_cash": "buy scaled down to the cash left after costs",
    "delisted": "the stock left the market before the order could fill",
    "not_listed": "the stock was not listed on the decision or fill day",
    "no_bar": "listed but no bar that session (a data gap)",
    "risk": "rejected by the pre-trade risk checks (see the rejections table)",
}


def trade_table(result: BacktestResult, rows: int = 5, *,
                names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The first and last ``rows`` fills of the trade log, with names and costs.

    Parameters
    ----------
    result
        A backtest result.
    rows
        Fills shown from each end; the whole log when it has at most ``2 * rows``.
    names
        ``{symbol: name}`` to add a ``name`` column (see
        :func:`workbench.report.security_names`).

    Returns
    -------
    pd.DataFrame
        Indexed by fill number (1-based, as in the full log); ``date, symbol, [name],
        side, shares, price, value_cny, costs_cny, dividend_tax_cny, reason`` (the tax
        by holding period charged on a sale of shares that received dividends).
    """
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ConfigError(f"rows must be a whole number >= 1, got {rows!r}")
    t = result.trades
    shown = t if len(t) <= 2 * rows else pd.concat([t.head(rows), t.tail(rows)])
    out = pd.DataFrame({
        "date": pd.DatetimeIndex(shown["date"]).strftime("%Y-%m-%d"),
        "symbol": shown["symbol"].astype(str).to_numpy(),
    }, index=pd.Index(np.asarray(shown.index) + 1, name="fill"))
    if names is not None:
        out["name"] = [names.get(s, "") for s in out["symbol"]]
    out["side"] = shown["side"].astype(str).to_numpy()
    out["shares"] = shown["shares"].to_numpy()
    out["price"] = shown["price"].to_numpy(dtype=float).round(3)
    out["value_cny"] = (shown["shares"] * shown["price"]).to_numpy(dtype=float).round(2)
    out["costs_cny"] = shown[["commission", "stamp_duty", "transfer_fee"]].sum(axis=1).to_numpy(
        dtype=float).round(2)
    out["dividend_tax_cny"] = shown["dividend_tax"].to_numpy(dtype=float).round(2)
    out["reason"] = shown["reason"].astype(str).to_numpy()
    return out


def unfilled_table(result: BacktestResult) -> pd.DataFrame:
    """Unfilled orders by reason: how many, how many shares, when, and what it means.

    Returns
    -------
    pd.DataFrame
        Index ``reason`` (only reasons that occurred, most frequent first); ``orders``,
        ``buys``, ``sells``, ``shares``, ``first``, ``last``, ``meaning``.
    """
    u = result.unfilled
    columns = ["orders", "buys", "sells", "shares", "first", "last", "meaning"]
    if u.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="reason"))
    frame = pd.DataFrame({"reason": u["reason"].astype(str).to_numpy(),
                          "side": u["side"].astype(str).to_numpy(),
                          "shares": u["shares"].to_numpy(),
                          "date": pd.DatetimeIndex(u["date"])})
    g = frame.groupby("reason")
    out = pd.DataFrame({
        "orders": g.size(),
        "buys": g["side"].agg(lambda s: int((s == "buy").sum())),
        "sells": g["side"].agg(lambda s: int((s == "sell").sum())),
        "shares": g["shares"].sum(),
        "first": g["date"].min().dt.strftime("%Y-%m-%d"),
        "last": g["date"].max().dt.strftime("%Y-%m-%d"),
    })
    out["meaning"] = [UNFILLED_EXPLANATIONS.get(r, "") for r in out.index]
    return out.sort_values("orders", ascending=False, kind="stable")


def key_value_table(values: Mapping[str, Any], keys: Sequence[str] | None = None
                    ) -> pd.DataFrame:
    """A ``{name: value}`` mapping as a one-column table of formatted values, labelled.

    For display, :func:`workbench.report.present` does the same as a :class:`Table`.

    Parameters
    ----------
    values
        E.g. ``result.metrics()`` or :func:`workbench.report.quality_summary`.
    keys
        The keys to show, in order (missing ones skipped); default every scalar value.

    Examples
    --------
    >>> key_value_table({"sharpe_ratio": 0.5, "nested": {}})["value"].tolist()
    ['0.50']
    """
    keys = list(values) if keys is None else [k for k in keys if k in values]
    shown = [k for k in keys if not isinstance(values[k], (Mapping, list, tuple, pd.DataFrame))]
    return pd.DataFrame({"value": [format_value(k, values[k]) for k in shown]},
                        index=pd.Index([label(k) for k in shown]))
