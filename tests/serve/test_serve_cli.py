"""``python -m workbench serve`` as a user starts it: a subprocess on a free port, with a
token file; one log line per request on stderr; Ctrl-C stops it cleanly and frees the port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
from conftest import REPO
from live_server import port_is_free, small_market

from workbench.data.store import save_market
from workbench.errors import ConfigError
from workbench.serve import ServeSettings, read_token
from workbench.serve.server import bind


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory):
    return save_market(small_market(), tmp_path_factory.mktemp("served") / "small")


def test_serve_from_the_command_line(market_dir, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    token.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "serve", "--market", str(market_dir), "--port", "0",
         "--token-file", str(token), "--reports", str(tmp_path / "reports")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        first = proc.stdout.readline()
        match = re.search(r"on (http://127\.0\.0\.1:(\d+)) \(docs: .*/docs\)", first)
        assert match, (first, proc.poll())
        url, port = match.group(1), int(match.group(2))
        deadline = time.monotonic() + 120
        while True:  # the port is bound before the market is warmed: wait for the app
            try:
                if httpx.get(f"{url}/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.2)
        assert httpx.get(f"{url}/v1/market").status_code == 401
        served = httpx.get(f"{url}/v1/market",
                           headers={"Authorization": "Bearer s3cret-token"}).json()
        assert served["summary"]["symbols"] == 16
        assert httpx.get(f"{url}/v1/reports", headers={
            "Authorization": "Bearer s3cret-token"}).json() == {"reports": []}
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert any(re.search(r" INFO GET /v1/market 401 \d+\.\d\dms$", line) for line in lines), err
    assert any(re.search(r" INFO GET /v1/market 200 \d+\.\d\dms$", line) for line in lines), err
    assert port_is_free(port)


def test_read_token_refuses_what_is_not_one_token(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="must hold one token on one line"):
        read_token(empty)
    two = tmp_path / "two"
    two.write_text("one two\n")
    with pytest.raises(ConfigError, match="must hold one token on one line"):
        read_token(two)
    with pytest.raises(ConfigError, match="cannot read the token file"):
        read_token(tmp_path / "missing")
    good = tmp_path / "good"
    good.write_text("  abc123  \n")
    assert read_token(good) == "abc123"


def test_settings_bind_loopback_by_default_and_hide_the_token():
    settings = ServeSettings(token="abc123")
    assert settings.host == "127.0.0.1" and settings.cors_origins == ()
    assert "abc123" not in repr(settings)
    with pytest.raises(ConfigError, match=r"port must be in 0\.\.65535"):
        ServeSettings(port=70_000)
    with pytest.raises(ConfigError, match="scheduler must be a Dask scheduler address"):
        ServeSettings(scheduler="localhost")
    with pytest.raises(ConfigError, match="token must be non-empty"):
        ServeSettings(token=" x ")


def test_a_port_in_use_says_so():
    sock = bind("127.0.0.1", 0)
    try:
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1:"):
            bind("127.0.0.1", sock.getsockname()[1])
    finally:
        sock.close()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_process_outlives_the_server(market_dir, tmp_path, how):
    # backtest workers and the recommendation worker end with the server, however it ends
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "serve", "--market", str(market_dir), "--port", "0",
         "--workers", "2", "--reports", str(tmp_path / "reports")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=tmp_path,
        start_new_session=True)  # its own process group: the workers are found by it
    try:
        url = re.search(r"on (http://127\.0\.0\.1:\d+) ", proc.stdout.readline()).group(1)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        with httpx.Client(base_url=url, timeout=60) as client:  # a busy machine: be patient
            ids = [client.post("/v1/backtests", json={"strategy": "ma_trend"}).json()["id"]
                   for _ in range(2)]
            while any(client.get(f"/v1/backtests/{i}").json()["status"] in ("queued", "running")
                      for i in ids):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert len(_group(proc.pid)) >= 4  # 2 backtest workers, 1 recommender, 1 tracker
    finally:
        proc.send_signal(how)
        proc.wait(timeout=60)
        proc.stdout.close()
    deadline = time.monotonic() + 30
    while (left := _group(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"left running after the server: {left}"


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` but its leader (zombies aside)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pgid:
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == pgid and fields[0] != "Z":
                out.append(int(entry))
    return out
