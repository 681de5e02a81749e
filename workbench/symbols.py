"""A-share symbols: one canonical spelling (``600519.SH``) and the board each code belongs to.

Researchers' exports spell the same stock ``sh600519``, ``sh.600519``, ``SH600519``,
``600519.SH`` or plain ``600519``; :func:`normalize_symbol` maps all of them to
``600519.SH``. The board follows from the code prefix (exchange rules, 2024):

============  ==========================  =========
board         code prefixes               exchange
============  ==========================  =========
SH main       600, 601, 603, 605          SH
STAR          688, 689                    SH
SZ main       000, 001, 002, 003          SZ (002 was the SME board until 2021)
ChiNext       300, 301, 302               SZ
BSE           43, 83, 87, 920             BJ
============  ==========================  =========

B shares (900, 200) and funds are not A shares and are rejected.
"""

from __future__ import annotations

import re
from enum import StrEnum

import numpy as np
import pandas as pd

from workbench.errors import DataError

__all__ = [
    "Board",
    "board_of",
    "boards_of",
    "normalize_symbol",
    "normalize_symbols",
    "symbol_codes",
]


class Board(StrEnum):
    """The five A-share boards."""

    SH_MAIN = "SH main"
    SZ_MAIN = "SZ main"
    CHINEXT = "ChiNext"
    STAR = "STAR"
    BSE = "BSE"


_PREFIXES: tuple[tuple[str, str, Board], ...] = (
    ("600", "SH", Board.SH_MAIN),
    ("601", "SH", Board.SH_MAIN),
    ("603", "SH", Board.SH_MAIN),
    ("605", "SH", Board.SH_MAIN),
    ("688", "SH", Board.STAR),
    ("689", "SH", Board.STAR),
    ("000", "SZ", Board.SZ_MAIN),
    ("001", "SZ", Board.SZ_MAIN),
    ("002", "SZ", Board.SZ_MAIN),
    ("003", "SZ", Board.SZ_MAIN),
    ("300", "SZ", Board.CHINEXT),
    ("301", "SZ", Board.CHINEXT),
    ("302", "SZ", Board.CHINEXT),
    ("43", "BJ", Board.BSE),
    ("83", "BJ", Board.BSE),
    ("87", "BJ", Board.BSE),
    ("920", "BJ", Board.BSE),
)
_PATTERN = re.compile(
    r"^\s*(?:(?P<pre>sh|sz|bj)\.?(?P<code1>\d{6})|(?P<code2>\d{6})(?:\.(?P<suf>sh|sz|bj))?)\s*$",
    re.IGNORECASE,
)


def _classify(code: str) -> tuple[str, Board] | None:
    for prefix, exchange, board in _PREFIXES:
        if code.startswith(prefix):
            return exchange, board
    return None


def normalize_symbol(raw: object) -> str:
    """Return the canonical ``CODE.EX`` spelling of an A-share symbol.

    Parameters
    ----------
    raw
        ``sh600000``, ``sh.600000``, ``SH600000``, ``600000.SH`` or ``600000``
        (the exchange is then inferred from the code). Integers lose leading zeros in
        spreadsheets, so ``1`` is read as ``000001``.

    Raises
    ------
    DataError
        When the spelling is not a six-digit A-share code, the code has no known board
        prefix, or the stated exchange contradicts the code.

    Examples
    --------
    >>> [normalize_symbol(s) for s in ("sh600000", "sz.000001", "300750", "bj.830799")]
    ['600000.SH', '000001.SZ', '300750.SZ', '830799.BJ']
    """
    text = str(raw)
    if isinstance(raw, (int, np.integer)) and 0 <= int(raw) < 1_000_000:
        text = f"{int(raw):06d}"
    m = _PATTERN.match(text)
    if m is None:
        raise DataError(
            f"symbol {raw!r} is not an A-share code; expected six digits such as "
            "'600519.SH', 'sh.600519', 'sh600519' or '600519'"
        )
    code = m["code1"] or m["code2"]
    stated = (m["pre"] or m["suf"] or "").upper()
    found = _classify(code)
    if found is None:
        raise DataError(
            f"symbol {raw!r}: code {code} has no known A-share board prefix "
            "(600/601/603/605/688/689 SH, 000-003/300-302 SZ, 43/83/87/920 BJ); "
            "B shares and funds are not supported"
        )
    exchange, _ = found
    if stated and stated != exchange:
        raise DataError(f"symbol {raw!r}: code {code} trades on {exchange}, not {stated}")
    return f"{code}.{exchange}"


def normalize_symbols(raw: pd.Series) -> pd.Series:
    """Vectorised :func:`normalize_symbol` over a Series (each distinct spelling parsed once).

    Raises
    ------
    DataError
        Naming the first bad spelling and its row label.
    """
    uniques = pd.unique(raw.astype(str) if raw.dtype.kind in "OUS" else raw)
    mapping: dict[object, str] = {}
    for u in uniques:
        try:
            mapping[u] = normalize_symbol(u)
        except DataError as exc:
            row = raw.index[(raw == u).to_numpy()][0]
            raise DataError(f"row {row}: {exc}") from None
    key = raw.astype(str) if raw.dtype.kind in "OUS" else raw
    return key.map(mapping).astype(str)


def board_of(symbol: str) -> Board:
    """Return the board of a canonical symbol.

    Examples
    --------
    >>> board_of("688981.SH"), board_of("300750.SZ")
    (<Board.STAR: 'STAR'>, <Board.CHINEXT: 'ChiNext'>)
    """
    found = _classify(normalize_symbol(symbol)[:6])
    assert found is not None  # normalize_symbol already rejected unknown prefixes
    return found[1]


def symbol_codes(symbols: pd.Series | pd.Categorical | np.ndarray | list[str]
                 ) -> tuple[np.ndarray, pd.Index]:
    """Return integer codes and the distinct symbols they index (hash-based, no sort).

    A categorical input reuses its categories, so millions of rows cost no string work.
    """
    if isinstance(symbols, pd.Series) and isinstance(symbols.dtype, pd.CategoricalDtype):
        symbols = symbols.array
    if isinstance(symbols, pd.Categorical):
        return np.asarray(symbols.codes, dtype=np.int64), pd.Index(symbols.categories.astype(str))
    codes, uniques = pd.factorize(np.asarray(symbols, dtype=object))
    return codes.astype(np.int64), pd.Index(uniques.astype(str))


def boards_of(symbols: pd.Series | pd.Categorical | np.ndarray | list[str]) -> np.ndarray:
    """Return an object array of :class:`Board` values, one per symbol.

    Each distinct symbol is classified once, so a column of millions of bars is cheap.
    """
    codes, uniques = symbol_codes(symbols)
    table = np.array([board_of(s) for s in uniques] + [None], dtype=object)
    return table[codes]
