"""What the probe says a host runs on (RULES #37): physical hardware, a Hyper-V VM, Azure, another
hypervisor; and the VM facts issue 16 added (clustered roles, memory assigned)."""
from __future__ import annotations

from lab_dicts import basic_lab, call, fleet_of, l0, lab, vm

AZURE_TAG = "7783-7084-3265-9085-8269-3286-77"


def test_an_l0_is_physical_hardware() -> None:
    host = call(fleet_of(basic_lab()), "hv01", "probe", {"sections": ["host"]})["host"]
    assert host["is_virtual_machine"] is False
    assert host["platform"] == {"manufacturer": "Dell Inc.", "model": "PowerEdge R750", "smbios_asset_tag": ""}


def test_an_l1_reports_the_firmware_of_a_hyperv_vm_with_an_asset_tag_of_its_own() -> None:
    fleet = fleet_of(basic_lab())
    platform = call(fleet, "lab-hv1", "probe", {"sections": ["platform"]})["platform"]
    assert (platform["manufacturer"], platform["model"]) == ("Microsoft Corporation", "Virtual Machine")
    assert platform["smbios_asset_tag"] != AZURE_TAG
    assert [len(group) for group in platform["smbios_asset_tag"].split("-")] == [4, 4, 4, 4, 4, 4, 2]
    host = call(fleet, "lab-hv1", "probe", {"sections": ["host"]})["host"]
    assert host["platform"] == platform and host["is_virtual_machine"] is True


def test_a_lab_root_can_be_an_azure_vm() -> None:
    azure = {"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": AZURE_TAG}
    host = call(fleet_of(lab(l0(platform=azure))), "hv01", "probe", {"sections": ["host"]})["host"]
    assert host["platform"] == azure and host["is_virtual_machine"] is True


def test_a_lab_root_can_be_a_vmware_vm() -> None:
    vmware = {"manufacturer": "VMware, Inc.", "model": "VMware7,1", "smbios_asset_tag": "No Asset Tag"}
    host = call(fleet_of(lab(l0(platform=vmware))), "hv01", "probe", {"sections": ["host"]})["host"]
    assert host["platform"] == vmware and host["is_virtual_machine"] is False     # Model is not "Virtual Machine"


def test_clustered_roles_and_assigned_memory_are_reported() -> None:
    spec = lab(l0(vms=[vm("CLUSTERED", is_clustered=True, state="Running"), vm("PLAIN")]))
    vms = {entry["name"]: entry for entry in call(fleet_of(spec), "hv01", "probe", {"sections": ["vms"]})["vms"]["vms"]}
    assert (vms["CLUSTERED"]["is_clustered"], vms["PLAIN"]["is_clustered"]) == (True, False)
    assert vms["CLUSTERED"]["memory_assigned_bytes"] == vms["CLUSTERED"]["startup_memory_bytes"] > 0
    assert vms["PLAIN"]["memory_assigned_bytes"] == 0      # off: nothing assigned


def test_existing_nat_networks_can_be_declared_in_a_lab() -> None:
    spec = lab(l0(nats=[{"name": "DockerNAT", "prefix": "172.20.0.0/16"}]))
    host = call(fleet_of(spec), "hv01", "probe", {"sections": ["host"]})["host"]
    assert host["nats"] == [{"name": "DockerNAT", "internal_ip_interface_address_prefix": "172.20.0.0/16"}]
