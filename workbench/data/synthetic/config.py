"""How to build a synthetic market: :class:`SyntheticConfig` and the generator's version."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.calendar import CALENDAR_END, CALENDAR_START, sessions
from workbench.errors import ConfigError

__all__ = ["GENERATOR_VERSION", "MAX_STOCKS", "MIN_SESSIONS", "MIN_STOCKS", "SyntheticConfig"]

#: Bump whenever the generated data or its meta changes; a stored default market is then
#: rebuilt. 2: meta names the benchmark (a synthetic cap-weighted price index). 3: the
#: statements follow the prices (earnings yield and P/B no longer drift), P/B in proportion
#: to ROE, sector valuations nearer large caps' (issue 11). 4: the market carries its
#: dividends and bonus shares as ``corporate_actions`` events (bars unchanged).
GENERATOR_VERSION = "4"
#: Fewest sessions a synthetic market may span (IPOs, ST episodes and delistings must fit).
MIN_SESSIONS = 240
MIN_STOCKS = 15
MAX_STOCKS = 5000


@dataclass(frozen=True, kw_only=True)
class SyntheticConfig:
    """How to build a synthetic market; equal configurations give identical markets.

    Parameters
    ----------
    n_stocks
        Number of securities over the whole sample, delisted and later-listed ones
        included (15 to 5,000; 15 is the least that holds every board, sector and event).
    start, end
        First and last calendar day (``YYYY-MM-DD``); the bars cover the XSHG sessions in
        between, at least 240 of them (about a year), within 2005-01-04..2026-12-31.
        Boards that open later than ``end`` minus a month (STAR, BSE) are left out.
    seed
        Seed of the single ``numpy.random.default_rng`` behind every draw.
    value_premium
        Extra expected return, fraction per year, per cross-sectional standard deviation of
        earnings yield (TTM EPS / price on the latest announced report).
    quality_premium
        The same per standard deviation of TTM ROE.
    momentum_drift_vol
        Cross-sectional standard deviation of each stock's persistent drift, fraction per
        year; the drift decorrelates over about a year, which is what 12-1 month momentum
        picks up. ``0`` removes the momentum premium.
    history_episodes
        Replay stylised episodes of the real market that fall inside the sample (the 2015
        crash and its mass suspension, January 2016, 3 February 2020, ...).
    benchmark_size
        Number of constituents of the CSI 300 style benchmark.

    Raises
    ------
    ConfigError
        A value outside the ranges above.

    Examples
    --------
    >>> SyntheticConfig(n_stocks=20, start="2023-01-03", end="2023-12-29").end
    '2023-12-29'
    """

    n_stocks: int = 100
    start: str = "2015-01-05"
    end: str = "2024-12-31"
    seed: int = 20150105
    value_premium: float = 0.005
    quality_premium: float = 0.005
    momentum_drift_vol: float = 0.10
    history_episodes: bool = True
    benchmark_size: int = 300

    def __post_init__(self) -> None:
        for name in ("n_stocks", "seed", "benchmark_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise ConfigError(f"{name} must be an integer, got {value!r}")
        if not MIN_STOCKS <= self.n_stocks <= MAX_STOCKS:
            raise ConfigError(
                f"n_stocks must be between {MIN_STOCKS} and {MAX_STOCKS}, got {self.n_stocks}; "
                f"fewer than {MIN_STOCKS} cannot hold every board, sector, IPO, ST episode and "
                "delisting"
            )
        if self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed}")
        if self.benchmark_size < 1:
            raise ConfigError(f"benchmark_size must be at least 1, got {self.benchmark_size}")
        for name in ("value_premium", "quality_premium", "momentum_drift_vol"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not (
                0.0 <= value <= 0.5
            ):
                raise ConfigError(
                    f"{name} must be a fraction per year in [0, 0.5], got {value!r}; "
                    "write 2 % per year as 0.02"
                )
        if not isinstance(self.history_episodes, bool):
            raise ConfigError(f"history_episodes must be True or False, got "
                              f"{self.history_episodes!r}")
        days = {}
        for name in ("start", "end"):
            raw = getattr(self, name)
            try:
                day = pd.Timestamp(raw)
            except (TypeError, ValueError):
                day = pd.NaT
            if pd.isna(day):
                raise ConfigError(f"{name} must be a date such as '2015-01-05', got {raw!r}")
            day = day.normalize()
            if not CALENDAR_START <= day <= CALENDAR_END:
                raise ConfigError(
                    f"{name} {day.date()} is outside the XSHG calendar "
                    f"{CALENDAR_START.date()}..{CALENDAR_END.date()}; pick a date inside it"
                )
            days[name] = day
            object.__setattr__(self, name, day.strftime("%Y-%m-%d"))
        if days["start"] >= days["end"]:
            raise ConfigError(f"start {self.start} must be before end {self.end}")
        count = len(sessions(days["start"], days["end"]))
        if count < MIN_SESSIONS:
            raise ConfigError(
                f"{self.start}..{self.end} holds {count} XSHG sessions; a synthetic market "
                f"needs at least {MIN_SESSIONS} (about a year) so that IPOs, ST episodes and "
                "delistings fit"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the fields (what ``meta["config"]`` of a built market holds).

        Examples
        --------
        >>> SyntheticConfig(n_stocks=20, start="2023-01-03", end="2023-12-29").to_dict()["end"]
        '2023-12-29'
        """
        return {k: (int(v) if isinstance(v, np.integer) else v)
                for k, v in dataclasses.asdict(self).items()}

