"""Rules on VM settings (processor, memory, version, security), through the executor."""
from __future__ import annotations

from lab_dicts import basic_lab, cmdlet, execute, fleet_of, only_failure, vm_info

GB = 1024 ** 3


def test_expose_virtualization_extensions_changes_only_while_off() -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", cmdlet("Set-VMProcessor", "LAB-HV1", ExposeVirtualizationExtensions=True))
    assert "turned off" in only_failure(result)
    assert vm_info(fleet, "hv01", "LAB-HV1")["expose_virtualization_extensions"] is False
    result = execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off"},
                     cmdlet("Set-VMProcessor", "LAB-HV1", ExposeVirtualizationExtensions=True))
    assert result["failed_index"] is None
    assert vm_info(fleet, "hv01", "LAB-HV1")["expose_virtualization_extensions"] is True


def test_processor_count_changes_only_while_off_and_within_the_host() -> None:
    fleet = fleet_of(basic_lab())
    assert "turned off" in only_failure(execute(fleet, "hv01", cmdlet("Set-VMProcessor", "LAB-HV1", Count=4)))
    assert "logical processors" in only_failure(execute(fleet, "hv01", cmdlet("Set-VMProcessor", "PLAIN", Count=64)))
    assert execute(fleet, "hv01", cmdlet("Set-VMProcessor", "PLAIN", Count=4))["failed_index"] is None
    assert vm_info(fleet, "hv01", "PLAIN")["processor_count"] == 4


def test_dynamic_memory_toggles_only_while_off() -> None:
    fleet = fleet_of(basic_lab())
    message = only_failure(execute(fleet, "hv01", cmdlet("Set-VMMemory", "LAB-HV1", DynamicMemoryEnabled=False)))
    assert "Dynamic memory" in message
    assert vm_info(fleet, "hv01", "LAB-HV1")["dynamic_memory_enabled"] is True


def test_memory_of_a_vm_running_hyperv_changes_only_while_off() -> None:
    from lab_dicts import nested_ready_lab
    fleet = fleet_of(nested_ready_lab())
    message = only_failure(execute(fleet, "hv01", cmdlet("Set-VMMemory", "LAB-HV1", StartupBytes=8 * GB)))
    assert "running Hyper-V" in message
    # The same runtime resize works for a VM without Hyper-V inside (Windows Server 2016+).
    fleet = fleet_of(basic_lab())
    execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "turn_off"},
            cmdlet("Set-VMMemory", "LAB-HV1", DynamicMemoryEnabled=False), {"kind": "start_vm", "vm": "LAB-HV1"})
    assert execute(fleet, "hv01", cmdlet("Set-VMMemory", "LAB-HV1", StartupBytes=6 * GB))["failed_index"] is None
    assert vm_info(fleet, "hv01", "LAB-HV1")["startup_memory_bytes"] == 6 * GB


def test_memory_must_be_a_multiple_of_2_mb() -> None:
    fleet = fleet_of(basic_lab())
    odd_size = cmdlet("Set-VMMemory", "PLAIN", StartupBytes=GB + 1)
    assert "multiple of 2 MB" in only_failure(execute(fleet, "hv01", odd_size))


def test_update_vm_version_only_while_off_and_up_to_the_host_maximum() -> None:
    fleet = fleet_of(basic_lab())
    assert "turned off" in only_failure(execute(fleet, "hv01", cmdlet("Update-VMVersion", "LAB-HV1", Force=True)))
    assert execute(fleet, "hv01", cmdlet("Update-VMVersion", "PLAIN", Force=True))["failed_index"] is None
    assert vm_info(fleet, "hv01", "PLAIN")["version"] == "10.0"     # Windows Server 2022's maximum


def test_update_vm_version_never_downgrades() -> None:
    from lab_dicts import l0, lab, vm
    fleet = fleet_of(lab(l0(vms=[vm("NEWER", version="12.0")])))
    assert execute(fleet, "hv01", cmdlet("Update-VMVersion", "NEWER", Force=True))["failed_index"] is None
    assert vm_info(fleet, "hv01", "NEWER")["version"] == "12.0"


def test_vbs_opt_out_changes_only_while_off() -> None:
    fleet = fleet_of(basic_lab())
    opt_out = cmdlet("Set-VMSecurity", "LAB-HV1", VirtualizationBasedSecurityOptOut=True)
    assert "turned off" in only_failure(execute(fleet, "hv01", opt_out))
    assert execute(fleet, "hv01", cmdlet("Set-VMSecurity", "PLAIN",
                                         VirtualizationBasedSecurityOptOut=True))["failed_index"] is None
    assert vm_info(fleet, "hv01", "PLAIN")["virtualization_based_security_opt_out"] is True


def test_mac_address_spoofing_changes_while_running() -> None:
    fleet = fleet_of(basic_lab())
    adapter_id = vm_info(fleet, "hv01", "LAB-HV1")["adapters"][0]["id"]
    op = cmdlet("Set-VMNetworkAdapter", "LAB-HV1", MacAddressSpoofing="On")
    op["adapter_id"] = adapter_id
    assert execute(fleet, "hv01", op)["failed_index"] is None
    assert vm_info(fleet, "hv01", "LAB-HV1")["adapters"][0]["mac_address_spoofing"] == "On"
