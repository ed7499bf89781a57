"""The execution environment definition builds a context that installs what the collection needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent.parent
EE_FILE = REPO / "meta" / "execution-environment.yml"
EXPECTED_PYTHON = ("pywinrm", "pypsrp", "pyspnego", "requests-credssp", "jmespath")


def requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0].lower())
    return names


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ansible-builder create` with the definition at the collection root, where its paths point."""
    builder = Path(sys.executable).parent / "ansible-builder"
    if not builder.exists():
        pytest.fail("ansible-builder is not installed in the test environment (requirements/test.txt)")
    root = tmp_path_factory.mktemp("ee")
    for name in ("requirements.txt", "bindep.txt"):
        shutil.copy(REPO / name, root / name)
    shutil.copy(EE_FILE, root / "execution-environment.yml")
    result = subprocess.run(
        [str(builder), "create", "-f", "execution-environment.yml", "--context", "context", "--output-filename", "Containerfile"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "context"


def test_definition_is_version_3_with_file_dependencies() -> None:
    ee = yaml.safe_load(EE_FILE.read_text())
    assert ee["version"] == 3
    deps = ee["dependencies"]
    # When another EE includes this collection, ansible-builder's introspection reads these two
    # as paths relative to the collection root: they must be file names, not inline lists.
    assert deps["python"] == "requirements.txt"
    assert deps["system"] == "bindep.txt"
    assert (REPO / deps["python"]).is_file()
    assert (REPO / deps["system"]).is_file()
    assert deps["ansible_core"]["package_pip"].startswith("ansible-core>=2.19")


def test_containerfile_installs_python_system_and_galaxy_dependencies(context: Path) -> None:
    containerfile = (context / "Containerfile").read_text()
    assert re.search(r"^FROM .* AS base$", containerfile, re.MULTILINE)
    assert "ansible-core>=2.19.0" in containerfile
    assert "ansible-galaxy" in containerfile and "requirements.yml" in containerfile
    assert "_build/requirements.txt" in containerfile
    assert "_build/bindep.txt" in containerfile

    python = (context / "_build" / "requirements.txt").read_text()
    assert set(EXPECTED_PYTHON) <= requirement_names(python)
    assert "pywinrm[kerberos,credssp]" in python

    system = (context / "_build" / "bindep.txt").read_text()
    assert "krb5-devel [platform:rpm compile]" in system
    assert "libkrb5-dev [platform:dpkg compile]" in system

    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert {"name": "ansible.windows", "version": ">=2.0.0"} in galaxy["collections"]


def test_introspection_of_the_installed_collection_finds_our_dependencies() -> None:
    """What ansible-builder does inside the build for every collection it installs."""
    introspect = pytest.importorskip("ansible_builder._target_scripts.introspect")
    pip_lines, bindep_lines = introspect.process_collection(str(REPO))
    assert set(EXPECTED_PYTHON) <= requirement_names("\n".join(pip_lines))
    assert any(line.startswith("krb5-devel") for line in bindep_lines)


def test_development_requirements_are_the_runtime_packages() -> None:
    """requirements/runtime.txt (the dev venv, no Kerberos build) lists the same packages."""
    runtime = requirement_names((REPO / "requirements" / "runtime.txt").read_text())
    collection = requirement_names((REPO / "requirements.txt").read_text())
    assert collection <= runtime
    assert runtime - collection == {"ansible-core"}
