"""The synthetic market: every property the workbench relies on, checked on the data itself.

Two markets are built once per module: a small one (40 stocks, 2018-2024) and the default
(100 stocks, 2015-2024). Checks are exact where the exchange's arithmetic is exact (limit
prices, ex-rights reference prices, fen rounding) and statistical only for the planted
premia.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from workbench.calendar import sessions
from workbench.data.market import Market
from workbench.data.schema import (
    BAR_COLUMNS,
    BAR_DTYPES,
    BENCHMARK_COLUMNS,
    FUNDAMENTAL_COLUMNS,
    OPTIONAL_BAR_COLUMNS,
    SECURITY_COLUMNS,
    ST_COLUMNS,
)
from workbench.data.synthetic import (
    GENERATOR_VERSION,
    SyntheticConfig,
    synthetic_market,
)
from workbench.data.validation import validate_bars, validate_market
from workbench.errors import ConfigError
from workbench.rules import ipo_unlimited_days, limit_percent, limit_prices
from workbench.symbols import Board, board_of, normalize_symbol

SMALL = {"n_stocks": 40, "start": "2018-01-02", "end": "2024-12-31", "seed": 7}
MARKETS = ["small", "default"]


@pytest.fixture(scope="module")
def small() -> Market:
    return synthetic_market(**SMALL)


@pytest.fixture(scope="module")
def default() -> Market:
    return synthetic_market()


@pytest.fixture(params=MARKETS)
def market(request: pytest.FixtureRequest) -> Market:
    return request.getfixturevalue(request.param)


# -- helpers -----------------------------------------------------------------------------------
def by_symbol(market: Market) -> pd.DataFrame:
    """Bars ordered by (symbol, date) with the symbol's previous bar alongside."""
    b = market.bars.assign(symbol=market.bars["symbol"].astype(str))
    b = b.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)
    first = b["symbol"].ne(b["symbol"].shift())
    b["first"] = first
    b["n"] = b.groupby("symbol").cumcount()
    for col in ("close", "adj_factor", "date"):
        b[f"last_{col}"] = b[col].shift().where(~first)
    boards = market.securities.set_index("symbol")["board"]
    b["board"] = b["symbol"].map(boards)
    return b


def expected_percent(b: pd.DataFrame) -> np.ndarray:
    """limit_percent(board, date, st=is_st) per row, one call per distinct combination."""
    keys = b[["board", "date", "is_st"]].drop_duplicates()
    keys["pct"] = [limit_percent(bd, d, st=st) for bd, d, st in keys.itertuples(index=False)]
    return b.merge(keys, on=["board", "date", "is_st"], how="left")["pct"].to_numpy()


def unlimited_rows(market: Market, b: pd.DataFrame) -> np.ndarray:
    """True on a new listing's first ipo_unlimited_days sessions."""
    sec = market.securities.set_index("symbol")
    inside = sec["list_date"] >= market.calendar[0]
    days = {s: ipo_unlimited_days(sec.at[s, "board"], sec.at[s, "list_date"])
            for s in sec.index[inside]}
    return (b["n"] < b["symbol"].map(days).fillna(0)).to_numpy()


def runs(flags: pd.Series, symbols: pd.Series) -> pd.Series:
    """Lengths of consecutive True runs per symbol (rows already ordered by symbol, date)."""
    start = flags & ~(flags.shift(fill_value=False) & symbols.eq(symbols.shift()))
    run_id = start.cumsum()
    return flags[flags].groupby(run_id[flags]).size()


# -- sessions, schema, validation --------------------------------------------------------------
def test_dates_are_the_xshg_sessions(market: Market) -> None:
    cfg = market.meta["config"]
    expected = sessions(cfg["start"], cfg["end"])
    pdt.assert_index_equal(market.calendar, expected, check_names=False)
    pdt.assert_index_equal(pd.DatetimeIndex(market.benchmark["date"]), expected,
                           check_names=False)
    assert pd.Timestamp("2024-02-12") not in market.calendar  # Spring Festival, a Monday


