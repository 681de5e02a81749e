"""The dashboard notebook executed, saved and opened again in JupyterLab in headless Chromium.

``notebooks/explore.ipynb`` is executed with papermill into a temporary folder, as
``workbench report`` and nbval do. The saved notebook must stay under 8 MB (plotly's 5 MB
front end is stored once, in a :class:`workbench.widgets.PlotlyCode` widget, not once per
figure) and its widget state must carry every figure's data.

Then a JupyterLab server (its own settings, data and runtime folders; no network) shows it
in headless Chromium, driven over the DevTools protocol (``websocket-client``, which
jupyter_server depends on). The kernel JupyterLab starts never ran the notebook, so every
figure on screen is drawn from the saved state. Each figure must draw its traces across the
notebook's width, the metrics table must show its headers, no label may be cut off, and the
browser console must stay free of errors. A second page runs the committed notebook live,
checks that opening it did not mark it modified (its kernelspec and ``language_info`` are
what JupyterLab writes), moves a control and watches the figures update in place.

JupyterLab shows saved widgets only in trusted notebooks (the test signs the executed copy,
as *Trust Notebook* or ``jupyter trust`` does) and only once a kernel is running: with
"No Kernel" ipywidgets 8.1 does not restore saved state (jupyter-widgets/ipywidgets#3773).

``pytest --screenshots DIR`` (or ``WORKBENCH_SCREENSHOTS=DIR``) writes what the browser showed
as PNG files into ``DIR/dashboard/``.
Under CI (``CI=true``) a missing browser fails the tests; elsewhere they are skipped.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import papermill
import plotly
import pytest
from conftest import INTERNALS
from jupyter_client.kernelspec import KernelSpecManager
from nbformat.sign import NotebookNotary

from workbench import widgets

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPLORE = NOTEBOOKS / "explore.ipynb"
MAX_BYTES = 8_000_000
STATE = "application/vnd.jupyter.widget-state+json"
SLOW = 240.0  # seconds allowed for a page, a kernel or a run on a busy machine


# -- the executed notebook -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("explore") / "explore.ipynb"
    papermill.execute_notebook(str(EXPLORE), str(out), cwd=str(NOTEBOOKS),
                               kernel_name="python3", progress_bar=False)
    return out


def saved_models(path: Path) -> dict[str, dict[str, Any]]:
    return nbformat.read(path, as_version=4).metadata["widgets"][STATE]["state"]


def test_the_executed_dashboard_is_small_and_saves_every_figure(executed: Path):
    size = executed.stat().st_size
    assert size <= MAX_BYTES, f"the executed dashboard is {size:,} bytes"
    models = saved_models(executed)
    code = [m for m in models.values()
            if m["state"].get("_anywidget_id") == "workbench.widgets.PlotlyCode"]
    assert len(code) == 1, "plotly's front end is stored once"
    bundle = code[0]["state"]["bundle"]
    plotly_bundle = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    assert bundle == plotly_bundle.read_text(encoding="utf-8") and len(bundle) > 1_000_000
    figures = [m["state"] for m in models.values()
               if m["state"].get("_anywidget_id") == "workbench.widgets.SharedFigureWidget"]
    assert len(figures) == len(widgets.FIGURES)
    # every anywidget's own front-end code is a loader of about 1 KB, not plotly.js
    assert all(len(m["state"]["_esm"]) < 5_000 for m in models.values() if "_esm" in m["state"])
    traces = sorted(tuple(t["type"] for t in f["_widget_data"]) for f in figures)
    assert ("scatter", "scatter") in traces and ("table",) in traces
    assert any("candlestick" in t for t in traces)
    table = next(f for f in figures if [t["type"] for t in f["_widget_data"]] == ["table"])
    headers = table["_widget_data"][0]["header"]["values"]
    assert headers[0] == "Strategy" and len(headers) > 5 and all(headers)
    assert all(f["_widget_layout"].get("height") for f in figures)


def minor(language_info: dict[str, Any]) -> dict[str, Any]:
    """``language_info`` with the Python version cut to major.minor."""
    return language_info | {"version": ".".join(language_info["version"].split(".")[:2])}


def test_notebooks_carry_the_kernelspec_and_language_jupyterlab_writes(executed: Path):
    """JupyterLab rewrites both from the running kernel; when they already match, opening a
    notebook does not mark it modified (the live browser test checks that too). The
    committed ``language_info`` names the project environment's Python to the patch level;
    only major.minor is held against the Python running the tests."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    kernelspec = {"display_name": spec.display_name, "language": spec.language,
                  "name": "python3"}
    language = nbformat.read(executed, as_version=4).metadata["language_info"]  # the kernel's
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        meta = nbformat.read(path, as_version=4).metadata
        assert meta["kernelspec"] == kernelspec, path.name
        assert minor(meta["language_info"]) == minor(language), (
            f"{path.name}: language_info {meta['language_info']} differs from the kernel's "
            f"{language}; JupyterLab would mark the notebook modified on opening")


