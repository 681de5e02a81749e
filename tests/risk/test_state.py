"""The account state's public fields, by hand-checkable numbers: what each event changes.

The checks that read these fields are tested in test_validator.py and test_batch.py."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from workbench.risk import AccountState, PreTradeValidator, Reason, RiskLimits
from workbench.risk.state import UNKNOWN_SECTOR

TZ = "Asia/Shanghai"
MASTER = pd.DataFrame({"symbol": ["600000.SH", "601398.SH", "830799.BJ"],
                       "sector": ["Banks", "Banks", None]})
TODAY = pd.DataFrame({"symbol": ["600000.SH", "601398.SH", "830799.BJ"],
                      "limit_up": [11.0, 5.5, 13.0], "limit_down": [9.0, 4.5, 7.0]})


def state(limits: RiskLimits | None = None, **kwargs) -> AccountState:
    kwargs = {"cash_cny": 100_000.0, "securities": MASTER, "positions": {"600000.SH": 1_000},
              "prices": {"600000.SH": 10.0}, **kwargs}
    return AccountState(RiskLimits() if limits is None else limits, **kwargs)


def ns(clock: str, day: str = "2024-01-02") -> int:
    return pd.Timestamp(f"{day} {clock}", tz=TZ).value


def test_fields_at_the_start():
    s = state()
    sec = s.securities["600000.SH"]
    assert (sec.held, sec.sellable, sec.odd, sec.mark, sec.value) == (1_000, 1_000, 0, 10.0,
                                                                     10_000.0)
    assert (sec.min_shares, sec.step_shares, sec.limits_known) == (100, 100, False)
    assert s.securities["830799.BJ"].sector == UNKNOWN_SECTOR
    assert s.sector_values_cny == {UNKNOWN_SECTOR: 0.0, "Banks": 10_000.0}
    assert (s.cash_cny, s.gross_cny, s.priced_equity_cny) == (100_000.0, 10_000.0, 110_000.0)
    assert (s.peak_cny, s.day_base_cny, s.day_pnl_cny) == (110_000.0, 110_000.0, 0.0)
    assert s.buy_block is None
    # caps: rate × equity plus 1e-9 × equity of tolerance
    assert s.position_cap_cny == pytest.approx(11_000.0, abs=1e-3)
    assert s.sector_cap_cny == pytest.approx(33_000.0, abs=1e-3)
    assert s.gross_cap_cny == pytest.approx(110_000.0, abs=1e-3)
    assert s.day is None and not s.session and s.window_ns == (0,) * 6


def test_start_day_sets_the_window_and_today_limits():
    s = state(RiskLimits(allow_opening_auction=True))
    s.start_day("2024-01-02", TODAY)
    assert s.day == pd.Timestamp("2024-01-02") and s.session
    assert s.window_ns == (ns("09:30"), ns("11:30"), ns("13:00"), ns("15:00"), ns("09:15"),
                           ns("09:25"))
    assert s.window_s == tuple(x / 1e9 for x in s.window_ns)
    sec = s.securities["600000.SH"]
    assert (sec.limits_known, sec.limit_up_fen, sec.limit_down_fen) == (True, 1100.0, 900.0)
    s.start_day("2024-01-06")  # a Saturday: no session, yesterday's limits forgotten
    assert not s.session and s.window_ns == (0,) * 6
    assert not sec.limits_known and math.isnan(sec.limit_up_fen)


def test_fills_move_cash_shares_and_release_them_next_day():
    s = state()
    s.start_day("2024-01-02", TODAY)
    s.on_fill("600000.SH", "buy", 300, 10.5, fee_cny=5.0)
    sec = s.securities["600000.SH"]
    assert s.cash_cny == 100_000.0 - 3_150.0 - 5.0
    assert (sec.held, sec.sellable, sec.mark, sec.value) == (1_300, 1_000, 10.5, 13_650.0)
    s.on_fill("600000.SH", "sell", 150, 10.5, fee_cny=1.0)
    assert (sec.held, sec.sellable, sec.odd) == (1_150, 850, 50)
    assert s.cash_cny == 100_000.0 - 3_155.0 + 1_575.0 - 1.0
    assert s.gross_cny == s.sector_values_cny["Banks"] == 1_150 * 10.5
    s.start_day("2024-01-03", TODAY)
    assert (sec.held, sec.sellable, sec.odd) == (1_150, 1_150, 50)


def test_an_unpriced_holding_blocks_buys_and_hides_equity():
    s = state()
    s.on_price("600000.SH", float("nan"))
    assert s.unpriced == {"600000.SH"} and s.buy_block is Reason.MISSING_PRICE
    assert s.gross_cny == 0.0 and s.priced_equity_cny == 100_000.0
    assert math.isnan(s.equity_cny) and math.isnan(s.day_pnl_cny)
    assert math.isnan(s.position_cap_cny) and math.isnan(s.gross_cap_cny)
    s.on_price("600000.SH", 9.0)
    assert not s.unpriced and s.buy_block is None
    assert (s.equity_cny, s.day_pnl_cny, s.peak_cny) == (109_000.0, -1_000.0, 110_000.0)


def test_a_daily_loss_blocks_buys_until_a_new_day_rebases():
    s = state(cash_cny=0.0, positions={"600000.SH": 10_000})
    assert s.day_base_cny == 100_000.0
    s.on_price("600000.SH", 9.6)  # -4 % on the day, beyond the 3 % default
    assert s.buy_block is Reason.DAILY_LOSS and s.day_pnl_cny == pytest.approx(-4_000.0)
    s.start_day("2024-01-02", TODAY)
    assert s.day_base_cny == pytest.approx(96_000.0) and s.buy_block is None
    assert s.peak_cny == 100_000.0


def test_settlement_and_sector_moves_keep_the_sums():
    s = state()
    s.on_settlement({"600000.SH": 2_000}, {"600000.SH": 5.0}, 90_000.0)
    assert (s.cash_cny, s.gross_cny, s.sector_values_cny["Banks"]) == (90_000.0, 10_000.0,
                                                                      10_000.0)
    s.update_securities(pd.DataFrame({"symbol": ["600000.SH"], "sector": ["Tech"]}))
    assert s.sector_values_cny["Banks"] == 0.0 and s.sector_values_cny["Tech"] == 10_000.0


def test_symbol_arrays_are_cached_until_the_next_event():
    s = state()
    s.start_day("2024-01-02", TODAY)
    a = s.symbol_arrays()
    assert s.symbol_arrays() is a
    assert list(a["index"]) == list(s.securities)
    assert a["value"].tolist() == [10_000.0, 0.0, 0.0] and a["up"].tolist() == [1100.0, 550.0,
                                                                                1300.0]
    s.on_price("600000.SH", 10.5)
    assert s.symbol_arrays() is not a and s.symbol_arrays()["value"][0] == 10_500.0


def test_the_validator_reads_through_to_its_state():
    v = PreTradeValidator(cash_cny=100_000.0, securities=MASTER,
                          positions={"600000.SH": 1_000}, prices={"600000.SH": 10.0})
    s = v.state
    assert isinstance(s, AccountState) and s.limits is v.limits
    v.on_fill("600000.SH", "buy", 100, 11.0)
    assert (v.cash_cny, v.equity_cny, v.peak_equity_cny) == (s.cash_cny, s.equity_cny,
                                                             s.peak_equity_cny)
    assert v.position("600000.SH") == (s.securities["600000.SH"].held,
                                       s.securities["600000.SH"].sellable)
    assert v.sector_value_cny("Banks") == s.sector_values_cny["Banks"]


def test_the_drawdown_stop_status_is_on_the_state():
    s = state(RiskLimits(max_daily_loss_rate=1.0, drawdown_cooloff_sessions=2), cash_cny=0.0,
              positions={"600000.SH": 10_000})
    assert (s.drawdown_stopped, s.stopped_since_day, s.stopped_sessions, s.peak_resets) == (
        False, None, 0, 0)
    s.on_price("600000.SH", 8.0)  # 20 % below the 100,000 peak, before any day started
    assert s.drawdown_stopped and s.buy_block is Reason.DRAWDOWN
    assert (s.stopped_since_day, s.stopped_sessions) == (None, 0)
    s.start_day("2024-02-08", TODAY)  # counted from the first day started, a Thursday
    assert (s.stopped_since_day, s.stopped_sessions) == (pd.Timestamp("2024-02-08"), 1)
    s.start_day("2024-02-10")  # a Saturday of the Spring Festival: nothing counted
    assert s.stopped_sessions == 1 and s.day_number == 19_763  # days since 1970-01-01
    s.start_day("2024-02-19")
    assert s.drawdown_stopped and s.stopped_sessions == 2
    s.start_day("2024-02-20")  # the session after two stopped: the peak resets
    assert (s.drawdown_stopped, s.stopped_since_day, s.stopped_sessions, s.peak_resets,
            s.peak_cny, s.buy_block) == (False, None, 0, 1, 80_000.0, None)
