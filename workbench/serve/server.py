"""Run the service: load the market once, bind the socket, and hand the app to uvicorn."""

from __future__ import annotations

import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn

from workbench.data.store import ensure_default_market, load_market
from workbench.errors import ConfigError
from workbench.serve.app import create_app
from workbench.serve.settings import LOOPBACK, ServeSettings

__all__ = ["LineFormatter", "bind", "serve"]

_log = logging.getLogger("workbench.serve")


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one the system picks).

    Raises
    ------
    ConfigError
        When the address cannot be bound (in use, not this machine's, no permission).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it a keep-alive response waits 40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another "
                          "--port, or --port 0 for a free one") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class LineFormatter(logging.Formatter):
    """``%(asctime)s %(levelname)s %(message)s`` (and a traceback), written directly.

    A line is written for every request, so the line is put together in one f-string and
    the local time's text is kept for the second it is in (``time.strftime`` costs more
    than the rest of the line); the milliseconds are added to it.

    Examples
    --------
    >>> record = logging.makeLogRecord({"msg": "GET /v1/health 200 0.12ms",
    ...                                 "levelname": "INFO", "created": 0.25, "msecs": 250.0})
    >>> LineFormatter().format(record).endswith(",250 INFO GET /v1/health 200 0.12ms")
    True
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self._second = -1
        self._text = ""

    def formatTime(self, record: logging.LogRecord,
                   datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._text = super().formatTime(record, datefmt)[:-4]  # without ",mmm"
            self._second = second
        return f"{self._text},{int(record.msecs):03d}"

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {record.getMessage()}"
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line


def _log_to_stderr() -> None:
    """One line per request on stderr (the ``workbench.serve`` logger), with uvicorn's own
    start and stop messages; nothing else configures logging in the process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    for name in ("workbench.serve", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


def serve(settings: ServeSettings, market: str | os.PathLike[str] | None = None) -> None:
    """Serve ``market`` (a Market folder; None: the synthetic default) until interrupted.

    Parameters
    ----------
    settings
        Host, port, token, limits and workers (:class:`ServeSettings`).
    market
        The Market folder, loaded once; backtest workers load it from there too.

    Raises
    ------
    ConfigError
        A market that cannot be loaded, or an address that cannot be bound.
    """
    _log_to_stderr()
    folder = Path(market) if market is not None else ensure_default_market()
    data = load_market(folder)
    app = create_app(data, settings, market_path=str(folder.absolute()))
    sock = bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    if settings.host != LOOPBACK and settings.token is None:
        _log.warning("listening on %s without --token-file: anyone who can reach this "
                     "machine can call the service", settings.host)
    print(f"workbench serve: {data.name} on http://{host}:{port} (docs: "
          f"http://{host}:{port}/docs); Ctrl-C stops", flush=True)
    # proxy_headers off: nothing reads the client's address, and uvicorn's middleware would
    # rewrite it from X-Forwarded-For on every request
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5, server_header=False,
                            proxy_headers=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has shut down cleanly, then re-raised the signal
        pass
    finally:
        sock.close()
