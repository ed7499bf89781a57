"""Collection metadata: galaxy.yml, meta/runtime.yml, changelog, README, license."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent.parent
NESTED_MODULES = ["win_nested_info", "win_nested_vm", "win_nested_nat"]  # at least these


def galaxy() -> dict:
    return yaml.safe_load((REPO / "galaxy.yml").read_text())


def test_galaxy_identity_and_license() -> None:
    meta = galaxy()
    assert (meta["namespace"], meta["name"]) == ("hyperv", "nested")
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"])
    assert meta["license"] == ["GPL-3.0-or-later"]
    assert "GNU GENERAL PUBLIC LICENSE" in (REPO / "COPYING").read_text()[:200]
    assert meta["readme"] == "README.md"
    assert all(len(author) <= 64 for author in meta["authors"])  # galaxy-importer's limit
    assert {"windows", "infrastructure", "virtualization", "hyperv"} <= set(meta["tags"])
    assert meta["dependencies"] == {"ansible.windows": ">=2.0.0"}
    for key in ("repository", "documentation", "issues"):
        assert meta[key].startswith("https://github.com/hyperv-nested/hyperv.nested")


def test_development_files_stay_out_of_the_tarball() -> None:
    ignored = set(galaxy()["build_ignore"])
    assert {"tests", "tools", ".venv", ".ci", "build", "Makefile", "requirements", "pyproject.toml", "*.tar.gz", ".lab", ".cache"} <= ignored


def test_runtime_requires_219_and_groups_the_modules() -> None:
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"] == ">=2.19.0"
    group = runtime["action_groups"]["nested"]
    assert set(NESTED_MODULES) <= set(group)
    assert len(group) == len(set(group))


def test_every_module_is_in_the_action_group() -> None:
    """module_defaults for group/hyperv.nested.nested must reach every module of the collection."""
    group = set(yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["nested"])
    modules = REPO / "plugins" / "modules"
    present = {p.stem for p in modules.glob("*.py") if p.stem != "__init__"} if modules.is_dir() else set()
    assert present <= group, f"add {sorted(present - group)} to action_groups.nested in meta/runtime.yml"


def test_changelog_has_a_fragment_and_valid_config() -> None:
    config = yaml.safe_load((REPO / "changelogs" / "config.yaml").read_text())
    assert config["notesdir"] == "fragments"
    fragments = list((REPO / "changelogs" / "fragments").glob("*.yml"))
    assert fragments
    for fragment in fragments:
        assert isinstance(yaml.safe_load(fragment.read_text()), dict), fragment


def test_readme_starts_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands[:2] == ["make lab", "make test"]
    assert text.index("make lab") < text.index("## ")


def test_ci_entry_point_runs_make_test_without_stdin() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert script.startswith("#!/usr/bin/env bash")
    assert "pipefail" in script
    assert "CI=true" in script
    assert re.search(r"make test\s*</dev/null", script)
    assert 'exit "$rc"' in script
    assert (REPO / ".ci" / "run").stat().st_mode & 0o111


def test_ci_entry_point_fails_with_make_and_ends_with_the_count(tmp_path: Path) -> None:
    """Run .ci/run against a stand-in Makefile whose `test` fails after printing its count."""
    import shutil
    import subprocess

    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "Makefile").write_text('test:\n\t@echo "step table"\n\t@echo "3 passed, 1 failed"\n\t@test -z "$$CI" && exit 0 || exit 1\n')
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "CI")}
    result = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, env=env)
    lines = result.stdout.strip().splitlines()
    assert result.returncode != 0
    assert any(re.match(r"make(\[\d+\])?: \*\*\*", line) for line in lines), lines
    assert lines[-1] == "3 passed, 1 failed"
