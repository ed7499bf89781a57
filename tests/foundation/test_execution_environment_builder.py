"""What AWX users get: the built collection in an execution environment made by ansible-builder.

test_execution_environment.py checks meta/execution-environment.yml on the source tree. These start from
the built tarball, the artifact an EE actually installs: it carries the roles, playbooks and
filters, ansible-builder's introspection finds the collection's Python and system dependencies in
it, `ansible-builder create` makes a build context for an EE that installs it, and the installed
copy's roles and playbooks resolve by their FQCNs.
"""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

import pytest

from tests.foundation.conftest import BIN, REPO, run

ROLES = ("nested_prerequisites", "nested_vm_settings", "nested_hyperv", "nested_networking", "nested_report")


@pytest.fixture(scope="module")
def tarball(collection_tarball: Path) -> Path:
    return collection_tarball


@pytest.fixture(scope="module")
def installed(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball installed on its own (ansible.windows comes from the test environment)."""
    root = tmp_path_factory.mktemp("collections")
    run(str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(root), "--no-deps", "--offline", "--force")
    return root


def test_tarball_ships_roles_playbooks_filters_and_ee_files_but_no_tests(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    for role in ROLES:
        for part in ("tasks/main.yml", "defaults/main.yml", "meta/main.yml", "meta/argument_specs.yml"):
            assert f"roles/{role}/{part}" in names
    assert {"playbooks/site.yml", "playbooks/check.yml", "playbooks/disable.yml"} <= names
    assert {"plugins/filter/nested_children.py", "plugins/filter/nested_children.yml", "plugins/modules/win_nested_switch.py"} <= names
    assert {"meta/execution-environment.yml", "execution-environment.yml", "requirements.txt", "requirements-no-kerberos.txt", "bindep.txt"} <= names
    assert {"inventories/example/hosts.yml", "inventories/example/group_vars/all/vault.yml.example", "docs/report.md"} <= names
    assert not any(name.startswith(("tests/", "tools/", "reports/", ".lab/", "build/")) for name in names)


def test_builder_introspection_finds_the_dependencies_in_the_installed_collection(installed: Path) -> None:
    introspect = pytest.importorskip("ansible_builder._target_scripts.introspect")
    collection = installed / "ansible_collections" / "hyperv" / "nested"
    pip_lines, bindep_lines = introspect.process_collection(str(collection))
    names = {re.split(r"[\[<>=!~;\s]", line.strip(), maxsplit=1)[0].lower() for line in pip_lines if line.strip()}
    assert {"pywinrm", "pypsrp", "pyspnego", "jmespath"} <= names
    assert any(line.startswith("krb5-devel") for line in bindep_lines)


def test_installed_roles_render_and_playbooks_resolve_by_fqcn(installed: Path) -> None:
    paths = [str(installed)] + [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p and "build/collections" not in p]
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(paths), "ANSIBLE_NOCOLOR": "1"}
    for role in ROLES:
        shown = run(str(BIN / "ansible-doc"), "-t", "role", f"hyperv.nested.{role}", env=env).stdout
        assert str(installed) in shown and re.search(r"ENTRY POINT: \W*main", shown)
    inventory = REPO / "inventories" / "example"
    for playbook in ("site", "check", "disable"):
        run(str(BIN / "ansible-playbook"), "-i", str(inventory), f"hyperv.nested.{playbook}", "--syntax-check", env=env)
