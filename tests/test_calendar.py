import pandas as pd
import pytest

from workbench import calendar
from workbench.errors import ConfigError


def test_sessions_are_xshg_not_weekdays():
    s = calendar.sessions("2015-01-01", "2024-12-31")
    assert len(s) == 2431  # the real count of SSE sessions in 2015-2024
    weekdays = pd.bdate_range("2015-01-01", "2024-12-31")
    assert len(weekdays) > len(s)
    assert pd.Timestamp("2024-10-01") not in s  # National Day
    assert pd.Timestamp("2024-09-30") in s


def test_out_of_range_and_reversed_dates_fail():
    with pytest.raises(ConfigError, match="outside"):
        calendar.sessions("1990-01-01", "1990-02-01")
    with pytest.raises(ConfigError, match="after end"):
        calendar.sessions("2020-02-01", "2020-01-01")


def test_is_session():
    assert calendar.is_session("2024-02-19")
    assert not calendar.is_session("2024-02-10")  # Spring Festival Saturday
    assert not calendar.is_session("1999-01-04")  # outside the calendar's range


def test_sessions_per_year_counts_xshg_sessions_over_whole_calendar_years():
    # XSHG sessions: 2016 244, 2017 244, 2018 243, 2019 244, 2020 243, 2021 243,
    # 2022 242, 2023 242, 2024 242 (sum 2,187 over 9 years = 243.0)
    assert calendar.sessions_per_year(calendar.sessions("2018-01-01", "2018-12-31")) == 243.0
    assert calendar.sessions_per_year(calendar.sessions("2016-01-04", "2024-12-31")) == 243.0
    # 2019-2021: (244 + 243 + 243) / 3; the ends of the dates do not matter
    assert calendar.sessions_per_year(["2019-06-03", "2021-03-01"]) == pytest.approx(730 / 3)
    # a short period gets its own year's figure, not a week's 5 / (5 / 365) = 365
    assert calendar.sessions_per_year(calendar.sessions("2024-03-04", "2024-03-08")) == 242.0
    with pytest.raises(ConfigError, match="outside the supported XSHG calendar years"):
        calendar.sessions_per_year(["2004-12-31", "2005-06-01"])
    with pytest.raises(ConfigError, match="at least one date"):
        calendar.sessions_per_year([])


def test_elapsed_years_counts_days_from_the_day_before_the_first_date():
    # 2018: 2018-01-02 to 2018-12-28 is 360 days, + 1 for the first session = 361
    days = calendar.sessions("2018-01-01", "2018-12-31")
    assert calendar.elapsed_years(days) == pytest.approx(361 / 365.25)
    assert calendar.elapsed_years(pd.DatetimeIndex(["2020-02-28", "2021-02-26"])) == (
        pytest.approx(365 / 365.25))  # 2020 is a leap year: 29 Feb counts
    with pytest.raises(ConfigError, match="at least one date"):
        calendar.elapsed_years([])
