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
