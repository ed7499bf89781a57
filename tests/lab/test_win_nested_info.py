"""win_nested_info against the simulated fleet: the expected verdict per lab, one command per
task, nothing changed on any host."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

PLAY = """
- hosts: hyperv_hosts
  gather_facts: false
  tasks:
    - name: all VMs
      hyperv.nested.win_nested_info:
    - name: all VMs in check mode
      hyperv.nested.win_nested_info:
      check_mode: true
{extra}
"""


def run(lab: Lab, tmp_path: Path, extra: str = "") -> dict[str, list[dict[str, t.Any]]]:
    """Run the play; return, per host, the result of every task in order."""
    playbook = tmp_path / f"info-{len(list(tmp_path.iterdir()))}.yml"
    playbook.write_text(PLAY.format(extra=extra), encoding="utf-8")
    done = lab.playbook(playbook)
    assert done.stdout, done.stderr
    results: dict[str, list[dict[str, t.Any]]] = {}
    for task in json.loads(done.stdout)["plays"][0]["tasks"]:
        for host, result in task["hosts"].items():
            results.setdefault(host, []).append(result)
    return results


def codes(findings: list[dict[str, str]]) -> list[str]:
    return [finding["code"] for finding in findings]


def probes(lab: Lab, host: str) -> int:
    return sum(1 for entry in lab.transcript(host) if '"script_name":"probe"' in entry["stdin"])


def check_read_only(lab: Lab, hosts: list[str], tmp_path: Path, extra: str = "", tasks: int = 2) -> dict[str, list[dict[str, t.Any]]]:
    before = {host: lab.show(host) for host in hosts}
    commands_before = {host: len(lab.transcript(host)) for host in hosts}
    results = run(lab, tmp_path, extra)
    for host in hosts:
        assert lab.show(host) == before[host], f"{host} changed"
        transcript = lab.transcript(host)[commands_before[host] :]
        assert len(transcript) == tasks, f"{host}: {len(transcript)} commands for {tasks} tasks"
        assert all('"script_name":"probe"' in entry["stdin"] and entry["rc"] == 0 for entry in transcript)
        for result in results[host][:tasks]:
            assert result["changed"] is False
            assert not result.get("failed"), result.get("msg")
    return results


def test_healthy_intel_hosts_are_ready_and_their_vms_need_configuring(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("healthy-intel")
    results = check_read_only(lab, ["hv01", "hv02"], tmp_path)
    for host, vms in (("hv01", ["LAB-HV1", "LAB-HV2"]), ("hv02", ["LAB-HV3"])):
        normal, checked = results[host]
        assert normal["verdict"] == checked["verdict"]
        assert normal["verdict"]["host"] == {"ready": True, "blockers": [], "warnings": [], "notes": []}
        assert normal["host"]["os"]["build"] == 20348
        assert normal["platform"] == {"virtual": False, "hypervisor": None, "cloud": None}
        assert list(normal["verdict"]["vms"]) == vms
        for name in vms:
            entry = normal["verdict"]["vms"][name]
            assert codes(entry["blockers"]) == ["vm.extensions_not_exposed"]
            assert codes(entry["warnings"]) == ["vm.dynamic_memory_enabled", "vm.mac_spoofing_off"]
            assert entry["why_not_starting"] == []
        assert normal["ready"] is False and normal["missing"] == []
        assert normal["msg"].startswith(f"{host.upper()} (Microsoft Windows Server 2022 Datacenter, build 20348, GenuineIntel) can run nested virtualization.")


def test_healthy_intel_selected_missing_and_invalid_names(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("healthy-intel")
    extra = """
    - name: one VM, spelled in another case
      hyperv.nested.win_nested_info:
        name: [lab-hv1]
    - name: a name that is not there
      hyperv.nested.win_nested_info:
        name: [LAB-HV1, LAB-HV9]
    - name: a name that cannot be a VM name
      hyperv.nested.win_nested_info:
        name: ["bad\\u0001name"]
      ignore_errors: true
