"""workbench.data.total_return: a total-return index from a security's closes and payouts.

The worked example, by hand (five sessions of 2024-07-15..19, base 1000 points)::

    day    close  event                               growth                    TR
    07-15  10.00                                                                1000
    07-16  10.20                                      10.20 / 10.00 = 1.02      1020
    07-17   9.95  cash 0.30 CNY (pre-tax) goes ex     (9.95 + 0.30) / 10.20     1025
    07-18   5.00  10-for-10 (送5 转5: s = 1.0)         5.00 * 2 / 9.95           10250 / 9.95
                                                                                = 1030.150754...
    07-19   5.10                                      5.10 / 5.00 = 1.02        1030.150754 * 1.02
                                                                                = 1050.753769...

With the default base (the first close, 10.00) every level is a hundredth of these.
Reinvesting at the ex-reference price instead (the adj_factor convention) would give
9.95 / (10.20 - 0.30) on 07-17, i.e. 1025.15..., so the example tells the two apart.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_REAL

from workbench import cli
from workbench.data.corporate import actions_frame
from workbench.data.dividends import import_dividends
from workbench.data.importers import import_adj_factors, import_market
from workbench.data.provenance import provenance
from workbench.data.schema import BENCHMARK_COLUMNS
from workbench.data.store import load_market
from workbench.data.total_return import (
    import_total_return,
    security_code,
    total_return_index,
)
from workbench.errors import ConfigError, DataError, DataWarning

DATA = Path(__file__).resolve().parent / "importers"
EVENTS = SHARED_REAL.parent / "real_ashare_events"
DAYS = pd.to_datetime(["2024-07-15", "2024-07-16", "2024-07-17", "2024-07-18", "2024-07-19"])
CLOSE = [10.00, 10.20, 9.95, 5.00, 5.10]
BY_HAND = [1000.0, 1020.0, 1025.0, 1030.150753768844, 1050.753768844221]


def events(**columns: list[float]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    ex = columns.pop("ex", ["2024-07-17", "2024-07-18"][:n])
    return actions_frame(symbol=np.array(["600000.SH"] * n),
                         ex_date=np.array(ex, dtype="datetime64[ns]"), source="vendor",
                         **{k: np.array(v) for k, v in columns.items()})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def tushare_bars(path: Path, code: str = "600000.SH", close: list[float] = CLOSE) -> Path:
    lines = [f"{code},{d:%Y%m%d},{c}" for d, c in zip(DAYS, close, strict=True)]
    return write(path, "ts_code,trade_date,close\n" + "\n".join(lines) + "\n")


# -- the formula --------------------------------------------------------------------------------
def test_worked_example_by_hand():
    ev = events(cash_pre_tax_cny=[0.30, 0.0], bonus_ratio=[0.0, 0.5], transfer_ratio=[0.0, 0.5])
    got = total_return_index(pd.Series(CLOSE, index=DAYS), ev, base=1000.0)
    np.testing.assert_allclose(got.to_numpy(), BY_HAND, rtol=1e-12)
    assert got.attrs == {"events": 2, "outside": 0}
    default = total_return_index(pd.Series(CLOSE, index=DAYS), ev)
    np.testing.assert_allclose(default.to_numpy(), np.array(BY_HAND) / 100.0, rtol=1e-12)


def test_no_events_leaves_the_price_series():
    close = pd.Series(CLOSE, index=DAYS)
    got = total_return_index(close, events(cash_pre_tax_cny=[]), base=None)
    np.testing.assert_allclose(got.to_numpy(), CLOSE, rtol=1e-15)


def test_rights_issue_adds_the_subscription_to_the_capital():
    # 10配3 at 8 CNY going ex on 07-16, close 10.00 -> 9.60: growth (9.60 * 1.3) / (10 + 0.3 * 8)
    # = 12.48 / 12.4; the same as close / ex-rights reference (10 + 2.4) / 1.3 = 9.5385.
    close = pd.Series([10.0, 9.6], index=DAYS[:2])
    ev = events(ex=["2024-07-16"], rights_ratio=[0.3], rights_price_cny=[8.0])
    got = total_return_index(close, ev, base=100.0)
    assert got.iloc[1] == pytest.approx(100.0 * 12.48 / 12.4, rel=1e-12)
    assert got.iloc[1] == pytest.approx(100.0 * 9.6 / ((10.0 + 2.4) / 1.3), rel=1e-12)


def test_events_off_the_sessions_apply_on_the_next_bar_or_not_at_all():
    # 07-13 (a Saturday before the first bar) is in the first close already; 07-20 is after
    # the last bar; 07-17 (a session missing from the closes) applies on 07-18.
    close = pd.Series([10.0, 10.2, 9.9], index=DAYS[[0, 1, 3]])
    ev = events(ex=["2024-07-13", "2024-07-17", "2024-07-20"], cash_pre_tax_cny=[1.0, 0.3, 1.0])
    got = total_return_index(close, ev, base=1000.0)
    np.testing.assert_allclose(got.to_numpy(), [1000.0, 1020.0, 1020.0], rtol=1e-12)
    assert got.attrs == {"events": 1, "outside": 2}


def test_function_errors_say_what_is_wrong():
    close = pd.Series(CLOSE, index=DAYS)
    with pytest.raises(DataError, match=r"close on 2024-07-17 is 0\.0"):
        total_return_index(close.where(close.index != DAYS[2], 0.0), events(cash_pre_tax_cny=[]))
    with pytest.raises(DataError, match="ascending"):
        total_return_index(close.iloc[::-1], events(cash_pre_tax_cny=[]))
    with pytest.raises(ConfigError, match=r"base must be a positive number.*-1"):
        total_return_index(close, events(cash_pre_tax_cny=[]), base=-1.0)
    two = pd.concat([events(cash_pre_tax_cny=[0.3]),
                     events(cash_pre_tax_cny=[0.3]).assign(symbol="000001.SZ")])
    with pytest.raises(DataError, match=r"events of 2 securities \(000001\.SZ, 600000\.SH\)"):
        total_return_index(close, two)


# -- the exports --------------------------------------------------------------------------------
def test_worked_example_from_a_stock_and_its_tushare_dividends(tmp_path):
    bars = tushare_bars(tmp_path / "600000.csv")
    div = write(tmp_path / "dividend.csv",
                "ts_code,div_proc,stk_div,stk_bo_rate,stk_co_rate,cash_div,ex_date\n"
                "600000.SH,实施,0,,,0.30,20240717\n"
                "600000.SH,实施,1.0,0.5,0.5,0,20240718\n"
                "600000.SH,预案,0,,,0.5,\n"
                "000001.SZ,实施,0,,,9.99,20240717\n")  # another stock: ignored
    bench = import_total_return(bars, div, base=1000.0)
    assert list(bench.columns) == list(BENCHMARK_COLUMNS)
    np.testing.assert_allclose(bench["close"].to_numpy(), BY_HAND, rtol=1e-12)
    assert bench[["open", "high", "low", "volume", "amount"]].isna().all().all()
    assert bench.attrs["benchmark"] == {
        "name": "600000.SH", "kind": "total return", "code": "600000.SH",
        "derived_from": "600000.SH bars and dividends"}
    assert bench.attrs["events"] == 2


def test_an_etf_from_akshare_bars_and_tushare_fund_div(tmp_path):
    # fund_etf_hist_em has no code column: the file name names the fund (510 -> Shanghai).
    rows = "\n".join(f"{d:%Y-%m-%d},{c},{c},{c},{c},100,1000"
                     for d, c in zip(DAYS[:3], [3.60, 3.50, 3.52], strict=True))
    bars = write(tmp_path / "510300.csv", "日期,开盘,收盘,最高,最低,成交量,成交额\n" + rows + "\n")
    div = write(tmp_path / "fund_div.csv",
                "ts_code,ann_date,imp_anndate,div_proc,record_date,ex_date,pay_date,div_cash\n"
                "510300.SH,20240610,20240611,实施,20240614,20240716,20240719,0.10\n"
                "510300.SH,20240601,,预案,,,,0.20\n"
                "005485.OF,20240610,20240611,实施,20240614,20240716,20240719,0.50\n")
    bench = import_total_return(bars, div)
    # (3.50 + 0.10) / 3.60 = 1 on the ex-date, then 3.52 / 3.50: from the first close 3.60
    np.testing.assert_allclose(bench["close"].to_numpy(), [3.60, 3.60, 3.60 * 3.52 / 3.50],
                               rtol=1e-12)
    assert bench.attrs["index_code"] == "510300.SH" and bench.attrs["events"] == 1


def test_security_codes_of_funds_and_shares():
    assert security_code("sz.159919") == "159919.SZ"
    assert security_code("sh.000300") == "000300.SH"  # an index code with its exchange
    with pytest.raises(DataError, match=r"'005485\.OF'.*off-exchange"):
        security_code("005485.OF")


@pytest.mark.parametrize(("text", "match"), [
    ("ts_code,trade_date,close\n600000.SH,20240715,10\n600000.SH,20240716,abc\n",
     r"b\.csv: line 3, column 'close': non-numeric value 'abc'"),
    ("ts_code,trade_date,close\n600000.SH,20240715,10\n600000.SH,20240716,0\n",
     r"b\.csv: line 3, column 'close': non-positive close"),
    ("ts_code,trade_date,close\n600000.SH,20240715,10\n000001.SZ,20240716,10\n",
     r"b\.csv: line 3, column 'ts_code': a benchmark's bar file holds one security"),
    ("ts_code,trade_date,close\n600000.SH,20240715,10\n600000.SH,20240715,10\n",
     r"b\.csv: lines 2, 3, column 'trade_date': duplicate date"),
    ("day,price\n2024-07-15,10\n", r"b\.csv: line 1: header \['day', 'price'\] is in no known "
                                   r"security bar layout.*tushare.*akshare.*baostock"),
])
def test_bad_bars_name_file_line_and_column(tmp_path, text, match):
    div = write(tmp_path / "d.csv", "ts_code,div_proc,ex_date,div_cash\n")
    with pytest.raises(DataError, match=match):
        import_total_return(write(tmp_path / "b.csv", text), div)


def test_bad_dividends_name_file_line_and_column(tmp_path):
    bars = tushare_bars(tmp_path / "b.csv", code="510300.SH")
    div = write(tmp_path / "fund_div.csv", "ts_code,div_proc,ex_date,div_cash\n"
                                           "510300.SH,实施,20240716,0.1\n"
                                           "510300.SH,实施,20240717,-0.1\n")
    with pytest.raises(DataError, match=r"fund_div\.csv: line 3, column 'div_cash': negative"):
        import_total_return(bars, div)


def test_warnings_no_dividend_of_the_security_and_an_unexplained_move(tmp_path):
    bars = tushare_bars(tmp_path / "b.csv", code="510300.SH")  # 9.95 -> 5.00 with no event
    div = write(tmp_path / "fund_div.csv", "ts_code,div_proc,ex_date,div_cash\n"
                                           "510500.SH,实施,20240716,0.1\n")
    with pytest.warns(DataWarning) as caught:
        bench = import_total_return(bars, div)
    messages = [str(w.message) for w in caught]
    assert any("no implemented dividend of 510300.SH" in m for m in messages)
    assert any(r"b.csv: line 5: the close moves -50% on 2024-07-18" in m for m in messages)
    np.testing.assert_allclose(bench["close"].to_numpy(), CLOSE, rtol=1e-15)


# -- import path and command line ---------------------------------------------------------------
def etf_files(tmp_path: Path) -> tuple[Path, Path]:
    bars = tushare_bars(tmp_path / "510300.csv", code="510300.SH",
                        close=[3.60, 3.50, 3.52, 3.55, 3.54])
    div = write(tmp_path / "fund_div.csv", "ts_code,div_proc,ex_date,div_cash\n"
                                           "510300.SH,实施,20240716,0.10\n")
    return bars, div


def test_import_market_names_the_derived_benchmark(tmp_path):
    bars, div = etf_files(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # survivors only, no master
        market = import_market(bars=DATA / "baostock", adj_factors=DATA / "adj_factor.csv",
                               benchmark=import_total_return(bars, div, base=1000.0),
                               out=tmp_path / "m")
    back = load_market(tmp_path / "m")
    assert back.meta["benchmark"]["derived_from"] == "510300.SH bars and dividends"
    assert back.meta["benchmark"]["kind"] == "total return"
    assert back.meta["inputs"]["benchmark"] == {"bars": str(bars), "dividends": [str(div)]}
    assert any("total return derived from 510300.SH" in n for n in back.meta["notes"])
    assert provenance(back).benchmark == ("510300.SH total return "
                                          "(derived from 510300.SH bars and dividends)")
    assert back.benchmark["close"].iloc[2] == pytest.approx(1000.0 * 3.52 / 3.50, rel=1e-12)
    assert provenance(market).benchmark == provenance(back).benchmark


def test_cli_imports_an_etf_total_return_benchmark(tmp_path, capsys):
    bars, div = etf_files(tmp_path)
    common = ["import", "--bars", str(DATA / "baostock"), "--adj-factors",
              str(DATA / "adj_factor.csv"), "--out", str(tmp_path / "m")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        code = cli.main([*common, "--benchmark-etf", str(bars), "--benchmark-dividends",
                         str(div), "--benchmark-base", "1000"])
    assert code == 0
    assert ("Benchmark: 510300.SH total return (derived from 510300.SH bars and dividends)"
            in capsys.readouterr().out)
    assert load_market(tmp_path / "m").benchmark["close"].iloc[0] == 1000.0
    assert cli.main([*common, "--benchmark-etf", str(bars)]) == 2
    assert "--benchmark-dividends go together" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: --benchmark and --benchmark-etf exclude
        cli.main([*common, "--benchmark", str(DATA / "index_baostock.csv"),
                  "--benchmark-etf", str(bars), "--benchmark-dividends", str(div)])


# -- the real sample ----------------------------------------------------------------------------
def _real_stock(code: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The derived index, the raw closes and the adj_factor of one real stock."""
    file = SHARED_REAL / "bars" / f"{code[-2:].lower()}.{code[:6]}.csv"
    bench = import_total_return(file, EVENTS / "dividend.csv").set_index("date")
    raw = pd.read_csv(file, usecols=["date", "close"], parse_dates=["date"])
    factors = import_adj_factors(SHARED_REAL / "adj_factor.csv")
    factor = factors.loc[factors["symbol"] == code].set_index("date")["adj_factor"]
    return bench, raw.set_index("date")["close"], factor.reindex(bench.index)


