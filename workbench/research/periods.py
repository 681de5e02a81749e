"""The periods of an honest evaluation: a split into in-sample and held-out data, and
rolling walk-forward windows.

Parameters are chosen on in-sample data only and judged on data the choice never saw.
:class:`Split` cuts the history into an in-sample period (default up to 2022) and a
held-out period (default from 2023); :class:`WalkForward` repeats that on rolling windows
(train N years, test M months). In-sample runs get the market as known at the end of their
period (:meth:`workbench.data.market.Market.as_of`): later bars, reports, ST episodes and
delistings are not even passed in.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

import pandas as pd

from workbench.calendar import parse_day
from workbench.config import BacktestConfig
from workbench.errors import ConfigError

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["Period", "Split", "WalkForward", "evaluation_split", "within"]

#: ``(start, end)`` of a backtest period; None for the data's first (last) session.
Period = tuple[pd.Timestamp | None, pd.Timestamp | None]


def _iso(day: pd.Timestamp | None) -> str:
    return "…" if day is None else str(day.date())


def within(config: BacktestConfig, market: Market, start: pd.Timestamp | None,
           end: pd.Timestamp | None) -> BacktestConfig:
    """``config`` over ``start..end`` (calendar days, inclusive), clipped to the market's
    sessions: a bound at or beyond the data's edge becomes None (the data's own edge).

    Examples
    --------
    >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
    >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03",
    ...                                      end="2023-12-29"))
    >>> c = within(BacktestConfig(), m, pd.Timestamp("2020-01-01"), pd.Timestamp("2023-06-30"))
    >>> c.start, str(c.end.date())
    (None, '2023-06-30')
    """
    cal = market.calendar
    if start is not None and start <= cal[0]:
        start = None
    if end is not None and end >= cal[-1]:
        end = None
    return replace(config, start=start, end=end)


@dataclass(frozen=True, kw_only=True)
class Split:
    """An in-sample period to develop on and a later out-of-sample period held out.

    Parameters
    ----------
    in_sample_start
        First day of the in-sample period; None for the market's first session.
    in_sample_end
        Last day of the in-sample period (inclusive).
    out_of_sample_start
        First day of the held-out period; after ``in_sample_end``.
    out_of_sample_end
        Last day of the held-out period; None for the market's last session.

    Raises
    ------
    ConfigError
        For a date that is not one, or periods that overlap or run backwards.

    Examples
    --------
    >>> Split()
    Split(in-sample …..2022-12-31, out-of-sample 2023-01-01..…)
    >>> Split(in_sample_end="2023-06-30", out_of_sample_start="2023-01-01")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: out_of_sample_start 2023-01-01 must be after in_sample_end \
