"""Indicators: hand-worked examples, slow loop references, NaN rules, states, no look-ahead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import indicators as ind
from workbench.errors import ConfigError, DataError

NAN = math.nan


# --------------------------------------------------------------------------- slow references
# Plain Python over lists of floats, one column at a time, written from the textbook formulas
# (not from the module's code). NaN conventions: rolling windows blank any window holding a
# NaN; recursions skip NaN rows (NaN out, state unchanged).


def _isnan(x: float) -> bool:
    return x != x


def slow_sma(xs: list[float], w: int) -> list[float]:
    out = []
    for t in range(len(xs)):
        win = xs[t - w + 1:t + 1] if t >= w - 1 else []
        out.append(sum(win) / w if win and not any(map(_isnan, win)) else NAN)
    return out


def slow_std(xs: list[float], w: int, ddof: int) -> list[float]:
    out = []
    for t in range(len(xs)):
        win = xs[t - w + 1:t + 1] if t >= w - 1 else []
        if not win or any(map(_isnan, win)):
            out.append(NAN)
            continue
        mean = sum(win) / w
        out.append(math.sqrt(sum((x - mean) ** 2 for x in win) / (w - ddof)))
    return out


def slow_ema(xs: list[float], n: int) -> list[float]:
    a = 2 / (n + 1)
    seen: list[float] = []
    e = NAN
    out = []
    for x in xs:
        if _isnan(x):
            out.append(NAN)
            continue
        seen.append(x)
        if len(seen) == n:
            e = sum(seen) / n
        elif len(seen) > n:
            e = a * x + (1 - a) * e
        out.append(e if len(seen) >= n else NAN)
    return out


def slow_wilder(xs: list[float], n: int) -> list[float]:
    seen: list[float] = []
    avg = NAN
    out = []
    for x in xs:
        if _isnan(x):
            out.append(NAN)
            continue
        seen.append(x)
        if len(seen) == n:
            avg = sum(seen) / n
        elif len(seen) > n:
            avg = (avg * (n - 1) + x) / n
        out.append(avg if len(seen) >= n else NAN)
    return out


def slow_rsi(xs: list[float], n: int) -> list[float]:
    changes, last = [], NAN
    for x in xs:
        changes.append(x - last)  # NaN for the first price and for NaN rows
        if not _isnan(x):
            last = x
    gains = slow_wilder([NAN if _isnan(d) else max(d, 0.0) for d in changes], n)
    losses = slow_wilder([NAN if _isnan(d) else max(-d, 0.0) for d in changes], n)
    out = []
    for g, lo in zip(gains, losses, strict=True):
        if _isnan(g):
            out.append(NAN)
        elif lo == 0:
            out.append(100.0 if g > 0 else 50.0)
        else:
            out.append(100 - 100 / (1 + g / lo))
    return out


def slow_atr(hs: list[float], ls: list[float], cs: list[float], n: int) -> list[float]:
    trs, prev = [], NAN
    for h, lo, c in zip(hs, ls, cs, strict=True):
        if _isnan(h) or _isnan(lo) or _isnan(c):
            trs.append(NAN)
            continue
        trs.append(NAN if _isnan(prev) else max(h - lo, abs(h - prev), abs(lo - prev)))
        prev = c
    return slow_wilder(trs, n)


def slow_macd(xs: list[float], fast: int, slow: int, signal: int) -> dict[str, list[float]]:
    line = [f - s for f, s in zip(slow_ema(xs, fast), slow_ema(xs, slow), strict=True)]
    sig = slow_ema(line, signal)
    return {"macd": line, "signal": sig, "histogram": [m - s for m, s in zip(line, sig,
                                                                                strict=True)]}


def slow_roc(xs: list[float], w: int) -> list[float]:
    return [xs[t] / xs[t - w] - 1 if t >= w else NAN for t in range(len(xs))]


# --------------------------------------------------------------------------- data


def random_prices(n_rows: int = 80, n_cols: int = 4, seed: int = 7) -> pd.DataFrame:
    """A wide frame with a late listing (leading NaN) and a suspension (interior NaN)."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.02, (n_rows, n_cols))
    values = 10 * np.exp(np.cumsum(steps, axis=0))
    values[:, 1] = np.round(values[:, 1], 1)  # ties and flat days
    frame = pd.DataFrame(values, index=pd.bdate_range("2024-01-02", periods=n_rows),
                         columns=[f"60000{i}.SH" for i in range(n_cols)])
    frame.iloc[:9, 2] = np.nan  # listed later
    frame.iloc[30:33, 3] = np.nan  # suspended three days
    frame.iloc[50, 0] = np.nan  # one missing day
    return frame


