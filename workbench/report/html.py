"""A self-contained HTML page from an executed notebook: opens offline by double-click.

nbconvert's templates and plotly's notebook renderers load require.js or MathJax from
CDNs, so the page is built here instead (no nbconvert exporter, so no ``include_mathjax``
either: the page loads no MathJax at all):

* Markdown cells through nbconvert's mistune filter;
* code hidden; outputs kept: Plotly figures (``application/vnd.plotly.v1+json``, what the
  notebooks display after :func:`workbench.report.setup_notebook`) become a ``<div>`` with
  its JSON and one ``Plotly.newPlot`` call each, tables stay HTML, images are inlined as
  data URIs, text goes into ``<pre>``;
* plotly.js, from the installed plotly package: inlined once in ``<head>`` (``plotlyjs=
  "inline"``, the default: one self-contained file to send to a colleague), or loaded from
  ``../plotly.min.js`` (``plotlyjs="shared"``: one copy per reports folder, beside
  ``index.html``, written by :func:`write_plotly_js`; a page is then about 0.5 MB instead of
  5 MB, but works only inside its reports folder).

A shared page is opened as ``OUT/NAME/NAME.html``, where ``OUT/NAME`` is the report's folder
(a symlink to its published version, :mod:`workbench.report.publish`); the browser resolves
``../plotly.min.js`` against that path, to ``OUT/plotly.min.js``. Opened through the version's
real path (``OUT/.versions/NAME/v-*/NAME.html``, as some file managers do) it tries
``../../../plotly.min.js``, the same file, before it gives up with a message on the page.

The page records JavaScript errors (``window.onerror``, rejected promises,
``console.error``) into ``<pre id="wb-js-errors">`` and, once every figure is drawn, sets
``data-plots-rendered`` on ``<body>`` to the number of figures with an SVG inside, so a
headless browser's ``--dump-dom`` shows both.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.format import format_value
from workbench.report.emit import jsonable, write_text
from workbench.report.figures.theme import FONT_FAMILY

__all__ = [
    "PLOTLYJS_MODES",
    "PLOTLY_FILE",
    "PLOTLY_MIME",
    "check_plotlyjs",
    "notebook_html",
    "page",
    "plotly_js",
    "write_notebook_html",
    "write_plotly_js",
]

PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: How a page gets plotly.js: ``inline`` (in the page) or ``shared`` (``../PLOTLY_FILE``).
PLOTLYJS_MODES: tuple[str, ...] = ("inline", "shared")
#: The shared copy of plotly.js, one per reports folder (beside ``index.html``).
PLOTLY_FILE = "plotly.min.js"
#: Where a shared page looks for it: from ``OUT/NAME/`` (the report's folder, a symlink),
#: then from ``OUT/.versions/NAME/v-*/`` (the same page opened through its real path).
_SHARED_SOURCES = (f"../{PLOTLY_FILE}", f"../../../{PLOTLY_FILE}")
#: Output types in order of preference (the first present in an output is shown).
_PREFERENCE = (PLOTLY_MIME, "text/html", "image/png", "image/jpeg", "image/svg+xml",
               "text/markdown", "text/plain")
_PLOT_CONFIG = {"responsive": True, "displaylogo": False, "typesetMath": False,
                "toImageButtonOptions": {"format": "png", "scale": 2}}
_HIDDEN_TAGS = frozenset({"remove-cell", "remove_cell"})

_CSS = """
:root { color-scheme: light; }
body { font-family: FONTS; color: #262626; background: #fafafa; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
header.wb-head { border-bottom: 1px solid #e5e5e5; margin-bottom: 18px; padding-bottom: 8px; }
header.wb-head .wb-meta { color: #6b6b6b; font-size: 13px; }
h1 { font-size: 26px; margin: 8px 0; } h2 { font-size: 20px; margin-top: 30px; }
h3 { font-size: 16px; } a.anchor-link { display: none; }
table { border-collapse: collapse; border: none; font-size: 13px; margin: 8px 0 16px; }
th, td { padding: 4px 10px; border: none; border-bottom: 1px solid #ececec; text-align: right; }
thead th { border-bottom: 1px solid #bdbdbd; }
table.wb-params td { text-align: left; } table.wb-params code { white-space: pre-wrap; }
th { background: #f6f6f6; font-weight: 600; } td:first-child, th:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 8px 12px; overflow-x: auto; font-size: 12.5px; }
pre.wb-stderr { background: #fff6e5; } pre.wb-error { background: #fdecea; color: #8a1c14; }
.wb-plot { width: 100%; margin: 8px 0 20px; }
.wb-output { overflow-x: auto; }
#wb-js-errors:empty { display: none; }
#wb-js-errors { background: #fdecea; color: #8a1c14; }
""".replace("FONTS", FONT_FAMILY)

# Recorded before plotly.js loads, so that errors in it are caught too.
_ERROR_SCRIPT = """
window.__wbErrors = [];
window.addEventListener("error", function (e) {
  window.__wbErrors.push("Uncaught " + (e.message || e.type));
});
window.addEventListener("unhandledrejection", function (e) {
  window.__wbErrors.push("Unhandled rejection " + String(e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__wbErrors.push("console.error " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
"""

_PLOT_SCRIPT = """
(function () {
  var errors = window.__wbErrors;
  var config = CONFIG;
  var sources = SOURCES;  // where a shared page's plotly.js may be; [] when it is inline
  var divs = Array.prototype.slice.call(document.querySelectorAll("div.wb-plot"));
  function flush() {
    var done = divs.filter(function (d) { return d.querySelector(".main-svg"); }).length;
    document.body.setAttribute("data-plots-rendered", String(done));
    document.body.setAttribute("data-plots-expected", String(divs.length));
    document.getElementById("wb-js-errors").textContent = errors.join("\\n");
  }
  function draw() {
    var jobs = divs.map(function (div) {
      try {
        var spec = JSON.parse(document.getElementById(div.id + "-data").textContent);
        var cfg = Object.assign({}, config, spec.config || {});
        return Plotly.newPlot(div, spec.data || [], spec.layout || {}, cfg);
      } catch (e) {
        errors.push("Uncaught " + String(e));
        return Promise.resolve();
      }
    });
    Promise.all(jobs).catch(function (e) { errors.push("Uncaught " + String(e)); }).then(flush);
  }
  function load(i) {  // the first source came with the page; try the others in turn
    if (window.Plotly || !sources.length) { return draw(); }
    if (i >= sources.length) {
      errors.push("plotly.js not found: this page was written with --plotlyjs shared and " +
                  "loads " + sources[0] + ", the reports folder's copy beside index.html; " +
                  "open the page inside its reports folder, or rebuild it with --plotlyjs " +
                  "inline for a self-contained file");
      return draw();
    }
    var script = document.createElement("script");
    script.src = sources[i];
    script.onload = script.onerror = function () { load(i + 1); };
    document.head.appendChild(script);
  }
  load(1);
})();
"""


def check_plotlyjs(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`PLOTLYJS_MODES`; raise ConfigError if not.

    Examples
    --------
    >>> check_plotlyjs("shared")
    'shared'
    """
    if mode not in PLOTLYJS_MODES:
        raise ConfigError(f"plotlyjs must be one of {', '.join(PLOTLYJS_MODES)}, got {mode!r}; "
                          "'inline' makes one self-contained page, 'shared' one plotly.min.js "
                          "per reports folder that every page loads")
    return mode


@cache
def plotly_js() -> str:
    """The plotly.js bundle of the installed plotly package (about 5 MB)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def write_plotly_js(folder: str | os.PathLike[str]) -> Path:
    """Write the shared ``plotly.min.js`` into the reports folder ``folder``, atomically.

    The file is left alone when it already holds this plotly.js (every shared report of a
    batch calls this); a different one (plotly upgraded) is replaced, and the older pages
    then draw with the newer plotly.js.

    Returns
    -------
    Path
        ``folder/plotly.min.js``.
    """
    path = Path(folder) / PLOTLY_FILE
    bundle = plotly_js().encode("utf-8")
    try:
        same = path.stat().st_size == len(bundle) and path.read_bytes() == bundle
    except OSError:
        same = False
    if not same:
        write_text(path, plotly_js())
    return path


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` or ``<!--`` can end it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _markdown(source: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(source)


def _strip_ansi(text: str) -> str:
    from nbconvert.filters import strip_ansi

    return strip_ansi(text)


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


class _Page:
    """Accumulates the body's HTML and the figures' JSON."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.figures = 0

    def figure(self, spec: Mapping[str, Any]) -> None:
        self.figures += 1
        fid = f"wb-fig-{self.figures}"
        clean = jsonable({k: spec[k] for k in ("data", "layout", "config") if k in spec})
        self.parts.append(f'<div class="wb-plot" id="{fid}"></div>\n'
                          f'<script type="application/json" id="{fid}-data">'
                          f"{_script_json(clean)}</script>")

    def output(self, out: Mapping[str, Any]) -> None:
        kind = out.get("output_type")
        if kind == "stream":
            cls = "wb-stderr" if out.get("name") == "stderr" else "wb-stream"
            self.parts.append(f'<pre class="{cls}">{html.escape(_text(out.get("text", "")))}'
                              "</pre>")
        elif kind == "error":
            trace = _strip_ansi("\n".join(out.get("traceback", [])))
            text = trace or f"{out.get('ename')}: {out.get('evalue')}"
            self.parts.append(f'<pre class="wb-error">{html.escape(text)}</pre>')
        elif kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            mime = next((m for m in _PREFERENCE if m in data), None)
            if mime == PLOTLY_MIME:
                self.figure(data[mime])
            elif mime == "text/html":
                self.parts.append(f'<div class="wb-output">{_text(data[mime])}</div>')
            elif mime in ("image/png", "image/jpeg"):
                payload = _text(data[mime]).replace("\n", "")
                self.parts.append(f'<img alt="figure" src="data:{mime};base64,{payload}">')
            elif mime == "image/svg+xml":
                self.parts.append(f'<div class="wb-output">{_text(data[mime])}</div>')
            elif mime == "text/markdown":
                self.parts.append(_markdown(_text(data[mime])))
            elif mime == "text/plain":
                self.parts.append(f"<pre>{html.escape(_text(data[mime]))}</pre>")


def _parameter_table(parameters: Mapping[str, Any]) -> str:
    if not parameters:
        return ""
    # names as typed (-p NAME VALUE), values formatted as every report table's; None is the
    # notebook's default
    rows = "".join(
        f"<tr><td><code>{html.escape(str(k))}</code></td><td>"
        f"{html.escape('default' if v is None else format_value(str(k), v))}</td></tr>"
        for k, v in parameters.items())
    # collapsed, so that the report's headline comes first
    return (f'<details class="wb-params" style="margin: 0 0 10px;"><summary style="cursor: '
            f'pointer; color: #6b6b6b; font-size: 13px;">Parameters ({len(parameters)})'
            f'</summary><table class="wb-params"><thead><tr><th>parameter</th><th>value</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></details>")


def page(title: str, body: str, *, with_plotly: bool, subtitle: str = "",
         plotlyjs: str = "inline", script: str = "") -> str:
    """A complete HTML document around ``body``.

    Parameters
    ----------
    title, body, subtitle
        The page's title (escaped), its HTML and the line under the title (HTML).
    with_plotly
        Load plotly.js and draw the page's figures (``div.wb-plot``).
    plotlyjs
        ``"inline"``: plotly.js in the page; ``"shared"``: loaded from ``../plotly.min.js``.
    script
        JavaScript run at the end of the body, after the error log exists; its errors are
        recorded there too.
    """
    check_plotlyjs(plotlyjs)
    shared = with_plotly and plotlyjs == "shared"
    if not with_plotly:
        plotly = ""
    elif shared:
        plotly = f'<script src="{html.escape(_SHARED_SOURCES[0])}"></script>\n'
    else:
        plotly = f"<script>{plotly_js()}</script>\n"
    plot_script = ("<script>" + _PLOT_SCRIPT.replace("CONFIG", _script_json(_PLOT_CONFIG))
                   .replace("SOURCES", _script_json(list(_SHARED_SOURCES) if shared else []))
                   + "</script>") if with_plotly else ""
    extra = (f"<script>\ntry {{\n{script}\n}} catch (e) {{\n"
             '  window.__wbErrors.push("Uncaught " + String(e));\n}\n'
             'document.getElementById("wb-js-errors").textContent = '
             'window.__wbErrors.join("\\n");\n</script>\n') if script else ""
    sub = f'<div class="wb-meta">{subtitle}</div>' if subtitle else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
        f"<script>{_ERROR_SCRIPT}</script>\n{plotly}</head>\n<body>\n<main>\n"
        f'<header class="wb-head"><h1>{html.escape(title)}</h1>{sub}</header>\n'
        f"{body}\n<pre id=\"wb-js-errors\"></pre>\n</main>\n{extra}{plot_script}\n"
        "</body>\n</html>\n")


def notebook_html(nb: Any, *, title: str | None = None,
                  parameters: Mapping[str, Any] | None = None,
                  generated: dt.datetime | None = None, plotlyjs: str = "inline") -> str:
    """Render an executed notebook (an ``nbformat`` node or dict) as one HTML document.

    Parameters
    ----------
    nb
        The executed notebook.
    title
        Page title; default the notebook's first Markdown heading.
    parameters
        Shown as a collapsed table under the introduction; default the parameters papermill
        injected (``nb.metadata.papermill.parameters``).
    generated
        Time stamp shown under the title; default now.
    plotlyjs
        ``"inline"`` (default): plotly.js in the page, which then opens anywhere;
        ``"shared"``: the page loads ``../plotly.min.js`` (see :func:`write_plotly_js`).

    Returns
    -------
    str
        The page; plotly.js is included once (or referenced) when the notebook has a
        Plotly output.

    Raises
    ------
    ConfigError
        An unknown ``plotlyjs``.
    """
    check_plotlyjs(plotlyjs)
    cells = nb["cells"]
    if parameters is None:
        parameters = nb.get("metadata", {}).get("papermill", {}).get("parameters", {}) or {}
    body = _Page()
    found_title = None
    params_at = 0  # the parameters go after the introduction, if there is one
    for i, cell in enumerate(cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & _HIDDEN_TAGS:
            continue
        if cell["cell_type"] == "markdown":
            source = _text(cell["source"])
            if found_title is None and source.lstrip().startswith("# "):
                found_title = source.lstrip()[2:].splitlines()[0].strip()
                source = source.lstrip().split("\n", 1)[1] if "\n" in source.lstrip() else ""
                params_at = len(body.parts) + 1 if i == 0 else params_at
            body.parts.append(f'<section class="wb-md">{_markdown(source)}</section>')
        elif cell["cell_type"] == "code" and "remove-output" not in tags:
            for out in cell.get("outputs", []):
                body.output(out)
    body.parts.insert(params_at, _parameter_table(parameters))
    when = (generated or dt.datetime.now().astimezone()).strftime("%Y-%m-%d %H:%M %Z").strip()
    name = title or found_title or "Report"
    return page(name, "\n".join(body.parts), with_plotly=body.figures > 0,
                subtitle=f"generated {html.escape(when)}", plotlyjs=plotlyjs)


def write_notebook_html(nb: Any, path: str | os.PathLike[str], **options: Any) -> str:
    """Write :func:`notebook_html` to ``path`` atomically; return the path as a string.

    With ``plotlyjs="shared"`` the shared ``plotly.min.js`` is written too, one folder above
    the page's (where the page looks for it).
    """
    text = notebook_html(nb, **options)
    if options.get("plotlyjs") == "shared":
        write_plotly_js(Path(os.path.abspath(path)).parent.parent)
    return str(write_text(path, text))
