"""Integration tests run against the simulated fleet. Their fixtures (`lab_factory`, `healthy_lab`)
and helpers come from the simulator's pytest plugin, hvsim.pytest_plugin (installed with hvsim:
tests/simulator/pyproject.toml); the names stay importable from here for older imports."""

from __future__ import annotations

from hvsim.pytest_plugin import LABS, Lab, PlaybookRun, hvsim, requests_in, start_lab, started_labs

__all__ = ["LABS", "Lab", "PlaybookRun", "hvsim", "requests_in", "start_lab", "started_labs"]
