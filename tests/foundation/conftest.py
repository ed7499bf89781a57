"""Shared helpers for the foundation tests: the repository root, the tools/ scripts as modules,
commands that must succeed, and the collection built once for the session."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def load_tool(name: str) -> ModuleType:
    """Import tools/<name>.py (the scripts are not a package)."""
    module_name = f"_hyperv_nested_tools_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, REPO / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def run(*command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command that must succeed; a failure shows the end of its output."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection as `ansible-galaxy collection build` makes it (built once, read only)."""
    out = tmp_path_factory.mktemp("dist")
    run(str(BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(out), "--force", cwd=out)
    (tarball,) = out.glob("hyperv-nested-*.tar.gz")
    return tarball