# -- a browser driven over the DevTools protocol --------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(what: str, check: Any, timeout: float = SLOW, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Chromium:
    """Headless Chromium with every host but 127.0.0.1 unresolvable, one page per :meth:`page`."""

    def __init__(self, exe: str, profile: Path, screenshots: Path | None = None) -> None:
        import websocket  # jupyter_server's dependency; only the browser tests need it

        self.screenshots = screenshots

        profile.mkdir(parents=True)
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        wait("Chromium's DevTools port",
             lambda: port_file.exists() and len(port_file.read_text().split()) >= 2, 60)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=SLOW,
                                              suppress_origin=True)
        self.calls = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.calls += 1
        message: dict[str, Any] = {"id": self.calls, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.calls:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def page(self, width: int = 1400, height: int = 1000) -> Page:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        return page

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self.proc.wait(30)
        except Exception:  # already gone, or stuck: make sure it ends
            self.proc.kill()
            self.proc.wait(30)
        self.ws.close()


class Page:
    def __init__(self, chromium: Chromium, session: str) -> None:
        self.chromium, self.session = chromium, session

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.chromium.call(method, session=self.session, **params)

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression (promises awaited)."""
        out = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in out:
            raise RuntimeError(f"{expression[:80]}…: {out['exceptionDetails']}")
        return out["result"].get("value")

    def until(self, what: str, expression: str, timeout: float = SLOW) -> Any:
        return wait(what, lambda: self.js(expression), timeout)

    def console_errors(self) -> list[str]:
        """Errors the page logged: console.error, uncaught exceptions, failed loads."""
        self.js("0")  # collect what arrived
        out = []
        for event in self.chromium.events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", "")))
                                    for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                out.append(details.get("exception", {}).get("description", details["text"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                out.append(params["entry"]["text"])
        return out

    def screenshot(self, name: str) -> None:
        folder = self.chromium.screenshots
        if folder:
            folder.mkdir(parents=True, exist_ok=True)
            data = self.call("Page.captureScreenshot", format="png")["data"]
            (folder / f"{name}.png").write_bytes(base64.b64decode(data))


class JupyterLab:
    """A JupyterLab server on a free port, serving ``root``, with all its state in ``home``."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.port, self.token = root, free_port(), "workbench-test"
        env = dict(os.environ)
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                         ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"),
                         ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
            env[var] = str(home / sub)
        self.data_dir = home / "data"
        self.data_dir.mkdir(parents=True)
        news = home / "settings" / "@jupyterlab" / "apputils-extension"  # no news pop-up
        news.mkdir(parents=True)
        (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True"]
        if os.getuid() == 0:
            cmd.append("--allow-root")
        self.log = home / "jupyterlab.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait("JupyterLab to answer", self._up, SLOW)

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited: {self.log.read_text()[-2000:]}")
        try:
            return bool(self.api("status"))
        except OSError:
            return False

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(self.url(f"api/{path}"), method=method)
        with urllib.request.urlopen(request, timeout=30) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def trust(self, path: Path) -> None:
        """Sign the notebook for this server, as *Trust Notebook* would."""
        nb = nbformat.read(path, as_version=4)
        NotebookNotary(data_dir=str(self.data_dir)).sign(nb)
        nbformat.write(nb, path)

    def close(self) -> None:
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


@pytest.fixture(scope="module")
def chromium(browser: str, tmp_path_factory: pytest.TempPathFactory,
             request: pytest.FixtureRequest) -> Iterator[Chromium]:
    folder = request.config.getoption("--screenshots") or os.environ.get("WORKBENCH_SCREENSHOTS")
    shots = Path(folder).resolve() / "dashboard" if folder else None
    c = Chromium(browser, tmp_path_factory.mktemp("chromium") / "profile", shots)
    yield c
    c.close()


@pytest.fixture(scope="module")
def lab(browser: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    server = JupyterLab(tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-home"))
    yield server
    server.close()


# -- what the page shows ---------------------------------------------------------------------
NOTEBOOK = "window.jupyterapp.shell.currentWidget"
FIGURES = f"""(() => {{
  const plots = [...{NOTEBOOK}.node.querySelectorAll('.js-plotly-plot')];
  return plots.filter(g => g._fullLayout && g._fullData).map(g => ({{
    width: g._fullLayout.width, height: g._fullLayout.height,
    room: g.closest('.jp-OutputArea-output').getBoundingClientRect().width,
    types: g._fullData.map(t => t.type),
    drawn: g.querySelectorAll('.main-svg g.trace, .main-svg g.table').length,
    y: g.data[0] && g.data[0].y ? Array.from(g.data[0].y).slice(-3).map(Number) : [],
    headers: [...g.querySelectorAll('.y-column')].map(
      c => (c.querySelector('.column-block#header') || {{}}).textContent || ''),
    cells: [...g.querySelectorAll('.column-cell')].map(cell => cell.textContent),
    cut: [...g.querySelectorAll('.column-cell')].filter(cell => {{
      const box = cell.querySelector('.cell-rect'), text = cell.querySelector('.cell-text');
      return box && text && text.getBoundingClientRect().width > box.getBoundingClientRect().width;
    }}).map(cell => cell.textContent),
  }}));
}})()"""
# a figure's title, axis titles and legend entries that reach outside the figure (the
# drawdown's y-axis title once showed as "elow peak")
CUT_TITLES = f"""[...{NOTEBOOK}.node.querySelectorAll('.js-plotly-plot')].flatMap(g => {{
  const box = g.getBoundingClientRect();
  return [...g.querySelectorAll('.gtitle, .g-xtitle text, .g-ytitle text, .legendtext')]
    .filter(t => t.textContent.trim()).filter(t => {{
      const r = t.getBoundingClientRect();
      return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
        || r.bottom > box.bottom + 1;
    }}).map(t => t.textContent.trim());
}})"""
# text in the dashboard's controls that does not fit its box
CUT_LABELS = f"""[...{NOTEBOOK}.node.querySelectorAll(
    '.jp-OutputArea-output :is(.widget-label, .widget-label-basic, .widget-readout, '
    + '.widget-toggle-button, .widget-html-content)')]
  .filter(el => el.offsetParent && el.scrollWidth > el.clientWidth + 1)
  .map(el => el.textContent.trim())"""
WIDGET_ERRORS = f"""[...{NOTEBOOK}.node.querySelectorAll('.jp-OutputArea-output')]
  .map(o => o.innerText).filter(t => /Error displaying widget|model not found/.test(t))"""
KERNEL_READY = f"""(async () => {{
  const panel = {NOTEBOOK};
  if (!panel || !panel.sessionContext) return false;
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session?.kernel;
  return !!kernel && !!(await kernel.info);
}})()"""


def open_notebook(page: Page, lab: JupyterLab, name: str) -> None:
    page.call("Page.navigate", url=lab.url(f"lab/tree/{name}"))
    page.until(f"JupyterLab to open {name}",
               f"!!window.jupyterapp && {NOTEBOOK}?.context?.path === {json.dumps(name)}")
    page.until("the notebook's kernel", KERNEL_READY)


def figures_drawn(page: Page, count: int) -> list[dict[str, Any]]:
    def drawn() -> list[dict[str, Any]] | None:
        figures = page.js(FIGURES)
        settled = len(figures) == count and all(
            f["drawn"] and abs(f["width"] - f["room"]) < 0.05 * f["room"] for f in figures)
        return figures if settled else None

    try:
        return wait(f"{count} figures drawn across the notebook", drawn)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; the page shows {page.js(FIGURES)}; console: "
                             f"{page.console_errors()}") from exc


def scroll_to(page: Page, selector: str, index: int = 0) -> None:
    """Scroll the element ``index`` of those matching ``selector`` into view."""
    page.js(f"[...{NOTEBOOK}.node.querySelectorAll({json.dumps(selector)})].at({index})"
            "?.scrollIntoView()")
    time.sleep(0.5)


def check_dashboard(page: Page, figures: list[dict[str, Any]]) -> None:
    types = [f["types"] for f in figures]
    assert types[0] == ["scatter", "scatter"] and "candlestick" in types[2], types
    assert types[3] == ["table"], types
    table = figures[3]
    assert table["headers"][0] == "Strategy" and len(table["headers"]) > 5
    assert all(table["headers"]), f"the metrics table lacks headers: {table['headers']}"
    assert table["cut"] == [], f"cut off in the metrics table: {table['cut']}"
    shown = [text for text in table["cells"] if text.strip()]
    assert len(shown) > len(table["headers"]), "the metrics table shows no values"
    internals = [(what, text) for text in shown for what, pattern in INTERNALS.items()
                 if pattern.search(text)]
    assert internals == [], f"the metrics table shows internals: {internals}"
    assert all(f["height"] >= 150 for f in figures), [f["height"] for f in figures]
    assert page.js(CUT_LABELS) == []
    assert page.js(CUT_TITLES) == [], "titles cut off at a figure's edge"
    assert page.js(WIDGET_ERRORS) == []


def test_the_saved_dashboard_draws_in_jupyterlab_from_its_saved_state(
        executed: Path, lab: JupyterLab, chromium: Chromium):
    shutil.copy(executed, lab.root / "saved.ipynb")
    lab.trust(lab.root / "saved.ipynb")
    page = chromium.page()
    open_notebook(page, lab, "saved.ipynb")
    figures = figures_drawn(page, len(widgets.FIGURES))
    check_dashboard(page, figures)
    scroll_to(page, ".jp-OutputArea-output .widget-vbox")
    page.screenshot("dashboard-saved-top")
    scroll_to(page, ".js-plotly-plot", 1)
    page.screenshot("dashboard-saved-drawdown")
    scroll_to(page, ".js-plotly-plot", 2)
    page.screenshot("dashboard-saved-candles")
    scroll_to(page, ".js-plotly-plot", -1)
    page.screenshot("dashboard-saved-metrics")
    assert page.console_errors() == []


def test_the_live_dashboard_opens_unmodified_and_updates_in_place(lab: JupyterLab,
                                                                 chromium: Chromium):
    shutil.copy(EXPLORE, lab.root / "live.ipynb")
    page = chromium.page()
    open_notebook(page, lab, "live.ipynb")
    time.sleep(2)  # JupyterLab writes the kernel's spec and language into the model
    committed = nbformat.read(EXPLORE, as_version=4).metadata["language_info"]["version"]
    running = page.js(f"(async () => (await {NOTEBOOK}.sessionContext.session.kernel.info)"
                      ".language_info.version)()")
    # a Python of another patch level rewrites language_info.version, and rightly so
    assert page.js(f"{NOTEBOOK}.context.model.dirty") is (running != committed), (
        "opening the committed notebook marked it modified: "
        + json.dumps(page.js(f"{NOTEBOOK}.context.model.toJSON().metadata")))
    page.js("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    before = figures_drawn(page, len(widgets.FIGURES))
    check_dashboard(page, before)
    page.js(f"""(async () => {{
      const app = window.jupyterapp, notebook = {NOTEBOOK}.content;
      notebook.activeCellIndex = notebook.widgets.length - 1;
      await app.commands.execute('notebook:insert-cell-below');
      notebook.activeCell.model.sharedModel.setSource('dash.param_controls["fast"].value = 10');
      await app.commands.execute('notebook:run-cell');
    }})()""")
    status = (f"[...{NOTEBOOK}.node.querySelectorAll('.widget-html-content')]"
              ".some(s => s.textContent.includes('fast=10,'))")
    page.until("the re-run's status line", status)
    after = wait("the equity curve to change",
                 lambda: (f := page.js(FIGURES)) and f[0]["y"] != before[0]["y"] and f)
    check_dashboard(page, figures_drawn(page, len(widgets.FIGURES)))
    assert after[0]["types"] == before[0]["types"]
    # the figures follow the notebook's width: hide the file browser and they widen
    page.js("window.jupyterapp.commands.execute('application:toggle-left-area')")
    wider = figures_drawn(page, len(widgets.FIGURES))
    assert all(w["width"] > b["width"] + 100 for w, b in zip(wider, before, strict=True))
    check_dashboard(page, wider)
    scroll_to(page, ".jp-OutputArea-output .widget-vbox")
    page.screenshot("dashboard-live-top")
    scroll_to(page, ".js-plotly-plot", 1)
    page.screenshot("dashboard-live-drawdown")
    assert page.console_errors() == []
