"""A report notebook's parameters, checked once: :class:`ReportParameters`.

Every report notebook declares its parameters as literals in one cell tagged ``parameters``
and then hands them, by name, to :class:`ReportParameters`::

    p = report.ReportParameters(market_path=market_path, strategy=strategy, params=params,
                                start=start, end=end, capital_cny=capital_cny,
                                cost_multiplier=cost_multiplier, colors=colors)
    market = p.load_market()
    result = wb.run_backtest(market, p.build_strategy(), p.backtest_config())

The report runner (:mod:`workbench.report.runner`) builds the same object from a notebook's
effective parameters (:meth:`ReportParameters.from_mapping`) before any kernel starts, so a
wrong value is refused by the same code, with the same message, whether it came from a
command line, a jobs file or an edited notebook.

Parameters a notebook has that are not fields here (a sweep's ``grid``, a comparison's
``baseline``, ...) are not this class's business: the notebook passes them straight to the
function that uses them.

:func:`notebook_parameters` lists what a notebook declares, as written in its cell: each
name with its type annotation (``name: type = literal  # help``), default and help, read
by papermill as ``papermill --help-notebook`` and the runner read them.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from workbench.calendar import parse_day
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data import Market, load_market
from workbench.errors import ConfigError, DataError, LookupFailed, did_you_mean
from workbench.report.figures.theme import palette
from workbench.risk import RiskLimits
from workbench.strategies import Strategy
from workbench.strategies import available as available_strategies
from workbench.strategies import get as get_strategy

__all__ = ["NotebookParameter", "ReportParameters", "notebook_parameters"]


@dataclass(frozen=True, kw_only=True)
class ReportParameters:
    """The parameters report notebooks share, validated; builds the market, strategy and
    :class:`~workbench.config.BacktestConfig` from them.

    Every field is optional: a notebook passes the ones it declares. Values are kept as
    given (``params`` as a new dict, ``strategies`` and ``cost_multipliers`` as tuples).

    Parameters
    ----------
    market_path
        A Market folder (``python -m workbench import ... --out FOLDER``), or None for the
        synthetic default market.
    strategy
        A name from :func:`workbench.strategies.available`.
    params
        The strategy's parameters, ``{name: value}``; None or ``{}`` for its defaults.
        Needs ``strategy``.
    strategies
        Strategy names to compare; None for all of them.
    start, end
        First and last session of the period (inclusive), e.g. ``'2024-01-02'``; None for
        the market's first or last session.
    split
        First out-of-sample day; it must fall strictly inside ``start..end``.
    capital_cny
        Starting cash, CNY; None for ``BacktestConfig``'s default (1,000,000 CNY).
    cost_multiplier
        Times the default :class:`~workbench.costs.Costs`: 0 free, 1 as configured, 2 double.
    cost_multipliers
        Several cost multipliers (a sweep runs every combination at each); None for none.
    risk
        :class:`~workbench.risk.RiskLimits` fields, e.g. ``{"max_position_rate": 0.05}``
        (the rest keep their defaults); None for no pre-trade risk checks.
    universe
        An index whose members alone may be bought, e.g. ``"csi300"`` (the market must
        carry its membership: ``python -m workbench import ... --index-weights``); None for
        every listed stock. See ``BacktestConfig.universe``.
    colors
        ``"intl"`` (up green, down red) or ``"cn"`` (up red, down green).

    Raises
    ------
    ConfigError
        A value of the wrong type or outside what the workbench allows; the message names
        the parameter and how to fix it.
    LookupFailed
        An unknown strategy name or colour convention; the valid ones are listed.
    DataError
        A ``market_path`` that is not a folder (as :func:`workbench.data.load_market`).

    Examples
    --------
    >>> p = ReportParameters(strategy="ma_trend", params={"fast": 10, "slow": 30},
    ...                      start="2023-01-03", end="2024-12-31", cost_multiplier=2.0)
    >>> p.backtest_config().costs == Costs().scale(2.0)
    True
    >>> p.build_strategy().describe()["params"]["fast"]
    10
    >>> ReportParameters(strategy="momentun")
    Traceback (most recent call last):
    ...
    workbench.errors.LookupFailed: unknown strategy 'momentun'; did you mean 'momentum'? ...
    """

    market_path: str | os.PathLike[str] | None = None
    strategy: str | None = None
    params: Mapping[str, Any] | None = None
    strategies: Sequence[str] | None = None
    start: str | dt.date | None = None
    end: str | dt.date | None = None
    split: str | dt.date | None = None
    capital_cny: float | None = None
    cost_multiplier: float = 1.0
    cost_multipliers: Sequence[float] | None = None
    risk: Mapping[str, Any] | None = None
    universe: str | None = None
    colors: str = "intl"

    def __post_init__(self) -> None:
        palette(self.colors)
        self._check_market_path()
        self._check_strategies()
        _check_multiplier("cost_multiplier", self.cost_multiplier)
        if self.cost_multipliers is not None:
            listed = self.cost_multipliers
            if isinstance(listed, (str, bytes)) or not isinstance(listed, Sequence) or not listed:
                raise ConfigError(f"parameter cost_multipliers must be a non-empty list of "
                                  f"numbers, got {listed!r}; e.g. [1.0, 2.0]")
            for value in listed:
                _check_multiplier("cost_multipliers", value)
            object.__setattr__(self, "cost_multipliers", tuple(listed))
        parse_day(self.start, "parameter start")
        parse_day(self.end, "parameter end")
        self.backtest_config()  # capital_cny, and the end on or after the start
        self._check_split()

    # -- checks ----------------------------------------------------------------------------
    def _check_market_path(self) -> None:
        path = self.market_path
        if path is not None and not isinstance(path, (str, os.PathLike)):
            raise ConfigError(f"parameter market_path must be a folder's path or None, got "
                              f"{path!r}; e.g. \"data/real\"")
        if path is not None and not Path(path).is_dir():
            raise DataError(f"parameter market_path = {path!r} is not a folder; give a Market "
                            "folder (python -m workbench import ... --out FOLDER) or None for "
                            "the synthetic default")

    def _check_strategies(self) -> None:
        known = available_strategies()
        if self.strategy is not None:
            if not isinstance(self.strategy, str):
                raise ConfigError(f"parameter strategy must be a strategy name, got "
                                  f"{self.strategy!r}; {did_you_mean('', known)}")
            if self.strategy not in known:
                raise LookupFailed(f"unknown strategy {self.strategy!r}; "
                                   f"{did_you_mean(self.strategy, known)}")
        listed = self.strategies
        if listed is not None:
            if isinstance(listed, str) or not isinstance(listed, Sequence) or not all(
                    isinstance(s, str) for s in listed):
                raise ConfigError(f"parameter strategies must be a list of strategy names or "
                                  f"None (all), got {listed!r}")
            for name in listed:
                if name not in known:
                    raise LookupFailed(f"unknown strategy {name!r} in strategies; "
                                       f"{did_you_mean(name, known)}")
            object.__setattr__(self, "strategies", tuple(listed))
        params = {} if self.params is None else self.params
        if not isinstance(params, Mapping):
            raise ConfigError(f"parameter params must be a mapping of strategy parameters, got "
                              f"{params!r}; e.g. {{\"fast\": 10, \"slow\": 30}}")
        object.__setattr__(self, "params", dict(params))
        if params and self.strategy is None:
            raise ConfigError(f"parameter params = {dict(params)!r} needs a strategy; set "
                              "strategy, or leave params empty")
        if self.strategy is not None:
            try:
                get_strategy(self.strategy, **params)
            except ConfigError as exc:
                raise ConfigError(f"parameter params: {exc}") from None

    def _check_split(self) -> None:
        split = parse_day(self.split, "parameter split")
        if split is None:
            return
        start, end = parse_day(self.start, "start"), parse_day(self.end, "end")
        if (start is not None and split <= start) or (end is not None and split >= end):
            period = f"{start.date() if start is not None else 'the first session'}.." \
                     f"{end.date() if end is not None else 'the last session'}"
            raise ConfigError(f"split {split.date()} must fall strictly inside the period "
                              f"{period}; it starts the out-of-sample part")

    # -- building --------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str | None = None
                     ) -> ReportParameters:
        """The parameters among ``values`` that are fields here; other keys are ignored.

        Parameters
        ----------
        values
            ``{name: value}``, e.g. a notebook's defaults updated with overrides.
        source
            Where the values come from (a notebook's file name); it starts every message.

        Raises
        ------
        ConfigError, LookupFailed, DataError
            As the constructor, the message prefixed with ``source``.

        Examples
        --------
        >>> ReportParameters.from_mapping({"strategy": "momentum", "grid": {}}).strategy
        'momentum'
        >>> ReportParameters.from_mapping({"capital_cny": -5}, source="x.ipynb")
        Traceback (most recent call last):
        ...
        workbench.errors.ConfigError: x.ipynb: capital_cny must be a finite amount of CNY > 0, ...
        """
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in values.items() if k in known})
        except (ConfigError, LookupFailed, DataError) as exc:
            if source is None:
                raise
            raise type(exc)(f"{source}: {exc}") from None

    def load_market(self, *, validate: bool | None = None) -> Market:
        """The Market at ``market_path``, or the synthetic default
        (:func:`workbench.data.load_market`; ``validate`` as there)."""
        return load_market(self.market_path, validate=validate)

    def build_strategy(self) -> Strategy:
        """The strategy named ``strategy`` with ``params``.

        Raises
        ------
        ConfigError
            When no ``strategy`` was given.
        """
        if self.strategy is None:
            raise ConfigError("parameter strategy is not set; give a name from "
                              f"workbench.strategies.available(): {available_strategies()}")
        return get_strategy(self.strategy, **(self.params or {}))

    def costs(self) -> Costs:
        """The default :class:`~workbench.costs.Costs` times ``cost_multiplier``."""
        return Costs().scale(self.cost_multiplier)

    def risk_limits(self) -> RiskLimits | None:
        """:class:`~workbench.risk.RiskLimits` from ``risk``, or None without it.

        Raises
        ------
        ConfigError
            For an unknown field or a limit outside what is allowed.
        """
        if self.risk is None:
            return None
        if not isinstance(self.risk, Mapping):
            raise ConfigError(f"parameter risk must be a mapping of RiskLimits fields, got "
                              f"{self.risk!r}; e.g. {{\"max_position_rate\": 0.1}}")
        try:
            return RiskLimits(**self.risk)
        except TypeError as exc:
            raise ConfigError(f"parameter risk: {exc}; valid fields: "
                              f"{sorted(f.name for f in fields(RiskLimits))}") from None
        except ConfigError as exc:
            raise ConfigError(f"parameter risk: {exc}") from None

    def backtest_config(self) -> BacktestConfig:
        """The period, capital, costs, risk limits and universe as a
        :class:`~workbench.config.BacktestConfig` (its other fields at their defaults)."""
        capital: dict[str, Any] = ({} if self.capital_cny is None
                                   else {"capital_cny": self.capital_cny})
        return BacktestConfig(**capital, start=self.start, end=self.end, costs=self.costs(),
                              risk=self.risk_limits(), universe=self.universe)


def _check_multiplier(name: str, value: object) -> None:
    """Raise ConfigError unless ``value`` scales costs: a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value >= 0):
        raise ConfigError(f"parameter {name}: a cost multiplier must be a finite number >= 0, "
                          f"got {value!r}; use 0 for no costs, 1 as configured, 2 for double")


