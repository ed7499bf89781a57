"""The simulator's own fixtures (hvsim is installed editable by `make venv`: tests/simulator/pyproject.toml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hvsim.testing import RunningLab, started_lab


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lab(name): the lab `running_lab` starts (default healthy-intel)")


@pytest.fixture
def running_lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningLab]:
    """A lab running in a background daemon, stopped after the test.

    Pick the lab with `@pytest.mark.lab("amd-new")` (a shipped lab name or a file path). The
    handle gives `.inventory` (path), `.show(host)`, `.connectivity(guest)`, `.fault(kind, **kw)`,
    `.transcript(host)`, `.status()`, `.endpoint(host)` and `.state_dir`.
    """
    marker = request.node.get_closest_marker("lab")
    lab: Any = marker.args[0] if marker else "healthy-intel"
    with started_lab(lab, tmp_path / "lab") as running:
        yield running