def random_bars(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    close = random_prices(seed=seed)
    rng = np.random.default_rng(seed + 1)
    high = close * (1 + rng.uniform(0, 0.03, close.shape))
    low = close * (1 - rng.uniform(0, 0.03, close.shape))
    return high, low, close


def by_column(frame: pd.DataFrame, fn) -> pd.DataFrame:
    return pd.DataFrame({c: fn(frame[c].tolist()) for c in frame}, index=frame.index)


def assert_close(actual, expected, rtol: float = 1e-12, atol: float = 1e-12) -> None:
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float),
                               rtol=rtol, atol=atol, equal_nan=True)


# --------------------------------------------------------------------------- worked examples


def test_sma_worked_example():
    # (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+8)/3 = 5
    out = ind.sma(pd.Series([1.0, 2.0, 3.0, 4.0, 8.0]), 3)
    assert_close(out, [NAN, NAN, 2.0, 3.0, 5.0])


def test_ema_worked_example_seeds_with_sma_like_talib():
    # span 3: a = 2/(3+1) = 0.5. Seed at the 3rd price: (1+2+3)/3 = 2.
    # 2 + 0.5*(4-2) = 3; 3 + 0.5*(8-3) = 5.5; 5.5 + 0.5*(2-5.5) = 3.75.
    prices = pd.Series([1.0, 2.0, 3.0, 4.0, 8.0, 2.0])
    assert_close(ind.ema(prices, 3), [NAN, NAN, 2.0, 3.0, 5.5, 3.75])
    # Seeding with the first price (pandas' ewm(adjust=False)) would give 1, 1.5, 2.25 instead.
    assert prices.ewm(span=3, adjust=False).mean().iloc[2] == 2.25


def test_ema_span_one_is_the_price():
    prices = pd.Series([3.0, 1.0, 4.0, 1.0, 5.0])
    pd.testing.assert_series_equal(ind.ema(prices, 1), prices)


# The classic Wilder RSI example (StockCharts), 16 closes, window 14.
WILDER_CLOSES = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42,
                 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28, 46.00]


def test_rsi_worked_example_wilder_16_prices():
    # Changes 1..14: -0.25 +0.06 -0.54 +0.72 +0.50 +0.27 +0.32 +0.42 +0.24 -0.19 +0.14 -0.42
    #                +0.67 0.00
    # gains  = 0.06+0.72+0.50+0.27+0.32+0.42+0.24+0.14+0.67 = 3.34 -> avg gain 3.34/14
    # losses = 0.25+0.54+0.19+0.42 = 1.40                   -> avg loss 1.40/14
    # RSI_14 = 100 * 3.34 / (3.34 + 1.40) = 70.4641...
    # Change 15: 46.00 - 46.28 = -0.28 (a loss):
    #   avg gain = (3.34/14 * 13 + 0) / 14 = 43.42/196
    #   avg loss = (1.40/14 * 13 + 0.28) / 14 = (18.20 + 3.92)/196 = 22.12/196
    #   RSI_15 = 100 * 43.42 / (43.42 + 22.12) = 66.2496...
    out = ind.rsi(pd.Series(WILDER_CLOSES), 14)
    assert out.iloc[:14].isna().all()
    assert out.iloc[14] == pytest.approx(100 * 3.34 / 4.74, rel=1e-12)
    assert out.iloc[15] == pytest.approx(100 * 43.42 / 65.54, rel=1e-12)
    assert round(out.iloc[14], 2) == 70.46 and round(out.iloc[15], 2) == 66.25


def test_rsi_edge_cases_all_gains_and_flat():
    # Only gains: avg loss 0, avg gain > 0 -> 100. Flat: both 0 -> 50 (TA-Lib would say 0).
    assert_close(ind.rsi(pd.Series([1.0, 2.0, 3.0, 4.0]), 2), [NAN, NAN, 100.0, 100.0])
    assert_close(ind.rsi(pd.Series([5.0, 5.0, 5.0, 5.0]), 2), [NAN, NAN, 50.0, 50.0])
    # Only losses -> 0.
    assert_close(ind.rsi(pd.Series([4.0, 3.0, 2.0]), 2), [NAN, NAN, 0.0])


