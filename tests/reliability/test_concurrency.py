"""Concurrency: win_nested_vm and win_nested_info over a generated fleet of 20 Hyper-V hosts with
3 VMs each, forks 50. Every host converges, and nothing crosses between hosts: each host's
results name only its own VMs, each host received requests about its own VMs only, and each
host's VMs got that host's own value (the processor count is different on every host).

(playbooks/site.yml over the same fleet takes several minutes on two cores, more than this
suite's budget; docs/reliability.md gives its figures, measured by hand.)"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import yaml

from tests.reliability._support import Lab, hvsim, requests, run_play, script_names

HOSTS, VMS = 20, 3


def processors(host: str) -> int:
    return int(host[2:]) + 2  # hv01 -> 3 ... hv20 -> 22: never the VMs' 2 of now, within 32 logical processors


@pytest.fixture(scope="module")
def fleet(module_labs: t.Callable[[Path], Lab], tmp_path_factory: pytest.TempPathFactory) -> tuple[Lab, dict[str, list[str]]]:
    lab_file = tmp_path_factory.mktemp("fleet") / "fleet.yml"
    hvsim("generate", "--hosts", str(HOSTS), "--vms", str(VMS), "--out", str(lab_file))
    own = {host["name"]: [vm["name"] for vm in host["vms"]] for host in yaml.safe_load(lab_file.read_text(encoding="utf-8"))["hosts"]}
    return module_labs(lab_file), own


PLAY = {
    "hosts": "hyperv_hosts",
    "gather_facts": False,
    "tasks": [
        {
            "name": "vm",
            "hyperv.nested.win_nested_vm": {
                "name": (
                    "{{ groups['nested_hosts'] | map('extract', hostvars) | selectattr('nested_parent', 'equalto', inventory_hostname)"
                    " | map(attribute='nested_vm_name') | list }}"
                ),
                "processor_count": "{{ inventory_hostname[2:] | int + 2 }}",
                "mac_address_spoofing": "on",
                "power": "shutdown",
            },
        },
        {"name": "info", "hyperv.nested.win_nested_info": {}},
    ],
}


@pytest.fixture(scope="module")
def runs(fleet: tuple[Lab, dict[str, list[str]]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    lab, own = fleet
    workdir = tmp_path_factory.mktemp("fleet-runs")
    first = run_play(lab, [PLAY], workdir, "--forks", "50")
    after_first = {host: lab.transcript(host) for host in own}
    second = run_play(lab, [PLAY], workdir, "--forks", "50")
    return {"first": first, "second": second, "after_first": after_first, "transcripts": {host: lab.transcript(host) for host in own}}


def test_the_fleet_is_what_the_test_expects(fleet: tuple[Lab, dict[str, list[str]]]) -> None:
    _lab, own = fleet
    assert len(own) == HOSTS and all(len(names) == VMS for names in own.values())
    every = [name for names in own.values() for name in names]
    assert len(set(every)) == len(every)  # so a name that crossed would be seen


def test_every_host_converges(runs: dict[str, t.Any], fleet: tuple[Lab, dict[str, list[str]]]) -> None:
    lab, own = fleet
    first, second = runs["first"], runs["second"]
    assert first.run.rc == 0, first.run.stderr[-3000:]
    assert set(first.run.recap) == set(own)
    assert all(stats["failures"] == 0 and stats["unreachable"] == 0 for stats in first.run.recap.values())
    assert all(stats["changed"] == 1 for stats in first.run.recap.values())
    assert second.run.rc == 0
    assert second.run.total("changed") == 0
    for host, names in own.items():
        vms = {vm["name"]: vm for vm in lab.show(host)["vms"]["vms"]}
        for name in names:
            assert vms[name]["expose_virtualization_extensions"] is True and vms[name]["state"] == "Running", (host, name)
            assert vms[name]["processor_count"] == processors(host), (host, name)


def test_results_name_only_the_hosts_own_vms(runs: dict[str, t.Any], fleet: tuple[Lab, dict[str, list[str]]]) -> None:
    _lab, own = fleet
    for played in (runs["first"], runs["second"]):
        vm_task, info_task = played.tasks
        for host, names in own.items():
            result = vm_task.hosts[host]
            assert [vm["name"] for vm in result["vms"]] == names, host
            assert all(f"'{name}'" in " ".join(result["commands"]) for name in names) or not result["changed"]
            for command in result["commands"]:
                assert not any(other in command for other_host, others in own.items() if other_host != host for other in others), command
            info = info_task.hosts[host]
            assert info["host"]["computer_name"].casefold() == host.casefold()
            assert [vm["name"] for vm in info["vms"]] == names, host
            assert sorted(info["verdict"]["vms"]) == sorted(names)


def test_each_host_received_only_requests_about_its_own_vms(runs: dict[str, t.Any], fleet: tuple[Lab, dict[str, list[str]]]) -> None:
    _lab, own = fleet
    for host, names in own.items():
        first = runs["after_first"][host]
        assert script_names(first) == ["probe", "execute", "probe"], host
        assert script_names(runs["transcripts"][host][len(first) :]) == ["probe", "probe"], host
        (execute,) = requests(first, "execute")
        operations = execute["parameters"]["operations"] + execute["parameters"]["on_failure"]
        assert {op["vm"] for op in operations} == set(names), host
        assert {op["parameters"]["Count"] for op in operations if op.get("cmdlet") == "Set-VMProcessor" and "Count" in op["parameters"]} == {processors(host)}
        others = [name for other_host, other_names in own.items() if other_host != host for name in other_names]
        for entry in runs["transcripts"][host]:
            text = json.dumps(entry, ensure_ascii=False)
            assert not any(name in text for name in others), (host, [name for name in others if name in text])
