"""A running lab as tests see it: start one in a state dir, query it, stop it.

Used by the `running_lab` fixture (tests/simulator/tests/conftest.py); other test suites can
use `started_lab` directly (hvsim is installed editable by `make venv`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hvsim import process
from hvsim.control import ControlClient
from hvsim.statedir import StateDir
from hvsim.transcript import read_transcript

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"


def lab_path(lab: str | Path) -> Path:
    """A shipped lab by name ("healthy-intel") or any lab file path."""
    candidate = Path(lab)
    return candidate if candidate.suffix in (".yml", ".yaml") else LABS_DIR / f"{lab}.yml"


@dataclass
class RunningLab:
    state_dir: Path
    inventory: Path
    control: ControlClient
    pid: int

    @property
    def state(self) -> StateDir:
        return StateDir.at(self.state_dir)

    def status(self) -> dict[str, Any]:
        return self.control.status()

    def show(self, host: str) -> dict[str, Any]:
        return self.control.show(host)

    def connectivity(self, guest: str) -> dict[str, Any]:
        return self.control.connectivity(guest)

    def fault(self, kind: str, **values: Any) -> dict[str, Any]:
        return self.control.fault({"kind": kind, **values})

    def transcript(self, host: str) -> list[dict[str, Any]]:
        return read_transcript(self.state.transcript(host))

    def inventory_data(self) -> dict[str, Any]:
        return dict(yaml.safe_load(self.inventory.read_text(encoding="utf-8")))

    def host_vars(self, host: str) -> dict[str, Any]:
        for group in self.inventory_data()["all"]["children"].values():
            if host in (group.get("hosts") or {}):
                return dict(group["hosts"][host])
        raise KeyError(host)

    def endpoint(self, host: str, scheme: str = "http") -> str:
        """WinRM URL of a host, e.g. for pywinrm."""
        where = self.status()["hosts"][host]
        port = where["port"] if scheme == "http" else where["https_port"]
        return f"{scheme}://{where['address']}:{port}/wsman"


def start(lab: str | Path, state_dir: Path) -> RunningLab:
    info = process.spawn(StateDir.at(state_dir), lab_path(lab))
    return RunningLab(state_dir=Path(state_dir), inventory=Path(info["inventory"]),
                      control=ControlClient(int(info["control_port"])), pid=int(info["pid"]))


@contextlib.contextmanager
def started_lab(lab: str | Path, state_dir: Path) -> Iterator[RunningLab]:
    running = start(lab, state_dir)
    try:
        yield running
    finally:
        process.stop(StateDir.at(state_dir))
