"""Importing delisted stocks beside listed ones, a close-only total-return benchmark and
index membership: several ``--bars`` folders and ``--securities`` files, ``list_status`` /
``delist_date``, factors derived from ``preclose``, and a delisting settled in a backtest.

The listed stocks are the samples of ``importers/`` (600000.SH, 000002.SZ, 2024-07-15..19).
The delisted one is written here by hand: 600087.SH, three bars (Fri 2024-07-12, Mon 07-15,
Tue 07-16; a 0.05 CNY dividend on 07-16: preclose 4.80 after a 4.85 close), delisted from
2024-07-17 (``list_status`` D). The benchmark is close-only in baostock index layout, as
CSI's total-return H00300 is, with a row on Saturday 2024-07-13 (no session).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench import backtest, cli, strategies
from workbench.config import BacktestConfig
from workbench.data.importers import import_market, import_securities
from workbench.data.provenance import provenance
from workbench.data.store import load_market
from workbench.errors import DataError, DataWarning

DATA = Path(__file__).resolve().parent / "importers"
ADJ = DATA / "adj_factor.csv"
LISTED = DATA / "baostock"
BASIC = DATA / "stock_basic.csv"
WEIGHTS = DATA / "index_weight.csv"
DAY = pd.Timestamp
BAO = ("date,code,open,high,low,close,preclose,volume,amount,adjustflag,turn,tradestatus,"
       "pctChg,peTTM,pbMRQ,psTTM,pcfNcfTTM,isST\n")
DELISTED_BARS = BAO + (
    "2024-07-12,sh.600087,5.00,5.12,4.98,5.10,5.00,100000,508000,3,,1,2.0,,,,,0\n"
    "2024-07-15,sh.600087,5.05,5.10,4.80,4.85,5.10,120000,590000,3,,1,-4.902,,,,,0\n"
    "2024-07-16,sh.600087,4.80,4.95,4.75,4.90,4.80,90000,440000,3,,1,2.083,,,,,0\n")
BASIC_HEADER = "ts_code,symbol,name,area,industry,market,list_date,list_status,delist_date\n"
DELISTED_BASIC = BASIC_HEADER + "600087.SH,600087,退市长油,,,主板,19970609,D,20240717\n"
TOTAL_RETURN = "date,code,open,high,low,close,preclose,volume,amount,pctChg\n" + "".join(
    f"{d},csi.H00300,,,,{c},,,,\n" for d, c in (
        ("2024-07-12", 5100.0), ("2024-07-13", 5101.0), ("2024-07-15", 5110.0),
        ("2024-07-16", 5120.5), ("2024-07-17", 5099.0), ("2024-07-18", 5130.0),
        ("2024-07-19", 5140.25)))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {"bars": write(tmp_path / "delisted" / "sh.600087.csv", DELISTED_BARS).parent,
            "basic": write(tmp_path / "delisted_basic.csv", DELISTED_BASIC),
            "bench": write(tmp_path / "h00300.csv", TOTAL_RETURN)}


def test_listed_and_delisted_exports_import_together(files, tmp_path):
    with pytest.warns(DataWarning) as caught:
        market = import_market(bars=[LISTED, files["bars"]], adj_factors=ADJ,
                               securities=[BASIC, files["basic"]], benchmark=files["bench"],
                               index_weights=WEIGHTS, out=tmp_path / "m")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3, messages
    assert "1 symbols have no adj_factor in adj_factors (600087.SH): their factors are " \
           "derived from the exports' own reference price (preclose)" in messages[0]
    assert "h00300.csv: 1 benchmark rows fall on days that are no session of the bars " \
           "(2024-07-13); dropped" in messages[1]
    assert "present-day snapshot" in messages[2]  # and no "survivors only": one delisted
    back = load_market(tmp_path / "m")
    sec = back.securities.set_index("symbol")
    assert sec.loc["600087.SH", "delist_date"] == DAY("2024-07-17")
    assert sec["delist_date"].notna().sum() == 1
    factors = back.bars.loc[back.bars["symbol"] == "600087.SH", "adj_factor"].tolist()
    assert factors == [1.0, 1.0, pytest.approx(4.85 / 4.80)]
    assert len(back.bars) == 13
    assert back.benchmark["date"].dt.strftime("%m-%d").tolist() == [
        "07-12", "07-15", "07-16", "07-17", "07-18", "07-19"]
    assert back.benchmark["open"].isna().all() and back.benchmark["close"].iloc[-1] == 5140.25
    assert back.meta["inputs"]["bars"] == [str(LISTED), str(files["bars"])]
    assert back.meta["index_members"]["csi300"]["snapshots"] == 3
    p = provenance(back)
    assert p.benchmark == "CSI 300 total return (total return index)"
    assert (p.n_delisted, p.notes[0][:7]) == (1, "sectors")
    assert f"{LISTED} and {files['bars']}" in p.description
    assert back.universe("2024-07-17", index="csi300")["symbol"].tolist() == ["600000.SH"]
    pd.testing.assert_frame_equal(back.index_members, market.index_members)


def test_a_delisted_holding_is_settled_on_its_delist_date(files, tmp_path):
    with pytest.warns(DataWarning):
        market = import_market(bars=[LISTED, files["bars"]], adj_factors=ADJ,
                               securities=[BASIC, files["basic"]], out=tmp_path / "m")
    result = backtest.run(market, strategies.get("buy_and_hold"), BacktestConfig())
    t = result.trades
    gone = t.loc[t["reason"] == "delisted"]
    assert gone["symbol"].astype(str).tolist() == ["600087.SH"]
    assert gone["date"].tolist() == [DAY("2024-07-17")]
    assert gone["price"].tolist() == [4.90]  # the last close
    held = t.loc[t["symbol"] == "600087.SH"]
    bought = held.loc[held["side"] == "buy", "shares"].sum()
    assert gone["shares"].tolist() == [bought]  # everything held, dividend shares included


def test_cli_takes_several_bar_folders_and_security_files(files, tmp_path, capsys):
    with pytest.warns(DataWarning):
        code = cli.main(["import", "--bars", str(LISTED), str(files["bars"]),
                         "--adj-factors", str(ADJ), "--securities", str(BASIC),
                         "--securities", str(files["basic"]), "--benchmark", str(files["bench"]),
                         "--index-weights", str(WEIGHTS), "--out", str(tmp_path / "m")])
    assert code == 0
    out = capsys.readouterr().out
    assert "3 symbols" in out and "1 delisted" in out and "index membership: csi300" in out
    assert "Benchmark: CSI 300 total return (total return index)" in out


@pytest.mark.parametrize(("status", "delist", "fault"), [
    ("D", "", "list_status D (delisted) without a delist_date"),
    ("L", "20240717", "list_status L (listed) with a delist_date"),
    ("X", "", "list_status must be L (listed), D (delisted) or P"),
    ("D", "19970609", "delist_date must be after list_date"),
])
def test_list_status_and_delist_date_must_agree(tmp_path, status, delist, fault):
    path = write(tmp_path / "sb.csv", BASIC_HEADER +
                 f"600087.SH,600087,退市长油,,,主板,19970609,{status},{delist}\n")
    column = "list_status" if status == "X" else "delist_date"
    with pytest.raises(DataError, match=rf"sb\.csv: line 2, column '{column}': "):
        import_securities(path)
    with pytest.raises(DataError, match=fault.replace("(", r"\(").replace(")", r"\)")):
        import_securities(path)


def test_a_stock_in_two_security_files_names_both(files, tmp_path):
    twice = write(tmp_path / "again.csv", DELISTED_BASIC)
    with pytest.raises(DataError, match=r"delisted_basic\.csv and .*again\.csv: column "
                                        r"'ts_code': 600087\.SH is in more than one"):
        import_market(bars=[LISTED, files["bars"]], adj_factors=ADJ,
                      securities=[BASIC, files["basic"], twice], out=tmp_path / "m")


def test_factors_are_derived_only_where_every_later_bar_has_a_preclose(files, tmp_path):
    lines = DELISTED_BARS.splitlines()
    cells = lines[3].split(",")
    cells[6] = ""  # 2024-07-16 without preclose
    lines[3] = ",".join(cells)
    folder = write(tmp_path / "gap" / "sh.600087.csv", "\n".join(lines) + "\n").parent
    with pytest.raises(DataError, match=r"sh\.600087\.csv: line 4: no adj_factor in .* for "
                                        r"600087\.SH on 2024-07-16 .*carry the exchange's "
                                        r"preclose"):
        import_market(bars=[LISTED, folder], adj_factors=ADJ,
                      securities=[BASIC, files["basic"]], out=tmp_path / "m")


def test_bars_on_or_after_the_delist_date_are_an_error(files, tmp_path):
    early = write(tmp_path / "early.csv", DELISTED_BASIC.replace("20240717", "20240716"))
    # named at import by the export's own line (the stored market would name its row)
    fault = (r"delisted/sh\.600087\.csv: line 4, column 'date': 1 bars on or after their "
             r"symbol's delist_date \(first 600087\.SH on 2024-07-16, delist_date 2024-07-16\)")
    with pytest.raises(DataError, match=fault):
        import_market(bars=[LISTED, files["bars"]], adj_factors=ADJ,
                      securities=[BASIC, early], out=tmp_path / "m")
    assert not (tmp_path / "m").exists()
