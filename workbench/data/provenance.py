"""Where a Market's data comes from, said in words a reader can quote.

Every figure the workbench prints names its data: synthetic or imported (and from what),
the period, the benchmark (which index, price or total return), and what could flatter it
(survivors only, a present-day sector map). :func:`provenance` reads it from a Market's
``meta`` and tables; reports show it as a banner and write it into ``metrics.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["INDEX_NAMES", "Provenance", "benchmark_identity", "provenance", "survivorship_notes"]

#: Names of the A-share indices researchers use as benchmarks, by their six-character code.
#: ``H0xxxx`` codes are CSI's total-return (全收益) versions: dividends reinvested.
INDEX_NAMES: dict[str, str] = {
    "000001": "SSE Composite",
    "000016": "SSE 50",
    "000300": "CSI 300",
    "000688": "STAR 50",
    "000852": "CSI 1000",
    "000905": "CSI 500",
    "399001": "SZSE Component",
    "399006": "ChiNext Index",
    "H00016": "SSE 50 total return",
    "H00300": "CSI 300 total return",
    "H00852": "CSI 1000 total return",
    "H00905": "CSI 500 total return",
}

Kind = Literal["synthetic", "imported", "unknown"]


def benchmark_identity(code: str | None) -> dict[str, str]:
    """Name and kind (``'price'`` or ``'total return'``) of a benchmark index from its code.

    Codes in any vendor spelling are understood (``sh.000300``, ``000300.SH``, ``H00300.CSI``).
    A ``H0`` code is a CSI total-return index; every other index is a price index, which
    leaves dividends out (so a strategy that collects dividends looks better against it).

    Examples
    --------
    >>> benchmark_identity("sh.000300")
    {'code': '000300', 'name': 'CSI 300', 'kind': 'price'}
    >>> benchmark_identity("H00300.CSI")["kind"]
    'total return'
    """
    if not code:
        return {"code": "", "name": "no benchmark", "kind": "none"}
    found = re.search(r"(H0\d{4}|\d{6})", str(code).upper())
    six = found.group(1) if found else str(code)
    kind = "total return" if six.startswith("H0") else "price"
    return {"code": six, "name": INDEX_NAMES.get(six, str(code)), "kind": kind}


def survivorship_notes(market: Market) -> tuple[str, ...]:
    """What could flatter results on an imported market: survivors only, a sector snapshot.

    Synthetic markets list and delist stocks themselves and carry no such note.
    """
    meta = market.meta
    if meta.get("source") == "synthetic":
        return ()
    notes = []
    if int(market.securities["delist_date"].notna().sum()) == 0:
        notes.append("survivors only: no stock in the data was ever delisted, so every result "
                     "is biased upward (import delisted stocks too, and an index membership "
                     "history, for a survivorship-free universe)")
    if meta.get("sector_map") == "snapshot":
        notes.append("sectors are a present-day snapshot (stock_basic), not point-in-time: "
                     "sector limits and sector-neutral ranks use today's classification")
    return tuple(notes)


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """What a Market is, for banners and ``metrics.json``.

    Attributes
    ----------
    kind
        ``'synthetic'``, ``'imported'`` or ``'unknown'``.
    name
        The dataset's name.
    description
        One sentence: what the data is and where it comes from.
    start, end
        First and last session (ISO dates), None for an empty market.
    n_symbols, n_delisted
        Securities in the master, and how many of them were delisted in the data.
    benchmark
        E.g. ``'CSI 300 (price index)'``, or for a derived one ``'510300.SH total return
        (derived from 510300.SH bars and dividends)'``.
    notes
        What could flatter results (survivors only, a sector snapshot), or nothing.
    """

    kind: Kind
    name: str
    description: str
    start: str | None
    end: str | None
    n_symbols: int
    n_delisted: int
    benchmark: str
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The banner: the description, period and benchmark, then each note."""
        period = f"{self.start} to {self.end}" if self.start else "no sessions"
        head = (f"{self.description} {self.n_symbols} securities ({self.n_delisted} delisted), "
                f"{period}. Benchmark: {self.benchmark}.")
        return [head, *self.notes]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (for ``metrics.json`` and the reports' index)."""
        return {"kind": self.kind, "name": self.name, "description": self.description,
                "start": self.start, "end": self.end, "n_symbols": self.n_symbols,
                "n_delisted": self.n_delisted, "benchmark": self.benchmark,
                "notes": list(self.notes)}


def _description(meta: Any) -> tuple[Kind, str]:
    source = meta.get("source")
    if source == "synthetic":
        return "synthetic", (f"Synthetic market (seed {meta.get('seed')}, generator "
                             f"v{meta.get('generator_version', '?')}): invented companies, "
                             "codes and names on real XSHG sessions and board rules, not real "
                             "prices.")
    if source == "import":
        layouts = ", ".join(f"{k} ×{v}" for k, v in dict(meta.get("bar_files", {})).items())
        where = dict(meta.get("inputs", {})).get("bars")
        if isinstance(where, list):  # several folders, e.g. listed and delisted stocks
            where = " and ".join(str(w) for w in where)
        when = str(meta.get("created", ""))[:10]
        return "imported", (f"Imported market {meta.get('name', '')!r} from vendor exports"
                            f"{f' ({layouts})' if layouts else ''}"
                            f"{f' in {where}' if where else ''}"
                            f"{f', imported {when}' if when else ''}.")
    return "unknown", "Market of unknown origin (no source in its meta.json)."


def provenance(market: Market) -> Provenance:
    """The :class:`Provenance` of ``market``, from its ``meta`` and tables.

    Examples
    --------
    >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
    >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03",
    ...                                      end="2023-12-29"))
    >>> p = provenance(m)
    >>> p.kind, p.benchmark
    ('synthetic', 'synthetic cap-weighted index (price index)')
    """
    meta = market.meta
    kind, description = _description(meta)
    bench = dict(meta.get("benchmark", {}))
    if market.benchmark.empty:
        benchmark = "none (the market has no benchmark table)"
    elif bench.get("derived_from"):  # e.g. an ETF's total return (data.total_return)
        benchmark = (f"{bench.get('name', 'unnamed index')} {bench.get('kind', 'total return')}"
                     f" (derived from {bench['derived_from']})")
    elif bench:
        benchmark = f"{bench.get('name', 'unnamed index')} ({bench.get('kind', 'price')} index)"
    else:
        benchmark = "an unnamed index (assumed a price index)"
    cal = market.calendar
    return Provenance(
        kind=kind, name=market.name, description=description,
        start=str(cal[0].date()) if len(cal) else None,
        end=str(cal[-1].date()) if len(cal) else None,
        n_symbols=len(market.securities),
        n_delisted=int(market.securities["delist_date"].notna().sum()),
        benchmark=benchmark, notes=survivorship_notes(market))
