"""How ``workbench serve`` runs: one frozen, validated configuration, and the token file."""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from workbench.checks import real_number, whole_number
from workbench.errors import ConfigError
from workbench.machine import usable_cores

__all__ = ["DEFAULT_RECOMMENDATION_WORKERS", "LOOPBACK", "ServeSettings", "read_token"]

#: The default host: only this machine can connect.
LOOPBACK = "127.0.0.1"


#: Recommendation worker processes by default: one per core, at most 4 (each holds the
#: market in memory), so that concurrent recommendations are computed in parallel.
DEFAULT_RECOMMENDATION_WORKERS = min(usable_cores(), 4)

_log = logging.getLogger("workbench.serve")


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    """What the service allows and where it runs; every limit has a safe default.

    Parameters
    ----------
    host, port
        Where to listen. The default host is the loopback interface, so nothing outside
        this machine can connect; ``0.0.0.0`` listens everywhere (set ``token`` then).
    token
        The bearer token every route but ``/v1/health`` requires (compared in constant
        time); None: no token. Read it from a file with :func:`read_token`; it is never
        shown in ``repr``.
    workers
        Backtests run at once: worker processes of the local pool, or jobs in flight on a
        Dask cluster (``scheduler``).
    max_queued
        Backtests that may wait beyond the running ones; one more is refused (429).
    scheduler
        A Dask scheduler address (``tcp://host:8786``): backtests run on that cluster,
        through :mod:`workbench.research.cluster`, the client code of parameter sweeps.
        None: a local pool of ``workers`` processes.
    reports_dir
        The reports folder ``/v1/reports`` serves (the only folder files are read from);
        None: :func:`workbench.report.runner.default_reports_dir`.
    max_body_bytes
        Largest request body, bytes; a larger one is refused (413) before it is read.
    max_batch
        Most orders in one ``check-batch`` request (422 beyond).
    max_sessions
        Most risk sessions held at once (429 beyond: delete one first).
    keep_jobs
        Finished backtests kept for ``GET /v1/backtests/{id}``; older ones are dropped
        (404).
    cors_origins
        Origins allowed to call the service from a browser; empty (default): CORS off.
    recommendation_cache
        Recommendation answers kept, by query (least recently used dropped); 0: none.
        The market does not change while it is served and ``recommend`` reads nothing
        else, so a query asked again has the same answer: it is sent again without
        computing it (see :mod:`workbench.serve.app`).
    recommendation_workers
        Worker processes computing recommendations, each holding the market (see
        :mod:`workbench.serve.recommenders`): concurrent recommendations are computed
        in parallel, one per worker. Default :data:`DEFAULT_RECOMMENDATION_WORKERS` (one
        per core, at most 4); 0: computed in the server's process.
    inline_budget_ms
        In the server's process (no workers, or none left), a recommendation runs on the
        event loop when the last one of its kind took at most this much CPU time, in
        milliseconds, and in the thread pool otherwise (see
        :mod:`workbench.serve.offload`); 0: always in the thread pool.

    Examples
    --------
    >>> ServeSettings().host, ServeSettings(token="s3cret", recommendation_workers=2)
    ('127.0.0.1', ServeSettings(host='127.0.0.1', port=8000, workers=1, max_queued=8, \
scheduler=None, reports_dir=None, max_body_bytes=2097152, max_batch=10000, max_sessions=256, \
keep_jobs=100, cors_origins=(), recommendation_cache=1024, recommendation_workers=2, \
inline_budget_ms=2.0))
    >>> ServeSettings(max_batch=0)
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: max_batch must be a whole number >= 1, got 0; orders per \
check-batch request, e.g. 10000
    """

    host: str = LOOPBACK
    port: int = 8000
    token: str | None = field(default=None, repr=False)
    workers: int = 1
    max_queued: int = 8
    scheduler: str | None = None
    reports_dir: Path | None = None
    max_body_bytes: int = 2 * 1024 * 1024
    max_batch: int = 10_000
    max_sessions: int = 256
    keep_jobs: int = 100
    cors_origins: tuple[str, ...] = ()
    recommendation_cache: int = 1024
    recommendation_workers: int = DEFAULT_RECOMMENDATION_WORKERS
    inline_budget_ms: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"host must be an address such as {LOOPBACK!r}, got {self.host!r}")
        port = whole_number(self.port, "port", minimum=0, hint="e.g. 8000; 0 picks a free one")
        if port > 65_535:
            raise ConfigError(f"port must be in 0..65535, got {port}")
        hints = {"workers": "backtests at once, e.g. 1 on a 2-core machine",
                 "max_body_bytes": "e.g. 2097152 (2 MiB)",
                 "max_batch": "orders per check-batch request, e.g. 10000",
                 "max_sessions": "risk sessions held at once, e.g. 256",
                 "keep_jobs": "finished backtests kept, e.g. 100"}
        for name, hint in hints.items():
            whole_number(getattr(self, name), name, hint=hint)
        whole_number(self.max_queued, "max_queued", minimum=0,
                     hint="backtests waiting beyond the running ones, e.g. 8")
        whole_number(self.recommendation_cache, "recommendation_cache", minimum=0,
                     hint="answers kept, e.g. 1024; 0 keeps none")
        whole_number(self.recommendation_workers, "recommendation_workers", minimum=0,
                     hint="processes computing recommendations, e.g. 2; 0 computes them in "
                     "the server's process")
        real_number(self.inline_budget_ms, "inline_budget_ms", minimum=0.0, maximum=50.0,
                    kind="CPU time in milliseconds",
                    hint="e.g. 2.0; 0 runs every recommendation in the thread pool")
        if self.token is not None and (not isinstance(self.token, str) or not self.token
                                       or self.token != self.token.strip()):
            raise ConfigError("token must be non-empty text without surrounding whitespace; "
                              "put it alone in the token file")
        if self.scheduler is not None and (not isinstance(self.scheduler, str)
                                           or "://" not in self.scheduler):
            raise ConfigError(f"scheduler must be a Dask scheduler address such as "
                              f"'tcp://127.0.0.1:8786', got {self.scheduler!r}")
        if self.reports_dir is not None:
            object.__setattr__(self, "reports_dir", Path(self.reports_dir))
        origins = tuple(self.cors_origins)
        if bad := [o for o in origins if not isinstance(o, str) or "://" not in o][:1]:
            raise ConfigError(f"CORS origin {bad[0]!r} must be an origin such as "
                              "'https://dash.example.com'")
        object.__setattr__(self, "cors_origins", origins)


def read_token(path: str | os.PathLike[str]) -> str:
    """The bearer token in the file at ``path`` (its only line, surrounding whitespace
    stripped).

    A file other users can read is served anyway, with a warning in the log: anyone who can
    read it can call the service.

    Raises
    ------
    ConfigError
        When the file cannot be read, is empty, or holds more than one line.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8").strip()
        mode = file.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the token file {file}: {exc}; create it with e.g. "
                          f"`python -c 'import secrets; print(secrets.token_urlsafe(32))' > "
                          f"{file}` and `chmod 600 {file}`") from None
    if not text or any(c.isspace() for c in text):
        raise ConfigError(f"token file {file} must hold one token on one line (no spaces); "
                          "e.g. the output of `python -c 'import secrets; "
                          "print(secrets.token_urlsafe(32))'`")
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        _log.warning("token file %s is readable by other users; chmod 600 it", file)
    return text