def test_validates_without_warnings_and_without_gaps(market: Market) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_market(market, source="synthetic")
        validate_bars(market.bars, source="synthetic", gaps=market.calendar)


def test_bar_columns_dtypes_and_order(market: Market) -> None:
    bars = market.bars
    assert list(bars.columns) == list(BAR_COLUMNS + OPTIONAL_BAR_COLUMNS)
    assert bars["date"].dtype == np.dtype("datetime64[ns]")
    assert isinstance(bars["symbol"].dtype, pd.CategoricalDtype)
    for col, dtype in BAR_DTYPES.items():
        assert bars[col].dtype == np.dtype(dtype), col
    assert isinstance(bars.index, pd.RangeIndex) and bars.index.start == 0
    key = pd.DataFrame({"d": bars["date"], "s": bars["symbol"].astype(str)})
    assert key.equals(key.sort_values(["d", "s"]).reset_index(drop=True))
    assert not key.duplicated().any()


def test_table_columns(market: Market) -> None:
    assert list(market.securities.columns) == list(SECURITY_COLUMNS)
    assert list(market.fundamentals.columns) == list(FUNDAMENTAL_COLUMNS)
    assert list(market.st_periods.columns) == list(ST_COLUMNS)
    assert list(market.benchmark.columns) == list(BENCHMARK_COLUMNS)


# -- securities --------------------------------------------------------------------------------
def test_default_universe_covers_boards_sectors_and_names(default: Market) -> None:
    sec = default.securities
    assert len(sec) == 100
    assert sec["sector"].nunique() >= 10
    assert set(sec["board"]) == {str(b) for b in Board}
    assert sec["symbol"].is_unique and sec["name"].is_unique
    assert all(normalize_symbol(s) == s for s in sec["symbol"])
    assert all(str(board_of(s)) == b for s, b in zip(sec["symbol"], sec["board"], strict=True))
    assert (sec["exchange"] == sec["symbol"].str[-2:]).all()
    assert sec["name"].str.fullmatch(r"[\u4e00-\u9fff]{4}").all()
    star = sec.loc[sec["board"] == "STAR", "list_date"]
    bse = sec.loc[sec["board"] == "BSE", "list_date"]
    assert (star >= pd.Timestamp("2019-07-22")).all()
    assert (bse >= pd.Timestamp("2021-11-15")).all()


def test_boards_that_had_not_opened_are_left_out() -> None:
    m = synthetic_market(n_stocks=20, start="2012-01-04", end="2013-06-28", seed=3)
    assert set(m.securities["board"]) == {"SH main", "SZ main", "ChiNext"}


# -- prices and limits -------------------------------------------------------------------------
def test_prices_are_whole_fen(market: Market) -> None:
    for col in ("open", "high", "low", "close", "prev_close", "limit_up", "limit_down"):
        fen = market.bars[col].dropna().to_numpy() * 100.0
        assert np.abs(fen - np.round(fen)).max() < 1e-6, col


def test_limits_follow_the_rule_table(market: Market) -> None:
    b = by_symbol(market)
    unlimited = unlimited_rows(market, b)
    assert np.array_equal(b["limit_up"].isna().to_numpy(), unlimited)
    assert np.array_equal(b["limit_down"].isna().to_numpy(), unlimited)
    limited = b.loc[~unlimited]
    up, down = limit_prices(limited["prev_close"].to_numpy(), expected_percent(limited))
    np.testing.assert_array_equal(limited["limit_up"].to_numpy(), up)
    np.testing.assert_array_equal(limited["limit_down"].to_numpy(), down)


def test_every_traded_price_is_inside_the_limits(market: Market) -> None:
    b = market.bars
    lim = b[b["limit_up"].notna()]
    for col in ("open", "high", "low", "close"):
        assert (lim[col] <= lim["limit_up"]).all(), col
        assert (lim[col] >= lim["limit_down"]).all(), col
    assert (b["high"] >= b[["open", "close"]].max(axis=1)).all()
    assert (b["low"] <= b[["open", "close"]].min(axis=1)).all()


