"""Dividends and bonus shares as a broker books them, with dividend tax by holding period.

With ``BacktestConfig(corporate_actions='cash')`` (the default) the engine books the
market's ``corporate_actions`` events (:mod:`workbench.data.corporate`) the way a securities
account does:

* **Entitlement.** An event applies on its ex-date (or, when the stock has no bar that day,
  on its next session with a bar): the shares held before that session opens, i.e. at the
  close of the record date, are entitled.
* **Shares.** Bonus (送) and transfer (转) shares, ``floor(held * (1 + bonus + transfer))``
  held afterwards, are credited on the ex-date and are sellable at once; an odd lot left
  by them is sold whole with the rest (:func:`workbench.portfolio.sell_floor`). They are
  trade-log rows with reason ``'corporate_action'`` at the ex-rights reference price.
* **Cash.** ``held * cash per share`` before tax, rounded down to the fen, less the tax
  withheld at payment (:attr:`workbench.rules.DividendTaxRule.withheld_rate` of the income,
  which includes bonus shares at par), is credited on the pay date (the ex-date when the
  source gives none). Until then it is a receivable, counted in equity.
* **Tax on sale.** Each account's shares form lots, first in first out, each with the date
  it was bought and the dividend income its shares received under each tax rule. A sale
  takes the oldest lots first and is charged, for each, its income times the rule's rate
  for the holding period (:func:`workbench.rules.holding_tier`) less what was withheld,
  rounded to the fen: the trade log's ``dividend_tax``. Bonus shares join the lot they were
  paid on (same purchase date), which keeps its income. Shares still held at the end of
  the run owe nothing yet.

The events come from the market's table. A market without one (e.g. hand-built bars)
gets events derived from its prices: every bar whose ``prev_close`` differs from the last
close is split into cash and shares by :func:`workbench.data.corporate.split_payout` (a
reference above the last close, a share consolidation, takes shares away). Where the
market has a table but the bars of a held stock go ex without an event, the value the
price lost is not paid: the book counts those sessions and the result warns.

Lots are kept only for the stocks that had an event while held (rebuilt from the run's
fills when one arrives), so a run without events pays nothing for them.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.corporate import split_payout
from workbench.rules import (
    BONUS_PAR_CNY,
    DIVIDEND_TAX,
    dividend_tax_rules,
    holding_tier,
    round_fen,
)

__all__ = ["DIVIDEND_COLUMNS", "DividendBook", "Entitlements"]

#: One row per dividend entitlement (result table ``dividends``).
DIVIDEND_COLUMNS: tuple[str, ...] = (
    "date",  # session the event applied (the ex-date, or the next session with a bar)
    "symbol",
    "shares",  # shares entitled (held before the session opened)
    "cash_pre_tax_cny",  # cash per share before tax, CNY
    "new_shares",  # bonus + transfer shares credited (negative: a consolidation)
    "gross_cny",  # shares x cash per share, rounded down to the fen
    "withheld_cny",  # tax withheld at payment, CNY
    "net_cny",  # gross - withheld, credited on the pay date
    "pay_date",  # session the cash is credited; NaT when after the run
)

_NO_ROWS = np.zeros(0, dtype=np.int64)
_FEN = 100.0


def _floor_fen(amount: float) -> float:
    return float(np.floor(amount * _FEN + 1e-6) / _FEN)


@dataclass(frozen=True)
class Entitlements:
    """A run's corporate-action events, each placed on the session it applies.

    One entry per event, sorted by ``row`` then ``symbol``. ``row`` and ``pay_row`` are
    calendar rows (``pay_row >= row``; past the run's end the cash stays receivable),
    ``symbol`` a symbol position, ``cash_pre_tax_cny`` CNY per share, ``bonus_ratio`` and
    ``transfer_ratio`` shares per share, ``rule`` a position in
    :data:`workbench.rules.DIVIDEND_TAX`. ``source`` says where they came from: the
    market's table (``'table'``) or its prices (``'prices'``).
    """

    row: np.ndarray
    symbol: np.ndarray
    cash_pre_tax_cny: np.ndarray
    bonus_ratio: np.ndarray
    transfer_ratio: np.ndarray
    pay_row: np.ndarray
    rule: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def from_table(cls, actions: pd.DataFrame, symbols: pd.Index, dates64: np.ndarray,
                   close: np.ndarray, r0: int, r1: int) -> Entitlements:
        """Place a ``corporate_actions`` table on the run's sessions ``r0 + 1 .. r1``.

        ``dates64`` are the calendar's sessions and ``close`` the dense sessions × symbols
        closes (NaN: no bar). Events of other symbols, or outside the run, are left out.
        """
        pos = symbols.get_indexer(actions["symbol"].astype(str))
        ex = actions["ex_date"].to_numpy(dtype="datetime64[ns]")
        at = np.searchsorted(dates64, ex, side="left")
        keep = (pos >= 0) & (at > r0) & (at <= r1)
        idx = np.flatnonzero(keep)
        rows = at[idx].astype(np.int64)
        # most events fall on a session with a bar; look further only for the others
        for i in np.flatnonzero(~np.isfinite(close[rows, pos[idx]])).tolist():
            sym, row = int(pos[idx[i]]), int(rows[i])
            bars = np.flatnonzero(np.isfinite(close[row : r1 + 1, sym]))
            rows[i] = row + bars[0] if bars.size else r1 + 1  # no bar left in the run: dropped
        inside = rows <= r1
        idx, rows = idx[inside], rows[inside]
        pay = actions["pay_date"].to_numpy(dtype="datetime64[ns]")[idx]
        pay_row = np.where(np.isnat(pay), rows,
                           np.maximum(np.searchsorted(dates64, pay, side="left"), rows))
        rule = dividend_tax_rules(ex[idx])
        out = cls(rows, pos[idx].astype(np.int64),
                  actions["cash_pre_tax_cny"].to_numpy(dtype=float)[idx],
                  actions["bonus_ratio"].to_numpy(dtype=float)[idx],
                  actions["transfer_ratio"].to_numpy(dtype=float)[idx],
                  pay_row.astype(np.int64), rule, "table")
        return out.sorted()

    @classmethod
    def from_prices(cls, close: np.ndarray, prev_close: np.ndarray, dates64: np.ndarray,
                    r0: int, r1: int) -> Entitlements:
        """Events derived from the bars: every ``prev_close`` that differs from the last close.

        A drop is split into cash and bonus shares by
        :func:`~workbench.data.corporate.split_payout`; a rise is a consolidation
        (``transfer_ratio = last close / prev_close - 1 < 0``). Paid on the ex-date.
        """
        last = pd.DataFrame(close[: r1 + 1]).ffill().to_numpy()
        c = last[r0 : r1]  # the last close before each of the rows r0 + 1 .. r1
        ref = prev_close[r0 + 1 : r1 + 1]
        with np.errstate(invalid="ignore"):
            hit = (np.isfinite(c) & np.isfinite(ref) & (ref > 0)
                   & (np.abs(c - ref) > 1e-12 * c))
        k, sym = np.nonzero(hit)
        c, ref = c[k, sym], ref[k, sym]
        rows = (k + r0 + 1).astype(np.int64)
        down = ref < c
        cash, bonus = split_payout(np.where(down, c, 1.0), np.where(down, ref, 1.0))
        cash, bonus = np.where(down, cash, 0.0), np.where(down, bonus, 0.0)
        transfer = np.where(down, 0.0, c / ref - 1.0)
        rule = dividend_tax_rules(dates64[rows])
        return cls(rows, sym.astype(np.int64), cash, bonus, transfer, rows, rule,
                   "prices").sorted()

    def sorted(self) -> Entitlements:
        """The same events ordered by row, then symbol."""
        order = np.lexsort((self.symbol, self.row))
        return Entitlements(self.row[order], self.symbol[order], self.cash_pre_tax_cny[order],
                            self.bonus_ratio[order], self.transfer_ratio[order],
                            self.pay_row[order], self.rule[order], self.source)


class _Lot:
    """Shares bought on one session, with the dividend income per share they received."""

    __slots__ = ("bought", "income", "shares")

    def __init__(self, bought: pd.Timestamp, shares: int, n_rules: int) -> None:
        self.bought = bought
        self.shares = shares
        self.income = np.zeros(n_rules)  # CNY per share, by tax rule


class DividendBook:
    """Entitlements, receivables and tax lots of one run (see the module docstring).

    Parameters
    ----------
    entitlements
        The run's events on their sessions.
    dates64
        The calendar's sessions (datetime64), indexed by row.
    n_symbols
        Width of the holdings arrays.
    """

    def __init__(self, entitlements: Entitlements, dates64: np.ndarray, n_symbols: int) -> None:
        self.events = entitlements
        self.dates64 = dates64
        starts = np.searchsorted(entitlements.row, np.unique(entitlements.row), side="left")
        ends = np.append(starts[1:], len(entitlements))[: len(starts)]
        self._at = {int(entitlements.row[a]): (int(a), int(b))
                    for a, b in zip(starts, ends, strict=True)}
        self._due: dict[int, float] = {}
        self._lots: dict[int, list[_Lot]] = {}
        self._tiers: dict[tuple[pd.Timestamp, pd.Timestamp], int] = {}
        self._opened = np.full(n_symbols, -1, dtype=np.int64)
        #: every exchange fill, per symbol position: (rows, signed shares), rows ascending
        self._fills: dict[int, tuple[list[int], list[int]]] = {}
        self._withheld = np.array([rule.withheld_rate for rule in DIVIDEND_TAX])
        #: rate still due on sale: rule × holding tier
        self._on_sale = np.array([[r - rule.withheld_rate for r in rule.rates]
                                  for rule in DIVIDEND_TAX])
        self._taxed = np.array([rule.differentiated for rule in DIVIDEND_TAX])
        self.ledger: list[tuple[int, int, int, float, int, float, float, float, int]] = []
        #: Sessions on which a held stock's bars went ex without an event, and the value
        #: (CNY, ``shares * (last close - prev_close)``) the prices took from it unpaid.
        self.unexplained: list[tuple[int, int, float]] = []

    # -- ex-dates and payments -------------------------------------------------------------------
    def has_events(self, row: int) -> bool:
        """Whether some event applies on session ``row``."""
        return row in self._at

    @property
    def receivable_cny(self) -> float:
        """Dividends gone ex but not paid yet, after withholding, CNY."""
        return float(sum(self._due.values()))

    def entitle(self, row: int, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Apply the events of session ``row`` to the holdings ``shares`` (not changed here).

        Returns
        -------
        (symbols, new_shares, gross_cny)
            The symbols held that have an event, the shares each gains (bonus and transfer;
            negative for a consolidation) and the cash entitled before tax, CNY.
        """
        lo, hi = self._at.get(row, (0, 0))
        ev = self.events
        idx = np.arange(lo, hi)[shares[ev.symbol[lo:hi]] > 0]
        if not idx.size:
            return _NO_ROWS, _NO_ROWS, 0.0
        sym = ev.symbol[idx]
        held = shares[sym]
        ratio = ev.bonus_ratio[idx] + ev.transfer_ratio[idx]
        new = np.floor(held * (1.0 + ratio) + 1e-9).astype(np.int64) - held
        gross_total = 0.0
        for j, i in enumerate(idx.tolist()):
            s, q = int(sym[j]), int(held[j])
            cash, bonus, rule = (float(ev.cash_pre_tax_cny[i]), float(ev.bonus_ratio[i]),
                                 int(ev.rule[i]))
            income = cash + bonus * BONUS_PAR_CNY  # per share held
            gross = _floor_fen(q * cash)
            withheld = float(round_fen(q * income * self._withheld[rule]))
            net = gross - withheld
            gross_total += gross
            pay_row = int(ev.pay_row[i])
            self._due[pay_row] = self._due.get(pay_row, 0.0) + net
            lots = self._lots_of(s, q)
            if self._taxed[rule]:
                for lot in lots:
                    lot.income[rule] += income
            self._scale(lots, q, q + int(new[j]))
            self.ledger.append((row, s, q, cash, int(new[j]), gross, withheld, net, pay_row))
        return sym, new, gross_total

    def pay(self, row: int) -> float:
        """Cash credited on session ``row`` (CNY): the dividends whose pay date it is."""
        return self._due.pop(row, 0.0)

    def note_unexplained(self, row: int, shares: np.ndarray, last: np.ndarray,
                         reference: np.ndarray, *, held: np.ndarray | None = None) -> None:
        """Record held stocks whose price went ex on ``row`` without an event.

        ``last`` is each stock's last close before ``row``, ``reference`` the row's
        ``prev_close``; ``held``, when given, are the positions where ``shares`` is not 0.
        Only for events from a table (with events from prices every step is an event).
        """
        if self.events.source != "table":
            return
        if held is None:
            held = (shares != 0).nonzero()[0]
        if not held.size:
            return
        c, pc = last[held], reference[held]
        if not (c != pc).any():  # the usual session: no holding went ex (NaN differs)
            return
        with np.errstate(invalid="ignore"):
            moved = np.isfinite(c) & np.isfinite(pc) & (pc > 0) & (np.abs(c - pc) > 0.005)
        if not moved.any():
            return
        lo, hi = self._at.get(row, (0, 0))
        sym = held[moved]
        events = set(self.events.symbol[lo:hi].tolist())
        miss = np.array([s not in events for s in sym.tolist()], dtype=bool)
        for s, value in zip(sym[miss].tolist(), (shares[sym] * (c[moved] - pc[moved]))[miss]
                            .tolist(), strict=True):
            self.unexplained.append((row, s, float(value)))

    # -- fills and tax ---------------------------------------------------------------------------
    def sale_tax(self, row: int, sym: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """Dividend tax due on selling ``shares`` of each of ``sym`` on session ``row`` (CNY).

        Looks at the lots without taking them (:meth:`record` does, once the fills are
        final).
        """
        tax = np.zeros(len(sym))
        if not self._lots:
            return tax
        sold = pd.Timestamp(self.dates64[row])
        for j, s in enumerate(sym.tolist()):
            if s not in self._lots:
                continue
            left, owed = int(shares[j]), 0.0
            for lot in self._lots[s]:
                if left <= 0:
                    break
                take = min(left, lot.shares)
                left -= take
                if lot.income.any():
                    rate = self._on_sale[:, self._tier(lot.bought, sold)]
                    owed += take * float(lot.income @ rate)
            tax[j] = round_fen(owed)
        return tax

    def _tier(self, bought: pd.Timestamp, sold: pd.Timestamp) -> int:
        """:func:`~workbench.rules.holding_tier`, kept per pair of dates (lots share them)."""
        found = self._tiers.get((bought, sold))
        if found is None:
            found = self._tiers[bought, sold] = holding_tier(bought, sold)
        return found

    def record(self, row: int, sym: np.ndarray, signed: np.ndarray, held_before: np.ndarray
               ) -> None:
        """Book a session's exchange fills: ``signed`` shares (+ bought, - sold) of ``sym``
        (ascending positions), ``held_before`` the holdings before them."""
        bought = None
        # a session fills a handful of orders: plain Python beats numpy calls on them
        for s, q, before in zip(sym.tolist(), signed.tolist(), held_before.tolist(),
                                strict=True):
            if q == 0:
                continue
            rows, qs = self._fills.setdefault(s, ([], []))
            rows.append(row)
            qs.append(q)
            if before == 0 and q > 0:
                self._opened[s] = row
            if s in self._lots:
                if bought is None:
                    bought = pd.Timestamp(self.dates64[row])
                self._move(s, q, bought)
                if before + q == 0:
                    del self._lots[s]

    def close_out(self, sym: np.ndarray) -> None:
        """Forget the lots of holdings settled outside the exchange (delistings)."""
        for s in sym.tolist():
            self._lots.pop(int(s), None)

    # -- lots ------------------------------------------------------------------------------------
    def _move(self, s: int, q: int, bought: pd.Timestamp) -> None:
        lots = self._lots.setdefault(s, [])
        if q > 0:
            lots.append(_Lot(bought, q, len(DIVIDEND_TAX)))
            return
        left = -q
        while left > 0 and lots:
            take = min(left, lots[0].shares)
            lots[0].shares -= take
            left -= take
            if lots[0].shares == 0:
                lots.pop(0)

    def _lots_of(self, s: int, held: int) -> list[_Lot]:
        """The lots of ``s``, rebuilt from this spell's fills when not yet kept."""
        if s in self._lots:
            return self._lots[s]
        self._lots[s] = []
        rows, qs = self._fills.get(s, ([], []))
        start = bisect.bisect_left(rows, int(self._opened[s]))
        for row, q in zip(rows[start:], qs[start:], strict=True):
            self._move(s, q, pd.Timestamp(self.dates64[row]))
        lots = self._lots[s]
        if sum(lot.shares for lot in lots) != held:
            raise RuntimeError(f"dividend book: lots of symbol position {s} hold "
                               f"{sum(lot.shares for lot in lots)} shares, the account {held}")
        return lots

    @staticmethod
    def _scale(lots: list[_Lot], old: int, new: int) -> None:
        """Spread ``new`` shares over lots holding ``old`` (the remainder to the oldest),
        keeping each lot's income."""
        if new == old or not lots:
            return
        total = 0
        for lot in lots:
            before = lot.shares
            lot.shares = int(np.floor(before * new / old + 1e-9))
            if lot.shares:
                lot.income *= before / lot.shares
            total += lot.shares
        lots[0].shares += new - total
        lots[:] = [lot for lot in lots if lot.shares > 0]

    # -- results ---------------------------------------------------------------------------------
    def frame(self, symbols: pd.Index, last_row: int) -> pd.DataFrame:
        """The entitlements as a :data:`DIVIDEND_COLUMNS` table (``symbols`` as categories)."""
        cols: list[tuple[float, ...]] = (list(zip(*self.ledger, strict=True)) if self.ledger
                                         else [()] * len(DIVIDEND_COLUMNS))
        row, sym, shares, cash, new, gross, withheld, net, pay = (np.asarray(c) for c in cols)
        pay_row = pay.astype(np.int64)
        paid = pay_row <= last_row
        pay_date = np.where(paid, self.dates64[np.where(paid, pay_row, 0)],
                            np.datetime64("NaT"))
        return pd.DataFrame({
            "date": self.dates64[row.astype(np.int64)],
            "symbol": pd.Categorical.from_codes(sym.astype(np.int64),
                                                categories=list(symbols)),
            "shares": shares.astype(np.int64),
            "cash_pre_tax_cny": cash.astype(float),
            "new_shares": new.astype(np.int64),
            "gross_cny": gross.astype(float),
            "withheld_cny": withheld.astype(float),
            "net_cny": net.astype(float),
            "pay_date": pay_date.astype("datetime64[ns]"),
        }, columns=list(DIVIDEND_COLUMNS))
