"""win_nested_vm_provision against the simulated fleet (tests/simulator/labs/bare-hosts.yml): a bare
L0 host with a golden image; the created L1 answers WinRM with the password of the answer file,
the second run is one read-only request, and removal leaves the host as it was."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import yaml

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab, PlaybookRun

L0 = "hv01"
PASSWORD = "L1-Passw0rd!"     # the lab's planned lab-hv1 expects this Administrator password
VMS = [{"name": "LAB-HV1", "image": "C:\\Golden\\ws2022.vhdx", "processor_count": 4, "memory": "8GB",
        "network_mode": "nat", "adapters": [{"switch": "External"}]}]


@pytest.fixture
def lab(lab_factory: t.Callable[[str], Lab]) -> Lab:
    return lab_factory("bare-hosts")


def play(lab: Lab, tmp_path: Path, name: str, *flags: str, **args: t.Any) -> tuple[dict[str, t.Any], PlaybookRun]:
    playbook = tmp_path / f"{name}.yml"
    task = {"hyperv.nested.win_nested_vm_provision": {"admin_password": PASSWORD, "vms": VMS, **args},
            "register": "provisioned"}
    playbook.write_text(yaml.safe_dump([{"hosts": L0, "gather_facts": False, "tasks": [task]}]), encoding="utf-8")
    run = lab.playbook(playbook, *flags)
    assert PASSWORD not in run.stdout, "the admin password reached the task output"
    return json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"][L0], run


def test_check_mode_creates_nothing(lab: Lab, tmp_path: Path) -> None:
    before = lab.show(L0)["vms"]
    result, run = play(lab, tmp_path, "check", "--check", "--diff")
    run.assert_ok()
    assert result["changed"] is True and result["vms"][0]["status"] == "create"
    assert [r["parameters"]["action"] for r in lab.requests(L0, "provision")] == ["inspect"]
    assert lab.show(L0)["vms"] == before


def test_create_then_converged_then_the_l1_answers_then_removal_restores_the_host(lab: Lab, tmp_path: Path) -> None:
    before = lab.show(L0)
    result, run = play(lab, tmp_path, "create")
    run.assert_ok()
    assert result["changed"] is True and result["vms"][0]["status"] == "create"
    assert {step["status"] for step in result["steps"]} == {"ok"}
    vm = next(v for v in lab.show(L0)["vms"]["vms"] if v["name"] == "LAB-HV1")
    assert vm["state"] == "Running" and vm["expose_virtualization_extensions"] is True
    assert vm["dynamic_memory_enabled"] is False and vm["processor_count"] == 4
    assert vm["startup_memory_bytes"] == 8 * 1024**3

    seen = len(lab.requests(L0, "provision"))
    again, run = play(lab, tmp_path, "again")
    run.assert_ok()
    assert again["changed"] is False and again["vms"][0]["status"] == "present"
    assert [r["parameters"]["action"] for r in lab.requests(L0, "provision")[seen:]] == ["inspect"]

    ping = tmp_path / "ping.yml"
    ping.write_text(yaml.safe_dump([{"hosts": "lab-hv1", "gather_facts": False, "tasks": [
        {"ansible.builtin.wait_for_connection": {"timeout": 30}}]}]), encoding="utf-8")
    lab.playbook(ping).assert_ok()

    removed, run = play(lab, tmp_path, "remove", state="absent")
    run.assert_ok()
    assert removed["changed"] is True and removed["vms"][0]["status"] == "remove"
    after = lab.show(L0)
    assert after["vms"] == before["vms"] and after["network"] == before["network"]


def test_an_existing_vm_of_the_same_name_is_left_alone(lab: Lab, tmp_path: Path) -> None:
    play(lab, tmp_path, "create")[1].assert_ok()
    other = [{**VMS[0], "processor_count": 8}]
    result, run = play(lab, tmp_path, "differs", vms=other)
    run.assert_ok()
    assert result["changed"] is False and result["vms"][0]["status"] == "differs"
    assert any("reported, not replaced" in w for w in result.get("warnings", []))