def test_chinext_limit_widens_on_2020_08_24(default: Market) -> None:
    b = by_symbol(default)
    b = b[(b["board"] == "ChiNext") & b["limit_up"].notna() & ~b["is_st"]]
    before = b[b["date"] < pd.Timestamp("2020-08-24")]
    after = b[b["date"] >= pd.Timestamp("2020-08-24")]
    assert len(before) and len(after)
    np.testing.assert_array_equal(before["limit_up"], limit_prices(before["prev_close"], 10)[0])
    np.testing.assert_array_equal(after["limit_up"], limit_prices(after["prev_close"], 20)[0])


def test_sealed_and_touched_limit_days_exist(market: Market) -> None:
    b = market.bars[~market.bars["suspended"] & market.bars["limit_up"].notna()]
    flat = (b["open"] == b["high"]) & (b["high"] == b["low"]) & (b["low"] == b["close"])
    assert (flat & (b["close"] == b["limit_up"])).sum() >= 3  # sealed limit-up
    assert (flat & (b["close"] == b["limit_down"])).sum() >= 3  # sealed limit-down
    assert ((b["close"] == b["limit_up"]) & (b["low"] < b["limit_up"])).sum() >= 3
    assert ((b["close"] == b["limit_down"]) & (b["high"] > b["limit_down"])).sum() >= 3


def test_volume_and_amount(market: Market) -> None:
    b = market.bars
    traded = b[~b["suspended"]]
    assert (traded["volume"] > 0).all() and (traded["volume"] % 100 == 0).all()
    vwap = traded["amount"] / traded["volume"]
    assert (vwap >= traded["low"] * (1 - 1e-12)).all()
    assert (vwap <= traded["high"] * (1 + 1e-12)).all()


def test_daily_volatility_is_realistic(default: Market) -> None:
    b = default.bars[~default.bars["suspended"] & default.bars["limit_up"].notna()]
    ret = b["close"] / b["prev_close"] - 1.0
    vol = ret.groupby(b["symbol"], observed=True).std()
    assert 0.015 <= vol.median() <= 0.03


# -- listings, suspensions, ST, delistings -----------------------------------------------------
def test_new_listings_trade_without_limit_then_pop(default: Market) -> None:
    sec = default.securities.set_index("symbol")
    ipos = sec[sec["list_date"] > default.calendar[0]]
    assert len(ipos) >= 3
    b = by_symbol(default)
    first = b[b["first"]].set_index("symbol")
    assert (first.loc[ipos.index, "date"] == ipos["list_date"]).all()
    day_one = first.loc[ipos.index]
    assert (day_one["close"] / day_one["prev_close"]).median() > 1.3  # issue price to close
    # Main boards (and ChiNext before 2020-08-24): day one within +44 % / -36 % of issue.
    capped = [s for s in ipos.index if ipo_unlimited_days(sec.at[s, "board"],
                                                          sec.at[s, "list_date"]) == 1
              and sec.at[s, "board"] != "BSE"]
    assert capped
    hi, _ = limit_prices(day_one.loc[capped, "prev_close"], 44)
    _, lo = limit_prices(day_one.loc[capped, "prev_close"], 36)
    assert (day_one.loc[capped, "high"] <= hi).all() and (day_one.loc[capped, "low"] >= lo).all()


def test_pre_sample_stocks_start_on_the_first_session(default: Market) -> None:
    sec = default.securities.set_index("symbol")
    old = sec.index[sec["list_date"] < default.calendar[0]]
    first = default.bars.groupby("symbol", observed=True)["date"].min()
    assert (first.loc[old] == default.calendar[0]).all()


def test_suspensions_follow_the_baostock_convention(market: Market) -> None:
    b = by_symbol(market)
    s = b[b["suspended"]]
    assert len(s)
    for col in ("open", "high", "low", "close"):
        assert (s[col] == s["prev_close"]).all(), col
    assert (s["volume"] == 0).all() and (s["amount"] == 0).all()
    assert (s["prev_close"] == s["last_close"]).all()
    lengths = runs(b["suspended"], b["symbol"])
    assert len(lengths) >= 3
    assert lengths.min() <= 5 and lengths.max() >= 20


