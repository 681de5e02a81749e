"""The strategy registry: find a strategy by name, list them and their parameters.

>>> from workbench import strategies
>>> {"buy_and_hold", "ma_trend"} <= set(strategies.available())
True
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from workbench.errors import ConfigError, LookupFailed, did_you_mean
from workbench.strategies.base import Strategy

__all__ = ["available", "get", "parameter_types", "parameters", "register", "resolve"]

_REGISTRY: dict[str, type[Strategy]] = {}
S = TypeVar("S", bound=type[Strategy])


def register(cls: S) -> S:
    """Class decorator: make a strategy available by its ``name`` to :func:`get`."""
    name = cls.name
    params = cls.__dict__.get("__dataclass_params__")  # set by @dataclass on cls itself
    if params is None or not params.frozen:
        raise TypeError(f"strategy {name!r}: decorate with @dataclass(frozen=True, "
                        "kw_only=True) below @register")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"strategy name {name!r} is already taken by "
                         f"{_REGISTRY[name].__qualname__}")
    _REGISTRY[name] = cls
    return cls


def available() -> list[str]:
    """Names of the registered strategies, sorted.

    Examples
    --------
    >>> from workbench import strategies
    >>> {"buy_and_hold", "ma_trend"} <= set(strategies.available())
    True
    """
    return sorted(_REGISTRY)


def _describe_fields(cls: type[Strategy]) -> str:
    parts = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else "required"
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        parts.append(f"{f.name} ({kind}, default {default!r})")
    return ", ".join(parts) if parts else "none"


def parameters(name: str) -> dict[str, Any]:
    """The parameters of a registered strategy and their defaults, in declaration order.

    Raises
    ------
    LookupFailed
        For an unknown name, with the closest valid name.

    Examples
    --------
    >>> parameters("ma_trend")
    {'fast': 20, 'slow': 60, 'max_names': 50}
    """
    return {f.name: f.default for f in dataclasses.fields(_registered(name))}


def parameter_types(name: str) -> dict[str, Any]:
    """The declared type of each parameter of a registered strategy, in declaration order.

    Annotations are resolved (``from __future__ import annotations`` leaves them as text), so
    the dashboard and the command line can build a control or parse a value by type.

    Raises
    ------
    LookupFailed
        For an unknown name, with the closest valid name.

    Examples
    --------
    >>> parameter_types("ma_trend")
    {'fast': <class 'int'>, 'slow': <class 'int'>, 'max_names': <class 'int'>}
    """
    cls = _registered(name)
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


def _registered(name: str) -> type[Strategy]:
    cls = _REGISTRY.get(name)
    if cls is None:
        raise LookupFailed(f"unknown strategy {name!r}; {did_you_mean(str(name), _REGISTRY)}")
    return cls


def get(name: str, **params: Any) -> Strategy:
    """Build a registered strategy by name with keyword parameters.

    Raises
    ------
    LookupFailed
        For an unknown name, with the closest valid name.
    ConfigError
        For an unknown parameter (listing the valid ones) or an invalid value.

    Examples
    --------
    >>> get("ma_trend", fast=10, slow=30).describe()["params"]["slow"]
    30
    """
    cls = _registered(name)
    valid = {f.name for f in dataclasses.fields(cls)}
    if unknown := sorted(set(params) - valid):
        raise ConfigError(f"strategy {name!r} has no parameter {unknown[0]!r}; valid "
                          f"parameters: {_describe_fields(cls)}")
    return cls(**params)


def resolve(strategy: str | Strategy) -> Strategy:
    """Return ``strategy`` itself, or the registered strategy of that name with defaults.

    Raises
    ------
    LookupFailed
        For an unknown name.
    ConfigError
        For an object without a ``target_weights(view)`` method.

    Examples
    --------
    >>> resolve("momentum").params == resolve(get("momentum")).params
    True
    """
    if isinstance(strategy, str):
        return get(strategy)
    if not callable(getattr(strategy, "target_weights", None)):
        raise ConfigError(f"strategy must be a name from workbench.strategies.available() or "
                          f"a Strategy, got {strategy!r}")
    return strategy