def test_atr_worked_example():
    # window 2. Bar 0 has no previous close, so no TR.
    # TR1 = max(12-10, |12-10|, |10-10|) = 2
    # TR2 = max(14-12, |14-11|, |12-11|) = 3      -> seed ATR = (2+3)/2 = 2.5
    # TR3 = max(13-11, |13-13|, |11-13|) = 2      -> ATR = (2.5*1 + 2)/2 = 2.25
    # TR4 = max(12-11, |12-12|, |11-12|) = 1      -> ATR = (2.25 + 1)/2 = 1.625
    high = pd.Series([11.0, 12.0, 14.0, 13.0, 12.0])
    low = pd.Series([9.0, 10.0, 12.0, 11.0, 11.0])
    close = pd.Series([10.0, 11.0, 13.0, 12.0, 11.5])
    assert_close(ind.atr(high, low, close, window=2), [NAN, NAN, 2.5, 2.25, 1.625])


def test_macd_worked_example_and_identity():
    # fast 2 (a=2/3), slow 3 (a=1/2), signal 2 (a=2/3); prices 2, 4, 6, 8, 14.
    # fast: seed (2+4)/2 = 3 -> 3+(6-3)*2/3 = 5 -> 5+(8-5)*2/3 = 7 -> 7+(14-7)*2/3 = 35/3
    # slow: seed (2+4+6)/3 = 4 -> 4+(8-4)/2 = 6 -> 6+(14-6)/2 = 10
    # macd: 5-4 = 1, 7-6 = 1, 35/3-10 = 5/3; signal: seed (1+1)/2 = 1 -> 1+(5/3-1)*2/3 = 13/9
    out = ind.macd(pd.Series([2.0, 4.0, 6.0, 8.0, 14.0]), fast=2, slow=3, signal=2)
    assert list(out.columns) == ["macd", "signal", "histogram"]
    assert_close(out["macd"], [NAN, NAN, 1.0, 1.0, 5 / 3])
    assert_close(out["signal"], [NAN, NAN, NAN, 1.0, 13 / 9])
    assert_close(out["histogram"], [NAN, NAN, NAN, 0.0, 5 / 3 - 13 / 9])
    prices = random_prices()
    wide = ind.macd(prices)
    pd.testing.assert_frame_equal(wide["macd"], ind.ema(prices, 12) - ind.ema(prices, 26),
                                  check_names=False)


def test_bollinger_worked_example_population_std():
    # Window [1, 2, 3, 6]: mean 3; squared deviations 4, 1, 0, 9 -> population var 14/4 = 3.5
    # (the sample var would be 14/3). k = 2: bands 3 ± 2*sqrt(3.5).
    out = ind.bollinger(pd.Series([1.0, 2.0, 3.0, 6.0]), window=4, k=2.0)
    assert list(out.columns) == ["middle", "upper", "lower"]
    assert_close(out.iloc[3], [3.0, 3 + 2 * math.sqrt(3.5), 3 - 2 * math.sqrt(3.5)])
    assert out.iloc[:3].isna().all().all()


def test_rolling_volatility_worked_example_sample_std():
    # Window [0.01, 0.02, 0.03]: mean 0.02, sample var (1e-4 + 0 + 1e-4)/2 = 1e-4, std 0.01
    # a day; annualised 0.01 * sqrt(252) = 0.15875. Weekly: 0.01 * sqrt(52).
    returns = pd.Series([0.01, 0.02, 0.03])
    assert_close(ind.rolling_volatility(returns, 3), [NAN, NAN, 0.01 * math.sqrt(252)])
    assert_close(ind.rolling_volatility(returns, 3, periods_per_year=52),
                 [NAN, NAN, 0.01 * math.sqrt(52)])


def test_rate_of_change_worked_example_is_a_fraction():
    # 12/10 - 1 = 0.2 (20 %), 15/11 - 1 = 4/11
    out = ind.rate_of_change(pd.Series([10.0, 11.0, 12.0, 15.0]), 2)
    assert_close(out, [NAN, NAN, 0.2, 4 / 11])


# Reference values from TA-Lib 0.8.2 (talib.EMA/RSI/ATR/BBANDS) on this deterministic series.
_I = np.arange(40.0)
_C = 10 + np.sin(_I / 3) + 0.05 * _I
_H = _C + 0.3 + 0.1 * np.cos(_I / 2) ** 2
_L = _C - 0.25 - 0.1 * np.sin(_I / 5) ** 2


