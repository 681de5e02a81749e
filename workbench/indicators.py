"""Technical indicators: pure functions, pandas in, pandas out.

Every function takes a price ``Series`` (one symbol) or a wide ``DataFrame`` (dates × symbols)
and returns the same kind of object with the same index (and columns), as ``float64``. Rows are
time and must be in strictly increasing order. Nothing looks ahead: the value at row ``t`` uses
rows ``<= t`` only. Inputs are never modified.

Conventions (TA-Lib's, except where noted):

* Warm-up rows are NaN. ``sma``/``bollinger``/``rolling_volatility``: ``window - 1`` rows;
  ``rate_of_change``: ``window``; ``ema``: ``span - 1``; ``rsi`` and ``atr``: ``window``;
  ``macd``: ``slow - 1`` for the MACD line and ``slow + signal - 2`` for signal and histogram.
* ``ema`` is the ``adjust=False`` recursion ``ema_t = ema_{t-1} + a (x_t - ema_{t-1})`` with
  ``a = 2 / (span + 1)``, seeded with the simple average of the first ``span`` values (TA-Lib's
  ``EMA``; pandas' ``ewm(adjust=False)`` instead seeds with the first value).
* Wilder's smoothing (``rsi``, ``atr``): seed = simple average of the first ``window`` inputs,
  then ``avg_t = (avg_{t-1} (window - 1) + x_t) / window``.

Missing values (a suspended day, the rows before a listing in a wide frame) are handled per
column; each column's computation starts at its own first valid value:

* Rolling windows (``sma``, ``bollinger``, ``rolling_volatility``) are positional: a NaN
  inside the window makes the output NaN, so an interior NaN blanks ``window`` rows from the
  gap on.
  ``rate_of_change`` is NaN when either end (``t`` or ``t - window``) is NaN.
* Recursions (``ema``, ``macd``, ``rsi``, ``atr``) skip a NaN row: its output is NaN and the
  state carries over unchanged, so the result equals the indicator of the column with its
  NaNs dropped, re-indexed to the original rows. A change is measured from the last valid
  price, so a gap after a suspension counts as one move. ``atr`` skips a bar when any of
  high, low or close is NaN.

:class:`EMAState`, :class:`RSIState` and :class:`ATRState` compute the same recursions one
row at a time for live use, per symbol, in O(1) per update, and agree with the batch
functions bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from numbers import Real
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from workbench.calendar import PERIODS_PER_YEAR
from workbench.checks import real_number, whole_number
from workbench.errors import ConfigError, DataError

__all__ = [
    "BOLLINGER_FIELDS",
    "MACD_FIELDS",
    "ATRState",
    "EMAState",
    "RSIState",
    "atr",
    "bollinger",
    "ema",
    "macd",
    "rate_of_change",
    "rolling_mean_array",
    "rolling_means",
    "rolling_std_array",
    "rolling_volatility",
    "rsi",
    "sma",
]

PriceData = TypeVar("PriceData", pd.Series, pd.DataFrame)

#: Column names (level 0 for a wide input) of :func:`macd` and :func:`bollinger` results.
MACD_FIELDS = ("macd", "signal", "histogram")
BOLLINGER_FIELDS = ("middle", "upper", "lower")


# --------------------------------------------------------------------------- validation


def _check_int(value: object, name: str, *, minimum: int = 1) -> int:
    return whole_number(value, name, minimum=minimum, hint=f"pass e.g. {name}=14")


def _check_real(value: object, name: str, *, positive: bool) -> float:
    if positive:
        return real_number(value, name, above=0.0)
    return real_number(value, name, minimum=0.0)


def _require_pandas(data: object, name: str) -> pd.Series | pd.DataFrame:
    if not isinstance(data, pd.Series | pd.DataFrame):
        raise DataError(f"{name} must be a pandas Series (one symbol) or DataFrame (dates × "
                        f"symbols), got {type(data).__name__}; wrap it, e.g. "
                        "pd.Series(values, index=dates)")
    return data


def _numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    """Return ``frame`` as a fresh float64 array; DataError for non-numbers or infinities."""
    bad = [(col, dtype) for col, dtype in frame.dtypes.items()
           if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype)]
    if bad:
        listed = ", ".join(f"{col!r} ({dtype})" for col, dtype in bad[:5])
        raise DataError(f"{name} must hold numbers (prices or returns); non-numeric column(s) "
                        f"{listed}. Convert with pd.to_numeric(..., errors='coerce') or drop "
                        "them.")
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    if np.isinf(values).any():
        row, col = np.argwhere(np.isinf(values))[0]
        raise DataError(f"{name}: infinite value at row {frame.index[row]!r}, column "
                        f"{frame.columns[col]!r}; replace it with NaN (a missing price) or "
                        "fix the source")
    return values


def _values(data: object, name: str) -> np.ndarray:
    """Validate a Series/DataFrame and return its values as a fresh 2-D float64 array."""
    frame = _require_pandas(data, name)
    if not (frame.index.is_monotonic_increasing and frame.index.is_unique):
        raise DataError(f"{name}: the index must be strictly increasing (rows are time, oldest "
                        "first, no duplicate dates); sort with .sort_index() and drop "
                        "duplicates first")
    return _numeric(frame.to_frame() if isinstance(frame, pd.Series) else frame, name)


def _wrap(values: np.ndarray, like: PriceData) -> PriceData:
    if isinstance(like, pd.Series):
        return pd.Series(values[:, 0], index=like.index, name=like.name, dtype=np.float64)
    return pd.DataFrame(values, index=like.index, columns=like.columns, dtype=np.float64)


def _combine(parts: dict[str, PriceData], like: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Series input: one column per field. Frame input: (field, symbol) MultiIndex columns."""
    if isinstance(like, pd.Series):
        return pd.DataFrame(parts, index=like.index)
    return pd.concat(parts, axis=1, names=["field", *like.columns.names])


