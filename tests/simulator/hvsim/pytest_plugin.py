"""The pytest plugin of the simulated fleet: a lab started through the hvsim command line, and
ansible-playbook runs against it (`lab_factory`, `healthy_lab`, and `Lab.playbook`).

Installed with the package (tests/simulator/pyproject.toml, entry point `pytest11`), so every
suite of the project gets the fixtures without importing another suite's conftest; the helpers
(`Lab`, `PlaybookRun`, `start_lab`, `started_labs`, `requests_in`, `hvsim`) are imported from here.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent  # run as `python <PACKAGE>`: hvsim/__main__.py
LABS = PACKAGE.parent / "labs"  # the shipped labs (tests/simulator/labs)
VENV_BIN = Path(sys.executable).parent


def hvsim(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the hvsim command line; with `check`, a failure raises an error that carries its output."""
    done = subprocess.run([sys.executable, str(PACKAGE), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"hvsim {' '.join(args)} failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]]

    def total(self, key: str) -> int:
        return sum(host.get(key, 0) for host in self.recap.values())

    def assert_ok(self) -> None:
        """The play ran through: rc 0, no failed and no unreachable host."""
        assert self.rc == 0 and self.total("failures") == 0 and self.total("unreachable") == 0, (
            f"rc={self.rc}\nstdout={self.stdout[-6000:]}\nstderr={self.stderr[-3000:]}"
        )

    def task_results(self, name_part: str) -> dict[str, dict[str, t.Any]]:
        """Per host, the result of the (last) task whose name contains `name_part` (ansible.posix.json output)."""
        found: dict[str, dict[str, t.Any]] = {}
        for play in json.loads(self.stdout)["plays"]:
            for task in play["tasks"]:
                if name_part in task["task"]["name"]:
                    found.update(task["hosts"])
        return found


def requests_in(entries: list[dict[str, t.Any]], script_name: str) -> list[dict[str, t.Any]]:
    """The collection's requests (wire protocol) of a script among transcript entries, in order."""
    found = []
    for entry in entries:
        try:
            request = json.loads(entry.get("stdin") or "")
        except ValueError:
            continue
        if isinstance(request, dict) and request.get("script_name") == script_name:
            found.append(request)
    return found


@dataclass
class Lab:
    state_dir: Path
    inventory: Path

    def show(self, host: str) -> dict[str, t.Any]:
        return t.cast(dict[str, t.Any], json.loads(hvsim("show", host, "--state", str(self.state_dir)).stdout))

    def connectivity(self, guest: str) -> dict[str, t.Any]:
        done = hvsim("connectivity", guest, "--state", str(self.state_dir), check=False)
        return t.cast(dict[str, t.Any], json.loads(done.stdout))

    def fault(self, kind: str, **values: t.Any) -> None:
        hvsim("fault", "--state", str(self.state_dir), kind, *(f"{k}={v}" for k, v in values.items()))

    def requests(self, host: str, script_name: str) -> list[dict[str, t.Any]]:
        """The probe or execute requests a host received, in order."""
        return requests_in(self.transcript(host), script_name)

    def transcript(self, host: str) -> list[dict[str, t.Any]]:
        path = self.state_dir / "transcripts" / f"{host}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def playbook(self, playbook: str | Path, *extra: str, env: dict[str, str] | None = None) -> PlaybookRun:
        """Run ansible-playbook with the JSON callback so results can be asserted exactly."""
        full_env = {
            **os.environ,
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            **(env or {}),
        }
        done = subprocess.run(
            [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(playbook), *extra],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=900,
            check=False,
        )
        recap: dict[str, dict[str, int]] = {}
        try:
            recap = json.loads(done.stdout).get("stats", {})
        except ValueError:
            pass
        return PlaybookRun(done.returncode, done.stdout, done.stderr, recap)


def start_lab(lab_file: Path, state_dir: Path, *, timeout: float = 120) -> Lab:
    """Start a lab file in `state_dir` (`timeout`: a generated fleet of a hundred hosts takes longer)."""
    done = hvsim("up", str(lab_file), "--state", str(state_dir), timeout=timeout)
    return Lab(state_dir=state_dir, inventory=Path(done.stdout.strip().splitlines()[-1]))


@contextlib.contextmanager
def started_labs(state_dir: t.Callable[[Path, int], Path]) -> t.Iterator[t.Callable[[Path], Lab]]:
    """Give a function that starts a lab file, in the state folder `state_dir(lab_file, how many were started
    before it)`; every lab it started is stopped when the block ends (the fixtures here and in tests/reliability)."""
    started: list[Lab] = []

    def start(lab_file: Path) -> Lab:
        lab = start_lab(lab_file, state_dir(lab_file, len(started)))
        started.append(lab)
        return lab

    try:
        yield start
    finally:
        for lab in started:
            hvsim("down", "--state", str(lab.state_dir), check=False)


@pytest.fixture
def lab_factory(tmp_path: Path) -> t.Iterator[t.Callable[[str], Lab]]:
    """Start shipped labs by name (`lab_factory("healthy-intel")`); all are stopped afterwards."""
    with started_labs(lambda lab_file, count: tmp_path / f"lab-{lab_file.stem}-{count}") as start:
        yield lambda name: start(LABS / f"{name}.yml")


@pytest.fixture
def healthy_lab(lab_factory: t.Callable[[str], Lab]) -> Lab:
    return lab_factory("healthy-intel")