def test_matches_talib_reference_values():
    c, h, lo = pd.Series(_C), pd.Series(_H), pd.Series(_L)
    assert_close(ind.ema(c, 10).iloc[[9, 10, 20, 39]],
                 [10.823515728705, 10.730045966599, 10.551325270676, 11.5074169987], atol=1e-10)
    assert_close(ind.rsi(c, 14).iloc[[14, 15, 25, 39]],
                 [44.641944893747, 46.501247832016, 75.048398060805, 70.19735825489], atol=1e-10)
    assert_close(ind.atr(h, lo, c, 14).iloc[[14, 15, 25, 39]],
                 [0.671890945649, 0.664184955961, 0.678413825473, 0.668455821485], atol=1e-10)
    bands = ind.bollinger(c, 20, 2.0)
    assert_close(bands["upper"].iloc[[19, 39]], [11.526886680348, 12.606309302908], atol=1e-10)
    assert_close(bands["lower"].iloc[[19, 39]], [9.425993316214, 10.389327448303], atol=1e-10)
    assert ind.ema(c, 10).iloc[:9].isna().all() and ind.rsi(c, 14).iloc[:14].isna().all()


# --------------------------------------------------------------------------- against slow loops

SINGLE = {
    "sma": (lambda p: ind.sma(p, 5), lambda xs: slow_sma(xs, 5)),
    "ema": (lambda p: ind.ema(p, 7), lambda xs: slow_ema(xs, 7)),
    "rsi": (lambda p: ind.rsi(p, 14), lambda xs: slow_rsi(xs, 14)),
    "rsi_3": (lambda p: ind.rsi(p, 3), lambda xs: slow_rsi(xs, 3)),
    "roc": (lambda p: ind.rate_of_change(p, 5), lambda xs: slow_roc(xs, 5)),
    "vol": (lambda p: ind.rolling_volatility(p, 10, 252),
            lambda xs: [s * math.sqrt(252) for s in slow_std(xs, 10, ddof=1)]),
}


@pytest.mark.parametrize("name", SINGLE)
def test_series_and_wide_frame_match_slow_reference(name):
    fast, slow = SINGLE[name]
    prices = random_prices()
    data = prices.pct_change(fill_method=None) if name == "vol" else prices
    expected = by_column(data, slow)
    # Rolling std/mean go through pandas' online algorithms: allow float noise.
    rtol = 1e-9 if name in {"sma", "vol"} else 1e-12
    assert_close(fast(data), expected, rtol=rtol)
    for col in data:
        out = fast(data[col])
        assert isinstance(out, pd.Series) and out.name == col
        assert_close(out, expected[col], rtol=rtol)


def test_bollinger_matches_slow_reference_wide_and_series():
    prices = random_prices()
    out = ind.bollinger(prices, window=6, k=1.5)
    assert out.columns.names == ["field", None]
    mid = by_column(prices, lambda xs: slow_sma(xs, 6))
    sd = by_column(prices, lambda xs: slow_std(xs, 6, ddof=0))
    for field, expected in {"middle": mid, "upper": mid + 1.5 * sd,
                            "lower": mid - 1.5 * sd}.items():
        assert out[field].shape == prices.shape
        pd.testing.assert_index_equal(out[field].columns, prices.columns)
        assert_close(out[field], expected, rtol=1e-9)
        assert_close(ind.bollinger(prices.iloc[:, 0], 6, 1.5)[field], expected.iloc[:, 0],
                     rtol=1e-9)


def test_macd_matches_slow_reference_wide_and_series():
    prices = random_prices(n_rows=120)
    out = ind.macd(prices, fast=5, slow=11, signal=4)
    for col in prices:
        expected = slow_macd(prices[col].tolist(), 5, 11, 4)
        single = ind.macd(prices[col], fast=5, slow=11, signal=4)
        for field in ind.MACD_FIELDS:
            assert_close(out[field][col], expected[field])
            assert_close(single[field], expected[field])


def test_atr_matches_slow_reference_wide_and_series():
    high, low, close = random_bars()
    high.iloc[40, 1] = np.nan  # a bar with only its high missing is skipped whole
    out = ind.atr(high, low, close, window=5)
    pd.testing.assert_index_equal(out.columns, close.columns)
    for col in close:
        expected = slow_atr(high[col].tolist(), low[col].tolist(), close[col].tolist(), 5)
        assert_close(out[col], expected)
        assert_close(ind.atr(high[col], low[col], close[col], window=5), expected)


# --------------------------------------------------------------------------- NaN conventions


@pytest.mark.parametrize(
    "fn",
    [
        lambda p: ind.ema(p, 5),
        lambda p: ind.rsi(p, 6),
        lambda p: ind.macd(p, 3, 8, 4),
    ],
    ids=["ema", "rsi", "macd"],
)
def test_recursions_skip_nan_rows(fn):
    # Result == indicator of the column with NaNs dropped, put back on the original rows.
    prices = random_prices()
    for col in prices:
        series = prices[col]
        dropped = fn(series.dropna()).reindex(series.index)
        pd.testing.assert_frame_equal(pd.DataFrame(fn(series)), pd.DataFrame(dropped))


