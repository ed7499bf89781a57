"""Hyper-V inside an L1: install, reboot (driven by ansible.windows' own reboot code), hypervisor state."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from ansible_collections.ansible.windows.plugins.plugin_utils import _reboot
from ansible_payloads import FleetConnection, module_invocation
from hvsim.fleet import Fleet
from lab_dicts import basic_lab, call, cmdlet, execute, fleet_of, l0, lab, nested_ready_lab, only_failure, vm, vm_info, windows_guest


@pytest.fixture(autouse=True)
def quick_reboot_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """reboot_host backs off 1-12 s between tries; the simulated reboot takes 0.1 s."""
    monkeypatch.setattr(_reboot, "time", SimpleNamespace(sleep=lambda seconds: time.sleep(min(seconds, 0.05))))


def win_feature(fleet: Fleet, host: str, **args: Any) -> tuple[int, dict[str, Any]]:
    line, payload = module_invocation("win_feature", {"name": ["Hyper-V"], "include_management_tools": True,
                                                      "state": "present", **args})
    result = fleet.run_command(host, line, payload)
    return result.rc, json.loads(result.stdout)


def expose(fleet: Fleet, name: str = "LAB-HV1") -> None:
    result = execute(fleet, "hv01", {"kind": "stop_vm", "vm": name, "mode": "shutdown", "timeout_seconds": 5},
                     cmdlet("Set-VMMemory", name, DynamicMemoryEnabled=False),
                     cmdlet("Set-VMProcessor", name, ExposeVirtualizationExtensions=True),
                     {"kind": "start_vm", "vm": name, "timeout_seconds": 5})
    assert result["failed_index"] is None, result


def wait_reachable(fleet: Fleet, host: str) -> None:
    deadline = time.monotonic() + 5
    while not fleet.reachable(host):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_hyperv_install_in_l1_without_exposed_extensions_fails() -> None:
    fleet = fleet_of(basic_lab())
    rc, result = win_feature(fleet, "lab-hv1")
    assert rc == 1 and result["failed"] is True
    assert "The processor does not have required virtualization capabilities" in result["msg"]


def test_hyperv_install_needs_a_reboot_and_then_the_hypervisor_runs() -> None:
    fleet = fleet_of(basic_lab())
    expose(fleet)
    wait_reachable(fleet, "lab-hv1")
    rc, result = win_feature(fleet, "lab-hv1")
    assert rc == 0 and result["changed"] is True and result["reboot_required"] is True
    assert result["feature_result"][0]["reboot_required"] is True
    assert call(fleet, "lab-hv1", "probe", {"sections": ["host"]})["host"]["hyperv_feature"] == "EnablePending"
    assert win_feature(fleet, "lab-hv1")[1]["changed"] is False     # idempotent, still pending

    connection = FleetConnection(fleet, "lab-hv1")
    outcome = _reboot.reboot_host("win_reboot", connection, pre_reboot_delay=0, reboot_timeout=10)
    assert outcome.get("failed") is not True, outcome
    assert outcome["rebooted"] is True
    host = call(fleet, "lab-hv1", "probe", {"sections": ["host", "vms"]})
    assert host["host"]["hyperv_feature"] == "Enabled" and host["host"]["hypervisor_present"] is True
    assert host["vms"]["hyperv_module"] is True


def test_hyperv_inside_l1_does_not_run_without_exposed_extensions() -> None:
    spec = basic_lab()
    spec["hosts"][0]["vms"][0]["guest"]["nested_host"]["hyperv_feature"] = "Enabled"
    fleet = fleet_of(spec)
    host = call(fleet, "lab-hv1", "probe", {"sections": ["host"]})["host"]
    assert host["hyperv_feature"] == "Enabled" and host["hypervisor_present"] is False


def test_hyperv_install_on_a_client_needs_win_optional_feature() -> None:
    client = {"caption": "Windows 11 Pro", "product_type": "client", "edition": "Professional", "build": 22631}
    fleet = fleet_of(lab(l0(os=client, hyperv_feature="Disabled", hypervisor_present=False)))
    rc, result = win_feature(fleet, "hv01")
    assert rc == 1 and "does not support the cmdlets Install-WindowsFeature" in result["msg"]
    line, payload = module_invocation("win_optional_feature", {"name": "Microsoft-Hyper-V-All", "state": "present"})
    answer = fleet.run_command("hv01", line, payload)
    assert answer.rc == 0 and json.loads(answer.stdout) == {"changed": True, "reboot_required": True}


def test_l2_guest_starts_only_when_its_l1_hypervisor_runs() -> None:
    spec = nested_ready_lab()
    fleet = fleet_of(spec)
    assert execute(fleet, "lab-hv1", {"kind": "start_vm", "vm": "LAB-VM1", "timeout_seconds": 5})["failed_index"] is None
    # Same L1 with dynamic memory: it cannot even start with extensions exposed; without them, no hypervisor.
    spec["hosts"][0]["vms"][0]["expose_virtualization_extensions"] = False
    fleet = fleet_of(spec)
    message = only_failure(execute(fleet, "lab-hv1", {"kind": "start_vm", "vm": "LAB-VM1", "timeout_seconds": 1}))
    assert "hypervisor is not running" in message


def test_a_lab_cannot_declare_an_l2_running_without_its_hypervisor() -> None:
    spec = nested_ready_lab(l2_state="Running")
    spec["hosts"][0]["vms"][0]["expose_virtualization_extensions"] = False
    with pytest.raises(ValueError, match="hypervisor"):
        fleet_of(spec)


def test_shutting_down_an_l1_saves_its_running_l2_guests() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    assert fleet.reachable("lab-hv1")
    execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "shutdown", "timeout_seconds": 5})
    assert not fleet.reachable("lab-hv1")
    l2 = fleet.export_state()["roots"][0]["vms"][0]["nested_host"]["vms"][0]
    assert l2["state"] == "Saved"


def test_l1_endpoint_is_unreachable_while_its_vm_boots() -> None:
    nested = {"address": "127.0.0.2", "port": 0, "hyperv_feature": "Disabled"}
    fleet = fleet_of(lab(l0(vms=[vm("LAB-HV1", guest=windows_guest(nested))])))
    assert not fleet.reachable("lab-hv1")
    execute(fleet, "hv01", {"kind": "start_vm", "vm": "LAB-HV1", "timeout_seconds": 5})
    assert fleet.reachable("lab-hv1")
    assert vm_info(fleet, "hv01", "LAB-HV1")["guest_os"] == "Microsoft Windows Server 2022 Datacenter"
