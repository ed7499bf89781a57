"""Fixtures of the reliability and security tests (helpers in _support.py)."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from hvsim.pytest_plugin import Lab, started_labs


@pytest.fixture(scope="module")
def module_labs(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[t.Callable[[Path], Lab]]:
    """Start lab files for the whole test module; all are stopped at its end."""
    with started_labs(lambda lab_file, _count: tmp_path_factory.mktemp(f"lab-{lab_file.stem}")) as start:
        yield start


@pytest.fixture
def fresh_lab(tmp_path: Path) -> t.Iterator[t.Callable[[Path], Lab]]:
    """Start lab files for one test (for tests whose faults leave the lab in an odd state)."""
    with started_labs(lambda lab_file, count: tmp_path / f"lab-{lab_file.stem}-{count}") as start:
        yield start
