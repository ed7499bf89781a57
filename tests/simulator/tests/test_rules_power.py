"""Power rules: start preconditions, graceful shutdown, turn off, saved state."""
from __future__ import annotations

import time

from lab_dicts import INTEL, basic_lab, cmdlet, execute, fleet_of, l0, lab, only_failure, vm, vm_info


def test_vm_with_extensions_exposed_and_dynamic_memory_starts() -> None:
    # Microsoft's current guide: with Hyper-V inside, the memory of a dynamic-memory VM "doesn't
    # fluctuate"; nothing fails to start (RULES #7, the 2016 preview's restriction, is gone).
    dyn = {"startup_gb": 4, "dynamic": True, "minimum_gb": 1, "maximum_gb": 16}
    fleet = fleet_of(lab(l0(vms=[vm("N", expose_virtualization_extensions=True, memory=dyn)])))
    result = execute(fleet, "hv01", {"kind": "start_vm", "vm": "N", "timeout_seconds": 2})
    assert result["failed_index"] is None, result
    info = vm_info(fleet, "hv01", "N")
    assert (info["state"], info["dynamic_memory_enabled"], info["memory_assigned_bytes"]) == ("Running", True, 4 * 1024**3)


def test_an_l1_with_dynamic_memory_runs_its_hypervisor() -> None:
    spec = basic_lab()
    l1 = spec["hosts"][0]["vms"][0]
    l1["expose_virtualization_extensions"] = True
    l1["guest"]["nested_host"]["hyperv_feature"] = "Enabled"
    assert l1["memory"]["dynamic"] is True
    fleet = fleet_of(spec)
    assert fleet.host_state("lab-hv1")["host"]["hypervisor_present"] is True


def _start(host: dict, version: str = "9.0") -> str | None:
    fleet = fleet_of(lab(host | {"vms": [vm("N", version=version, expose_virtualization_extensions=True)]}))
    result = execute(fleet, host["name"], {"kind": "start_vm", "vm": "N", "timeout_seconds": 2})
    return None if result["failed_index"] is None else only_failure(result)


def test_intel_needs_vtx_ept_and_version_8() -> None:
    assert _start(l0()) is None
    assert "8.0" in (_start(l0(), version="7.1") or "")
    assert "EPT" in (_start(l0(processor=INTEL | {"ept": False})) or "")
    old = l0(os={"caption": "Windows Server 2012 R2", "product_type": "server", "build": 9600})
    assert "14393" in (_start(old, version="5.0") or "")


def test_intel_preview_builds_10565_to_14392_do_not_nest_and_14393_does() -> None:
    # Builds 10565-14392 had only the 2016 preview; Windows Server 2016 / Windows 10 1607 is build 14393.
    preview = l0(os={"caption": "Windows 10 Pro Insider Preview", "product_type": "client", "build": 14392})
    assert "14393" in (_start(preview, version="8.0") or "")
    ga = l0(os={"caption": "Microsoft Windows Server 2016 Datacenter", "product_type": "server", "build": 14393})
    assert _start(ga, version="8.0") is None


def test_amd_needs_windows_server_2022_or_windows_11_and_version_9_3() -> None:
    amd = INTEL | {"manufacturer": "AuthenticAMD"}
    assert _start(l0(processor=amd), version="9.3") is None
    assert "9.3" in (_start(l0(processor=amd), version="9.0") or "")
    ws2019 = {"caption": "Windows Server 2019", "product_type": "server", "build": 17763}
    assert "20348" in (_start(l0(processor=amd, os=ws2019), version="9.0") or "")
    win10 = {"caption": "Windows 10 Pro", "product_type": "client", "build": 19045}
    assert "22000" in (_start(l0(processor=amd, os=win10), version="9.3") or "")
    win11 = {"caption": "Windows 11 Pro", "product_type": "client", "build": 22631}
    assert _start(l0(processor=amd, os=win11), version="10.0") is None


def test_vbs_running_blocks_neither_exposing_nor_starting() -> None:
    # Windows Server 2025 runs Credential Guard by default; nested VMs run on VBS hosts (RULES #9, removed).
    ws2025 = {"caption": "Microsoft Windows Server 2025 Datacenter", "product_type": "server", "build": 26100}
    host = l0(os=ws2025, vbs={"configured": True, "running": True})
    assert _start(host, version="12.0") is None
    fleet = fleet_of(lab(host | {"vms": [vm("M", version="12.0")]}))
    result = execute(fleet, "hv01", cmdlet("Set-VMProcessor", "M", ExposeVirtualizationExtensions=True),
                     {"kind": "start_vm", "vm": "M", "timeout_seconds": 2})
    assert result["failed_index"] is None, result
    assert vm_info(fleet, "hv01", "M")["state"] == "Running"