def test_delisted_stocks_keep_their_history(default: Market) -> None:
    sec = default.securities.set_index("symbol")
    gone = sec[sec["delist_date"].notna()]
    assert len(gone) >= 3
    assert (gone["delist_date"] <= default.calendar[-1]).all()
    last = default.bars.groupby("symbol", observed=True)["date"].max()
    cal = default.calendar
    for sym, row in gone.iterrows():
        k = cal.get_loc(row["delist_date"])
        assert last[sym] == cal[k - 1]  # the last bar is the session before delisting
    listed_to_end = sec.index[sec["delist_date"].isna()]
    assert (last.loc[listed_to_end] == cal[-1]).all()


def test_delisting_follows_st_and_a_price_slide(default: Market) -> None:
    b = by_symbol(default)
    st = default.st_periods
    for sym in default.securities.loc[default.securities["delist_date"].notna(), "symbol"]:
        rows = b[b["symbol"] == sym]
        episode = st[st["symbol"] == sym].iloc[-1]
        assert episode["end"] == rows["date"].iloc[-1]  # ST through the last bar
        during = rows[rows["date"] >= episode["start"]]
        assert len(during) >= 60 and during["is_st"].all()
        adj_close = during["close"] * during["adj_factor"]
        assert adj_close.iloc[-1] < 0.6 * adj_close.iloc[0]


def test_st_periods_match_the_flags_and_limits(market: Market) -> None:
    b = by_symbol(market)
    expected = np.zeros(len(b), dtype=bool)
    for sym, start, end in market.st_periods.itertuples(index=False):
        end = market.calendar[-1] if pd.isna(end) else end
        expected |= ((b["symbol"] == sym) & (b["date"] >= start) & (b["date"] <= end)).to_numpy()
    np.testing.assert_array_equal(b["is_st"].to_numpy(), expected)
    assert len(market.st_periods) >= 3
    main_st = b[b["is_st"] & b["board"].isin(["SH main", "SZ main"]) & b["limit_up"].notna()]
    assert len(main_st)
    np.testing.assert_array_equal(main_st["limit_up"], limit_prices(main_st["prev_close"], 5)[0])
    running = market.st_periods[market.st_periods["end"].isna()]
    assert market.securities.set_index("symbol").loc[running["symbol"], "delist_date"].isna().all()


# -- corporate actions -------------------------------------------------------------------------
def test_adj_factor_steps_only_on_ex_dates(default: Market) -> None:
    b = by_symbol(default)
    assert (b.loc[b["first"], "adj_factor"] == 1.0).all()
    later = b[~b["first"]]
    ex = later["prev_close"] != later["last_close"]
    plain = later[~ex]
    assert (plain["adj_factor"] == plain["last_adj_factor"]).all()
    e = later[ex]
    assert len(e) >= 20
    assert (e["prev_close"] < e["last_close"]).all() and not e["suspended"].any()
    np.testing.assert_allclose(e["adj_factor"],
                               e["last_adj_factor"] * e["last_close"] / e["prev_close"],
                               rtol=1e-12)
    # Adjusted returns are continuous: the ex-date move is the move from the reference price.
    adj_ret = e["close"] * e["adj_factor"] / (e["last_close"] * e["last_adj_factor"]) - 1
    np.testing.assert_allclose(adj_ret, e["close"] / e["prev_close"] - 1, atol=1e-12)
    assert (e["last_close"] / e["prev_close"] > 1.15).any()  # bonus shares, not only cash
    assert (e["date"].dt.month.isin([6, 7])).all()


