"""AWX / Automation Platform job slicing: slices built the way AWX builds them, run in parallel against one lab.

AWX's rule (awx/main/models/inventory.py, Inventory.get_script_data(slice_number, slice_count)): the
inventory's enabled hosts ordered by name, `hosts[slice_number - 1::slice_count]`; every group is
kept, with only that slice's hosts as members; `_meta.hostvars` only for those hosts. An L1 host whose
parent lands in another slice cannot reach it (delegate_to needs the parent's connection variables):
site.yml refuses every such slice before asking any host anything, with the sentence that says how to
run it safely (docs/slicing.md). The safe way, one job per L0 host family with a limit, run in
parallel, converges the fleet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SITE = REPO / "playbooks" / "site.yml"
FLEET = ("hv01", "hv02", "lab-hv1", "lab-hv2", "lab-hv3")


def flatten(inventory: dict[str, t.Any]) -> tuple[dict[str, dict[str, t.Any]], dict[str, list[str]], dict[str, t.Any]]:
    """Host variables, group members and group variables of a YAML inventory (hvsim's: groups under all)."""
    hostvars: dict[str, dict[str, t.Any]] = {}
    members: dict[str, list[str]] = {}
    group_vars: dict[str, t.Any] = {}
    for group, body in (inventory["all"].get("children") or {}).items():
        members[group] = []
        group_vars[group] = (body or {}).get("vars") or {}
        for host, variables in ((body or {}).get("hosts") or {}).items():
            hostvars.setdefault(host, {}).update(variables or {})
            members[group].append(host)
    return hostvars, members, group_vars


def awx_slice(inventory: dict[str, t.Any], number: int, count: int) -> dict[str, t.Any]:
    """Slice `number` of `count`, as AWX's inventory script writes it (JSON inventory with _meta.hostvars)."""
    hostvars, members, group_vars = flatten(inventory)
    chosen = sorted(hostvars)[number - 1::count]
    data: dict[str, t.Any] = {"all": {"children": sorted(members)}}
    for group, hosts in members.items():
        entry: dict[str, t.Any] = {}
        if [host for host in hosts if host in chosen]:
            entry["hosts"] = [host for host in hosts if host in chosen]
        if group_vars[group]:
            entry["vars"] = group_vars[group]
        if entry:
            data[group] = entry
    data["_meta"] = {"hostvars": {host: hostvars[host] for host in chosen}}
    return data


def script_inventory(path: Path, data: dict[str, t.Any]) -> Path:
    """An executable inventory script printing `data`, as AWX hands a slice to ansible-playbook."""
    path.write_text("#!/bin/sh\ncat <<'EOF'\n" + json.dumps(data) + "\nEOF\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def start_playbook(inventory: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_HOST_KEY_CHECKING": "False",
           "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_NOCOLOR": "1"}
    return subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(SITE), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, t.Any]]:
    stdout, stderr = process.communicate(timeout=900)
    try:
        return process.returncode, json.loads(stdout)
    except ValueError:
        raise AssertionError(f"rc={process.returncode}\n{stdout[-3000:]}\n{stderr[-3000:]}") from None


def inventory_check_messages(document: dict[str, t.Any]) -> list[str]:
    for play in document["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].startswith("Check the inventory model"):
                return [line for result in task["hosts"].values() for line in result.get("msg") or []]
    return []


def test_awx_slices_that_split_a_family_are_refused_before_any_host_is_asked(healthy_lab: Lab, tmp_path: Path) -> None:
    inventory = yaml.safe_load(healthy_lab.inventory.read_text(encoding="utf-8"))
    count = 3
    slices = [script_inventory(tmp_path / f"slice{number}.sh", awx_slice(inventory, number, count)) for number in range(1, count + 1)]
    running = [start_playbook(path, "-e", f"nested_report_dir={tmp_path / f'report{index}'}") for index, path in enumerate(slices)]
    results = [finish(process) for process in running]
    for rc, document in results:
        messages = "\n".join(inventory_check_messages(document))
        assert rc != 0 and "is not a host of this inventory" in messages, messages or json.dumps(document)[:3000]
        assert messages.count("set the job template's job slicing to 1") == 1, messages
    for host in FLEET:
        assert healthy_lab.transcript(host) == [], f"{host} was asked something"


def test_one_job_per_l0_family_with_a_limit_converges_the_fleet_in_parallel(healthy_lab: Lab, tmp_path: Path) -> None:
    families = {"hv01": "lab-hv1,lab-hv2", "hv02": "lab-hv3"}

    def round_of_jobs(label: str) -> list[tuple[int, dict[str, t.Any]]]:
        running = [start_playbook(healthy_lab.inventory, "--limit", limit, "-e", f"nested_report_dir={tmp_path / f'{label}-{parent}'}")
                   for parent, limit in families.items()]
        return [finish(process) for process in running]

    for rc, document in round_of_jobs("first"):
        failed = {host: stats for host, stats in document["stats"].items() if stats.get("failures") or stats.get("unreachable")}
        assert rc == 0 and not failed, json.dumps(document["stats"])
    for rc, document in round_of_jobs("again"):
        assert rc == 0 and sum(stats.get("changed", 0) for stats in document["stats"].values()) == 0, json.dumps(document["stats"])
    for name in ("LAB-HV1", "LAB-HV2"):
        vm = next(v for v in healthy_lab.show("hv01")["vms"]["vms"] if v["name"] == name)
        assert vm["expose_virtualization_extensions"] is True and vm["state"] == "Running"