@pytest.mark.real_data
@pytest.mark.skipif(not (SHARED_REAL / "index").is_dir(), reason="real sample absent")
def test_the_csi300_price_index_with_no_dividends_is_itself(tmp_path):
    none = write(tmp_path / "none.csv", "ts_code,div_proc,ex_date,div_cash\n"
                                        "510300.SH,实施,20240716,0.1\n")  # another security's
    with pytest.warns(DataWarning, match="no implemented dividend of 000300.SH"):
        bench = import_total_return(SHARED_REAL / "index" / "sh.000300.csv", none)
    price = pd.read_csv(SHARED_REAL / "index" / "sh.000300.csv", parse_dates=["date"])
    assert len(bench) == len(price) > 5000
    np.testing.assert_allclose(bench["close"].to_numpy(), price["close"].to_numpy(), rtol=1e-9)


@pytest.mark.real_data
@pytest.mark.skipif(not EVENTS.is_dir() or not SHARED_REAL.is_dir(),
                    reason=f"real events not found at {EVENTS}")
@pytest.mark.parametrize("code", ["600276.SH", "000001.SZ", "002415.SZ"])
def test_real_stock_total_return_agrees_with_its_adj_factor(code):
    """No ETF bars are in the sample (SOURCE.md: 510300 not taken), so a real stock stands in:
    its total return from raw closes + dividend.csv against the return its adj_factor implies.

    These three stocks paid cash every year and bonus or transfer shares (Hengrui 10送2 most
    years, Ping An Bank 10送2 in 2015/16, Hikvision 10转5 in 2016) and have none of the
    source errors or treasury-share cases SOURCE.md lists.

    * Days without an event: the same raw close ratio, so equal to 1e-12.
    * Ex-dates: the factor reinvests at the exchange's ex-reference price
      ``ref = (close_{t-1} - D) / (1 + s)``, total return at the ex-date close, so with
      ``R_a`` the factor's gross return and ``d = D / close_{t-1}`` the dividend yield,
      ``R_tr = R_a - (R_a - 1) d`` exactly. The exchange rounds ``ref`` to the fen, so
      ``R_a`` is off by up to ``R_a * 0.005 / ref``: that, plus 1e-6 for the vendor's
      rounding of the percent change the factor was built from before 2020, is the
      tolerance (hit at most at a few parts in 1e4 for these prices).
    * Over 2015-2025 the two conventions drift apart by at most 1 % (each ex-date adds
      ``(R_a - 1) d``, of either sign).
    """
    bench, raw, factor = _real_stock(code)
    tr = bench["close"]
    r_tr = (tr / tr.shift(1)).iloc[1:]
    adjusted = raw.reindex(tr.index) * factor
    r_a = (adjusted / adjusted.shift(1)).iloc[1:]
    ev = import_dividends(EVENTS / "dividend.csv")
    ev = ev.loc[ev["symbol"] == code]
    on_ex = r_tr.index.isin(ev["ex_date"])
    assert on_ex.sum() >= 9 and (ev["bonus_ratio"] > 0).any()
    np.testing.assert_allclose(r_tr[~on_ex], r_a[~on_ex], rtol=1e-12)
    close = raw.reindex(tr.index)
    cash = ev.groupby("ex_date")["cash_pre_tax_cny"].sum().reindex(r_tr.index).fillna(0.0)
    d = cash / close.shift(1).iloc[1:]
    want = r_a - (r_a - 1.0) * d
    ref = (close.shift(1) * factor.shift(1) / factor).iloc[1:]
    tolerance = r_a * 0.005 / ref + 1e-6
    err = (r_tr - want).abs()
    assert (err[on_ex] <= tolerance[on_ex]).all(), err[on_ex & (err > tolerance)]
    drift = (tr.iloc[-1] / tr.iloc[0]) / (adjusted.iloc[-1] / adjusted.iloc[0]) - 1.0
    assert abs(drift) < 0.01