def test_atr_skips_missing_bars():
    high, low, close = random_bars()
    for col in close:
        ok = close[col].notna()
        expected = ind.atr(high[col][ok], low[col][ok], close[col][ok], 4).reindex(close.index)
        pd.testing.assert_series_equal(ind.atr(high[col], low[col], close[col], 4), expected)


def test_rolling_windows_blank_on_interior_nan_and_start_at_first_valid():
    prices = random_prices()
    out = ind.sma(prices, 3)
    # Column 2 is listed on row 9: first SMA on row 9 + 3 - 1 = 11.
    assert out.iloc[:11, 2].isna().all() and out.iloc[11:, 2].notna().all()
    # Column 3 suspended on rows 30-32: rows 30..34 (window reaches back into the gap) blank.
    assert out.iloc[30:35, 3].isna().all()
    assert out.iloc[2:30, 3].notna().all() and out.iloc[35:, 3].notna().all()
    # rate_of_change only looks at both ends: row 33 compares with row 31 (NaN) -> NaN.
    roc = ind.rate_of_change(prices, 2)
    assert roc.iloc[30:35, 3].isna().tolist() == [True, True, True, True, True]
    assert roc.iloc[35, 3] == prices.iloc[35, 3] / prices.iloc[33, 3] - 1


def test_recursions_output_nan_on_missing_row_and_resume():
    prices = random_prices()
    e = ind.ema(prices, 5)
    assert np.isnan(e.iloc[50, 0]) and e.iloc[49:52, 0].notna().tolist() == [True, False, True]
    # The first change after a gap is measured from the last valid price.
    r = ind.rsi(prices, 5)
    assert r.iloc[30:33, 3].isna().all() and r.iloc[33:, 3].notna().all()


# --------------------------------------------------------------------------- warm-up


WARMUPS = [
    ("sma", lambda p: ind.sma(p, 7), 6),
    ("ema", lambda p: ind.ema(p, 7), 6),
    ("rsi", lambda p: ind.rsi(p, 7), 7),
    ("rsi14", lambda p: ind.rsi(p), 14),
    ("roc", lambda p: ind.rate_of_change(p, 7), 7),
    ("vol", lambda p: ind.rolling_volatility(p, 7), 6),
    ("macd", lambda p: ind.macd(p)["macd"], 25),
    ("macd_signal", lambda p: ind.macd(p)["signal"], 33),
    ("macd_hist", lambda p: ind.macd(p)["histogram"], 33),
    ("boll", lambda p: ind.bollinger(p)["upper"], 19),
    ("atr", lambda p: ind.atr(p + 0.1, p - 0.1, p, 7), 7),
    ("atr14", lambda p: ind.atr(p + 0.1, p - 0.1, p), 14),
]


@pytest.mark.parametrize(("name", "fn", "n_nan"), WARMUPS, ids=[w[0] for w in WARMUPS])
def test_warmup_nan_count_is_exact(name, fn, n_nan):
    prices = pd.Series(10 + np.sin(np.arange(60.0)) + np.arange(60.0) / 10)
    out = fn(prices)
    assert out.iloc[:n_nan].isna().all(), name
    assert out.iloc[n_nan:].notna().all(), name
    # In a wide frame a column listed k rows late warms up k rows later.
    wide = pd.DataFrame({"a": prices, "b": prices.where(prices.index >= 5)})
    out_b = fn(wide)["b"]
    assert out_b.iloc[:n_nan + 5].isna().all() and out_b.iloc[n_nan + 5:].notna().all()


# --------------------------------------------------------------------------- incremental states


def test_ema_state_matches_batch_exactly_wide():
    prices = random_prices()
    batch = ind.ema(prices, 6)
    state = ind.EMAState.from_history(prices.iloc[:20], span=6)
    pd.testing.assert_series_equal(state.value, batch.iloc[19], check_names=False)
    for t in range(20, len(prices)):
        # A row in another symbol order is matched by label.
        row = prices.iloc[t][::-1]
        pd.testing.assert_series_equal(state.update(row), batch.iloc[t], check_names=False,
                                       check_exact=True)


