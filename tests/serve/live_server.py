"""A real uvicorn server on a free loopback port, in a thread of the test process.

The socket is bound first (port 0: the system picks a free one, so two runs never race
for a port) and handed to ``uvicorn.Server``; the server runs the app's lifespan (the
market is warmed, the backtest runner made) before it accepts a request. Leaving the
block stops it, waits for the thread, and checks that the port is free again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from workbench.serve.server import bind

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.contextmanager
def live_server(app, *, start_s: float = 60.0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 while the block runs; yield its base URL."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False,
                                           lifespan="on", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        assert not thread.is_alive(), "the test server did not stop"
        assert port_is_free(port), f"port {port} is still in use after the server stopped"


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:``port`` can be bound (as the next server would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def small_market():
    """16 stocks over 2023 (3 delisted, some suspended and ST days): seconds to build."""
    from workbench.data.synthetic import SyntheticConfig, synthetic_market

    return synthetic_market(SyntheticConfig(n_stocks=16, start="2023-01-03", end="2023-12-29",
                                            seed=7))