# --------------------------------------------------------------------------- recursion core


class _Recursion:
    """Per-column seeded smoothing over rows, NaN rows skipped.

    The first ``period`` valid inputs of a column are summed (left to right) and their mean is
    the seed; from then on ``ema`` steps ``v + (x - v) * k`` and ``wilder`` steps
    ``(v (period - 1) + x) / period`` (TA-Lib's arithmetic). Batch functions and the
    incremental states run this same code, so they agree exactly.
    """

    __slots__ = ("count", "k", "period", "total", "value", "wilder")

    def __init__(self, n_columns: int, period: int, *, wilder: bool) -> None:
        self.period = period
        self.wilder = wilder
        self.k = 1.0 / period if wilder else 2.0 / (period + 1)
        self.count = np.zeros(n_columns, dtype=np.int64)
        self.total = np.zeros(n_columns)
        self.value = np.full(n_columns, np.nan)

    def _advance(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        if self.wilder:
            return (v * (self.period - 1) + x) / self.period
        return v + (x - v) * self.k

    def step(self, x: np.ndarray) -> np.ndarray:
        """Feed one row (1-D, one entry per column); return the smoothed row (a new array)."""
        valid = ~np.isnan(x)
        running = valid & (self.count >= self.period)
        if running.all():  # the common case once warm
            self.value = self._advance(self.value, x)
            return self.value.copy()
        if running.any():
            self.value[running] = self._advance(self.value[running], x[running])
        warming = valid & ~running
        if warming.any():
            self.total[warming] += x[warming]
            self.count[warming] += 1
            seeded = warming & (self.count == self.period)
            self.value[seeded] = self.total[seeded] / self.period
        return np.where(valid, self.value, np.nan)  # value is NaN until seeded

    def run(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty_like(rows)
        for t in range(rows.shape[0]):
            out[t] = self.step(rows[t])
        return out


class _Changes:
    """Per-column change from the last valid price (NaN for the first one or a NaN row)."""

    __slots__ = ("last",)

    def __init__(self, n_columns: int) -> None:
        self.last = np.full(n_columns, np.nan)

    def step(self, x: np.ndarray) -> np.ndarray:
        change = x - self.last
        self.last = np.where(np.isnan(x), self.last, x)
        return change


class _RSICore:
    __slots__ = ("changes", "gain", "loss")

    def __init__(self, n_columns: int, window: int) -> None:
        self.changes = _Changes(n_columns)
        self.gain = _Recursion(n_columns, window, wilder=True)
        self.loss = _Recursion(n_columns, window, wilder=True)

    def step(self, x: np.ndarray) -> np.ndarray:
        d = self.changes.step(x)
        # NaN changes stay NaN in both legs, so the recursions skip them.
        g = self.gain.step(np.where(d > 0, d, np.where(np.isnan(d), np.nan, 0.0)))
        lo = self.loss.step(np.where(d < 0, -d, np.where(np.isnan(d), np.nan, 0.0)))
        return self.index(g, lo)

    @staticmethod
    def index(gain: np.ndarray, loss: np.ndarray) -> np.ndarray:
        total = gain + loss
        with np.errstate(invalid="ignore", divide="ignore"):
            out = 100.0 * (gain / total)
        return np.where(total == 0.0, 50.0, out)  # flat window: neither up nor down

    def run(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty_like(rows)
        for t in range(rows.shape[0]):
            out[t] = self.step(rows[t])
        return out


class _ATRCore:
    __slots__ = ("prev_close", "smooth")

    def __init__(self, n_columns: int, window: int) -> None:
        self.prev_close = np.full(n_columns, np.nan)
        self.smooth = _Recursion(n_columns, window, wilder=True)

    def step(self, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
        bar = ~(np.isnan(high) | np.isnan(low) | np.isnan(close))
        pc = self.prev_close
        tr = np.maximum(high - low, np.maximum(np.abs(high - pc), np.abs(low - pc)))
        tr = np.where(bar, tr, np.nan)  # NaN too for the first bar, which has no prior close
        self.prev_close = np.where(bar, close, pc)
        return self.smooth.step(tr)


# --------------------------------------------------------------------------- batch indicators


def rolling_mean_array(values: np.ndarray, window: int) -> np.ndarray:
    """Causal simple moving average down the rows of a 2-D array (a new float array).

    Row ``t`` is the mean of rows ``t - window + 1 .. t``: NaN until ``window`` rows are
    there and NaN for any window holding a NaN. Built from cumulative sums, so row ``t``
    depends on rows up to ``t`` only (:func:`rolling_means`, one window).

    Examples
    --------
    >>> rolling_mean_array(np.array([[1.0], [2.0], [np.nan], [4.0], [6.0]]), 2).ravel()
    array([nan, 1.5, nan, nan, 5. ])
    """
    x = np.asarray(values)
    return rolling_means(lambda lo, hi: x[lo:hi], len(x), (window,))[0]


def rolling_means(block: Callable[[int, int], np.ndarray], n_rows: int,
                  windows: Sequence[int], *, chunk_rows: int = 256) -> list[np.ndarray]:
    """Causal simple moving averages of several windows, in one pass over row blocks.

    The values are read a block of rows at a time (``block(lo, hi)`` returns rows ``lo ..
    hi - 1``), so an input derived on the fly (``close * adj_factor``) never exists whole,
    and the running sums and counts take a few megabytes, not three arrays the size of the
    input. Row ``t`` of each result is the mean of rows ``t - window + 1 .. t``: NaN until
    ``window`` rows are there and NaN for any window holding a NaN (or an infinity).

    The sums are the running sums ``s_t = s_{t-1} + x_t`` (missing values count 0) that a
    single ``np.cumsum`` down the whole array gives, added in the same order, and each mean
    is ``(s_t - s_{t-window}) / window``; so the result is the same bit for bit whatever
    ``chunk_rows`` is, and the same as one pass over the whole array.

    Parameters
    ----------
    block
        ``block(lo, hi)``: rows ``lo .. hi - 1`` of the values (1-D or 2-D, rows are
        sessions; any unit, the means are in it).
    n_rows
        Rows in all.
    windows
        Window lengths in rows, each >= 1.
    chunk_rows
        Rows read per block (a tuning knob; it does not change the result).

    Returns
    -------
    list of numpy.ndarray
        One float array per window, ``n_rows`` rows, in the order of ``windows``.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, np.nan, 4.0, 6.0, 8.0])
    >>> [m.tolist() for m in rolling_means(lambda lo, hi: x[lo:hi], 6, (1, 2), chunk_rows=2)]
    [[1.0, 2.0, nan, 4.0, 6.0, 8.0], [nan, 1.5, nan, nan, 5.0, 7.0]]
    """
    ws = [whole_number(w, "window", minimum=1, hint="pass e.g. window=20") for w in windows]
    step = whole_number(chunk_rows, "chunk_rows", minimum=1)
    first = np.asarray(block(0, min(step, n_rows)))
    tail = first.shape[1:]
    outs = [np.empty((n_rows, *tail)) for _ in ws]
    for w, out in zip(ws, outs, strict=True):
        out[: w - 1] = np.nan  # warm-up
    back = max(ws, default=1)  # rows of running sums kept from before each block
    total = np.zeros((back + step, *tail))
    count = np.zeros((back + step, *tail), dtype=np.int32)
    for lo in range(0, n_rows, step):
        hi = min(lo + step, n_rows)
        x = first if lo == 0 else np.asarray(block(lo, hi))
        valid = np.isfinite(x)
        # buffer row i holds the running sums of row lo - back + i
        s, c = total[back : back + hi - lo], count[back : back + hi - lo]
        np.copyto(s, x)
        np.copyto(s, 0.0, where=~valid)
        np.copyto(c, valid)
        if lo:  # carry on from the previous row, as one cumsum would
            s[0] += total[back - 1]
            c[0] += count[back - 1]
        np.cumsum(s, axis=0, out=s)
        np.cumsum(c, axis=0, out=c)
        for w, out in zip(ws, outs, strict=True):
            a = max(lo, w - 1)
            if a >= hi:
                continue
            i, j = a - lo + back, hi - lo + back  # buffer rows of a .. hi - 1
            if a == w - 1:  # the first full window: s_{w-1} itself
                out[a] = total[i]
                n = count[i : i + 1].copy()
                np.subtract(total[i + 1 : j], total[i + 1 - w : j - w], out=out[a + 1 : hi])
                n = np.concatenate([n, count[i + 1 : j] - count[i + 1 - w : j - w]])
            else:
                np.subtract(total[i:j], total[i - w : j - w], out=out[a:hi])
                n = count[i:j] - count[i - w : j - w]
            out[a:hi] /= w
            out[a:hi][n != w] = np.nan
        # keep the last ``back`` rows of running sums for the next block
        keep = hi - lo
        total[:back] = total[keep : keep + back].copy()
        count[:back] = count[keep : keep + back].copy()
    return outs


def rolling_std_array(values: np.ndarray, window: int) -> np.ndarray:
    """Causal sample standard deviation (``ddof=1``) down the rows of an array (a new array).

    Row ``t`` is the standard deviation of rows ``t - window + 1 .. t``: NaN until ``window``
    rows are there and NaN for any window holding a NaN; exactly 0 for a window whose values
    are all equal (no float dust). Built from the running sums of :func:`rolling_mean_array`,
    so row ``t`` depends on rows up to ``t`` only. This is the one rolling dispersion kernel:
    :func:`rolling_volatility`, :func:`workbench.metrics.rolling_volatility`, the rolling
    Sharpe ratio and the low-volatility strategy all use it.

    Parameters
    ----------
    values
        1-D or 2-D float array (rows are sessions), e.g. daily returns as fractions.
    window
        Rows per window, >= 2.

    Examples
    --------
    >>> rolling_std_array(np.array([0.01, -0.01, 0.01, 0.01]), 2).round(6).tolist()
    [nan, 0.014142, 0.014142, 0.0]
    """
    w = whole_number(window, "window", minimum=2, hint="pass e.g. window=20")
    x = np.asarray(values, dtype=float)
    mean = rolling_mean_array(x, w)
    mean_sq = rolling_mean_array(x * x, w)
    var = np.maximum(mean_sq - mean * mean, 0.0) * (w / (w - 1))
    # a window with no change between consecutive rows is flat: its dispersion is 0
    changed = np.zeros(x.shape)
    changed[1:] = x[1:] != x[:-1]
    changes = np.cumsum(changed, axis=0)
    flat = np.zeros(x.shape, dtype=bool)
    if w <= len(x):
        flat[w - 1] = changes[w - 1] == 0.0
        flat[w:] = (changes[w:] - changes[1:len(x) - w + 1]) == 0.0
    var[flat & np.isfinite(var)] = 0.0
    return np.sqrt(var)


def sma(prices: PriceData, window: int) -> PriceData:
    """Simple moving average over the last ``window`` rows.

    Parameters
    ----------
    prices : Series or DataFrame
        Prices (any adjustment, as long as it is consistent), one column per symbol.
    window : int
        Rows in the average, >= 1.

    Returns
    -------
    Series or DataFrame
        Same shape and index; the first ``window - 1`` rows of each column (counted from
        its first valid price) are NaN, as is any row whose window holds a NaN.

    Raises
    ------
    ConfigError
        ``window`` is not an integer >= 1.
    DataError
        ``prices`` is not a numeric Series/DataFrame with an increasing index.

    Examples
    --------
    >>> sma(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), 3).tolist()
    [nan, nan, 2.0, 3.0, 4.0]
    """
    window = _check_int(window, "window")
    return _wrap(rolling_mean_array(_values(prices, "prices"), window), prices)


def ema(prices: PriceData, span: int) -> PriceData:
    """Exponential moving average, seeded with a simple average (TA-Lib ``EMA``).

    With ``a = 2 / (span + 1)``: ``ema = mean(first span prices)`` at the ``span``-th valid
    price, then ``ema_t = ema_{t-1} + a (p_t - ema_{t-1})`` (pandas' ``adjust=False`` form).
    pandas' ``ewm(span=span, adjust=False)`` seeds with the first price instead; the two differ
    by a term that decays like ``(1 - a)^t``.

    Parameters
    ----------
    prices : Series or DataFrame
        Prices, one column per symbol.
    span : int
        EMA span (TA-Lib's ``timeperiod``), >= 1.

    Returns
    -------
    Series or DataFrame
        Same shape and index; NaN for the first ``span - 1`` valid prices of each column and
        on rows where the price is NaN (those rows are skipped, the average carries over).

    Raises
    ------
    ConfigError
        ``span`` is not an integer >= 1.
    DataError
        ``prices`` is not a numeric Series/DataFrame with an increasing index.

    Examples
    --------
    Seed (1 + 2 + 3) / 3 = 2, then a = 0.5: 2 + 0.5 (4 - 2) = 3, 3 + 0.5 (8 - 3) = 5.5.

    >>> ema(pd.Series([1.0, 2.0, 3.0, 4.0, 8.0]), 3).tolist()
    [nan, nan, 2.0, 3.0, 5.5]
    """
    span = _check_int(span, "span")
    values = _values(prices, "prices")
    return _wrap(_Recursion(values.shape[1], span, wilder=False).run(values), prices)


def rsi(prices: PriceData, window: int = 14) -> PriceData:
    """Relative strength index with Wilder's smoothing, 0-100 (TA-Lib ``RSI``).

    Changes ``d_t = p_t - p_{t-1}`` split into gains ``max(d, 0)`` and losses ``max(-d, 0)``.
    The first average gain (loss) is the simple mean of the first ``window`` gains (losses);
    then ``avg_t = (avg_{t-1} (window - 1) + x_t) / window``. ``RSI = 100 avg_gain /
    (avg_gain + avg_loss)``, which equals ``100 - 100 / (1 + RS)``; it is 100 when the
    average loss is 0 and the average gain is positive, and 50 when both are 0 (a flat
    stretch; TA-Lib returns 0 there).

    Parameters
    ----------
    prices : Series or DataFrame
        Prices, one column per symbol.
    window : int, default 14
        Wilder period, >= 1.

    Returns
    -------
    Series or DataFrame
        Same shape and index; the first ``window`` valid prices of each column (``window``
        changes are needed) and NaN-price rows are NaN.

    Raises
    ------
    ConfigError
        ``window`` is not an integer >= 1.
    DataError
        ``prices`` is not a numeric Series/DataFrame with an increasing index.

    Examples
    --------
    Changes +1, -1, +2, +1: seed gains (1 + 0 + 2) / 3 = 1, losses 1/3, RSI 75; then gain
    (1 * 2 + 1) / 3 = 1, loss (1/3 * 2 + 0) / 3 = 2/9, RSI = 100 / (1 + 2/9) = 81.8.

    >>> rsi(pd.Series([10.0, 11.0, 10.0, 12.0, 13.0]), 3).round(1).tolist()
    [nan, nan, nan, 75.0, 81.8]
    """
    window = _check_int(window, "window")
    values = _values(prices, "prices")
    return _wrap(_RSICore(values.shape[1], window).run(values), prices)


def macd(prices: pd.Series | pd.DataFrame, fast: int = 12, slow: int = 26,
         signal: int = 9) -> pd.DataFrame:
    """MACD line, signal line and histogram.

    ``macd = ema(prices, fast) - ema(prices, slow)``, ``signal = ema(macd, signal)`` (seeded
    with the mean of the first ``signal`` MACD values), ``histogram = macd - signal``. Each
    EMA is :func:`ema`. TA-Lib's ``MACD`` instead re-seeds the fast EMA at the slow EMA's
    first row and blanks the MACD line until the signal is ready; the lines differ by a
    term that decays like ``(1 - 2 / (fast + 1))^t``.

    Parameters
    ----------
    prices : Series or DataFrame
        Prices, one column per symbol.
    fast, slow : int, default 12, 26
        EMA spans, ``1 <= fast < slow``.
    signal : int, default 9
        Span of the signal EMA, >= 1.

    Returns
    -------
    DataFrame
        For a Series: columns ``macd``, ``signal``, ``histogram``. For a wide DataFrame:
        MultiIndex columns ``(field, symbol)``, so ``out["signal"]`` is a dates × symbols
        frame shaped like ``prices``. The MACD line has ``slow - 1`` warm-up NaN rows, the
        signal and histogram ``slow + signal - 2``.

    Raises
    ------
    ConfigError
        A span is not an integer >= 1, or ``fast >= slow``.
    DataError
        ``prices`` is not a numeric Series/DataFrame with an increasing index.

    Examples
    --------
    Fast EMA (a = 2/3) seeded (1 + 2) / 2 = 1.5, then 2.5, 3.5, 3.5 + (6 - 3.5) 2/3 = 5.167;
    slow EMA (a = 1/2) seeded 2, then 3, 4.5; MACD 0.5, 0.5, 0.667; signal (a = 2/3) seeded
    (0.5 + 0.5) / 2 = 0.5, then 0.5 + (0.667 - 0.5) 2/3 = 0.611.

    >>> prices = pd.Series([1.0, 2.0, 3.0, 4.0, 6.0])
    >>> macd(prices, fast=2, slow=3, signal=2).round(3)
        macd  signal  histogram
    0    NaN     NaN        NaN
    1    NaN     NaN        NaN
    2  0.500     NaN        NaN
    3  0.500   0.500      0.000
    4  0.667   0.611      0.056
    """
    fast = _check_int(fast, "fast")
    slow = _check_int(slow, "slow")
    signal = _check_int(signal, "signal")
    if fast >= slow:
        raise ConfigError(f"fast must be shorter than slow, got fast={fast}, slow={slow}; "
                          "the usual choice is fast=12, slow=26")
    values = _values(prices, "prices")
    n = values.shape[1]
    line = (_Recursion(n, fast, wilder=False).run(values)
            - _Recursion(n, slow, wilder=False).run(values))
    sig = _Recursion(n, signal, wilder=False).run(line)
    parts = dict(zip(MACD_FIELDS, (line, sig, line - sig), strict=True))
    return _combine({k: _wrap(v, prices) for k, v in parts.items()}, prices)


def bollinger(prices: pd.Series | pd.DataFrame, window: int = 20,
              k: float = 2.0) -> pd.DataFrame:
    """Bollinger bands: ``middle = sma``, ``upper/lower = middle ± k σ``.

    ``σ`` is the population standard deviation of the window (``ddof=0``), as in TA-Lib's
    ``BBANDS``.

    Parameters
    ----------
    prices : Series or DataFrame
        Prices, one column per symbol.
    window : int, default 20
        Rows in the window, >= 1.
    k : float, default 2.0
        Band width in standard deviations, >= 0.

    Returns
    -------
    DataFrame
        For a Series: columns ``middle``, ``upper``, ``lower``. For a wide DataFrame:
        MultiIndex columns ``(field, symbol)``, so ``out["upper"]`` is shaped like
        ``prices``. ``window - 1`` warm-up NaN rows; a NaN in the window gives NaN.

    Raises
    ------
    ConfigError
        ``window`` is not an integer >= 1, or ``k`` is negative or not finite.
    DataError
        ``prices`` is not a numeric Series/DataFrame with an increasing index.

    Examples
    --------
    Window [1, 2, 3]: mean 2, population variance (1 + 0 + 1) / 3, σ = 0.816.

    >>> bollinger(pd.Series([1.0, 2.0, 3.0]), window=3, k=1.0).round(3)
       middle  upper  lower
    0     NaN    NaN    NaN
    1     NaN    NaN    NaN
    2     2.0  2.816  1.184
    """
    window = _check_int(window, "window")
    k = _check_real(k, "k", positive=False)
    values = _values(prices, "prices")
    rolling = pd.DataFrame(values).rolling(window, min_periods=window)
    mid = rolling.mean().to_numpy()
    sd = rolling.std(ddof=0).to_numpy()
    parts = dict(zip(BOLLINGER_FIELDS, (mid, mid + k * sd, mid - k * sd), strict=True))
    return _combine({f: _wrap(v, prices) for f, v in parts.items()}, prices)


def _same_shape(high: object, low: object, close: object) -> None:
    ref = _require_pandas(close, "close")
    for name, x in (("high", _require_pandas(high, "high")), ("low", _require_pandas(low, "low"))):
        if type(x) is not type(ref):
            raise DataError(f"high, low and close must all be Series or all DataFrames; {name} "
                            f"is a {type(x).__name__}, close a {type(ref).__name__}")
        if x.shape != ref.shape or not x.index.equals(ref.index):
            raise DataError(f"{name} and close must share one index and shape, got {x.shape} "
                            f"vs {ref.shape}; align them first, e.g. "
                            f"{name}, close = {name}.align(close, join='inner')")
        if isinstance(x, pd.DataFrame) and not x.columns.equals(ref.columns):
            raise DataError(f"{name} and close must have the same symbols in the same order; "
                            f"use {name}.reindex(columns=close.columns)")


def atr(high: PriceData, low: PriceData, close: PriceData, window: int = 14) -> PriceData:
    """Average true range with Wilder's smoothing (TA-Lib ``ATR``), in price units.

    ``TR_t = max(high_t - low_t, |high_t - close_{t-1}|, |low_t - close_{t-1}|)``. The first
    bar has no previous close and no TR; the ATR is the mean of the first ``window`` TRs, then
    ``atr_t = (atr_{t-1} (window - 1) + TR_t) / window``.

    Parameters
    ----------
    high, low, close : Series or DataFrame
        Same kind, index and columns; unadjusted or consistently adjusted.
    window : int, default 14
        Wilder period, >= 1.

    Returns
    -------
    Series or DataFrame
        Shaped like ``close``; ``window`` warm-up NaN rows (counted from each column's first
        full bar). A bar with any of high/low/close NaN is skipped (NaN out, state kept).

    Raises
    ------
    ConfigError
        ``window`` is not an integer >= 1.
    DataError
        Inputs are not numeric, or their kinds, shapes, indexes or columns differ.

    Examples
    --------
    TRs: bar 1 max(2, |12-11|, |10-11|) = 2, bar 2 max(1, |13-11|, |12-11|) = 2; seed 2. Bar 3
    TR = max(1, |11-13|, |10-13|) = 3, ATR = (2 * 1 + 3) / 2 = 2.5.

    >>> high = pd.Series([11.0, 12.0, 13.0, 11.0])
    >>> low = pd.Series([9.0, 10.0, 12.0, 10.0])
    >>> close = pd.Series([10.0, 11.0, 13.0, 10.5])
    >>> atr(high, low, close, window=2).tolist()
    [nan, nan, 2.0, 2.5]
    """
    window = _check_int(window, "window")
    _same_shape(high, low, close)
    h, lo, c = _values(high, "high"), _values(low, "low"), _values(close, "close")
    core = _ATRCore(c.shape[1], window)
    out = np.empty_like(c)
    for t in range(c.shape[0]):
        out[t] = core.step(h[t], lo[t], c[t])
    return _wrap(out, close)


def rolling_volatility(returns: PriceData, window: int = 20,
                       periods_per_year: float = PERIODS_PER_YEAR) -> PriceData:
    """Annualised rolling volatility: sample std (``ddof=1``) × ``sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : Series or DataFrame
        Simple or log returns per period as fractions (``0.01`` is 1 %), not prices.
    window : int, default 20
        Rows in the window, >= 2 (a sample std needs two).
    periods_per_year : float, default PERIODS_PER_YEAR (252)
        Periods in a year for the returns' frequency (252 for daily).

    Returns
    -------
    Series or DataFrame
        Same shape and index, as a fraction per year; ``window - 1`` warm-up NaN rows and
        NaN wherever the window holds a NaN.

    Raises
    ------
    ConfigError
        ``window < 2`` or ``periods_per_year <= 0``.
    DataError
        ``returns`` is not a numeric Series/DataFrame with an increasing index.

    Examples
    --------
    Returns 1 %, -1 %: sample variance 0.0002, σ = 0.01414 a day, × sqrt(252) = 0.2245.

    >>> rolling_volatility(pd.Series([0.01, -0.01]), window=2).round(4).tolist()
    [nan, 0.2245]
    """
    window = _check_int(window, "window", minimum=2)
    periods_per_year = _check_real(periods_per_year, "periods_per_year", positive=True)
    values = _values(returns, "returns")
    return _wrap(rolling_std_array(values, window) * math.sqrt(periods_per_year), returns)


def rate_of_change(prices: PriceData, window: int) -> PriceData:
    """Rate of change over ``window`` rows as a fraction: ``p_t / p_{t-window} - 1``.

    Parameters
    ----------
    prices : Series or DataFrame
        Prices (adjusted, so that dividends and splits are not moves), one column per symbol.
    window : int
        Lag in rows, >= 1.

    Returns
    -------
    Series or DataFrame
        Same shape and index; ``0.05`` is +5 %. The first ``window`` rows are NaN, as is any
        row where ``p_t`` or ``p_{t-window}`` is NaN.

    Raises
    ------
    ConfigError
        ``window`` is not an integer >= 1.
    DataError
        ``prices`` is not a numeric Series/DataFrame with an increasing index.

    Examples
    --------
    5 / 4 - 1 = 0.25 and 7.5 / 5 - 1 = 0.5:

    >>> rate_of_change(pd.Series([4.0, 5.0, 5.0, 7.5]), 2).tolist()
    [nan, nan, 0.25, 0.5]
    """
    window = _check_int(window, "window")
    values = _values(prices, "prices")
    out = np.full_like(values, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[window:] = values[window:] / values[:-window] - 1.0
    return _wrap(out, prices)


# --------------------------------------------------------------------------- incremental states


class _State:
    """Labels and row handling shared by the incremental indicator states."""

    symbols: pd.Index | None

    def _init_labels(self, symbols: Sequence[Hashable] | pd.Index | None) -> int:
        if symbols is None:
            self.symbols = None
            return 1
        self.symbols = pd.Index(symbols)
        if not self.symbols.is_unique:
            dup = self.symbols[self.symbols.duplicated()].unique().tolist()
            raise ConfigError(f"symbols must be unique, got duplicates {dup}")
        return len(self.symbols)

    @staticmethod
    def _labels_of(history: pd.Series | pd.DataFrame) -> pd.Index | None:
        return history.columns if isinstance(history, pd.DataFrame) else None

    def _row(self, row: Any, name: str) -> np.ndarray:
        if self.symbols is None:
            if isinstance(row, bool) or not isinstance(row, Real | np.floating | np.integer):
                raise DataError(f"{name} must be one number for a single-series state, got "
                                f"{type(row).__name__}")
            x = np.array([float(row)])
        elif isinstance(row, pd.Series):
            if missing := self.symbols.difference(row.index).tolist():
                raise DataError(f"{name} lacks symbols {missing[:5]}; pass NaN for a symbol "
                                "without a price (e.g. suspended)")
            if extra := row.index.difference(self.symbols).tolist():
                raise DataError(f"{name} has symbols this state does not track: {extra[:5]}")
            x = _numeric(row.reindex(self.symbols).to_frame(), name)[:, 0]
        else:
            try:
                x = np.asarray(row, dtype=np.float64).ravel()
            except (TypeError, ValueError) as exc:
                raise DataError(f"{name} must hold numbers, one per symbol: {exc}") from None
            if x.shape != (len(self.symbols),):
                raise DataError(f"{name} must have one value per symbol ({len(self.symbols)}), "
                                f"got shape {np.shape(row)}")
        if np.isinf(x).any():
            raise DataError(f"{name} holds an infinite value; use NaN for a missing price")
        return x

    def _out(self, x: np.ndarray) -> float | pd.Series:
        if self.symbols is None:
            return float(x[0])
        return pd.Series(x, index=self.symbols, dtype=np.float64)


class _PriceState(_State):
    """A state fed one row of prices at a time (EMA, RSI)."""

    _core: Any

    @classmethod
    def _warmed(cls, prices: pd.Series | pd.DataFrame, period: int) -> Any:
        state = cls(period, cls._labels_of(prices))  # type: ignore[call-arg]
        state._core.run(_values(prices, "prices"))
        return state

    def update(self, prices_row: Any) -> float | pd.Series:
        """Add one row of prices (a float, or a Series by symbol; NaN = no price) and return
        the new value (NaN while warming up or where the price is NaN)."""
        return self._out(self._core.step(self._row(prices_row, "prices_row")))


class EMAState(_PriceState):
    """Incremental :func:`ema`: one new row per :meth:`update`, O(1) per symbol.

    The state holds, per symbol, the count of valid prices seen, their sum while seeding and
    the current average; ``update`` gives exactly ``ema(history + row).iloc[-1]``.

    Parameters
    ----------
    span : int
        EMA span, >= 1.
    symbols : sequence of labels, optional
        The symbols tracked (a wide state); ``None`` for a single series, which takes and
        returns plain floats.

    Examples
    --------
    >>> state = EMAState.from_history(pd.Series([1.0, 2.0, 3.0, 4.0]), span=3)
    >>> state.value
    3.0
    >>> state.update(8.0)
    5.5
    """

    def __init__(self, span: int, symbols: Sequence[Hashable] | pd.Index | None = None) -> None:
        self.span = _check_int(span, "span")
        self._core = _Recursion(self._init_labels(symbols), self.span, wilder=False)

    @classmethod
    def from_history(cls, prices: pd.Series | pd.DataFrame, span: int) -> EMAState:
        """Warm a state up on past prices (a Series, or a dates × symbols DataFrame)."""
        return cls._warmed(prices, span)

    @property
    def value(self) -> float | pd.Series:
        """The current EMA per symbol (NaN until ``span`` valid prices were seen)."""
        return self._out(self._core.value.copy())


class RSIState(_PriceState):
    """Incremental :func:`rsi`: Wilder averages of gains and losses updated in O(1).

    Per symbol the state holds the last valid price and the two Wilder averages (with their
    seeding sums); ``update`` gives exactly ``rsi(history + row).iloc[-1]``.

    Parameters
    ----------
    window : int, default 14
        Wilder period, >= 1.
    symbols : sequence of labels, optional
        The symbols tracked; ``None`` for a single series (floats in and out).

    Examples
    --------
    >>> state = RSIState.from_history(pd.Series([10.0, 11.0, 10.0, 12.0]), window=3)
    >>> state.value
    75.0
    >>> round(state.update(13.0), 1)
    81.8
    """

    def __init__(self, window: int = 14,
                 symbols: Sequence[Hashable] | pd.Index | None = None) -> None:
        self.window = _check_int(window, "window")
        self._core = _RSICore(self._init_labels(symbols), self.window)

    @classmethod
    def from_history(cls, prices: pd.Series | pd.DataFrame, window: int = 14) -> RSIState:
        """Warm a state up on past prices (a Series, or a dates × symbols DataFrame)."""
        return cls._warmed(prices, window)

    @property
    def value(self) -> float | pd.Series:
        """The RSI of the current averages per symbol (NaN until ``window`` changes were seen);
        a symbol whose last price was NaN keeps its RSI from its last valid price."""
        return self._out(self._core.index(self._core.gain.value, self._core.loss.value))


class ATRState(_State):
    """Incremental :func:`atr`: previous close and Wilder average updated in O(1).

    Parameters
    ----------
    window : int, default 14
        Wilder period, >= 1.
    symbols : sequence of labels, optional
        The symbols tracked; ``None`` for a single series (floats in and out).

    Examples
    --------
    >>> state = ATRState.from_history(pd.Series([11.0, 12.0, 13.0]), pd.Series([9.0, 10.0, 12.0]),
    ...                               pd.Series([10.0, 11.0, 13.0]), window=2)
    >>> state.update(high=11.0, low=10.0, close=10.5)
    2.5
    """

    def __init__(self, window: int = 14,
                 symbols: Sequence[Hashable] | pd.Index | None = None) -> None:
        self.window = _check_int(window, "window")
        self._core = _ATRCore(self._init_labels(symbols), self.window)

    @classmethod
    def from_history(cls, high: pd.Series | pd.DataFrame, low: pd.Series | pd.DataFrame,
                     close: pd.Series | pd.DataFrame, window: int = 14) -> ATRState:
        """Warm a state up on past bars (Series, or dates × symbols DataFrames)."""
        _same_shape(high, low, close)
        state = cls(window, cls._labels_of(close))
        h, lo, c = _values(high, "high"), _values(low, "low"), _values(close, "close")
        for t in range(c.shape[0]):
            state._core.step(h[t], lo[t], c[t])
        return state

    def update(self, high: Any, low: Any, close: Any) -> float | pd.Series:
        """Add one bar (floats, or Series by symbol; NaN = no bar) and return the new ATR."""
        h, lo, c = self._row(high, "high"), self._row(low, "low"), self._row(close, "close")
        return self._out(self._core.step(h, lo, c))

    @property
    def value(self) -> float | pd.Series:
        """The current ATR per symbol (NaN until ``window`` true ranges were seen)."""
        return self._out(self._core.smooth.value.copy())
