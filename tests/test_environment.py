"""environment.yml (conda, Binder), pyproject.toml (pip) and constraints.txt name the same packages."""
import re

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import ROOT

CONDA_TO_PYPI = {"python-graphviz": "graphviz"}


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["course"]]
    reqs = [r for r in reqs if r.marker is None or r.marker.evaluate({"python_version": "3.11"})]  # conda's Python
    return {canonicalize_name(r.name): r for r in reqs}


def environment_pins():
    """name -> version of every package environment.yml installs (conda and pip sections)."""
    pins = {}
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        conda = re.fullmatch(r"- ([A-Za-z0-9_.-]+)=([0-9][^=\s]*)", line)
        pip = re.fullmatch(r"- ([A-Za-z0-9_.-]+)==(\S+)", line)
        if conda and conda.group(1) != "python":
            pins[canonicalize_name(CONDA_TO_PYPI.get(conda.group(1), conda.group(1)))] = conda.group(2)
        elif pip:
            pins[canonicalize_name(pip.group(1))] = pip.group(2)
    return pins


def constraint_pins():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_environment_yml_lists_the_same_packages_as_pyproject():
    assert set(environment_pins()) == set(pyproject_requirements())


def test_environment_yml_pins_satisfy_pyproject_and_match_constraints():
    requirements, constraints = pyproject_requirements(), constraint_pins()
    for name, version in environment_pins().items():
        assert requirements[name].specifier.contains(version), f"{name} {version} is outside pyproject's {requirements[name]}"
        assert constraints.get(name) == version, f"{name}: environment.yml pins {version}, constraints.txt {constraints.get(name)}"


def test_environment_yml_installs_the_course_itself():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert re.search(r"^\s*- -e \.$", text, re.M) and "conda-forge" in text