def test_rsi_state_matches_batch_exactly_from_scratch_and_history():
    prices = random_prices()
    batch = ind.rsi(prices, 5)
    fresh = ind.RSIState(5, symbols=prices.columns)
    for t in range(len(prices)):
        out = fresh.update(prices.iloc[t].to_numpy())  # a plain array in symbol order
        np.testing.assert_array_equal(out.to_numpy(), batch.iloc[t].to_numpy())
    warm = ind.RSIState.from_history(prices.iloc[:40], window=5)
    for t in range(40, len(prices)):
        np.testing.assert_array_equal(warm.update(prices.iloc[t]).to_numpy(),
                                      batch.iloc[t].to_numpy())
    # value = RSI of the current averages; a symbol missing on the last row keeps its last RSI.
    last_valid = batch.ffill().iloc[-1]
    pd.testing.assert_series_equal(warm.value, last_valid, check_names=False)


def test_single_series_states_take_and_return_floats():
    prices = pd.Series(WILDER_CLOSES)
    state = ind.RSIState.from_history(prices.iloc[:15], window=14)
    assert state.value == ind.rsi(prices, 14).iloc[14]
    out = state.update(prices.iloc[15])
    assert isinstance(out, float) and out == ind.rsi(prices, 14).iloc[15]
    assert math.isnan(state.update(NAN))  # a missing price: NaN out, state kept
    assert state.value == out
    ema_state = ind.EMAState(3)
    assert [ema_state.update(x) for x in [1.0, 2.0, 3.0, 4.0]][2:] == [2.0, 3.0]


def test_atr_state_matches_batch_exactly():
    high, low, close = random_bars()
    batch = ind.atr(high, low, close, 6)
    state = ind.ATRState.from_history(high.iloc[:25], low.iloc[:25], close.iloc[:25], window=6)
    for t in range(25, len(close)):
        out = state.update(high.iloc[t], low.iloc[t], close.iloc[t])
        np.testing.assert_array_equal(out.to_numpy(), batch.iloc[t].to_numpy())
    col = close.columns[0]
    single = ind.ATRState.from_history(high[col].iloc[:-1], low[col].iloc[:-1],
                                       close[col].iloc[:-1], window=6)
    assert single.update(high[col].iloc[-1], low[col].iloc[-1], close[col].iloc[-1]) == (
        batch[col].iloc[-1])


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.one_of(st.floats(1.0, 100.0), st.just(NAN)), min_size=1, max_size=40),
       split=st.integers(0, 40), window=st.integers(1, 6))
def test_states_equal_batch_for_any_data(values, split, window):
    prices = pd.Series(values)
    split = min(split, len(values))
    for state, batch in [
        (ind.RSIState.from_history(prices.iloc[:split], window), ind.rsi(prices, window)),
        (ind.EMAState.from_history(prices.iloc[:split], window), ind.ema(prices, window)),
    ]:
        got = [state.update(x) for x in values[split:]]
        np.testing.assert_array_equal(got, batch.iloc[split:].to_numpy())


def test_state_row_validation():
    state = ind.EMAState(3, symbols=["a", "b"])
    with pytest.raises(DataError, match="lacks symbols"):
        state.update(pd.Series({"a": 1.0}))
    with pytest.raises(DataError, match="does not track"):
        state.update(pd.Series({"a": 1.0, "b": 2.0, "c": 3.0}))
    with pytest.raises(DataError, match="one value per symbol"):
        state.update([1.0, 2.0, 3.0])
    with pytest.raises(DataError, match="must hold numbers"):
        state.update(["x", "y"])
    with pytest.raises(DataError, match="one number"):
        ind.EMAState(3).update([1.0])
    with pytest.raises(ConfigError, match="unique"):
        ind.RSIState(3, symbols=["a", "a"])
    with pytest.raises(ConfigError, match="span"):
        ind.EMAState(0)


# --------------------------------------------------------------------------- no look-ahead

ALL = {
    "sma": lambda p: ind.sma(p, 4),
    "ema": lambda p: ind.ema(p, 4),
    "rsi": lambda p: ind.rsi(p, 4),
    "macd": lambda p: ind.macd(p, 2, 5, 3),
    "bollinger": lambda p: ind.bollinger(p, 4, 2.0),
    "atr": lambda p: ind.atr(p * 1.01, p * 0.99, p, 4),
    "vol": lambda p: ind.rolling_volatility(p.pct_change(fill_method=None), 4),
    "roc": lambda p: ind.rate_of_change(p, 4),
}