@dataclass(frozen=True, kw_only=True)
class NotebookParameter:
    """One parameter of a notebook's ``parameters`` cell, as written there.

    Attributes
    ----------
    name
        The variable, e.g. ``"capital_cny"``.
    type
        Its annotation, e.g. ``"float"`` or ``"Optional[str]"``; ``""`` when unannotated.
    default
        The default's source text, e.g. ``"1_000_000.0"``.
    help
        The comment after it; ``""`` without one.
    """

    name: str
    type: str
    default: str
    help: str


def notebook_parameters(path: str | os.PathLike[str]) -> list[NotebookParameter]:
    """The parameters a notebook declares, in the order of its ``parameters`` cell.

    Read with papermill, as ``papermill --help-notebook`` and the report runner read them:
    a line papermill cannot parse (e.g. an annotation ``str | None``, which papermill 2.7
    skips; write ``"Optional[str]"``) is missing here as it is there.

    Parameters
    ----------
    path
        A notebook file.

    Raises
    ------
    ConfigError
        When the notebook has no cell tagged ``parameters``, or no kernelspec metadata.

    Examples
    --------
    >>> from workbench.report.runner import find_notebook
    >>> p = notebook_parameters(find_notebook("data_quality"))[0]
    >>> p.name, p.type, p.default
    ('market_path', 'Optional[str]', 'None')
    """
    import papermill  # heavy: only when a notebook is read

    try:
        declared = papermill.inspect_notebook(str(path))
    except ValueError as exc:  # e.g. no kernelspec: papermill picks the language by it
        raise ConfigError(f"{path}: papermill cannot read its parameters "
                          f"({str(exc).rstrip('.')}); save the notebook with its kernelspec "
                          "metadata, as Jupyter does") from None
    if not declared:
        raise ConfigError(f"{path}: no cell tagged 'parameters'; a report notebook declares its "
                          "parameters as literals in one cell with that tag")
    return [NotebookParameter(name=name, type="" if info["inferred_type_name"] == "None"
                              else info["inferred_type_name"], default=info["default"],
                              help=info["help"])
            for name, info in declared.items()]
