"""Run one report notebook: check its parameters, execute it with papermill, write the
executed notebook, a self-contained HTML page and its metrics.

:func:`run_report` does, in order:

1. find the notebook (a name in ``notebooks/`` or a path);
2. read its ``parameters`` cell with ``papermill.inspect_notebook``; reject unknown keys,
   values of the wrong type and values :class:`~workbench.report.ReportParameters` (the
   class every report notebook hands its parameters to) refuses (an unknown strategy, an
   end before the start, a negative capital, ...): all before a kernel starts;
3. check that the ``python3`` kernel runs this very interpreter;
4. take the report folder's lock (a second run on the same folder is refused, or waits),
   repair what a killed run left, and refuse an output folder holding other files;
5. execute into a new version folder (papermill, kernel ``python3``), beside the published
   one in ``OUT/../.versions/NAME/``;
6. on success, publish that version whole with one atomic rename
   (:mod:`workbench.report.publish`); on failure publish the last good report's files plus
   ``NAME.failed.ipynb``, ``NAME.failed.json`` and ``NAME.failed.log``, the same way.

Output folder layout (one folder per report; ``OUT`` is a symlink to its current version)::

    OUT/NAME.html         the page: opens offline by double-click
    OUT/NAME.ipynb        the executed notebook
    OUT/metrics.json      what the notebook passed to report.emit_metrics
    OUT/report.json       name, notebook, parameters, time stamp, duration and metrics
    OUT/NAME.failed.ipynb the last failed run, when it failed after the last good one
    OUT/NAME.failed.json  when and why it failed; NAME.failed.log the kernel's own log
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, LookupFailed, ReportFailed, did_you_mean
from workbench.report.emit import jsonable, read_metrics
from workbench.report.html import check_plotlyjs, notebook_html, write_plotly_js
from workbench.report.parameters import ReportParameters
from workbench.report.publish import ReportFolder

__all__ = [
    "KERNEL_NAME",
    "RESERVED_PARAMETERS",
    "ReportRun",
    "check_kernel",
    "check_report_name",
    "declared_parameters",
    "default_reports_dir",
    "find_notebook",
    "kernel_python",
    "notebooks_dir",
    "prepare_parameters",
    "run_report",
]

#: The kernel every report runs on; it must resolve to this interpreter (``check_kernel``).
KERNEL_NAME = "python3"
#: Parameters the runner sets itself; a user may not.
RESERVED_PARAMETERS: frozenset[str] = frozenset({"metrics_path"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, kw_only=True)
class ReportRun:
    """A finished report: where its files are and what it measured."""

    name: str
    notebook: Path
    out_dir: Path
    html: Path
    ipynb: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0


# -- locating ---------------------------------------------------------------------------------
def notebooks_dir() -> Path:
    """The repository's ``notebooks/`` folder."""
    return _REPO / "notebooks"


def default_reports_dir() -> Path:
    """Where reports go by default: ``$WORKBENCH_REPORTS_DIR`` or the repository's
    ``reports/``."""
    env = os.environ.get("WORKBENCH_REPORTS_DIR")
    return Path(env) if env else _REPO / "reports"


def find_notebook(notebook: str | os.PathLike[str], base: Path | None = None) -> Path:
    """Resolve a report notebook: a path (absolute, or relative to ``base`` or the current
    folder) or a name in :func:`notebooks_dir` with or without ``.ipynb``.

    Raises
    ------
    LookupFailed
        When there is no such notebook; the message lists the bundled ones.
    """
    text = str(notebook)
    candidates = [Path(text)]
    if base is not None and not Path(text).is_absolute():
        candidates.insert(0, base / text)
    stem = text[:-6] if text.endswith(".ipynb") else text
    candidates.append(notebooks_dir() / f"{stem}.ipynb")
    for path in candidates:
        if path.is_file() and path.suffix == ".ipynb":
            return path.resolve()
    bundled = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
    raise LookupFailed(f"no report notebook {text!r}; {did_you_mean(stem, bundled)} "
                       "(or give a path to an .ipynb file)")