# -- fundamentals ------------------------------------------------------------------------------
def test_reports_are_announced_inside_the_legal_windows(default: Market) -> None:
    f = default.fundamentals
    pe, ann = f["period_end"], f["announce_date"]
    assert pe.dt.is_quarter_end.all()
    month = pe.dt.month
    year = pe.dt.year
    deadline = pd.to_datetime(pd.DataFrame({
        "year": np.where(month == 12, year + 1, year),
        "month": month.map({3: 4, 6: 8, 9: 10, 12: 4}),
        "day": month.map({3: 30, 6: 31, 9: 31, 12: 30}),
    }))
    assert (ann <= deadline).all()
    assert (ann >= pe + pd.Timedelta(days=7)).all()
    assert (ann <= default.calendar[-1]).all()
    sec = default.securities.set_index("symbol")
    assert (ann >= f["symbol"].map(sec["list_date"])).all()
    delist = f["symbol"].map(sec["delist_date"])
    assert (delist.isna() | (ann < delist)).all()
    # Later periods are never announced before earlier ones.
    ordered = f.sort_values(["symbol", "period_end"])
    assert (ordered.groupby("symbol")["announce_date"].diff().dropna() >= pd.Timedelta(0)).all()


def test_reports_cover_every_stock_with_sane_values(default: Market) -> None:
    f = default.fundamentals
    assert set(f["symbol"]) == set(default.securities["symbol"])
    per_year = f.groupby([f["symbol"], f["period_end"].dt.year]).size()
    assert per_year.max() == 4
    assert f["shares_outstanding"].dtype == np.int64 and (f["shares_outstanding"] > 0).all()
    assert np.isfinite(f[["eps", "bvps", "revenue_growth"]]).all().all()
    assert f["roe"].between(-1, 1).all()
    assert 0.03 < f["roe"].median() < 0.15
    assert (f["eps"] < 0).any() and (f["eps"] > 0).mean() > 0.7


def test_valuation_uses_the_latest_announced_report(default: Market) -> None:
    bars = default.bars.set_index(["date", "symbol"])
    checked = 0
    for day in default.calendar[::97]:
        f = default.fundamentals_asof(day).set_index("symbol")
        today = bars.loc[day]
        today = today.set_axis(today.index.astype(str))
        f = f.loc[f.index.intersection(today.index)]
        t = today.loc[f.index]
        assert t.loc[f["eps"] <= 0, "pe_ttm"].isna().all()
        pos = f["eps"] > 0
        # close / (pe * eps) = shares at the report / shares now: 1 unless bonus shares came
        # (ratios are published to four decimals, hence the tolerance).
        ratio_pe = t.loc[pos, "close"] / (t.loc[pos, "pe_ttm"] * f.loc[pos, "eps"])
        ratio_pb = t.loc[pos, "close"] / (t.loc[pos, "pb_mrq"] * f.loc[pos, "bvps"])
        np.testing.assert_allclose(ratio_pe, ratio_pb, rtol=1e-3)
        assert (ratio_pe <= 1 + 1e-3).all() and (ratio_pe > 0.5).all()
        assert np.isclose(ratio_pe, 1.0, rtol=1e-3).mean() > 0.8
        checked += int(pos.sum())
        no_report = today.index.difference(f.index)
        assert today.loc[no_report, "pe_ttm"].isna().all()
    assert checked > 500


# -- benchmark ---------------------------------------------------------------------------------
def test_benchmark_is_a_consistent_cap_weighted_index(default: Market) -> None:
    bm = default.benchmark
    assert bm["close"].iloc[0] == 1000.0
    assert (bm["high"] >= bm[["open", "close"]].max(axis=1)).all()
    assert (bm["low"] <= bm[["open", "close"]].min(axis=1)).all()
    assert bm["volume"].dtype == np.int64 and (bm["volume"] > 0).all() and (bm["amount"] > 0).all()
    adj = default.panel("close") * default.panel("adj_factor")
    equal_weight = adj.pct_change(fill_method=None).mean(axis=1).iloc[1:]
    index_ret = bm.set_index("date")["close"].pct_change().iloc[1:]
    assert index_ret.corr(equal_weight) > 0.8
    assert 0.008 < index_ret.std() < 0.025


