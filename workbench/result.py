"""What a backtest leaves behind, and how it is stored so reports need not re-run it.

A :class:`BacktestResult` saves to a folder of Parquet files plus ``result.json`` (config,
strategy, provenance), written to a temporary sibling folder first and then renamed into
place, so a crash never leaves half a result behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.errors import DataError

if TYPE_CHECKING:
    from workbench.backtest import BacktestConfig

__all__ = [
    "DAILY_COLUMNS",
    "ORDER_COLUMNS",
    "POSITION_COLUMNS",
    "TRADE_COLUMNS",
    "UNFILLED_COLUMNS",
    "BacktestResult",
    "load_result",
]

FORMAT_VERSION = 1

#: One row per session (index ``date``).
DAILY_COLUMNS: tuple[str, ...] = (
    "equity_cny",  # cash + shares x close, end of session
    "cash_cny",
    "traded_cny",  # value bought + sold on the exchange at fill prices (no settlements)
    "fees_cny",  # commission + stamp duty + transfer fee paid
    "slippage_cny",  # slippage inside fill prices (attribution)
    "corporate_action_cny",  # value paid out on ex-dates (before any reinvestment)
    "n_positions",
)
#: One row per fill, in the order filled (sells before buys within a session).
TRADE_COLUMNS: tuple[str, ...] = (
    "date", "symbol", "side", "shares", "price", "commission", "stamp_duty", "transfer_fee",
    "slippage", "reason",
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

_TABLES: tuple[str, ...] = ("daily", "trades", "orders", "unfilled", "positions",
                            "sector_exposure")


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """The outcome of :func:`workbench.backtest.run`.

    Attributes
    ----------
    daily
        Per session (index ``date``): :data:`DAILY_COLUMNS`.
    trades
        The trade log, :data:`TRADE_COLUMNS`: ``side`` is ``'buy'``/``'sell'``, ``shares``
        positive, ``price`` the fill price in CNY with slippage inside (not rounded), the
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
        The :class:`~workbench.backtest.BacktestConfig` used.
    strategy
        ``{'name': ..., 'params': {...}}`` of the strategy.
    meta
        Provenance: market name and range, sessions, format version.
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
    def costs(self) -> pd.Series:
        """Charges paid per session (commission, stamp duty, transfer fee), CNY."""
        return self.daily["fees_cny"].rename("costs")

    def weights(self) -> pd.DataFrame:
        """Holdings' weights as a wide frame, sessions × symbols held at some point."""
        p = self.positions
        wide = p.pivot_table(index="date", columns="symbol", values="weight", aggfunc="sum",
                             fill_value=0.0, observed=True)
        return wide.reindex(self.daily.index, fill_value=0.0)

    def summary(self) -> dict[str, Any]:
        """Headline facts without statistics (those live in :mod:`workbench.metrics`)."""
        eq = self.daily["equity_cny"]
        reasons = self.unfilled["reason"].value_counts().sort_index()
        return {
            "strategy": self.strategy["name"],
            "start": str(eq.index[0].date()) if len(eq) else None,
            "end": str(eq.index[-1].date()) if len(eq) else None,
            "sessions": len(eq),
            "capital_cny": self.config.capital_cny,
            "final_equity_cny": float(eq.iloc[-1]) if len(eq) else self.config.capital_cny,
            "total_return": float(eq.iloc[-1] / self.config.capital_cny - 1) if len(eq) else 0.0,
            "fills": len(self.trades),
            "fees_cny": float(self.daily["fees_cny"].sum()),
            "slippage_cny": float(self.daily["slippage_cny"].sum()),
            "unfilled": {str(k): int(v) for k, v in reasons.items() if v},
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<BacktestResult {s['strategy']} {s['start']}..{s['end']}: "
                f"{s['sessions']} sessions, {s['fills']} fills, final equity "
                f"{s['final_equity_cny']:,.2f} CNY ({s['total_return']:+.2%})>")

    # -- storage ----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the result to folder ``path`` (Parquet + ``result.json``), atomically.

        An existing result at ``path`` is replaced only once the new one is complete.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for table in _TABLES:
                frame: pd.DataFrame = getattr(self, table)
                keep_index = table in ("daily", "sector_exposure")
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=keep_index),
                               tmp / f"{table}.parquet", compression="zstd")
            doc = {"format_version": FORMAT_VERSION, "config": self.config.to_dict(),
                   "strategy": self.strategy, "meta": self.meta}
            (tmp / "result.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
            old = None
            if target.exists():
                old = target.with_name(f".{target.name}.old-{os.getpid()}")
                os.replace(target, old)
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

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
        written by a newer format.
    """
    from workbench.backtest import BacktestConfig

    folder = Path(path)
    doc_file = folder / "result.json"
    if not doc_file.is_file():
        raise DataError(f"{folder}: no result.json; not a backtest result folder (write one "
                        "with BacktestResult.save)")
    try:
        doc = json.loads(doc_file.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{doc_file}: not valid JSON ({exc})") from None
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise DataError(f"{doc_file}: format_version {version!r}, this workbench reads "
                        f"{FORMAT_VERSION}; re-run the backtest")
    tables = {}
    for table in _TABLES:
        file = folder / f"{table}.parquet"
        if not file.is_file():
            raise DataError(f"{folder}: missing {file.name}; a result folder holds "
                            f"{[t + '.parquet' for t in _TABLES]} and result.json")
        try:
            tables[table] = pq.read_table(file).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{file}: not a readable Parquet file ({exc})") from None
    return BacktestResult(**tables, config=BacktestConfig.from_dict(doc["config"]),
                          strategy=doc["strategy"], meta=doc["meta"])
