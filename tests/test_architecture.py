"""The package imports only downward, uses no other module's private names, imports lazily
only what is optional and heavy, and keeps each module to one concept's size.

The import graph is built from the source with :mod:`ast`, so these rules hold without
importing anything. Layers, bottom to top::

    base → data → analytics → view/strategies → engine → research → report → faces

A module may import from its own layer or below. ``workbench/__init__.py`` is the public
facade: nothing inside the package may import it.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"

#: Layer of each module, by longest matching dotted prefix (below ``workbench.``).
LAYERS: dict[str, int] = {
    # 0 base: no workbench imports but each other
    "errors": 0, "calendar": 0, "symbols": 0, "rules": 0, "atomic": 0, "progress": 0,
    "jsonable": 0, "checks": 0, "format": 0, "summary": 0, "machine": 0,
    # 1 data
    "data": 1,
    # 2 analytics: pure functions over arrays and logs
    "indicators": 2, "metrics": 2, "trades": 2, "series": 2,
    # 3 the point-in-time view and the strategies that read it
    "view": 3, "strategies": 3,
    # 4 engine
    "config": 4, "costs": 4, "dividend_book": 4, "portfolio": 4, "backtest": 4, "result": 4,
    "risk": 4, "export": 4,
    # 5 research
    "research": 5, "evaluation": 5, "sweep": 5, "recommend": 5,
    # 6 report
    "report": 6,
    # 7 faces: wiring only
    "cli": 7, "widgets": 7, "serve": 7, "__main__": 7,
}
LAYER_NAMES = ("base", "data", "analytics", "view/strategies", "engine", "research", "report",
               "faces")
FACADE = "workbench"

#: Modules whose function-level imports are all allowed: the CLI imports on demand so that
#: ``python -m workbench --help`` starts in a fraction of a second.
LAZY_MODULES = frozenset({"workbench.cli", "workbench.__main__"})

#: Optional or heavy third-party imports that may sit inside a function.
LAZY_ALLOWED = frozenset({
    "papermill", "papermill.exceptions",      # only when a notebook is executed
    "nbformat", "nbconvert", "nbconvert.filters", "nbconvert.filters.markdown_mistune",
    "jupyter_client", "jupyter_client.kernelspec", "jupyter_client.manager",
    "plotly.offline",                         # the 4.8 MB plotly.js bundle, read once per page
    "dask", "distributed",                    # only for sweeps on a cluster
    "IPython", "IPython.display",             # only inside a kernel
    "tqdm", "tqdm.auto",                      # only when a progress bar is shown
    "fastapi", "uvicorn",                     # only for `workbench serve`
})


#: The public API of ``collections.namedtuple`` is spelled with a leading underscore.
NAMEDTUPLE_API = frozenset({"_asdict", "_replace", "_fields", "_make", "_field_defaults"})
#: Underscored names of other libraries a module may use, each with its reason. numpy documents
#: its huge-page advice as NUMPY_MADVISE_HUGEPAGE, read once at import, and applies it with
#: these two functions: the only way to change it once numpy is imported (workbench.machine).
FOREIGN_API = {"workbench.machine": frozenset({"_get_madvise_hugepage",
                                               "_set_madvise_hugepage"})}


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    imports: list[tuple[str, int, bool]] = field(default_factory=list)  # (module, line, lazy)
    private_uses: list[tuple[str, int]] = field(default_factory=list)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _layer(module: str) -> int:
    if module == FACADE:
        return len(LAYER_NAMES)
    parts = module.split(".")[1:]
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise KeyError(module)


def _defined_private(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, attributes, assignments."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if _is_private(n)}


def _scan_module(mod: Module, modules: Mapping[str, Module]) -> None:
    """Record ``mod``'s imports (with whether each sits in a function) and private uses."""
    defined = _defined_private(mod.tree)

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                               ast.Lambda))
            if isinstance(child, ast.Import):
                mod.imports.extend((alias.name, child.lineno, lazy) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                base = child.module
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    if base.startswith("workbench") and target in modules:
                        mod.imports.append((target, child.lineno, lazy))
                        continue
                    mod.imports.append((base, child.lineno, lazy))
                    if base.startswith("workbench") and _is_private(alias.name):
                        mod.private_uses.append((target, child.lineno))
            elif (isinstance(child, ast.Attribute) and _is_private(child.attr)
                  and child.attr not in defined and child.attr not in NAMEDTUPLE_API
                  and child.attr not in FOREIGN_API.get(mod.name, ())):
                mod.private_uses.append((ast.unparse(child), child.lineno))
            visit(child, inner)

    visit(mod.tree, False)


def _load() -> dict[str, Module]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        modules[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")))
    for mod in modules.values():
        _scan_module(mod, modules)
    return modules


MODULES = _load()


def _internal_edges(mod: Module) -> list[tuple[str, int, bool]]:
    out = []
    for target, line, lazy in mod.imports:
        if not target.startswith("workbench"):
            continue
        # `from workbench.x import name`: the edge is to the module that holds the name
        while target not in MODULES and "." in target:
            target = target.rsplit(".", 1)[0]
        out.append((target, line, lazy))
    return out


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if m != FACADE and not _safe_layer(m)]
    assert not missing, f"add these modules to LAYERS in {__file__}: {missing}"


def _safe_layer(module: str) -> bool:
    try:
        _layer(module)
    except KeyError:
        return False
    return True


def test_imports_only_go_down():
    upward = []
    for mod in MODULES.values():
        if mod.name == FACADE:
            continue
        here = _layer(mod.name)
        for target, line, _ in _internal_edges(mod):
            if target == mod.name or target.startswith(mod.name + "."):
                continue  # a package's __init__ gathering its own modules
            there = _layer(target)
            if there > here:
                upward.append(f"{mod.path.relative_to(PACKAGE.parent)}:{line}: "
                              f"{LAYER_NAMES[here]} module {mod.name} imports "
                              f"{'the facade ' if target == FACADE else ''}{target} "
                              f"({LAYER_NAMES[there] if there < len(LAYER_NAMES) else 'top'})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = {m.name: {t for t, _, _ in _internal_edges(m) if t != m.name}
             for m in MODULES.values()}
    # a package __init__ re-exporting its modules is not a cycle with them
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            dfs(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_private_names_across_modules():
    uses = [f"{m.path.relative_to(PACKAGE.parent)}:{line}: {what}"
            for m in MODULES.values() for what, line in m.private_uses]
    private_modules = [f"{m.path.relative_to(PACKAGE.parent)}:{line}: imports {target}"
                       for m in MODULES.values() for target, line, _ in _internal_edges(m)
                       if any(_is_private(p) for p in target.split("."))
                       and not m.name.startswith(target.rsplit(".", 1)[0] + ".")]
    found = uses + private_modules
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_function_level_imports_are_optional_heavy_ones():
    lazy = [f"{m.path.relative_to(PACKAGE.parent)}:{line}: {target}"
            for m in MODULES.values() if m.name not in LAZY_MODULES
            for target, line, is_lazy in m.imports
            if is_lazy and (target.startswith("workbench") or target not in LAZY_ALLOWED)]
    assert not lazy, ("function-level imports (move them to the top, or, for an optional "
                      "heavy dependency, add it to LAZY_ALLOWED with a reason):\n"
                      + "\n".join(lazy))


def code_lines(source: str) -> int:
    """Lines holding code: comments, blank lines and docstrings aside.

    >>> code_lines('\"\"\"Doc.\\n\\nMore.\"\"\"\\n# note\\n\\nx = 1\\n')
    1
    """
    tree = ast.parse(source)
    doc_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                end = body[0].end_lineno or body[0].lineno
                doc_lines.update(range(body[0].lineno, end + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - doc_lines)


#: Modules allowed past MAX_CODE_LINES, each with the docstring sentence that says why it
#: is still one concept.
MAX_CODE_LINES = 600
ONE_CONCEPT_AT_LENGTH: dict[str, str] = {}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_hold_one_concept_by_size(name):
    mod = MODULES[name]
    n = code_lines(mod.path.read_text(encoding="utf-8"))
    if name in ONE_CONCEPT_AT_LENGTH:
        doc = ast.get_docstring(mod.tree) or ""
        assert ONE_CONCEPT_AT_LENGTH[name] in doc
        return
    assert n <= MAX_CODE_LINES, (f"{mod.path.relative_to(PACKAGE.parent)} has {n} code lines "
                                 f"(> {MAX_CODE_LINES}); split it by concept")