# -- determinism, configuration, meta ----------------------------------------------------------
def test_same_config_gives_identical_tables(small: Market) -> None:
    again = synthetic_market(SyntheticConfig(**SMALL))
    for table in ("bars", "securities", "fundamentals", "st_periods", "benchmark"):
        pdt.assert_frame_equal(getattr(small, table), getattr(again, table))
    assert dict(small.meta) == dict(again.meta)


def test_another_seed_gives_another_market(small: Market) -> None:
    other = synthetic_market(**{**SMALL, "seed": 8})
    assert not other.securities["symbol"].equals(small.securities["symbol"])
    assert not np.array_equal(other.benchmark["close"], small.benchmark["close"])


def test_meta_records_the_configuration(default: Market) -> None:
    meta = default.meta
    assert meta["name"] == "synthetic" and meta["source"] == "synthetic"
    assert meta["generator_version"] == GENERATOR_VERSION
    assert meta["config"] == dataclasses.asdict(SyntheticConfig())
    assert meta["seed"] == SyntheticConfig().seed
    assert meta["note"].startswith("Synthetic data: not real prices")
    json.dumps(dict(meta))  # serialisable as written to meta.json


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"n_stocks": 10}, "n_stocks must be between 15"),
        ({"n_stocks": 100.0}, "n_stocks must be an integer"),
        ({"start": "2024-01-02", "end": "2023-01-03"}, "must be before end"),
        ({"end": "2030-12-31"}, "outside the XSHG calendar"),
        ({"start": "yesterday-ish"}, "start must be a date"),
        ({"start": "2024-01-02", "end": "2024-06-28"}, "needs at least 240"),
        ({"value_premium": 2.0}, "fraction per year"),
        ({"seed": -1}, "seed must be a non-negative"),
    ],
)
def test_bad_configurations_raise_config_error(overrides: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        SyntheticConfig(**overrides)


def test_unknown_override_suggests_the_field() -> None:
    with pytest.raises(ConfigError, match="did you mean 'n_stocks'"):
        synthetic_market(n_stock=50)


def test_config_is_frozen_and_normalises_dates() -> None:
    cfg = SyntheticConfig(start=pd.Timestamp("2016-01-04 00:00"), end="2017-12-29")
    assert cfg.start == "2016-01-04"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_stocks = 5  # type: ignore[misc]


# -- the planted premia ------------------------------------------------------------------------
def monthly_rank_ic(default: Market) -> tuple[np.ndarray, np.ndarray]:
    """Monthly rank IC of 12-1 momentum and of a value score with the next month's return."""
    adj = default.panel("close") * default.panel("adj_factor")
    pe = default.panel("pe_ttm")
    ends = adj.index.to_series().groupby(adj.index.to_period("M")).max()
    mom_ic, value_ic = [], []
    for k in range(12, len(ends) - 1):
        t, nxt = ends.iloc[k], ends.iloc[k + 1]
        fwd = adj.loc[nxt] / adj.loc[t] - 1
        momentum = adj.loc[ends.iloc[k - 1]] / adj.loc[ends.iloc[k - 12]] - 1
        roe = default.fundamentals_asof(t).set_index("symbol")["roe"].reindex(adj.columns)
        earnings_yield = (1 / pe.loc[t]).where(pe.loc[t].notna(), -1.0)  # losses rank last
        value = earnings_yield.where(roe.notna()).rank() + roe.rank()
        for signal, out in ((momentum, mom_ic), (value, value_ic)):
            both = pd.DataFrame({"s": signal, "f": fwd}).dropna()
            out.append(both["s"].rank().corr(both["f"].rank()))
    return np.array(mom_ic), np.array(value_ic)


def test_planted_premia_are_positive_but_modest(default: Market) -> None:
    mom_ic, value_ic = monthly_rank_ic(default)
    assert len(mom_ic) > 100
    for ic in (mom_ic, value_ic):
        assert 0.0 < ic.mean() < 0.1  # positive on average, far from a sure thing
        assert (ic < 0).mean() > 0.25  # and often wrong in a given month
