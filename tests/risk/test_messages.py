"""The stops' refusals: one sentence per state of the numbers it shows, built once for all
the buys of a stopped session, and never a sentence of another state."""

from __future__ import annotations

import pandas as pd

from workbench.risk import Reason, RiskLimits
from workbench.risk.messages import stop_rejection
from workbench.risk.state import EquityState


def stopped(reason: Reason, *, equity: float, base: float | None = None,
            peak: float | None = None, sessions: int = 1,
            limits: RiskLimits | None = None) -> EquityState:
    s = EquityState(RiskLimits() if limits is None else limits, cash_cny=1.0)
    s.buy_block, s.priced_equity_cny, s.day_base_cny, s.peak_cny = reason, equity, base, peak
    s.stopped_since_day, s.stopped_sessions = pd.Timestamp("2024-03-01"), sessions
    return s


def drawdown_text(s: EquityState) -> str:
    return stop_rejection(s, Reason.DRAWDOWN).message


def test_a_drawdown_refusal_says_the_numbers_of_its_own_state():
    s = stopped(Reason.DRAWDOWN, equity=800_000.0, peak=1_000_000.0, sessions=3)
    first = stop_rejection(s, Reason.DRAWDOWN)
    assert first.message == (
        "equity 800,000.00 CNY is 20.00% below its peak 1,000,000.00 CNY, limit 15.00%; "
        "stopped since 2024-03-01, only risk-reducing sells pass until equity is back "
        "within 15.00% of the peak or, after 20 more sessions (this is session 3), the "
        "peak resets")
    assert stop_rejection(s, Reason.DRAWDOWN) is first  # the session's other buys: shared
    # any number it shows changed: another sentence
    assert "session 4)" in drawdown_text(stopped(Reason.DRAWDOWN, equity=800_000.0,
                                                 peak=1_000_000.0, sessions=4))
    assert "equity 799,999.99 CNY" in drawdown_text(stopped(Reason.DRAWDOWN,
                                                            equity=799_999.99,
                                                            peak=1_000_000.0, sessions=3))
    never = stopped(Reason.DRAWDOWN, equity=800_000.0, peak=1_000_000.0, sessions=3,
                    limits=RiskLimits(drawdown_rearm="never"))
    assert "(drawdown_rearm='never': the peak is never reset)" in drawdown_text(never)


def test_a_daily_loss_refusal_keeps_the_sign_of_a_zero():
    def text(equity: float, base: float) -> str:
        return stop_rejection(stopped(Reason.DAILY_LOSS, equity=equity, base=base),
                              Reason.DAILY_LOSS).message

    assert text(90_000.0, 100_000.0) == (
        "day's P&L -10,000.00 CNY is -10.00% of start-of-day equity 100,000.00 CNY, beyond "
        "-3.00%; only risk-reducing sells pass")
    # 0.0 and -0.0 are equal (one cache key) but print differently
    assert text(0.0, 0.0).startswith("day's P&L 0.00 CNY is n/a")
    assert text(-0.0, 0.0).startswith("day's P&L -0.00 CNY is n/a")
    assert text(0.0, 0.0).startswith("day's P&L 0.00 CNY is n/a")
