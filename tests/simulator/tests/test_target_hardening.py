"""Issue 18: what Windows does that the collection's scripts must survive, as the simulator models
it (RULES #41-#47): a shutdown that outlives its timeout, a refused -AsJob stop, an L1 whose own
hypervisor does not run, Hyper-V waiting for a restart or only its tools installed, a VM whose
settings cannot be read, minroot, Constrained Language Mode."""
from __future__ import annotations

import json
import time
from typing import Any

from hvsim.fleet import Fleet
from lab_dicts import call, execute, fleet_of, l0, lab, nested_ready_lab, only_failure, send, vm, vm_info, windows_guest

SLOW = 1.5


def power_lab(**vm_overrides: Any) -> dict[str, Any]:
    spec = lab(l0(vms=[vm("VM-A", state="Running", guest=windows_guest(), **vm_overrides),
                       vm("VM-B", state="Running", guest=windows_guest())]))
    spec["timing"].update({"shutdown_seconds": 0.2, "boot_seconds": 0.2})
    return spec


def _stop(name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "stop_vm", "vm": name, "mode": "shutdown", "timeout_seconds": 5, **extra}


def _ensure(name: str) -> dict[str, Any]:
    return {"kind": "ensure_running", "vm": name, "timeout_seconds": 5}


def _wait_until(fleet: Fleet, name: str, state: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        info = vm_info(fleet, "hv01", name)
        if info["state"] == state or time.monotonic() > deadline:
            return info
        time.sleep(0.05)


# -- item 1: a shutdown that outlives shutdown_timeout ---------------------------------------------


def test_a_guest_that_shuts_down_after_the_timeout_keeps_its_restart_mark() -> None:
    fleet = fleet_of(power_lab(shutdown_seconds=SLOW))
    result = execute(fleet, "hv01", _stop("VM-A", mark_for_restart=True, timeout_seconds=1), on_failure=[_ensure("VM-A")])
    assert result["failed_index"] == 0 and "did not shut down within 1 seconds" in only_failure(result)
    # ensure_running finds it Running, but the stop this call issued has not ended: no mark removed.
    [ensure] = result["on_failure"]
    assert ensure["status"] == "failed" and "restart mark is kept" in ensure["message"], ensure
    assert vm_info(fleet, "hv01", "VM-A")["restart_mark"] is not None
    # The guest goes on with its shutdown: once it is off, the mark says a run stopped it.
    later = _wait_until(fleet, "VM-A", "Off", SLOW + 2)
    assert later["state"] == "Off" and later["restart_mark"] is not None


def test_a_stop_that_ended_before_ensure_running_still_lets_it_start_the_vm() -> None:
    fleet = fleet_of(power_lab())
    failing = {"kind": "cmdlet", "cmdlet": "Set-VMProcessor", "vm": "VM-A", "parameters": {"Count": 999}}
    result = execute(fleet, "hv01", _stop("VM-A", mark_for_restart=True), failing, on_failure=[_ensure("VM-A")])
    assert result["failed_index"] == 1 and result["on_failure"][0]["status"] == "ok"
    info = vm_info(fleet, "hv01", "VM-A")
    assert info["state"] == "Running" and info["restart_mark"] is None


def test_the_slow_shutdown_fault_slows_one_guest_only() -> None:
    fleet = fleet_of(power_lab())
    fleet.inject({"kind": "slow_shutdown", "host": "hv01", "vm": "VM-A", "seconds": SLOW})
    started = time.monotonic()
    execute(fleet, "hv01", _stop("VM-A", wait=False), _stop("VM-B"))
    assert vm_info(fleet, "hv01", "VM-A")["state"] == "Running" and time.monotonic() - started < SLOW
    assert _wait_until(fleet, "VM-A", "Off", SLOW + 2)["state"] == "Off"


# -- items 2 and 10: a refused stop is an error record of a Completed job ---------------------------


def test_a_stop_the_guest_cannot_answer_fails_at_once_with_the_jobs_error() -> None:
    # The Shutdown service is enabled, but nothing in the guest answers (PXE, Linux without hv_utils).
    fleet = fleet_of(power_lab(integration_components=False))
    started = time.monotonic()
    result = execute(fleet, "hv01", _stop("VM-A", timeout_seconds=30))
    message = only_failure(result)
    assert message.startswith("Stop-VM failed for 'VM-A': ") and "Shutdown integration service" in message
    assert time.monotonic() - started < 5     # not the 30 s timeout
    assert result["vm_states"] == {"VM-A": "Running"}


def test_without_integration_components_every_enabled_service_reads_no_contact() -> None:
    fleet = fleet_of(power_lab(integration_components=False))
    services = {s["name"]: s for s in vm_info(fleet, "hv01", "VM-A")["integration_services"]}
    assert services["Shutdown"]["enabled"] is True and services["Shutdown"]["primary_status"] == "NoContact"
    healthy = {s["name"]: s for s in vm_info(fleet, "hv01", "VM-B")["integration_services"]}
    assert healthy["Shutdown"]["primary_status"] == "Ok"


# -- item 3: inside an L1, HypervisorPresent is the parent's ----------------------------------------


def test_an_l1_whose_hypervisor_does_not_run_says_so_though_hypervisor_present_is_true() -> None:
    spec = nested_ready_lab()
    spec["hosts"][0]["vms"][0]["expose_virtualization_extensions"] = False
    fleet = fleet_of(spec)
    host = call(fleet, "LAB-HV1", "probe", {"sections": ["host"]})["host"]
    assert host["hypervisor_present_raw"] is True              # Win32_ComputerSystem in any Hyper-V guest
    assert host["hypervisor_root_partition"] is False
    assert host["hypervisor_present"] is False


def test_an_l1_whose_hypervisor_runs() -> None:
    fleet = fleet_of(nested_ready_lab())
    host = call(fleet, "LAB-HV1", "probe", {"sections": ["host"]})["host"]
    assert host["hypervisor_present"] is True and host["hypervisor_root_partition"] is True


# -- item 4: the module without a service that answers ----------------------------------------------


def _probe_all(fleet: Fleet) -> dict[str, Any]:
    return call(fleet, "hv01", "probe", {"sections": ["host", "vms", "network"]})


def test_hyperv_waiting_for_a_restart_is_reported_not_a_failed_probe() -> None:
    fleet = fleet_of(lab(l0(hyperv_feature="EnablePending")))
    result = _probe_all(fleet)
    assert result["host"]["hyperv_feature"] == "EnablePending" and result["host"]["vmms"] == "Stopped"
    assert result["vms"]["hyperv_module"] is True and result["vms"]["vms"] == []
    assert "Virtual Machine Management service" in result["vms"]["service_unavailable"]
    assert result["network"]["service_unavailable"] and result["network"]["switches"] == []


def test_management_tools_only() -> None:
    fleet = fleet_of(lab(l0(hyperv_feature="Disabled", hyperv_management_tools=True)))
    result = _probe_all(fleet)
    assert result["host"]["vmms"] == "Absent" and result["vms"]["vmms"] == "Absent"
    assert result["vms"]["hyperv_module"] is True and result["vms"]["service_unavailable"]
    # An executor op that resolves a VM fails with the service's error, not CommandNotFound.
    message = only_failure(execute(fleet, "hv01", _ensure("VM-A")))
    assert "Virtual Machine Management service" in message


# -- item 5: one VM in a bad state -------------------------------------------------------------------


def test_a_vm_whose_settings_cannot_be_read_has_its_error_in_its_own_entry() -> None:
    broken = vm("BROKEN", state="OffCritical", configuration_error="The configuration file could not be read.")
    fleet = fleet_of(lab(l0(vms=[broken, vm("GOOD")])))
    vms = {entry["name"]: entry for entry in call(fleet, "hv01", "probe", {"sections": ["vms"]})["vms"]["vms"]}
    assert vms["BROKEN"] == {"name": "BROKEN", "id": vms["BROKEN"]["id"], "state": "OffCritical",
                             "error": "The configuration file could not be read."}
    assert vms["GOOD"]["processor_count"] == 2


# -- item 11: minroot --------------------------------------------------------------------------------


def test_the_host_processor_count_is_the_hosts_not_the_root_partitions() -> None:
    fleet = fleet_of(lab(l0(logical_processors=32, root_partition_processors=4)))
    host = call(fleet, "hv01", "probe", {"sections": ["host"]})["host"]
    assert host["logical_processor_count"] == 32 and host["root_partition_processor_count"] == 4


# -- item 12: Constrained Language Mode ----------------------------------------------------------------


def test_constrained_language_mode_fails_with_one_sentence() -> None:
    fleet = fleet_of(lab(l0(language_mode="ConstrainedLanguage")))
    result = send(fleet, "hv01", "probe", {"sections": ["host"]})
    assert result.rc == 0
    answer = json.loads(result.stdout.decode("utf-8"))
    assert answer["ok"] is False
    assert answer["error"]["message"].startswith("PowerShell runs in ConstrainedLanguage mode on this host")


# -- item 9: the new switch's adapter, found through the switch ------------------------------------


def test_a_second_adapter_for_a_taken_name_gets_a_number() -> None:
    fleet = fleet_of(lab(l0()))
    new_switch = {"kind": "cmdlet", "cmdlet": "New-VMSwitch", "parameters": {"Name": "VmNAT", "SwitchType": "Internal"}}
    execute(fleet, "hv01", new_switch, new_switch)
    names = [a["name"] for a in call(fleet, "hv01", "probe", {"sections": ["network"]})["network"]["adapters"]]
    assert "vEthernet (VmNAT)" in names and "vEthernet (VmNAT) 2" in names


def test_the_gateway_address_goes_on_the_adapter_of_the_switch_just_created() -> None:
    fleet = fleet_of(lab(l0()))
    result = execute(
        fleet, "hv01",
        {"kind": "cmdlet", "cmdlet": "New-VMSwitch", "parameters": {"Name": "Lab", "SwitchType": "Internal"}},
        {"kind": "cmdlet", "cmdlet": "New-NetIPAddress", "switch_adapter": "Lab",
         "parameters": {"IPAddress": "192.168.77.1", "PrefixLength": 24, "AddressFamily": "IPv4"}},
    )
    assert result["failed_index"] is None, result
    addresses = call(fleet, "hv01", "probe", {"sections": ["network"]})["network"]["ip_addresses"]
    assert {"interface_alias": "vEthernet (Lab)", "ip_address": "192.168.77.1"}.items() <= next(
        a for a in addresses if a["ip_address"] == "192.168.77.1").items()
    # Two switches of that name: no guessing.
    execute(fleet, "hv01", {"kind": "cmdlet", "cmdlet": "New-VMSwitch", "parameters": {"Name": "Lab", "SwitchType": "Internal"}})
    message = only_failure(execute(fleet, "hv01", {"kind": "cmdlet", "cmdlet": "New-NetIPAddress", "switch_adapter": "Lab",
                                                   "parameters": {"IPAddress": "192.168.78.1", "PrefixLength": 24}}))
    assert "no single virtual switch named 'Lab'" in message


def test_each_switch_reports_its_own_host_adapter() -> None:
    fleet = fleet_of(lab(l0()))
    new_switch = {"kind": "cmdlet", "cmdlet": "New-VMSwitch", "parameters": {"Name": "Lab", "SwitchType": "Internal"}}
    execute(fleet, "hv01", new_switch, new_switch)
    network = call(fleet, "hv01", "probe", {"sections": ["network"]})["network"]
    index_of = {a["name"]: a["interface_index"] for a in network["adapters"]}
    labs = [s["host_interface_index"] for s in network["switches"] if s["name"] == "Lab"]
    assert labs == [index_of["vEthernet (Lab)"], index_of["vEthernet (Lab) 2"]]
    assert next(s for s in network["switches"] if s["name"] == "External")["host_interface_index"] == index_of["vEthernet (External)"]