2023-06-30: the periods may not overlap
    """

    in_sample_start: pd.Timestamp | str | None = None
    in_sample_end: pd.Timestamp | str = "2022-12-31"
    out_of_sample_start: pd.Timestamp | str = "2023-01-01"
    out_of_sample_end: pd.Timestamp | str | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            day = parse_day(getattr(self, f.name), f.name)
            if day is None and f.name in ("in_sample_end", "out_of_sample_start"):
                raise ConfigError(f"{f.name} is required; give a date such as '2022-12-31'")
            object.__setattr__(self, f.name, day)
        # Normalised above: the fields now hold Timestamps (or None).
        a = cast("pd.Timestamp | None", self.in_sample_start)
        b = cast(pd.Timestamp, self.in_sample_end)
        c = cast(pd.Timestamp, self.out_of_sample_start)
        d = cast("pd.Timestamp | None", self.out_of_sample_end)
        if a is not None and a > b:
            raise ConfigError(f"in_sample_start {a.date()} is after in_sample_end {b.date()}")
        if c <= b:
            raise ConfigError(f"out_of_sample_start {c.date()} must be after in_sample_end "
                              f"{b.date()}: the periods may not overlap")
        if d is not None and d < c:
            raise ConfigError(f"out_of_sample_end {d.date()} is before out_of_sample_start "
                              f"{c.date()}")

    def __repr__(self) -> str:
        return (f"Split(in-sample {_iso(self.in_sample_start)}..{_iso(self.in_sample_end)}, "
                f"out-of-sample {_iso(self.out_of_sample_start)}.."
                f"{_iso(self.out_of_sample_end)})")

    def check(self, market: Market) -> None:
        """Raise ConfigError unless both periods hold sessions of ``market``."""
        cal = market.calendar
        if len(cal) == 0:
            raise ConfigError(f"market {market.name!r} has no sessions to split")
        first, last = cal[0], cal[-1]
        is_start = self.in_sample_start or first
        oos_end = self.out_of_sample_end or last
        fix = "pass split=Split(in_sample_end=..., out_of_sample_start=...) within the data"
        if not ((cal >= is_start) & (cal <= self.in_sample_end)).any():
            raise ConfigError(f"{self!r}: no session of market {market.name!r} "
                              f"({first.date()}..{last.date()}) in the in-sample period; {fix}")
        if not ((cal >= self.out_of_sample_start) & (cal <= oos_end)).any():
            raise ConfigError(f"{self!r}: no session of market {market.name!r} "
                              f"({first.date()}..{last.date()}) in the out-of-sample period; "
                              f"{fix}")

    @property
    def in_sample_period(self) -> tuple[pd.Timestamp | None, pd.Timestamp]:
        """``(in_sample_start, in_sample_end)``."""
        return self.in_sample_start, self.in_sample_end

    @property
    def out_of_sample_period(self) -> tuple[pd.Timestamp, pd.Timestamp | None]:
        """``(out_of_sample_start, out_of_sample_end)``."""
        return self.out_of_sample_start, self.out_of_sample_end

    def in_sample_config(self, config: BacktestConfig, market: Market) -> BacktestConfig:
        """``config`` with its period set to the in-sample period (clipped to the data)."""
        return within(config, market, self.in_sample_start, self.in_sample_end)

    def out_of_sample_config(self, config: BacktestConfig, market: Market) -> BacktestConfig:
        """``config`` with its period set to the held-out period (clipped to the data)."""
        return within(config, market, self.out_of_sample_start, self.out_of_sample_end)

    def in_sample_market(self, market: Market) -> Market:
        """``market`` as known after the close of ``in_sample_end``
        (:meth:`workbench.data.market.Market.as_of`)."""
        return market.as_of(self.in_sample_end)


def evaluation_split(config: BacktestConfig, split: object) -> Split:
    """The :class:`Split` of ``config``'s period at the first out-of-sample day ``split``.

    In sample: ``config.start`` up to the day before ``split``; out of sample: ``split`` to
    ``config.end``.

    Examples
    --------
    >>> evaluation_split(BacktestConfig(start="2016-01-04"), "2023-01-03")
    Split(in-sample 2016-01-04..2023-01-02, out-of-sample 2023-01-03..…)
    """
    day = pd.Timestamp(split).normalize()
    return Split(in_sample_start=config.start, in_sample_end=day - pd.Timedelta(days=1),
                 out_of_sample_start=day, out_of_sample_end=config.end)


@dataclass(frozen=True, kw_only=True)
class WalkForward:
    """Rolling (or anchored) train/test windows for walk-forward evaluation.

    Test periods start on the first day of a month and follow each other every
    ``step_months`` months; each is preceded by its training period (the ``train_years``
    before it, or everything before it when ``anchored``). Test periods never overlap, and
    each training period ends before its test period begins.

    Parameters
    ----------
    train_years
        Length of each training period in years (>= 1).
    test_months
        Length of each test period in months (>= 1).
    step_months
        Months between test starts; default ``test_months`` (back to back). Must be at
        least ``test_months`` so that test periods do not overlap.
    anchored
        Train on all data from the market's start instead of a rolling window.
    start
        The first test period starts on the first day of this date's month; default the
        month in which the data's first session plus ``train_years`` falls (so the first
        training period may be a few days short).
    end
        Last day tested; default the market's last session.

    Examples
    --------
    >>> w = WalkForward(train_years=1, test_months=6).windows(
    ...     pd.bdate_range("2020-01-06", "2021-12-31"))
    >>> w.astype(str).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['2020-01-06', '2020-12-31', '2021-01-01', '2021-06-30'],
     ['2020-07-01', '2021-06-30', '2021-07-01', '2021-12-31']]
    """

    train_years: int = 3
    test_months: int = 6
    step_months: int | None = None
    anchored: bool = False
    start: pd.Timestamp | str | None = None
    end: pd.Timestamp | str | None = None

    def __post_init__(self) -> None:
        for name in ("train_years", "test_months"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
        step = self.test_months if self.step_months is None else self.step_months
        if isinstance(step, bool) or not isinstance(step, int) or step < self.test_months:
            raise ConfigError(f"step_months must be a whole number >= test_months "
                              f"({self.test_months}) so that test periods do not overlap, got "
                              f"{self.step_months!r}")
        object.__setattr__(self, "step_months", step)
        if not isinstance(self.anchored, bool):
            raise ConfigError(f"anchored must be True or False, got {self.anchored!r}")
        object.__setattr__(self, "start", parse_day(self.start, "start"))
        object.__setattr__(self, "end", parse_day(self.end, "end"))

    def windows(self, calendar: pd.DatetimeIndex) -> pd.DataFrame:
        """The windows over ``calendar``: ``train_start, train_end, test_start, test_end``.

        Each is a session of ``calendar`` (the first or last session inside the period);
        only windows with sessions in both periods are listed.

        Raises
        ------
        ConfigError
            When no window fits in the data.
        """
        if len(calendar) == 0:
            raise ConfigError("no sessions to walk forward over")
        days = pd.DatetimeIndex(calendar).normalize()
        first, last = days[0], days[-1]
        end = min(self.end, last) if self.end is not None else last
        start = cast("pd.Timestamp | None", self.start)  # normalised in __post_init__
        if start is None:
            start = first + pd.DateOffset(years=self.train_years)
        test_start = start.to_period("M").start_time
        step = int(self.step_months or self.test_months)
        rows = []
        while test_start <= end:
            test_end = min(test_start + pd.DateOffset(months=self.test_months)
                           - pd.Timedelta(days=1), end)
            train_from = first if self.anchored else test_start - pd.DateOffset(
                years=self.train_years)
            test = days[(days >= test_start) & (days <= test_end)]
            train = days[(days >= train_from) & (days < test_start)]
            if len(test) and len(train):
                rows.append((train[0], train[-1], test[0], test[-1]))
            test_start = test_start + pd.DateOffset(months=step)
        if not rows:
            raise ConfigError(f"no walk-forward window fits in {first.date()}..{end.date()} "
                              f"with {self.train_years} training years and {self.test_months} "
                              "test months; shorten them or pass a longer market")
        return pd.DataFrame(rows, columns=["train_start", "train_end", "test_start",
                                           "test_end"])
