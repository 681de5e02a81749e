"""What a backtest leaves behind, and how it is stored so reports need not re-run it.

A :class:`BacktestResult` saves to a folder of Parquet files plus ``result.json`` (config,
strategy, provenance, and the SHA-256 of every file: :mod:`workbench.data.checksums`),
written to a temporary sibling folder first and then renamed into place, so a crash never
leaves half a result behind; loading checks every byte against those checksums.
:meth:`BacktestResult.metrics` gives the statistics of :mod:`workbench.metrics` as a
JSON-ready dict, and :meth:`BacktestResult.risk_summary` counts the pre-trade risk
rejections.

**Warnings.** A result says when its numbers could mislead: ``BacktestResult.warnings``
holds one sentence, with numbers and dates, for each of

* the strategy could score fewer than half of the listed stocks (:data:`MIN_COVERAGE_RATE`)
  on more than :data:`MAX_SESSIONS` sessions, and why (:func:`coverage_warning`, from the
  strategy's ``coverage(view)`` sampled on the first session of each month);
* the portfolio was less than half invested (:data:`MIN_INVESTED_RATE`, from
  ``daily["invested_rate"]``) on more than :data:`MAX_SESSIONS` sessions, and when
  (:func:`invested_warning`);
* pre-trade risk rejected more than half of the orders (:data:`MAX_REJECTED_RATE`;
  :func:`rejection_warning`);
* a held stock's price went ex (its ``prev_close`` differs from the last close) on a
  session without a corporate-action event, so the value the price lost was not paid
  (:func:`dividend_warning`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench import metrics as _metrics
from workbench.atomic import atomic_folder
from workbench.config import BacktestConfig
from workbench.data.checksums import read_manifest, verified_bytes, write_manifest
from workbench.dividend_book import DIVIDEND_COLUMNS
from workbench.errors import DataError
from workbench.export import (
    pyfolio_positions,
    pyfolio_returns,
    pyfolio_transactions,
    quantstats_returns,
)
from workbench.jsonable import jsonable
from workbench.risk import LAYER_OF, Layer, Reason, rejection_counts
from workbench.summary import Summary
from workbench.trades import COST_COLUMNS, TRADE_COLUMNS, is_exchange_trade

__all__ = [
    "DAILY_COLUMNS",
    "DIVIDEND_COLUMNS",
    "MAX_REJECTED_RATE",
    "MAX_SESSIONS",
    "MIN_COVERAGE_RATE",
    "MIN_INVESTED_RATE",
    "ORDER_COLUMNS",
    "POSITION_COLUMNS",
    "REJECTION_COLUMNS",
    "TRADE_COLUMNS",
    "UNFILLED_COLUMNS",
    "BacktestResult",
    "coverage_warning",
    "dividend_warning",
    "invested_rate",
    "invested_warning",
    "load_result",
    "rejection_warning",
]

#: Version 2 added ``rejections`` and ``daily["benchmark_close"]``; version 3 added
#: ``daily["invested_rate"]`` and ``warnings``; version 4 the ``dividends`` table, the daily
#: ``dividends_cny``, ``dividend_tax_cny`` and ``receivable_cny`` and the trade log's
#: ``dividend_tax`` (0 in older results, which had none). Older folders still load: no
#: rejections and benchmark NaN before version 2; before version 3 the invested fraction is
#: computed from equity and cash, and the warnings that need no strategy (invested, risk)
#: are recomputed. Version 5 records the SHA-256 of every file in ``result.json``; older
#: results load unchecked.
FORMAT_VERSION = 5
#: The first version whose ``result.json`` records checksums.
_SEALED_FROM = 5
#: What to do about a result folder that fails its checksums.
_RERUN = "re-run the backtest and save its result again"

#: One row per session (index ``date``).
DAILY_COLUMNS: tuple[str, ...] = (
    "equity_cny",  # cash + shares x close + dividends receivable, end of session
    "cash_cny",
    "traded_cny",  # value bought + sold on the exchange at fill prices (no settlements)
    "fees_cny",  # commission + stamp duty + transfer fee paid
    "slippage_cny",  # slippage inside fill prices (attribution)
    "corporate_action_cny",  # value paid out on ex-dates: cash before tax + new shares
    "dividends_cny",  # cash dividends credited (pay date), after tax withheld at payment
    "dividend_tax_cny",  # dividend tax charged on the session's sales (holding period)
    "receivable_cny",  # dividends gone ex, not yet paid (after withholding); in equity
    "n_positions",
    "invested_rate",  # holdings at the close / equity, a fraction (0: all cash)
    "benchmark_close",  # the market's benchmark close (index points), NaN where it has none
)
#: One row per order submitted to session ``date`` (after lot rounding), recorded when it was
#: made: after the close of ``decided``, or of the session a suspension blocked it
#: (``carried``). A sell of the whole holding shows the shares held then.
ORDER_COLUMNS: tuple[str, ...] = ("date", "decided", "symbol", "side", "shares", "carried")
#: One row per order (or part of one) that did not fill, dated by the session it was due.
UNFILLED_COLUMNS: tuple[str, ...] = ("date", "symbol", "side", "shares", "reason")
#: One row per holding per session (end of session).
POSITION_COLUMNS: tuple[str, ...] = ("date", "symbol", "shares", "close", "value_cny",
                                     "weight")
#: One row per order the pre-trade risk validator rejected (``layer`` and ``reason`` are
#: :class:`workbench.risk.Layer` and :class:`workbench.risk.Reason` values, ``message`` its
#: sentence with the numbers); ``shares`` is the size that was about to fill.
REJECTION_COLUMNS: tuple[str, ...] = ("date", "symbol", "side", "shares", "layer", "reason",
                                      "message")
#: Categories of the rejections table's coded columns.
LAYERS: tuple[str, ...] = tuple(x.value for x in Layer)
REASONS: tuple[str, ...] = tuple(x.value for x in Reason if x is not Reason.ACCEPTED)

#: A warning is given when one of these lasts more than this many sessions.
MAX_SESSIONS = 60
#: Fraction of the listed stocks a strategy should be able to score.
MIN_COVERAGE_RATE = 0.5
#: Fraction of equity in holdings below which a session counts as under-invested.
MIN_INVESTED_RATE = 0.5
#: Fraction of the orders that risk may reject before a warning.
MAX_REJECTED_RATE = 0.5
#: Stretches named in the under-invested warning, longest first: at most this many, and
#: besides the longest only those of at least ``_STRETCH_MIN`` sessions.
_STRETCHES_SHOWN = 3
_STRETCH_MIN = 20

_TABLES: tuple[str, ...] = ("daily", "trades", "orders", "unfilled", "positions",
                            "sector_exposure", "rejections", "dividends")
#: The tables each format version added (older results load them empty).
_ADDED_IN: dict[str, int] = {"rejections": 2, "dividends": 4}


def rejections_frame(date: np.ndarray, symbol: pd.Categorical, side: pd.Categorical,
                     shares: np.ndarray, reason: list[str], message: list[str]
                     ) -> pd.DataFrame:
    """The :data:`REJECTION_COLUMNS` table (``layer`` derived from ``reason``)."""
    reasons = pd.Categorical(reason, categories=list(REASONS))
    layer_of = {r.value: str(layer) for r, layer in LAYER_OF.items() if layer is not None}
    return pd.DataFrame({
        "date": np.asarray(date, dtype="datetime64[ns]"),
        "symbol": symbol,
        "side": side,
        "shares": np.asarray(shares, dtype=np.int64),
        "layer": pd.Categorical([layer_of[r] for r in reason], categories=list(LAYERS)),
        "reason": reasons,
        "message": pd.array(message, dtype="str"),
    })


def _empty_dividends() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in DIVIDEND_COLUMNS})
    for c in ("date", "pay_date"):
        frame[c] = frame[c].astype("datetime64[ns]")
    for c in ("shares", "new_shares"):
        frame[c] = frame[c].astype("int64")
    frame["symbol"] = pd.Categorical([], categories=pd.Index([], dtype="str"))
    return frame


def _empty_rejections() -> pd.DataFrame:
    none = np.zeros(0, dtype=np.int64)
    return rejections_frame(np.zeros(0, dtype="datetime64[ns]"),
                            pd.Categorical.from_codes(none, categories=pd.Index([], dtype="str")),
                            pd.Categorical.from_codes(none, categories=["buy", "sell"]),
                            none, [], [])


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """The outcome of :func:`workbench.backtest.run`.

    Attributes
    ----------
    daily
        Per session (index ``date``): :data:`DAILY_COLUMNS`.
    trades
        The trade log, :data:`workbench.trades.TRADE_COLUMNS`, one row per fill in the order
        filled (sells before buys within a session): ``side`` is ``'buy'``/``'sell'``,
        ``shares`` positive, ``price`` the fill price in CNY with slippage inside (not rounded), the
        four charges in CNY rounded to the fen (``slippage`` for attribution only), and
        ``reason`` ``'signal'``, ``'carried'`` (retried after a suspension),
        ``'delisted'`` (settlement at the last close, or at 0 when written off) or
        ``'corporate_action'`` (shares from a bonus issue or reinvested dividend, or taken by
        a reverse split, at the ex-rights price). Buys minus sells equal the holdings.
    orders
        Orders submitted to each session (:data:`ORDER_COLUMNS`; ``decided`` is the
        session whose close produced them).
    unfilled
        What did not fill and why (:data:`UNFILLED_COLUMNS`; reasons in
        :data:`workbench.portfolio.UNFILLED_REASONS`).
    positions
        Holdings at each session's close (:data:`POSITION_COLUMNS`), long format.
    sector_exposure
        Weight of each sector in equity per session (index ``date``, one column per sector).
    config
        The :class:`~workbench.config.BacktestConfig` used.
    strategy
        ``{'name': ..., 'params': {...}}`` of the strategy.
    meta
        Provenance: market name and range, sessions, format version.
    rejections
        Orders the pre-trade risk validator rejected (:data:`REJECTION_COLUMNS`); empty
        when ``config.risk`` is None. Each is also an ``unfilled`` row with reason
        ``'risk'``.
    warnings
        Sentences saying where the numbers could mislead (see the module's docstring);
        empty when nothing did. Also ``metrics()["warnings"]``.
    dividends
        One row per dividend entitlement (:data:`DIVIDEND_COLUMNS`; ``'cash'`` corporate
        actions only): shares entitled, cash before tax, new shares, tax withheld and the
        pay date. The tax charged on sales is the trade log's ``dividend_tax``.
    """

    daily: pd.DataFrame
    trades: pd.DataFrame
    orders: pd.DataFrame
    unfilled: pd.DataFrame
    positions: pd.DataFrame
    sector_exposure: pd.DataFrame
    config: BacktestConfig
    strategy: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    rejections: pd.DataFrame = field(default_factory=_empty_rejections)
    warnings: tuple[str, ...] = ()
    dividends: pd.DataFrame = field(default_factory=_empty_dividends)

    # -- series -----------------------------------------------------------------------------
    @property
    def equity(self) -> pd.Series:
        """End-of-session equity, CNY."""
        return self.daily["equity_cny"].rename("equity")

    @property
    def cash(self) -> pd.Series:
        """End-of-session cash, CNY."""
        return self.daily["cash_cny"].rename("cash")

    @property
    def returns(self) -> pd.Series:
        """Daily simple returns; the first is against the starting capital."""
        eq = self.daily["equity_cny"]
        prev = eq.shift(1)
        prev.iloc[:1] = self.config.capital_cny
        return (eq / prev - 1.0).rename("returns")

    @property
    def turnover(self) -> pd.Series:
        """Daily turnover: exchange fills' value / 2 / end-of-session equity.

        As :func:`workbench.metrics.turnover`, but without delisting settlements and
        corporate actions, which are not trades.
        """
        d = self.daily
        return (d["traded_cny"] / 2.0 / d["equity_cny"]).rename("turnover")

    @property
    def benchmark_returns(self) -> pd.Series | None:
        """Daily simple returns of the benchmark over the run's sessions, or None without one.

        From ``daily["benchmark_close"]``, forward-filled over missing closes; the first
        session's return is 0.0 (the strategy's first return is measured from the starting
        capital, and nothing can have traded before that session's close).
        """
        if "benchmark_close" not in self.daily.columns:
            return None
        close = self.daily["benchmark_close"].astype("float64")
        if close.isna().all():
            return None
        close = close.ffill()
        return (close / close.shift(1) - 1.0).fillna(0.0).rename("benchmark")

    @property
    def invested(self) -> pd.Series:
        """End-of-session holdings value / equity, a fraction (0: all cash)."""
        return self.daily["invested_rate"].rename("invested_rate")

    @property
    def costs(self) -> pd.Series:
        """Charges paid per session (commission, stamp duty, transfer fee), CNY."""
        return self.daily["fees_cny"].rename("costs")

    def to_pyfolio(self, *, settlements: bool = True
                   ) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
        """``(returns, positions, transactions)`` in the shapes pyfolio and quantstats read.

        For ``pyfolio.create_full_tear_sheet(returns, positions, transactions)`` and
        ``quantstats.reports.html(returns, ...)``; neither is imported. Indexed by the
        session dates at midnight UTC; returns after costs and with dividends, positions
        valued at the close in CNY with a ``cash`` column (rows sum to equity), transactions
        with signed ``amount``: see :mod:`workbench.export` for each convention.

        Parameters
        ----------
        settlements
            True (default): transactions include delisting settlements and new shares from
            corporate actions, so that they add up to the holdings; False: exchange fills
            only.
        """
        return (pyfolio_returns(self.returns), pyfolio_positions(self.positions, self.daily),
                pyfolio_transactions(self.trades, settlements=settlements))

    def to_pyfolio_benchmark(self) -> pd.Series | None:
        """:attr:`benchmark_returns` indexed as :meth:`to_pyfolio`'s returns, or None.

        For pyfolio's ``benchmark_rets`` and quantstats' ``benchmark``.
        """
        bench = self.benchmark_returns
        return None if bench is None else pyfolio_returns(bench)

    def to_quantstats(self) -> tuple[pd.Series, pd.Series | None]:
        """``(returns, benchmark)`` for ``quantstats.reports.html(returns, benchmark)``.

        As :meth:`to_pyfolio`'s returns and :meth:`to_pyfolio_benchmark`, but indexed by
        the session dates without a time zone, which quantstats needs to align a benchmark
        (:func:`workbench.export.quantstats_returns`); benchmark None without one.
        """
        bench = self.benchmark_returns
        return (quantstats_returns(self.returns),
                None if bench is None else quantstats_returns(bench))

    def weights(self) -> pd.DataFrame:
        """Holdings' weights as a wide frame, sessions × symbols held at some point."""
        p = self.positions
        wide = p.pivot_table(index="date", columns="symbol", values="weight", aggfunc="sum",
                             fill_value=0.0, observed=True)
        return wide.reindex(self.daily.index, fill_value=0.0)

    def summary(self) -> Summary:
        """Headline facts without statistics (those live in :mod:`workbench.metrics`).

        ``trades`` counts exchange fills and ``settlements`` the other rows of the trade log
        (:func:`workbench.trades.is_exchange_trade`), as ``metrics()`` does.

        Returns
        -------
        Summary
            A dict of raw values (``start``/``end`` as ISO dates, money in CNY, the total
            return as a fraction, ``unfilled`` as ``{reason: orders}``) that a notebook or a
            print shows as a formatted table.
        """
        eq = self.daily["equity_cny"]
        n_trades = int(is_exchange_trade(self.trades["reason"]).sum())
        reasons = self.unfilled["reason"].value_counts().sort_index()
        return Summary({
            "strategy": self.strategy["name"],
            "start": str(eq.index[0].date()) if len(eq) else None,
            "end": str(eq.index[-1].date()) if len(eq) else None,
            "sessions": len(eq),
            "capital_cny": self.config.capital_cny,
            "final_equity_cny": float(eq.iloc[-1]) if len(eq) else self.config.capital_cny,
            "total_return": float(eq.iloc[-1] / self.config.capital_cny - 1) if len(eq) else 0.0,
            "trades": n_trades,
            "settlements": len(self.trades) - n_trades,
            "fees_cny": float(self.daily["fees_cny"].sum()),
            "slippage_cny": float(self.daily["slippage_cny"].sum()),
            "dividends_cny": float(self.daily["dividends_cny"].sum()),
            "dividend_tax_cny": self.dividend_tax_cny(),
            "unfilled": {str(k): int(v) for k, v in reasons.items() if v},
        })

    def metrics(self, periods_per_year: float | None = None) -> dict[str, Any]:
        """Performance statistics of the run as a JSON-ready dict (for ``metrics.json``).

        :func:`workbench.metrics.summary` of the daily :attr:`returns`, the
        :attr:`benchmark_returns` (when the market has a benchmark), the trade log and the
        equity curve: total and annual return, volatility, Sharpe (with its standard error
        and the probabilistic Sharpe ratio), Sortino, maximum drawdown with its peak,
        trough and recovery dates, Calmar, alpha, beta and information ratio, the trade
        statistics (``n_trades`` exchange fills, ``n_settlements`` corporate actions and
        delisting close-outs, round trips) and annual turnover, with the annualisation
        convention used (``periods_per_year``, ``years``, ``annualisation``: by default the
        XSHG calendar's sessions per year and the CAGR over elapsed calendar time, see
        :func:`workbench.metrics.annualisation`). Added here: ``capital_cny``,
        ``final_equity_cny``,
        ``mean_daily_turnover`` (:attr:`turnover`), the charges by kind
        (``commission_cny``, ``stamp_duty_cny``, ``transfer_fee_cny``; ``costs_cny`` is
        their sum and ``slippage_cny`` the slippage inside fill prices), ``dividends_cny``
        (cash dividends credited, after withholding), ``dividend_tax_cny`` (withheld at
        payment plus charged on sales), ``corporate_actions`` (how they were booked, from
        the run's provenance),
        ``mean_invested_rate`` (the mean of ``daily["invested_rate"]``), ``risk_rejections``
        and ``warnings`` (the list of :attr:`warnings`).

        Parameters
        ----------
        periods_per_year
            None (default): the market's own calendar, as above. A number: empyrical's
            convention with that many sessions a year (``252`` gives empyrical's figures,
            the CAGR counting sessions).

        Returns
        -------
        dict
            Values are ``float``, ``int``, ``str`` or None: dates as ISO strings
            (``'2024-01-05'``), NaN and infinities (e.g. a profit factor without losses) as
            None, so that ``json.dumps(..., allow_nan=False)`` accepts it.
        """
        bench = self.benchmark_returns
        out = _metrics.summary(self.returns, bench, self.trades, self.equity,
                               periods_per_year=periods_per_year)
        fills = self.trades
        out |= {
            "capital_cny": float(self.config.capital_cny),
            "final_equity_cny": (float(self.daily["equity_cny"].iloc[-1]) if len(self.daily)
                                 else float(self.config.capital_cny)),
            "mean_daily_turnover": float(self.turnover.mean()) if len(self.daily) else 0.0,
            **{f"{c}_cny": float(fills[c].sum()) for c in COST_COLUMNS},
            "dividends_cny": float(self.daily["dividends_cny"].sum()),
            "dividend_tax_cny": self.dividend_tax_cny(),
            "corporate_actions": str(self.meta.get("corporate_actions",
                                                   self.config.corporate_actions)),
            "mean_invested_rate": (float(self.daily["invested_rate"].mean())
                                   if len(self.daily) else 0.0),
            "risk_rejections": len(self.rejections),
            "warnings": list(self.warnings),
        }
        return {str(k): jsonable(v) for k, v in out.items()}

    def dividend_tax_cny(self) -> float:
        """Dividend tax of the run, CNY: withheld at payment plus charged on the sales."""
        return float(self.dividends["withheld_cny"].sum() + self.trades["dividend_tax"].sum())

    def risk_summary(self) -> dict[str, Any]:
        """Pre-trade risk rejections counted per layer and per reason, in check order.

        Returns
        -------
        dict
            JSON-ready: ``enabled`` (was ``config.risk`` set), ``limits`` (the
            :class:`~workbench.risk.RiskLimits` as a dict, or None), ``rejections`` (total),
            ``by_layer`` and ``by_reason`` (``{name: count}``, only those that occurred, in
            the order the checks run). ``workbench.risk.rejection_counts(result.rejections)``
            gives the same counts as a frame (``layer, reason, count``).
        """
        counts = rejection_counts(self.rejections)
        by_layer = counts.groupby("layer", sort=False)["count"].sum()
        limits = getattr(self.config, "risk", None)
        return {
            "enabled": limits is not None,
            "limits": None if limits is None else dataclasses.asdict(limits),
            "rejections": len(self.rejections),
            "by_layer": {str(k): int(v) for k, v in by_layer.items()},
            "by_reason": {str(r): int(c) for r, c in zip(counts["reason"], counts["count"],
                                                           strict=True)},
        }

    def __repr__(self) -> str:
        s = self.summary()
        n = len(self.warnings)
        warned = f", {n} warning{'s' if n > 1 else ''}" if n else ""
        return (f"<BacktestResult {s['strategy']} {s['start']}..{s['end']}: "
                f"{s['sessions']} sessions, {s['trades']} trades, {s['settlements']} "
                f"settlements, final equity "
                f"{s['final_equity_cny']:,.2f} CNY ({s['total_return']:+.2%}){warned}>")

    # -- storage ----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result to folder ``path`` (Parquet + ``result.json``), atomically.

        An existing result at ``path`` is replaced only once the new one is complete.
        """
        with atomic_folder(path) as tmp:
            categories: dict[str, dict[str, list[str]]] = {}
            for table in _TABLES:
                frame: pd.DataFrame = getattr(self, table)
                keep_index = table in ("daily", "sector_exposure")
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=keep_index),
                               tmp / f"{table}.parquet", compression="zstd")
                if frame.empty:  # Parquet keeps no categories for an empty column
                    categories[table] = {
                        str(c): [str(x) for x in frame[c].cat.categories]
                        for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
            doc = {"format_version": FORMAT_VERSION, "config": self.config.to_dict(),
                   "strategy": self.strategy, "meta": self.meta,
                   "warnings": list(self.warnings), "empty_categories": categories}
            write_manifest(tmp / "result.json", doc, [f"{t}.parquet" for t in _TABLES])
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BacktestResult:
        """Read a result written by :meth:`save`."""
        return load_result(path)


def load_result(path: str | os.PathLike[str]) -> BacktestResult:
    """Read a result folder written by :meth:`BacktestResult.save`.

    Raises
    ------
    DataError
        When the folder, a table or ``result.json`` is missing or unreadable, or was
        written by a newer format, or when a file does not match the checksum
        ``result.json`` recorded (damaged or changed since it was written).
    """
    folder = Path(path)
    doc_file = folder / "result.json"
    if not doc_file.is_file():
        raise DataError(f"{folder}: no result.json; not a backtest result folder (write one "
                        "with BacktestResult.save)")
    doc, record = read_manifest(doc_file, sealed_from=_SEALED_FROM, fix=_RERUN)
    version: Any = doc.get("format_version")
    if version not in range(1, FORMAT_VERSION + 1):
        raise DataError(f"{doc_file}: format_version {version!r}, this workbench reads "
                        f"1 to {FORMAT_VERSION}; re-run the backtest")
    tables = {}
    for table in _TABLES:
        file = folder / f"{table}.parquet"
        if version < _ADDED_IN.get(table, 1):
            continue  # written before the table existed: none
        if not file.is_file():
            raise DataError(f"{folder}: missing {file.name}; a result folder holds "
                            f"{[t + '.parquet' for t in _TABLES]} and result.json")
        if record is not None and file.name not in record:
            raise DataError(f"{file}: result.json records no checksum for it; the folder is "
                            f"damaged: {_RERUN}")
        source = file if record is None else pa.BufferReader(
            verified_bytes(file, record[file.name], manifest="result.json", fix=_RERUN))
        try:
            frame = pq.read_table(source).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{file}: not a readable Parquet file ({exc})") from None
        for col, cats in doc.get("empty_categories", {}).get(table, {}).items():
            frame[col] = pd.Categorical([], categories=pd.Index(cats, dtype="str"))
        tables[table] = frame
    daily = tables["daily"]
    if "benchmark_close" not in daily.columns:
        daily["benchmark_close"] = np.nan
    if "invested_rate" not in daily.columns:
        daily["invested_rate"] = invested_rate(daily["equity_cny"], daily["cash_cny"])
    for col in ("dividends_cny", "dividend_tax_cny", "receivable_cny"):
        if col not in daily.columns:
            daily[col] = 0.0
    tables["daily"] = daily[list(DAILY_COLUMNS)]
    if "dividend_tax" not in tables["trades"].columns:
        tables["trades"].insert(list(TRADE_COLUMNS).index("dividend_tax"), "dividend_tax", 0.0)
    if "warnings" in doc:
        found = tuple(str(w) for w in doc["warnings"])
    else:  # written before warnings: recompute those the tables allow
        found = tuple(w for w in (invested_warning(tables["daily"]["invested_rate"]),
                                  rejection_warning(tables["orders"],
                                                    tables.get("rejections")))
                      if w is not None)
    return BacktestResult(**tables, config=BacktestConfig.from_dict(doc["config"]),
                          strategy=doc["strategy"], meta=doc["meta"], warnings=found)


# -- warnings -----------------------------------------------------------------------------------
def invested_rate(equity_cny: pd.Series, cash_cny: pd.Series) -> pd.Series:
    """Holdings value / equity per session, ``(equity - cash) / equity`` (0 at no equity).

    Examples
    --------
    >>> invested_rate(pd.Series([100.0, 100.0, 0.0]), pd.Series([100.0, 25.0, 0.0])).tolist()
    [0.0, 0.75, 0.0]
    """
    equity = equity_cny.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (equity - cash_cny.astype("float64")) / equity
    return rate.where(equity > 0, 0.0).rename("invested_rate")


def _day(value: Any) -> str:
    return str(pd.Timestamp(value).date())


def _stretches(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` positions of each run of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(),
                    (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def invested_warning(invested: pd.Series, *, min_rate: float = MIN_INVESTED_RATE,
                     max_sessions: int = MAX_SESSIONS) -> str | None:
    """The under-invested warning, or None.

    Parameters
    ----------
    invested
        Holdings value / equity per session (``daily["invested_rate"]``), index ``date``.
    min_rate
        A session below this fraction counts as under-invested.
    max_sessions
        Warn when more sessions than this are under-invested (in all, not necessarily in a
        row).

    Returns
    -------
    str or None
        How many sessions, their share, the mean invested fraction, and the longest
        stretches under ``min_rate`` with their dates.

    Examples
    --------
    >>> days = pd.bdate_range("2024-01-01", periods=100)
    >>> invested_warning(pd.Series([0.0] * 70 + [1.0] * 30, index=days)).split(";")[0]
    'under 50% invested on 70 of 100 sessions (70%) between 2024-01-01 and 2024-04-05'
    """
    low = invested.to_numpy(dtype="float64") < min_rate
    n_low = int(np.count_nonzero(low))
    if n_low <= max_sessions:
        return None
    dates = invested.index
    runs = sorted(_stretches(low), key=lambda r: (r[0] - r[1], r[0]))
    runs = [runs[0], *[r for r in runs[1:_STRETCHES_SHOWN] if r[1] - r[0] + 1 >= _STRETCH_MIN]]
    shown = "; ".join(f"{_day(dates[a])}..{_day(dates[b])} ({b - a + 1:,} sessions, "
                      f"{float(invested.iloc[a : b + 1].mean()):.0%} invested on average)"
                      for a, b in runs)
    first, last = dates[np.flatnonzero(low)[[0, -1]]]
    return (f"under {min_rate:.0%} invested on {n_low:,} of {len(low):,} sessions "
            f"({n_low / len(low):.0%}) between {_day(first)} and {_day(last)}; longest: "
            f"{shown}. The return, volatility and Sharpe ratio count those sessions, which "
            "are mostly cash")


def rejection_warning(orders: pd.DataFrame, rejections: pd.DataFrame | None, *,
                      max_rate: float = MAX_REJECTED_RATE) -> str | None:
    """The risk warning, or None: pre-trade risk rejected more than ``max_rate`` of orders.

    Parameters
    ----------
    orders
        The orders table (:data:`ORDER_COLUMNS`), one row per order submitted to a session.
    rejections
        The rejections table (:data:`REJECTION_COLUMNS`); None or empty: no warning.
    max_rate
        Fraction of the orders rejected above which to warn.

    Returns
    -------
    str or None
        Rejected and submitted orders, the dates of the first and last rejection and the
        most frequent reasons.
    """
    if rejections is None or rejections.empty or orders.empty:
        return None
    n, total = len(rejections), len(orders)
    if n <= max_rate * total:
        return None
    reasons = rejections["reason"].astype(str).value_counts()
    top = ", ".join(f"{r} {c:,}" for r, c in reasons.head(3).items())
    dates = pd.DatetimeIndex(rejections["date"])
    return (f"risk rejected {n:,} of {total:,} orders ({n / total:.0%}) between "
            f"{_day(dates.min())} and {_day(dates.max())}; by reason: {top}. The run shows "
            "what the limits allowed more than what the strategy wanted")


def dividend_warning(unexplained: pd.DataFrame) -> str | None:
    """The missing-events warning, or None: held stocks went ex without an event.

    Parameters
    ----------
    unexplained
        One row per held stock and session (columns ``date``, ``symbol``, ``value_cny``:
        shares held times the last close less the ``prev_close``, which the price lost).

    Examples
    --------
    >>> u = pd.DataFrame({"date": pd.to_datetime(["2024-06-03", "2024-07-01"]),
    ...                   "symbol": ["600000.SH", "000001.SZ"], "value_cny": [1200.0, 300.5]})
    >>> dividend_warning(u).split(" (")[1].split(";")[0]
    '1,500.50 CNY left the prices unpaid)'
    """
    if unexplained.empty:
        return None
    n = len(unexplained)
    total = float(unexplained["value_cny"].sum())
    first = unexplained.iloc[0]
    return (f"{n:,} held position{'s' if n > 1 else ''} went ex without a corporate-action "
            f"event ({total:,.2f} CNY left the prices unpaid); first {first['symbol']} on "
            f"{_day(first['date'])}. Import the dividends (workbench import --dividends) or "
            "check the bars' prev_close")


def coverage_warning(strategy: str, samples: pd.DataFrame, sessions: pd.DatetimeIndex, *,
                     min_rate: float = MIN_COVERAGE_RATE,
                     max_sessions: int = MAX_SESSIONS) -> str | None:
    """The coverage warning, or None: the strategy could score too few listed stocks.

    Parameters
    ----------
    strategy
        Its name, for the message.
    samples
        One row per sampled session (index ``date``, sorted), columns ``rate`` (fraction of
        the listed stocks scored) and ``reason`` (``Coverage.reason``). Each sample stands
        for the sessions up to the next one.
    sessions
        The run's sessions.
    min_rate
        A sample below this fraction counts as not covered.
    max_sessions
        Warn when the samples below ``min_rate`` stand for more sessions than this.

    Returns
    -------
    str or None
        The sessions concerned (an estimate from the samples), their first and last dates,
        the reason on the first such sample and the first sample from which at least
        ``min_rate`` was scored again.

    Examples
    --------
    >>> days = pd.bdate_range("2024-01-01", periods=100)
    >>> s = pd.DataFrame({"rate": [0.0, 1.0], "reason": ["of 2 listed: pe_ttm missing "
    ...                   "for 2", ""]}, index=days[[0, 80]])
    >>> text = coverage_warning("value_quality", s, days)
    >>> text.split(",")[0]
    'value_quality could score fewer than 50% of the listed stocks on about 80 of 100 sessions'
    >>> text.split("): ")[1].split(";")[0]
    'on 2024-01-01 it scored 0% (of 2 listed: pe_ttm missing for 2)'
    >>> text.split("; ")[1].split(".")[0]
    'at least 50% scored from 2024-04-22'
    """
    if samples.empty:
        return None
    starts = sessions.searchsorted(samples.index)
    span = np.diff(np.append(starts, len(sessions)))  # sessions each sample stands for
    low = samples["rate"].to_numpy(dtype="float64") < min_rate
    n_low = int(span[low].sum())
    if n_low <= max_sessions:
        return None
    rows = np.flatnonzero(low)
    first, last = rows[0], rows[-1]
    end = sessions[min(starts[last] + span[last], len(sessions)) - 1]
    after = np.flatnonzero(~low[last:])
    again = (f"; at least {min_rate:.0%} scored from {_day(samples.index[last + after[0]])}"
             if after.size else f"; never {min_rate:.0%} or more")
    reason = samples["reason"].iloc[first]
    return (f"{strategy} could score fewer than {min_rate:.0%} of the listed stocks on about "
            f"{n_low:,} of {len(sessions):,} sessions, {_day(samples.index[first])}.."
            f"{_day(end)} (checked on the first session of each month): on "
            f"{_day(samples.index[first])} it scored {samples['rate'].iloc[first]:.0%}"
            f"{f' ({reason})' if reason else ''}{again}. It ranks few or no stocks on those "
            "sessions, so their returns say little about the strategy")
