"""environment.yml lists exactly the dependencies of pyproject.toml; the README's commands."""

import re
import tomllib

from conftest import REPO


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_environment_yml_matches_pyproject():
    project = _pyproject()["project"]
    wanted = {_name(r): r.replace(" ", "") for r in
              project["dependencies"] + project["optional-dependencies"]["dev"]}
    listed = {}
    text = (REPO / "environment.yml").read_text().split("dependencies:", 1)[1]
    for line in text.splitlines():
        m = re.match(r"^\s{2}- ([A-Za-z0-9_.\-]+[^#\s]*)\s*$", line)
        if m and not m.group(1).startswith(("python", "pip")):
            listed[_name(m.group(1))] = m.group(1)
    assert set(listed) == set(wanted), "environment.yml and pyproject.toml list different packages"
    for name, req in wanted.items():
        assert listed[name].replace("_", "-").lower() == req.replace("_", "-").lower(), (
            f"{name}: environment.yml says {listed[name]!r}, pyproject.toml {req!r}")


def test_every_dependency_has_a_lower_bound():
    project = _pyproject()["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert ">=" in req, f"{req} has no lower bound"


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make report" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_public_api_is_complete():
    import workbench

    exported = {n for n in dir(workbench) if not n.startswith("_")}
    import types
    modules = {n for n in exported if isinstance(getattr(workbench, n), types.ModuleType)}
    assert exported - modules <= set(workbench.__all__)
    assert set(workbench.__all__) <= exported | {"__version__"}