_price = st.one_of(st.floats(0.5, 500.0), st.just(NAN))


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_no_lookahead_future_changes_leave_past_unchanged(name, data):
    n = data.draw(st.integers(2, 30))
    past = data.draw(st.lists(st.lists(_price, min_size=2, max_size=2), min_size=n, max_size=n))
    cut = data.draw(st.integers(1, n - 1))
    future = data.draw(st.lists(st.lists(_price, min_size=2, max_size=2),
                                min_size=n - cut, max_size=n - cut))
    a = pd.DataFrame(past, columns=["x", "y"])
    b = pd.DataFrame(past[:cut] + future, columns=["x", "y"])
    fn = ALL[name]
    pd.testing.assert_frame_equal(pd.DataFrame(fn(a)).iloc[:cut], pd.DataFrame(fn(b)).iloc[:cut],
                                  check_exact=True)
    # A truncated history gives the same past too.
    pd.testing.assert_frame_equal(pd.DataFrame(fn(a)).iloc[:cut],
                                  pd.DataFrame(fn(a.iloc[:cut])), check_exact=True)


# --------------------------------------------------------------------------- inputs and outputs


def test_inputs_are_not_mutated():
    high, low, close = random_bars()
    ints = pd.Series([10, 11, 12, 11, 13, 14, 12], index=pd.bdate_range("2024-01-02", periods=7))
    originals = [x.copy(deep=True) for x in (high, low, close, ints)]
    for fn in ALL.values():
        fn(close)  # ALL's atr builds its own high/low from close
    ind.atr(high, low, close, 4)
    for fn in (lambda p: ind.ema(p, 2), lambda p: ind.rsi(p, 2), lambda p: ind.sma(p, 2)):
        out = fn(ints)
        assert out.dtype == np.float64
    ind.RSIState.from_history(close, 4).update(close.iloc[-1])
    for before, after in zip(originals, (high, low, close, ints), strict=True):
        if isinstance(before, pd.DataFrame):
            pd.testing.assert_frame_equal(before, after)
        else:
            pd.testing.assert_series_equal(before, after)


def test_output_keeps_index_columns_and_name():
    prices = random_prices()
    for fn in (lambda p: ind.sma(p, 3), lambda p: ind.ema(p, 3), lambda p: ind.rsi(p, 3),
               lambda p: ind.rate_of_change(p, 3), lambda p: ind.rolling_volatility(p, 3)):
        out = fn(prices)
        pd.testing.assert_index_equal(out.index, prices.index)
        pd.testing.assert_index_equal(out.columns, prices.columns)
        s = fn(prices["600000.SH"])
        assert s.name == "600000.SH" and s.index.equals(prices.index)
    wide = ind.macd(prices)
    assert wide.columns.get_level_values(0).unique().tolist() == ["macd", "signal", "histogram"]
    assert wide["signal"].shape == prices.shape


def test_nullable_dtype_and_empty_input():
    prices = pd.Series([1.0, 2.0, None, 4.0, 5.0], dtype="Float64")
    assert_close(ind.sma(prices, 2), [NAN, 1.5, NAN, NAN, 4.5])
    empty = pd.DataFrame(columns=["a", "b"], dtype=float)
    assert ind.rsi(empty).shape == (0, 2)
    assert ind.ema(pd.Series([], dtype=float), 3).empty


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "14", None])
def test_bad_window_is_a_config_error(bad):
    prices = pd.Series([1.0, 2.0, 3.0])
    for fn in (ind.sma, ind.ema, ind.rsi, ind.rate_of_change,
               lambda p, w: ind.bollinger(p, w), lambda p, w: ind.rolling_volatility(p, w),
               lambda p, w: ind.atr(p, p, p, w), lambda p, w: ind.macd(p, signal=w)):
        with pytest.raises(ConfigError, match=r"must be a whole number >= \d"):
            fn(prices, bad)


def test_other_bad_parameters_are_config_errors():
    prices = pd.Series([1.0, 2.0, 3.0])
    with pytest.raises(ConfigError, match="fast must be shorter than slow"):
        ind.macd(prices, fast=26, slow=12)
    with pytest.raises(ConfigError, match=r"window must be a whole number >= 2"):
        ind.rolling_volatility(prices, 1)
    with pytest.raises(ConfigError, match="periods_per_year"):
        ind.rolling_volatility(prices, 2, periods_per_year=0)
    for k in (-1.0, NAN, math.inf, "2"):
        with pytest.raises(ConfigError, match="k must be"):
            ind.bollinger(prices, 2, k)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1.0, 2.0, 3.0], "must be a pandas Series"),
        (np.array([1.0, 2.0]), "must be a pandas Series"),
        (pd.Series(["1", "2", "3"]), "must hold numbers"),
        (pd.Series([True, False, True]), "must hold numbers"),
        (pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}), r"non-numeric column\(s\) 'b'"),
        (pd.Series([1.0, 2.0], index=[2, 1]), "strictly increasing"),
        (pd.Series([1.0, 2.0], index=[1, 1]), "strictly increasing"),
        (pd.Series([1.0, math.inf]), "infinite value"),
    ],
)
def test_bad_data_is_a_data_error(data, message):
    for fn in (lambda p: ind.sma(p, 2), lambda p: ind.rsi(p, 2), lambda p: ind.macd(p, 1, 2, 1)):
        with pytest.raises(DataError, match=message):
            fn(data)