"""
    # The invalid name never reaches the host: 4 commands for 5 tasks.
    results = check_read_only(lab, ["hv01"], tmp_path, extra, tasks=4)
    selected, missing, invalid = results["hv01"][2:]
    assert [vm["name"] for vm in selected["vms"]] == ["LAB-HV1"]
    assert list(selected["verdict"]["vms"]) == ["LAB-HV1"]
    assert missing["missing"] == ["LAB-HV9"]
    assert missing["ready"] is False
    (not_found,) = missing["verdict"]["vms"]["LAB-HV9"]["blockers"]
    assert not_found["code"] == "vm.not_found" and "Did you mean" in not_found["msg"] and "LAB-HV1" in not_found["msg"]
    assert any("LAB-HV9" in warning for warning in missing["warnings"])
    assert invalid["failed"] is True
    assert invalid["msg"].startswith("Option 'name': item 1")


def test_amd_on_server_2019_is_refused(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("amd-old")
    result = check_read_only(lab, ["hv-amd-old"], tmp_path)["hv-amd-old"][0]
    host = result["verdict"]["host"]
    assert host["ready"] is False
    assert codes(host["blockers"]) == ["host.processor_unsupported"]
    assert "build 20348" in host["blockers"][0]["msg"] and "17763" in host["blockers"][0]["msg"]
    vm = result["verdict"]["vms"]["LAB-OLD1"]
    assert codes(vm["blockers"]) == ["vm.version_too_low", "vm.extensions_not_exposed"]
    assert "9.0 is below 9.3" in vm["blockers"][0]["msg"]
    assert "cannot run nested virtualization" in result["msg"]


def test_amd_on_server_2022_needs_version_9_3(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("amd-new")
    result = check_read_only(lab, ["hv-amd"], tmp_path)["hv-amd"][0]
    assert result["verdict"]["host"]["ready"] is True
    vms = result["verdict"]["vms"]
    for name in ("LAB-AMD1", "LAB-AMD2"):
        assert codes(vms[name]["blockers"]) == ["vm.extensions_not_exposed"]
    old = vms["LAB-AMD-OLD"]
    assert codes(old["blockers"]) == ["vm.version_too_low", "vm.extensions_not_exposed"]
    assert "9.3" in old["blockers"][0]["msg"] and "Update-VMVersion" in old["blockers"][0]["fix"]


def test_a_windows_server_2025_host_running_vbs_can_nest(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    # Credential Guard is on by default on Windows Server 2025: no blocker, no advice to turn it off.
    lab = lab_factory("ws2025-vbs")
    result = check_read_only(lab, ["hv-2025"], tmp_path)["hv-2025"][0]
    assert result["host"]["vbs"] == {"configured": True, "running": True, "status": 2}
    assert result["verdict"]["host"] == {"ready": True, "blockers": [], "warnings": [], "notes": []}
    vm = result["verdict"]["vms"]["LAB-2025"]
    assert codes(vm["blockers"]) == ["vm.extensions_not_exposed"]       # what win_nested_vm does, nothing else
    assert codes(vm["warnings"]) == ["vm.dynamic_memory_enabled", "vm.mac_spoofing_off"]
    assert codes(vm["notes"]) == ["vm.checkpoints_present"]
    assert "keeps the memory it has then (its startup memory is 4 GB)" in vm["warnings"][0]["msg"]
    text = json.dumps(result["verdict"])
    assert "VBS" not in text and "irtualization-based security" not in text
    assert result["msg"].startswith("HV-2025 (Microsoft Windows Server 2025 Datacenter, build 26100, GenuineIntel) can run nested virtualization.")


def test_network_modes_make_spoofing_off_a_note_for_nat_vms(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("healthy-intel")
    extra = """
    - name: with the network modes of the inventory
      hyperv.nested.win_nested_info:
        name: [LAB-HV1, LAB-HV2]
        network_modes: {LAB-HV1: nat, LAB-HV2: mac_spoofing}
"""
    result = check_read_only(lab, ["hv01"], tmp_path, extra, tasks=3)["hv01"][2]
    nat, spoofing = result["verdict"]["vms"]["LAB-HV1"], result["verdict"]["vms"]["LAB-HV2"]
    assert codes(nat["warnings"]) == ["vm.dynamic_memory_enabled"] and codes(nat["notes"]) == ["vm.mac_spoofing_off"]
    assert codes(spoofing["warnings"]) == ["vm.dynamic_memory_enabled", "vm.mac_spoofing_off"] and spoofing["notes"] == []


def _one_task(lab: Lab, tmp_path: Path, host: str, args: dict[str, t.Any]) -> dict[str, t.Any]:
    playbook = tmp_path / f"one-{len(list(tmp_path.iterdir()))}.yml"
    play = [{"hosts": host, "gather_facts": False, "tasks": [{"name": "info", "hyperv.nested.win_nested_info": args}]}]
    playbook.write_text(json.dumps(play), encoding="utf-8")
    done = lab.playbook(playbook)
    return t.cast(dict[str, t.Any], json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"][host])


def test_an_l1_host_being_a_vm_is_a_note_not_a_warning(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("healthy-intel")
    result = _one_task(lab, tmp_path, "lab-hv1", {"name": []})
    assert result["platform"] == {"virtual": True, "hypervisor": "Hyper-V", "cloud": None}
    host = result["verdict"]["host"]
    assert "host.is_virtual_machine" not in codes(host["warnings"])
    assert codes(host["notes"]) == ["host.is_virtual_machine"]


def test_an_azure_l1_is_recognised_and_never_sent_to_its_parent(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("azure-l1")
    result = _one_task(lab, tmp_path, "az-hv1", {"name": []})
    assert result["platform"] == {"virtual": True, "hypervisor": "Hyper-V", "cloud": "Azure"}
    assert result["ready"] is True
    (note,) = result["verdict"]["host"]["notes"]
    assert note["code"] == "host.azure_vm" and "168.63.129.16" in note["msg"] and "security type Standard" in note["fix"]
    assert "a VM on Azure" in result["msg"]


@pytest.mark.parametrize("lab_name", ["healthy-intel"])
def test_probe_request_carries_no_user_value_in_script_text(lab_factory: t.Callable[[str], Lab], tmp_path: Path, lab_name: str) -> None:
    lab = lab_factory(lab_name)
    extra = """
    - hyperv.nested.win_nested_info:
        name: ["LAB-HV1'; Stop-VM *; '"]
"""
    results = check_read_only(lab, ["hv01"], tmp_path, extra, tasks=3)
    assert results["hv01"][2]["missing"] == ["LAB-HV1'; Stop-VM *; '"]
    request = json.loads(lab.transcript("hv01")[-1]["stdin"])
    assert "Stop-VM *" not in request["script"]
    assert request["parameters"]["vm_names"] == ["LAB-HV1'; Stop-VM *; '"]
