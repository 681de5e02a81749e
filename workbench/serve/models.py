"""The service's request and response bodies as pydantic models (they make ``/docs``).

Requests are validated against these models before a handler runs: a wrong JSON type or
a missing field is a 422 problem naming the field. Numbers are strict where a workbench
function would judge a coerced value differently: share counts are JSON integers
(``100``, not ``100.0`` or ``"100"``), and prices are JSON numbers.

Values that the workbench itself judges pass through unchanged, so that the service and a
notebook never disagree: an order's ``side`` is any text (``"hold"`` is a BAD_SIDE
decision, as in process), and a quantity of ``0`` a BAD_QUANTITY decision.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

__all__ = [
    "Account",
    "BacktestIn",
    "BacktestOut",
    "BatchDecision",
    "BatchIn",
    "BatchOut",
    "DecisionOut",
    "FillIn",
    "FillsIn",
    "Health",
    "MarketOut",
    "OrderIn",
    "PricesIn",
    "Problem",
    "Recommendations",
    "ReportEntry",
    "ReportIndex",
    "SessionIn",
    "SessionOut",
    "StrategyOut",
]

_STRICT = ConfigDict(extra="forbid")
_TIMESTAMP = Field(description="ISO 8601 time with its UTC offset, e.g. "
                   "'2024-01-02T10:00:00+08:00'; one without an offset is rejected "
                   "(NAIVE_TIMESTAMP)", examples=["2024-01-02T10:00:00+08:00"])


class Problem(BaseModel):
    """An RFC 9457 problem detail: every error the service answers."""

    type: str = Field(description="URI naming the kind of problem")
    title: str = Field(description="the HTTP status's phrase")
    status: int
    detail: str = Field(description="what is wrong and how to fix it")
    instance: str | None = Field(None, description="the request path")
    errors: list[dict[str, Any]] | None = Field(None, description="each invalid field (422)")
    error: str | None = Field(None, description="the workbench exception's class")


class Health(BaseModel):
    status: Literal["ok"]


class MarketOut(BaseModel):
    """The served market: where it comes from, its range, symbols and boards."""

    provenance: dict[str, Any]
    summary: dict[str, Any]
    securities: list[dict[str, Any]] = Field(
        description="symbol, name, board, sector, list_date, delist_date of each security")


class StrategyOut(BaseModel):
    name: str
    summary: str
    parameters: list[dict[str, Any]] = Field(description="name, type and default of each")


class Recommendations(BaseModel):
    """What ``workbench.recommend.recommend`` returns, one row per name."""

    market: str
    strategy: dict[str, Any]
    as_of: str
    rule: str
    inputs: Any
    rows: list[dict[str, Any]] = Field(description="symbol, name, sector, action (buy, hold, "
                                       "sell, avoid), score (0..1 or null), target_weight "
                                       "(fraction of equity) and reasons")


class SessionIn(BaseModel):
    """A risk session: a pre-trade validator on one session of the market."""

    model_config = _STRICT
    cash_cny: StrictFloat = Field(description="cash at the start, CNY", examples=[1_000_000.0])
    date: str | None = Field(None, description="a session of the market (ISO date) whose "
                             "limit prices and flags apply; default the last one")
    positions: dict[str, StrictInt] = Field(default_factory=dict,
                                            description="shares held, all sellable")
    prices: dict[str, StrictFloat] = Field(default_factory=dict, description="marks, CNY per "
                                           "share (default: the day's prev_close)")
    limits: dict[str, Any] | None = Field(None, description="fields of "
                                          "workbench.risk.RiskLimits (default: its defaults)",
                                          examples=[{"max_position_rate": 0.05}])


class Account(BaseModel):
    day: str | None
    cash_cny: float
    equity_cny: float | None
    peak_equity_cny: float | None
    day_pnl_cny: float | None
    buy_block: str | None = Field(description="MISSING_PRICE, DAILY_LOSS or DRAWDOWN while "
                                  "buys are refused")
    drawdown_stopped: bool
    limits: dict[str, Any]
    positions: list[dict[str, Any]]


class SessionOut(BaseModel):
    id: str
    account: Account
    links: dict[str, str]


class OrderIn(BaseModel):
    """A limit order, as :class:`workbench.risk.Order`."""

    model_config = _STRICT
    symbol: str = Field(examples=["600000.SH"])
    side: str = Field(description="'buy' or 'sell' (anything else: BAD_SIDE)",
                      examples=["buy"])
    quantity: StrictInt = Field(description="shares", examples=[1000])
    limit_price: StrictFloat = Field(description="CNY per share", examples=[10.5])
    timestamp: str = _TIMESTAMP


class DecisionOut(BaseModel):
    """A :class:`workbench.risk.Decision`."""

    accepted: bool
    layer: str | None
    reason: str
    message: str


class BatchIn(BaseModel):
    model_config = _STRICT
    orders: list[OrderIn]


class BatchDecision(BaseModel):
    accepted: bool
    layer: str | None
    reason: str


class BatchOut(BaseModel):
    """``check_batch``: each order judged as if it were the only one, in order."""

    decisions: list[BatchDecision]
    accepted: int
    rejected: int


class FillIn(BaseModel):
    model_config = _STRICT
    symbol: str
    side: str
    quantity: StrictInt
    price: StrictFloat = Field(description="fill price, CNY per share")
    fee_cny: StrictFloat = 0.0


class FillsIn(BaseModel):
    model_config = _STRICT
    fills: list[FillIn] = Field(description="booked in order, as on_fill")


class PricesIn(BaseModel):
    model_config = _STRICT
    prices: dict[str, StrictFloat] = Field(description="marks, CNY per share, as on_prices")


class BacktestIn(BaseModel):
    """A backtest of a registered strategy."""

    model_config = _STRICT
    strategy: str = Field(examples=["ma_trend"])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"fast": 10, "slow": 60}])
    config: dict[str, Any] = Field(
        default_factory=dict, description="fields of workbench.BacktestConfig as in its "
        "to_dict (costs and risk as objects); missing fields take its defaults",
        examples=[{"capital_cny": 1_000_000, "start": "2020-01-02",
                   "risk": {"max_position_rate": 0.1}}])


class BacktestOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    strategy: str
    params: dict[str, Any]
    config: dict[str, Any]
    submitted: str
    started: str | None
    finished: str | None
    elapsed_s: float | None
    summary: dict[str, Any] | None
    metrics: dict[str, Any] | None
    risk: dict[str, Any] | None
    warnings: list[str]
    error: dict[str, Any] | None
    links: dict[str, str]


class ReportEntry(BaseModel):
    name: str
    status: Literal["ok", "failed"]
    notebook: str | None
    generated: str | None
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    failure: dict[str, Any] | None
    html: str | None = Field(description="where the report's page is served")


class ReportIndex(BaseModel):
    reports: list[ReportEntry]
