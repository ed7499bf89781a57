"""Put tests/simulator on sys.path so the simulator's tests import `hvsim` directly."""

from __future__ import annotations

import sys
from pathlib import Path

SIMULATOR_ROOT = Path(__file__).resolve().parent.parent
if str(SIMULATOR_ROOT) not in sys.path:
    sys.path.insert(0, str(SIMULATOR_ROOT))

# Imported after the path setup above.
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from hvsim.testing import RunningLab, started_lab  # noqa: E402


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
