"""environment.yml lists exactly the dependencies of pyproject.toml; the README's commands."""

import os
import re
import shutil
import subprocess
import tomllib

import pytest
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


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(("uid", "flag"), [("0", True), ("1000", False)])
def test_make_lab_passes_allow_root_only_as_root(tmp_path, uid, flag):
    fake = tmp_path / "id"  # `id -u` answers as root or as a user
    fake.write_text(f"#!/bin/sh\necho {uid}\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(["make", "-n", "lab"], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    lab = [line for line in out.splitlines() if "jupyter lab" in line]
    assert lab and (("--allow-root" in lab[-1]) is flag)
