"""Install and execution environment, as the README documents them: the two requirement sets, the
EE definition at the root (ansible-builder create, as documented, in a directory with the built
collection), meta/execution-environment.yml as the dependency declaration of the collection, and
the offline install of the collection with its ansible.windows dependency."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.foundation.conftest import BIN, REPO, run

EXPECTED_PYTHON = {"pywinrm", "pypsrp", "pyspnego", "requests-credssp", "jmespath"}
VERSION = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["version"]
TARBALL = f"hyperv-nested-{VERSION}.tar.gz"


def requirement_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[<>=!~;\s]", line, maxsplit=1)[0].lower())
    return names


@pytest.fixture(scope="module")
def built(collection_tarball: Path) -> Path:
    assert collection_tarball.name == TARBALL
    return collection_tarball


def test_both_requirement_sets_name_the_same_packages_and_one_needs_no_kerberos() -> None:
    kerberos = (REPO / "requirements.txt").read_text(encoding="utf-8")
    plain = (REPO / "requirements-no-kerberos.txt").read_text(encoding="utf-8")
    assert requirement_names(kerberos) == requirement_names(plain) == EXPECTED_PYTHON
    assert "kerberos" in kerberos.split("#")[-1] and not re.search(r"\[[^\]]*kerberos", plain)
    # The system packages sit next to the pip command, in the file and in the README.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install -r requirements-no-kerberos.txt" in readme and "libkrb5-dev" in readme and "krb5-devel" in readme


def test_the_set_without_kerberos_is_what_the_development_venv_installed_without_a_compiler() -> None:
    """requirements/runtime.txt installs it; pip finds everything satisfied with no index at all."""
    assert "-r ../requirements-no-kerberos.txt" in (REPO / "requirements" / "runtime.txt").read_text(encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "-r", str(REPO / "requirements-no-kerberos.txt")],
        capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    satisfied = {line.split()[3].split("[")[0].split(">")[0].lower() for line in done.stdout.splitlines() if line.startswith("Requirement already satisfied:")}
    assert "Would install" not in done.stdout and EXPECTED_PYTHON <= satisfied, done.stdout
    assert not satisfied & {"pykerberos", "gssapi", "krb5", "winkerberos"}, satisfied


def test_meta_declares_the_collections_dependencies_by_file() -> None:
    """What ansible-builder reads when an EE includes this collection: file names relative to its root."""
    ee = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert ee == {"version": 3, "dependencies": {"python": "requirements.txt", "system": "bindep.txt"}}
    introspect = pytest.importorskip("ansible_builder._target_scripts.introspect")
    pip_lines, bindep_lines = introspect.process_collection(str(REPO))
    assert EXPECTED_PYTHON <= requirement_names("\n".join(pip_lines))
    assert any(line.startswith("krb5-devel") for line in bindep_lines) and any(line.startswith("libkrb5-dev") for line in bindep_lines)


def test_the_ee_definition_builds_a_context_that_installs_this_collection(built: Path, tmp_path: Path) -> None:
    """README: in a directory with the definition and the tarball, `ansible-builder create`."""
    shutil.copy(REPO / "execution-environment.yml", tmp_path / "execution-environment.yml")
    shutil.copy(built, tmp_path / TARBALL)
    run(str(BIN / "ansible-builder"), "create", cwd=tmp_path)

    build = tmp_path / "context" / "_build"
    assert (build / "collections" / TARBALL).is_file()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    assert {"name": "ansible.windows", "version": ">=2.0.0"} in galaxy
    assert {"name": f"collections/{TARBALL}", "type": "file"} in galaxy
    containerfile = next((tmp_path / "context").glob("*file")).read_text(encoding="utf-8")
    assert "COPY _build /build" in containerfile and "WORKDIR /build" in containerfile
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "ansible-core>=2.19.0" in containerfile

    # The image's galaxy stage, here: in /build (the context's _build), offline, ansible.windows already there.
    collections = tmp_path / "collections"
    windows = Path(next(p for p in sys.path if (Path(p) / "ansible_collections" / "ansible" / "windows").is_dir()))
    shutil.copytree(windows / "ansible_collections" / "ansible" / "windows", collections / "ansible_collections" / "ansible" / "windows")
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections)}
    run(str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-r", "requirements.yml", "--collections-path", str(collections), cwd=build, env=env)
    installed = collections / "ansible_collections" / "hyperv" / "nested"
    assert (installed / "roles" / "nested_report" / "tasks" / "main.yml").is_file()
    # ...and what the builder's introspection then finds in the installed copy, for the next stages.
    introspect = pytest.importorskip("ansible_builder._target_scripts.introspect")
    pip_lines, bindep_lines = introspect.process_collection(str(installed))
    assert "pywinrm[kerberos,credssp]>=0.5.0" in [line.split("#")[0].strip() for line in pip_lines]
    assert any(line.startswith("krb5-devel") for line in bindep_lines)


def test_the_definition_names_the_tarball_of_this_version() -> None:
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text(encoding="utf-8"))
    assert ee["additional_build_files"] == [{"src": TARBALL, "dest": "collections"}]
    assert ee["dependencies"]["ansible_core"]["package_pip"].startswith("ansible-core>=2.19")


def test_offline_install_of_the_collection_and_its_dependency_from_tarballs(built: Path, tmp_path: Path) -> None:
    """README: `ansible-galaxy collection install --offline <ansible.windows tarball> <our tarball>`.

    The ansible.windows tarball is a stand-in of version 2.0.0 (the tests reach no Galaxy server): what
    is tested is that the documented command resolves the dependency from the tarballs it is given."""
    stand_in = tmp_path / "src" / "ansible_collections" / "ansible" / "windows"
    run(str(BIN / "ansible-galaxy"), "collection", "init", "ansible.windows", "--init-path", str(tmp_path / "src" / "ansible_collections"), cwd=tmp_path)
    galaxy = yaml.safe_load((stand_in / "galaxy.yml").read_text(encoding="utf-8"))
    (stand_in / "galaxy.yml").write_text(yaml.safe_dump({**galaxy, "version": "2.0.0"}), encoding="utf-8")
    run(str(BIN / "ansible-galaxy"), "collection", "build", str(stand_in), "--output-path", str(tmp_path), cwd=tmp_path)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "target"), "ANSIBLE_GALAXY_SERVER": "http://127.0.0.1:9"}
    done = run(
        str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "ansible-windows-2.0.0.tar.gz", str(built), "-p", str(tmp_path / "target"),
        cwd=tmp_path, env=env,
    )
    assert "hyperv.nested:" in done.stdout and "ansible.windows:2.0.0 was installed successfully" in done.stdout, done.stdout
    assert (tmp_path / "target" / "ansible_collections" / "hyperv" / "nested" / "MANIFEST.json").is_file()
