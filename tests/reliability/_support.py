"""Helpers for the reliability and security tests: labs that live for a whole test module,
plays run with the JSON callback, and transcript entries attributed to the task that caused them."""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from hvsim.pytest_plugin import Lab, PlaybookRun, hvsim, start_lab
from hvsim.pytest_plugin import requests_in as requests

__all__ = [
    "HOSTILE_LAB",
    "Lab",
    "PlayRun",
    "PlaybookRun",
    "TaskRun",
    "entries_between",
    "hvsim",
    "inventory_hosts",
    "requests",
    "run_play",
    "script_names",
    "start_lab",
    "vms_of",
    "when",
]

LABS = Path(__file__).parent / "labs"
HOSTILE_LAB = LABS / "hostile-names.yml"
# Passwords of tests/reliability/labs/hostile-names.yml, unique strings searched for in output.
CONNECTION_PASSWORD = "Conn-S3cret-xyzzy-41"
L1_PASSWORD = "L1-S3cret-quux-93"
GUEST_PASSWORD = "Gu3st-S3cret-plugh-77"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class TaskRun:
    name: str
    start: datetime
    end: datetime
    hosts: dict[str, dict[str, t.Any]]


@dataclass
class PlayRun:
    run: PlaybookRun
    tasks: list[TaskRun] = field(default_factory=list)

    def named(self, prefix: str) -> list[tuple[int, TaskRun]]:
        return [(index, task) for index, task in enumerate(self.tasks) if task.name.startswith(prefix)]


def run_play(lab: Lab, plays: list[dict[str, t.Any]], workdir: Path, *flags: str, env: dict[str, str] | None = None) -> PlayRun:
    """Write `plays` as a playbook, run it with the JSON callback and return every task's results."""
    workdir.mkdir(parents=True, exist_ok=True)
    playbook = workdir / f"play-{len(list(workdir.glob('play-*.yml')))}.yml"
    playbook.write_text(json.dumps(plays, ensure_ascii=False), encoding="utf-8")
    run = lab.playbook(playbook, *flags, env=env)
    tasks: list[TaskRun] = []
    try:
        document = json.loads(run.stdout)
    except ValueError:
        return PlayRun(run, tasks)
    for play in document.get("plays", []):
        for task in play.get("tasks", []):
            duration = task["task"].get("duration") or {}
            start = when(duration["start"]) if duration.get("start") else datetime.min
            end = when(duration["end"]) if duration.get("end") else start
            tasks.append(TaskRun(task["task"]["name"], start, end, task["hosts"]))
    return PlayRun(run, tasks)


def entries_between(lab: Lab, host: str, start: datetime, end: datetime | None) -> list[dict[str, t.Any]]:
    """Transcript entries of `host` stamped in [start, end)."""
    out = []
    for entry in lab.transcript(host):
        stamp = when(entry["time"])
        if stamp >= start and (end is None or stamp < end):
            out.append(entry)
    return out


def script_names(entries: list[dict[str, t.Any]]) -> list[str]:
    names = []
    for entry in entries:
        try:
            request = json.loads(entry.get("stdin") or "")
        except ValueError:
            names.append("raw")
            continue
        names.append(request.get("script_name", "raw") if isinstance(request, dict) else "raw")
    return names


def vms_of(lab: Lab, host: str) -> dict[str, dict[str, t.Any]]:
    return {vm["name"]: vm for vm in lab.show(host)["vms"]["vms"]}


def inventory_hosts(lab: Lab, group: str) -> list[str]:
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    return list((inventory["all"]["children"][group].get("hosts") or {}).keys())