def declared_parameters(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The notebook's parameters and their default values, from its ``parameters`` cell.

    Raises
    ------
    ConfigError
        When the notebook has no cell tagged ``parameters`` or a default is not a literal.
    """
    import papermill

    declared = papermill.inspect_notebook(str(path))
    if not declared:
        raise ConfigError(f"{path}: no cell tagged 'parameters'; a report notebook declares its "
                          "parameters as literals in one cell with that tag")
    out = {}
    for name, info in declared.items():
        try:
            out[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            raise ConfigError(f"{path}: parameter {name} = {info['default']} is not a literal; "
                              "parameters cells hold literals only") from None
    return out


# -- parameters -------------------------------------------------------------------------------
def _parse_text(text: str) -> Any:
    """A command-line or TOML string as JSON, else a Python literal, else the string."""
    if text in ("None", "null"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _coerce(name: str, value: Any, default: Any) -> Any:
    """``value`` parsed from text where the default is not text, then type-checked."""
    looks_parsed = value.lstrip()[:1] in ("[", "{") or value in ("None", "null") if isinstance(
        value, str) else False
    if isinstance(value, str) and not isinstance(default, str) and (
            default is not None or looks_parsed):
        value = _parse_text(value)
    if default is None or value is None:
        return value
    kinds: tuple[type, ...]
    if isinstance(default, bool):
        kinds, what = (bool,), "True or False"
    elif isinstance(default, (int, float)):
        kinds, what = (int, float), "a number"
        if isinstance(value, bool):
            kinds = ()
    elif isinstance(default, str):
        kinds, what = (str,), "a string"
    elif isinstance(default, dict):
        kinds, what = (dict,), "a mapping such as {\"key\": 1}"
    elif isinstance(default, (list, tuple)):
        kinds, what = (list, tuple), "a list such as [\"a\", \"b\"]"
    else:
        return value
    if not isinstance(value, kinds):
        raise ConfigError(f"parameter {name} must be {what} (its default is {default!r}), got "
                          f"{value!r}")
    if isinstance(default, float) and isinstance(value, int):
        value = float(value)
    return value


def prepare_parameters(path: str | os.PathLike[str], values: Mapping[str, Any] | None = None
                       ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check ``values`` against the notebook's parameters; return (overrides, effective).

    ``overrides`` are the given values, parsed (strings from a command line become numbers,
    lists or mappings where the default is one) and with relative ``market_path`` made
    absolute; ``effective`` is the defaults updated with them. The effective values are
    checked by :meth:`ReportParameters.from_mapping`, as the notebook itself will.

    Raises
    ------
    ConfigError
        An unknown or reserved key, a value of the wrong type or one
        :class:`~workbench.report.ReportParameters` refuses (the message names the notebook,
        the parameter and how to fix it).
    LookupFailed
        An unknown strategy.
    DataError
        A ``market_path`` that is not a folder.
    """
    declared = declared_parameters(path)
    given = dict(values or {})
    for key in given:
        if key in RESERVED_PARAMETERS:
            raise ConfigError(f"parameter {key} is set by the runner; leave it out")
        if key not in declared:
            public = [k for k in declared if k not in RESERVED_PARAMETERS]
            raise ConfigError(f"{Path(path).name} has no parameter {key!r}; "
                              f"{did_you_mean(key, public)}")
    overrides = {k: _coerce(k, v, declared[k]) for k, v in given.items()}
    for key in ("params", "risk"):
        if isinstance(overrides.get(key), str):
            parsed = _parse_text(overrides[key])
            if not isinstance(parsed, dict):
                raise ConfigError(f"parameter {key} must be a JSON object or dict literal, got "
                                  f"{overrides[key]!r}")
            overrides[key] = parsed
    if isinstance(overrides.get("market_path"), str):
        overrides["market_path"] = str(Path(overrides["market_path"]).expanduser().absolute())
    effective = {k: v for k, v in declared.items() if k not in RESERVED_PARAMETERS} | overrides
    ReportParameters.from_mapping(effective, source=Path(path).name)
    return overrides, effective


# -- the kernel -------------------------------------------------------------------------------
def kernel_python(kernel_name: str = KERNEL_NAME) -> str:
    """The interpreter ``kernel_name`` starts, as jupyter_client resolves it.

    A kernelspec whose command is ``python`` (ipykernel's own, as installed into a
    virtual environment) runs the interpreter that starts the kernel: ``sys.executable``.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ConfigError(f"no Jupyter kernel {kernel_name!r}; install one for this "
                          f"environment with `{sys.executable} -m ipykernel install "
                          "--sys-prefix`") from None
    exe = spec.argv[0]
    major, minor = sys.version_info[:2]
    if exe in ("python", f"python{major}", f"python{major}.{minor}"):
        return sys.executable
    return shutil.which(exe) or exe


def check_kernel(kernel_name: str = KERNEL_NAME) -> str:
    """Raise ConfigError unless ``kernel_name`` runs this interpreter; return its path."""
    exe = kernel_python(kernel_name)
    if os.path.abspath(exe) != os.path.abspath(sys.executable):
        raise ConfigError(
            f"Jupyter kernel {kernel_name!r} runs {exe}, not this environment's "
            f"{sys.executable}; reports must run on the project's environment. Install its "
            f"kernel with `{sys.executable} -m ipykernel install --sys-prefix` (and set "
            "JUPYTER_PREFER_ENV_PATH=1 if a user-level kernel shadows it)")
    return exe


# -- running ----------------------------------------------------------------------------------
def check_report_name(name: str) -> str:
    """Return ``name`` if it can name a report's folder and files; raise ConfigError if not.

    Examples
    --------
    >>> check_report_name("backtest_ma_trend")
    'backtest_ma_trend'
    """
    if not _NAME.match(name):
        raise ConfigError(f"report name {name!r} must be letters, digits, '_', '-' or '.', "
                          "starting with a letter or digit; e.g. 'backtest_ma_trend'")
    if name.endswith(".failed"):  # NAME.failed.* are the records of a failed run
        raise ConfigError(f"report name {name!r} may not end in '.failed', which marks the "
                          "files of a failed run; e.g. 'backtest_ma_trend'")
    return name


def _logged_kernel_manager(log: Path) -> type:
    """An AsyncKernelManager whose kernel process writes its stderr to ``log``.

    The kernel's own log lines (start-up notices, shutdown interrupts) then stay out of a
    batch's output; a failed report keeps them as ``NAME.failed.log``.
    """
    from jupyter_client.manager import AsyncKernelManager

    class LoggedKernelManager(AsyncKernelManager):
        # jupyter_client types AsyncKernelManager.start_kernel with KernelManager's sync
        # signature; at runtime it is a coroutine function, as here.
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            with open(log, "ab") as fh:  # the kernel keeps its own copy of the handle
                kw.setdefault("stderr", fh)
                await super().start_kernel(**kw)

    return LoggedKernelManager


def _finish(tmp: Path, name: str, path: Path, overrides: dict[str, Any],
            effective: dict[str, Any], started: dt.datetime, t0: float,
            plotlyjs: str = "inline") -> dict[str, Any]:
    """Write the page, metrics.json and report.json beside the executed notebook in ``tmp``."""
    import nbformat

    nb = nbformat.read(tmp / f"{name}.ipynb", as_version=4)
    metrics = read_metrics(tmp / "metrics.json")
    page = notebook_html(nb, parameters=effective, generated=started, plotlyjs=plotlyjs)
    (tmp / f"{name}.html").write_text(page, encoding="utf-8")
    record = {"name": name, "notebook": path.name, "parameters": jsonable(effective),
              "overrides": jsonable(overrides),
              "generated": started.isoformat(timespec="seconds"),
              "elapsed_s": round(time.perf_counter() - t0, 2), "html": f"{name}.html",
              "metrics": metrics}
    for file, doc in (("report.json", record), ("metrics.json", metrics)):
        (tmp / file).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    return metrics


def _failed(exc: Exception, work: Path, folder: ReportFolder, name: str, path: Path,
            overrides: dict[str, Any], started: dt.datetime, t0: float, stage: str,
            log: Callable[[str], None] | None) -> ReportFailed:
    """Publish the failure beside the last good report: its files stay, and the failed run's
    notebook and kernel log join them as ``NAME.failed.*`` (one atomic swap)."""
    import papermill.exceptions

    elapsed = time.perf_counter() - t0
    what = (f"{exc.ename}: {exc.evalue}"
            if isinstance(exc, papermill.exceptions.PapermillExecutionError)
            else f"{type(exc).__name__}: {exc}")
    record = {"name": name, "notebook": str(path), "parameters": jsonable(overrides),
              "started": started.isoformat(timespec="seconds"),
              "elapsed_s": round(elapsed, 2), "stage": stage, "error": what}
    try:
        written = folder.publish_failure(record, notebook=work / f"{name}.ipynb",
                                         log=work / "kernel.log")
    finally:
        folder.discard(work)
    kept = folder.path / written["failed_notebook"] if written["failed_notebook"] else None
    if log is not None:
        log(f"{name}: {what}")
    return ReportFailed(f"report {name!r} failed {stage} after {elapsed:.1f} s: {what}"
                        + (f"; the executed notebook is kept at {kept}" if kept else ""), kept)


def run_report(notebook: str | os.PathLike[str], parameters: Mapping[str, Any] | None = None,
               out_dir: str | os.PathLike[str] | None = None, *, name: str | None = None,
               timeout_s: float | None = None, progress: bool = False,
               base: Path | None = None,
               log: Callable[[str], None] | None = None, wait_s: float = 0.0,
               plotlyjs: str = "inline") -> ReportRun:
    """Check parameters, execute a report notebook and publish its outputs as one folder.

    Parameters
    ----------
    notebook
        A bundled notebook's name (``"backtest_report"``) or a path.
    parameters
        ``{name: value}`` overriding the notebook's defaults; strings are parsed where the
        default is not a string (as given on a command line).
    out_dir
        The report's folder; default ``reports/NAME`` (:func:`default_reports_dir`). It must
        be absent, empty or an earlier report's folder: publishing replaces it whole.
    name
        The report's name (file stem); default the notebook's stem.
    timeout_s
        Most seconds one cell may run; None for no limit.
    progress
        Show papermill's cell progress bar.
    base
        Folder relative notebook paths are resolved against (the jobs file's folder).
    log
        Called with one line on failure details (default: nothing).
    wait_s
        Most seconds to wait while another process writes the same report folder; 0 refuses
        at once.
    plotlyjs
        ``"inline"`` (default): plotly.js inside the page, one self-contained file;
        ``"shared"``: the page loads ``../plotly.min.js``, written once into the reports
        folder (``out_dir``'s parent, beside ``index.html``).

    Returns
    -------
    ReportRun

    Raises
    ------
    ConfigError, LookupFailed, DataError
        Bad parameters, found before any kernel starts (nothing is written); or an
        ``out_dir`` that holds other files.
    ReportsBusy
        Another process is writing the same report folder.
    ReportFailed
        The notebook failed, or publishing did; the failure is recorded in the report's
        folder beside the last good report, which stays in place, and the executed notebook
        is kept as ``NAME.failed.ipynb``.
    """
    import papermill

    path = find_notebook(notebook, base)
    name = check_report_name(name or path.stem)
    check_plotlyjs(plotlyjs)
    overrides, effective = prepare_parameters(path, parameters)
    check_kernel()
    folder = ReportFolder.at(out_dir if out_dir is not None else default_reports_dir() / name)
    declared = declared_parameters(path)
    with folder.lock(wait_s):
        folder.recover()
        folder.check()
        started = dt.datetime.now().astimezone()
        t0 = time.perf_counter()
        work = folder.new_version()
        try:
            injected = dict(overrides)
            if "metrics_path" in declared:
                injected["metrics_path"] = str(work / "metrics.json")
            try:
                papermill.execute_notebook(
                    str(path), str(work / f"{name}.ipynb"), parameters=injected,
                    kernel_name=KERNEL_NAME, cwd=str(path.parent), progress_bar=progress,
                    log_output=False, request_save_on_cell_execute=False,
                    execution_timeout=timeout_s,
                    kernel_manager_class=_logged_kernel_manager(work / "kernel.log"))
                metrics = _finish(work, name, path, overrides, effective, started, t0,
                                  plotlyjs)
            except Exception as exc:
                raise _failed(exc, work, folder, name, path, overrides, started, t0,
                              "in the notebook", log) from exc
            (work / "kernel.log").unlink(missing_ok=True)  # kept for failed runs only
            try:
                if plotlyjs == "shared":  # before the page that loads it is published
                    write_plotly_js(folder.root)
                folder.publish(work)
            except Exception as exc:
                raise _failed(exc, work, folder, name, path, overrides, started, t0,
                              "while publishing", log) from exc
        except BaseException:
            folder.discard(work)  # an interrupt: what is left is removed at the next start
            raise
    elapsed = time.perf_counter() - t0
    return ReportRun(name=name, notebook=path, out_dir=folder.path,
                     html=folder.path / f"{name}.html", ipynb=folder.path / f"{name}.ipynb",
                     metrics=metrics, parameters=jsonable(effective), elapsed_s=elapsed)