def test_atr_mismatched_inputs_are_data_errors():
    high, low, close = random_bars()
    with pytest.raises(DataError, match="index and shape"):
        ind.atr(high.iloc[:-1], low, close)
    with pytest.raises(DataError, match="index and shape"):
        ind.atr(high, low.set_axis(low.index + pd.Timedelta(days=1)), close)
    with pytest.raises(DataError, match="same symbols"):
        ind.atr(high, low[low.columns[::-1]], close)
    with pytest.raises(DataError, match="all be Series or all DataFrames"):
        ind.atr(high.iloc[:, 0], low, close)
    with pytest.raises(DataError, match="must be a pandas Series"):
        ind.atr([1.0], low, close)
    with pytest.raises(DataError, match="must hold numbers"):
        ind.atr(high.astype(str), low, close)


# -- the running-sum kernel of the engine's moving averages --------------------------------------
def one_pass_mean(values: np.ndarray, window: int) -> np.ndarray:
    """The moving average as the engine computed it before the block kernel: one cumsum down
    the whole array (the reference the kernel must equal bit for bit)."""
    valid = np.isfinite(values)
    total = np.where(valid, values, 0.0)
    np.cumsum(total, axis=0, out=total)
    count = np.cumsum(valid, axis=0, dtype=np.int32)
    found = np.full(values.shape, np.nan)
    w = int(window)
    if w <= len(values):
        found[w - 1] = total[w - 1]
        np.subtract(total[w:], total[:-w], out=found[w:])
        found /= w
        incomplete = count[w - 1 :].copy()
        incomplete[1:] -= count[:-w]
        found[w - 1 :][incomplete != w] = np.nan
    return found


def market_like(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """Adjusted closes of listings, delistings and data gaps, over four orders of magnitude."""
    x = np.exp(np.cumsum(rng.normal(0, 0.03, (rows, columns)), axis=0))
    x *= 10.0 ** rng.uniform(-1, 3, columns)
    for j in range(columns):
        kind = rng.integers(4)
        if kind == 1:  # listed later
            x[: rng.integers(rows + 1), j] = np.nan
        elif kind == 2:  # delisted
            x[rng.integers(rows + 1) :, j] = np.nan
        elif kind == 3:  # gaps of a few sessions, an infinity, a signed zero
            for start in rng.integers(0, max(rows, 1), 3):
                x[start : start + rng.integers(1, 6), j] = np.nan
            if rows:
                x[rng.integers(rows), j] = np.inf
                x[rng.integers(rows), j] = -0.0
    return x


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 90), columns=st.integers(1, 5),
       windows=st.lists(st.integers(1, 100), min_size=1, max_size=3),
       chunk_rows=st.integers(1, 40), wide=st.booleans())
def test_rolling_means_equal_one_cumsum_bit_for_bit(seed, rows, columns, windows, chunk_rows,
                                                    wide):
    x = market_like(np.random.default_rng(seed), rows, columns)
    x = x if wide else x[:, 0]
    found = ind.rolling_means(lambda lo, hi: x[lo:hi], len(x), windows, chunk_rows=chunk_rows)
    for window, got in zip(windows, found, strict=True):
        want = one_pass_mean(x, window)
        assert got.shape == want.shape and got.dtype == want.dtype
        assert got.tobytes() == want.tobytes(), (window, chunk_rows)  # NaN and -0.0 alike
    assert ind.rolling_mean_array(x, windows[0]).tobytes() == found[0].tobytes()


def test_rolling_means_read_each_block_once_and_check_windows():
    x = np.arange(10.0)
    asked: list[tuple[int, int]] = []

    def rows(lo: int, hi: int) -> np.ndarray:
        asked.append((lo, hi))
        return x[lo:hi]

    fast, slow = ind.rolling_means(rows, 10, (2, 4), chunk_rows=4)
    assert asked == [(0, 4), (4, 8), (8, 10)]
    assert fast[1:].tolist() == [0.5 + k for k in range(9)]
    assert np.isnan(slow[:3]).all() and slow[3:].tolist() == [1.5 + k for k in range(7)]
    with pytest.raises(ConfigError, match="window"):
        ind.rolling_means(rows, 10, (0,))
