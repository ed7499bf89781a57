"""Measure Ansible tasks against the simulated fleet: WinRM commands, payload bytes, wall time.

Every figure comes from two independent records of the same run: the simulator's per-host
transcripts (what reached each host) and the ansible.posix.json callback (how long each task
took on the controller).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hvsim import pytest_plugin as simulator

from tools.collection_link import link_collection  # the one function that links the tree as hyperv.nested

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
COLLECTIONS = REPO / "build" / "collections"
FLEET_TIMEOUT = 600  # seconds for one hvsim command: starting a hundred-host fleet takes minutes


def hvsim(*args: str) -> str:
    """The output of an hvsim command (the simulator's pytest plugin runs it)."""
    return simulator.hvsim(*args, timeout=FLEET_TIMEOUT).stdout


@dataclass
class Traffic:
    commands: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    def add(self, entry: dict[str, t.Any]) -> None:
        self.commands += 1
        self.bytes_sent += len(entry["command_line"].encode("utf-8")) + len(entry["stdin"].encode("utf-8"))
        self.bytes_received += len(entry["stdout"].encode("utf-8")) + len(entry["stderr"].encode("utf-8"))


@dataclass
class Lab(simulator.Lab):
    """The simulator plugin's lab, plus what the benchmark counts: the traffic since a mark."""

    offsets: dict[str, int] = field(default_factory=dict)

    @classmethod
    def up(cls, lab_file: Path, state_dir: Path) -> Lab:
        started = simulator.start_lab(lab_file, state_dir, timeout=FLEET_TIMEOUT)
        return cls(started.state_dir, started.inventory)

    def down(self) -> None:
        hvsim("down", "--state", str(self.state_dir))

    def _transcripts(self) -> dict[str, list[dict[str, t.Any]]]:
        return {path.stem: self.transcript(path.stem) for path in sorted((self.state_dir / "transcripts").glob("*.jsonl"))}

    def mark(self) -> None:
        """Forget everything recorded so far: the next `traffic()` counts only what follows."""
        self.offsets = {host: len(entries) for host, entries in self._transcripts().items()}

    def traffic(self) -> dict[str, Traffic]:
        per_host: dict[str, Traffic] = {}
        for host, entries in self._transcripts().items():
            for entry in entries[self.offsets.get(host, 0):]:
                per_host.setdefault(host, Traffic()).add(entry)
        return per_host


@dataclass
class PlaybookResult:
    rc: int
    wall_s: float
    task_seconds: dict[str, list[float]]
    changed: int
    failed: int
    output: str
    task_results: int = 0   # host results of all tasks (skipped ones included): what the controller pays for


def run_playbook(lab: Lab, plays: list[dict[str, t.Any]], *, forks: int = 5, extra: t.Sequence[str] = ()) -> PlaybookResult:
    link_collection()
    with tempfile.TemporaryDirectory() as folder:
        playbook = Path(folder) / "bench.yml"
        playbook.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
        env = {
            **os.environ,
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(COLLECTIONS), os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")]),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_FORKS": str(forks),
        }
        started = time.perf_counter()
        done = subprocess.run(
            [str(VENV_BIN / "ansible-playbook"), "-i", str(lab.inventory), str(playbook), *extra],
            capture_output=True, text=True, env=env, timeout=3600, check=False,
        )
        wall = time.perf_counter() - started
    return _parse(done, wall)


def _seconds(duration: dict[str, str]) -> float:
    from datetime import datetime

    start = datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def task_results(report: dict[str, t.Any]) -> Counter[str]:
    """Host results per host, skipped ones included, from the ansible.posix.json callback's report."""
    counts: Counter[str] = Counter()
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            counts.update(task.get("hosts", {}).keys())
    return counts


def _parse(done: subprocess.CompletedProcess[str], wall: float) -> PlaybookResult:
    try:
        report = json.loads(done.stdout)
    except ValueError:
        return PlaybookResult(done.returncode, wall, {}, 0, 1, done.stdout + done.stderr)
    task_seconds: dict[str, list[float]] = {}
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            if "end" not in task["task"]["duration"]:
                continue  # a meta task that reported no result (meta: end_role for hosts that go on)
            task_seconds.setdefault(name, []).append(_seconds(task["task"]["duration"]))
    stats = report.get("stats", {})
    changed = sum(host.get("changed", 0) for host in stats.values())
    failed = sum(host.get("failures", 0) + host.get("unreachable", 0) for host in stats.values())
    return PlaybookResult(done.returncode, wall, task_seconds, changed, failed, done.stdout[-4000:] + done.stderr[-4000:],
                          sum(task_results(report).values()))