def test_bcd_offer_nested_virt_false_blocks() -> None:
    assert "OFFERNESTEDVIRT=FALSE" in (_start(l0(bcd_offer_nested_virt_disabled=True)) or "")


def test_graceful_shutdown_takes_the_configured_time() -> None:
    fleet = fleet_of(basic_lab())
    started = time.monotonic()
    result = execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "shutdown", "timeout_seconds": 5})
    assert result["failed_index"] is None
    assert time.monotonic() - started >= 0.05
    assert result["vm_states"] == {"LAB-HV1": "Off"}


def test_graceful_shutdown_needs_the_shutdown_integration_service() -> None:
    spec = basic_lab()
    spec["hosts"][0]["vms"][0]["integration_services"] = {"Shutdown": False}
    fleet = fleet_of(spec)
    message = only_failure(execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "shutdown"}))
    assert "Shutdown integration service" in message
    assert vm_info(fleet, "hv01", "LAB-HV1")["state"] == "Running"


def test_a_guest_that_ignores_shutdown_keeps_running_and_turn_off_is_immediate() -> None:
    fleet = fleet_of(basic_lab())
    fleet.inject({"kind": "ignore_shutdown", "host": "hv01", "vm": "LAB-HV1", "value": True})
    result = execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "shutdown", "timeout_seconds": 0.2})
    assert only_failure(result) == "VM 'LAB-HV1' did not shut down within 0 seconds."
    assert result["vm_states"] == {"LAB-HV1": "Running"}
    result = execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off", "timeout_seconds": 0})
    assert result["failed_index"] is None and result["vm_states"] == {"LAB-HV1": "Off"}


def test_saved_vm_rejects_changes_until_started_or_saved_state_removed() -> None:
    fleet = fleet_of(basic_lab())
    assert execute(fleet, "hv01", cmdlet("Stop-VM", "LAB-HV1", Save=True))["failed_index"] is None
    assert vm_info(fleet, "hv01", "LAB-HV1")["state"] == "Saved"
    message = only_failure(execute(fleet, "hv01", cmdlet("Set-VMProcessor", "LAB-HV1", Count=4)))
    assert "saved" in message
    assert execute(fleet, "hv01", cmdlet("Remove-VMSavedState", "LAB-HV1"))["failed_index"] is None
    assert vm_info(fleet, "hv01", "LAB-HV1")["state"] == "Off"
    assert execute(fleet, "hv01", cmdlet("Set-VMProcessor", "LAB-HV1", Count=4))["failed_index"] is None


def test_starting_a_saved_vm_restores_it() -> None:
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", cmdlet("Stop-VM", "LAB-HV1", Save=True))
    boots = fleet.export_state()["roots"][0]["vms"][0]["nested_host"]["os_state"]["boot_count"]
    assert execute(fleet, "hv01", {"kind": "start_vm", "vm": "LAB-HV1"})["vm_states"] == {"LAB-HV1": "Running"}
    assert fleet.export_state()["roots"][0]["vms"][0]["nested_host"]["os_state"]["boot_count"] == boots


def test_on_failure_restores_the_power_state() -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off"},
                     cmdlet("Set-VMProcessor", "LAB-HV1", Count=999),
                     cmdlet("Set-VMProcessor", "LAB-HV1", Count=2),
                     on_failure=[{"kind": "ensure_running", "vm": "LAB-HV1", "timeout_seconds": 5}])
    assert result["failed_index"] == 1
    assert [o["status"] for o in result["operations"]] == ["ok", "failed", "not_run"]
    assert result["on_failure"][0]["status"] == "ok"
    assert result["vm_states"] == {"LAB-HV1": "Running"}


def test_synchronous_stop_vm_waits_for_the_guest() -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", cmdlet("Stop-VM", "LAB-HV1", Force=True))
    assert result["failed_index"] is None and result["vm_states"] == {"LAB-HV1": "Off"}
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", cmdlet("Stop-VM", "LAB-HV1", AsJob=True, Force=True))
    assert vm_info(fleet, "hv01", "LAB-HV1")["state"] == "Running"     # the job runs on


def test_running_vms_must_fit_in_the_host_memory() -> None:
    big = {"startup_gb": 40, "dynamic": False, "minimum_gb": 1, "maximum_gb": 64}
    fleet = fleet_of(lab(l0(vms=[vm("A", memory=big), vm("B", memory=big)])))     # hv01 has 64 GB
    assert execute(fleet, "hv01", {"kind": "start_vm", "vm": "A", "timeout_seconds": 2})["failed_index"] is None
    message = only_failure(execute(fleet, "hv01", {"kind": "start_vm", "vm": "B", "timeout_seconds": 2}))
    assert "Not enough memory in the system to start the virtual machine B." in message
