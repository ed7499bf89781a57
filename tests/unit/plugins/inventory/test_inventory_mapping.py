"""From probe answers to inventory: hosts, variables, readiness groups, names and warnings."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_mapping import FleetInventory, build_inventory
from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_remote import Reading
from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_settings import settings_from_options

from ...probe_fixtures import NESTED, probe_host, probe_vm, vm_adapter, vms_section
from .test_inventory_settings import DEFAULTS


def settings(**options: t.Any) -> t.Any:
    values = {**DEFAULTS, "hosts": ["hv01", "hv02"], **options}
    return settings_from_options(values.__getitem__)


def answer(*vms: dict[str, t.Any], host: dict[str, t.Any] | None = None, **section: t.Any) -> dict[str, t.Any]:
    return {"host": host or probe_host(), "vms": {**vms_section(*vms), **section}}


def build(readings: list[Reading], **options: t.Any) -> FleetInventory:
    return build_inventory(settings(**options), readings)


def test_every_vm_becomes_a_host_with_its_parent_name_and_facts() -> None:
    vm = probe_vm(
        "LAB-HV1",
        notes="nested: nat",
        guest_dns_name="lab-hv1.lab.example",
        adapters=[vm_adapter("LAB-HV1", ip_addresses=["10.0.0.21", "fe80::1"]), vm_adapter("LAB-HV1", name="Second", ip_addresses=["10.1.0.5"])],
        checkpoints=[{"name": "before", "id": "c1"}],
    )
    fleet = build([Reading("hv01", result=answer(vm)), Reading("hv02", result=answer())])
    host = fleet.host("LAB-HV1")
    assert host.groups == ["hyperv_vms", "nested_possible"]
    assert host.variables == {
        "nested_parent": "hv01",
        "nested_vm_name": "LAB-HV1",
        "hyperv_vm_id": "id-LAB-HV1",
        "hyperv_vm_state": "Running",
        "hyperv_vm_generation": 2,
        "hyperv_vm_version": "10.0",
        "hyperv_vm_processor_count": 2,
        "hyperv_vm_memory_startup": 4 * 1024**3,
        "hyperv_vm_memory_minimum": 1024**3,
        "hyperv_vm_memory_maximum": 16 * 1024**3,
        "hyperv_vm_dynamic_memory": True,
        "hyperv_vm_expose_virtualization_extensions": False,
        "hyperv_vm_adapters": [
            {"name": "Network Adapter", "switch_name": "External", "mac_address": "00155D000101", "mac_address_spoofing": "Off",
             "ip_addresses": ["10.0.0.21", "fe80::1"]},
            {"name": "Second", "switch_name": "External", "mac_address": "00155D000101", "mac_address_spoofing": "Off",
             "ip_addresses": ["10.1.0.5"]},
        ],
        "hyperv_vm_checkpoints": ["before"],
        "hyperv_vm_notes": "nested: nat",
        "hyperv_vm_guest_os": "Windows Server 2022 Datacenter",
        "hyperv_vm_guest_dns_name": "lab-hv1.lab.example",
        "hyperv_vm_ip_addresses": ["10.0.0.21", "fe80::1", "10.1.0.5"],
        "hyperv_vm_nested_verdict": "possible",
        "hyperv_vm_nested_changes": ["vm.extensions_not_exposed"],
        "hyperv_vm_nested_blockers": [],
        # Dynamic memory is a warning since Microsoft's current guidance; checkpoints are a note.
        "hyperv_vm_nested_warnings": ["vm.dynamic_memory_enabled", "vm.mac_spoofing_off"],
        "hyperv_vm_nested_notes": ["vm.checkpoints_present"],
    }
    assert [h.name for h in fleet.hosts] == ["hv01", "hv02", "LAB-HV1"]
    assert fleet.warnings == []


def test_readiness_groups_follow_the_collection_verdict() -> None:
    vms = [
        probe_vm("READY", **NESTED),
        probe_vm("POSSIBLE"),
        probe_vm("OLD", version="7.0", **NESTED),  # Update-VMVersion makes it possible
        probe_vm("SAVED", state="Saved"),  # saved state in the way of the changes: discard it, then possible
        probe_vm("FUTURE", version="12.0", **NESTED),  # newer than the host runs: blocked for good
    ]
    fleet = build([Reading("hv01", result=answer(*vms)), Reading("hv02", result=answer())])
    assert fleet.group("nested_ready") == ["READY"]
    assert fleet.group("nested_possible") == ["POSSIBLE", "OLD", "SAVED"]
    assert fleet.group("nested_blocked") == ["FUTURE"]
    assert fleet.host("OLD").variables["hyperv_vm_nested_changes"] == ["vm.version_too_low"]
    assert fleet.host("SAVED").variables["hyperv_vm_nested_changes"] == ["vm.extensions_not_exposed", "vm.saved_state"]
    future = fleet.host("FUTURE").variables
    assert future["hyperv_vm_nested_verdict"] == "blocked" and future["hyperv_vm_nested_blockers"] == ["vm.version_unsupported_by_host"]


def test_a_host_blocker_blocks_every_vm_with_the_host_code_and_groups_by_vendor_and_build() -> None:
    amd_2019 = probe_host(os={"caption": "Windows Server 2019", "product_type": "server", "edition": "x", "build": 17763, "version": "10.0.17763"},
                          processor={"manufacturer": "AuthenticAMD", "name": "AMD EPYC"})
    fleet = build([Reading("hv01", result=answer(probe_vm("AMD1", **NESTED), probe_vm("AMD2"), host=amd_2019)), Reading("hv02", result=answer())])
    assert fleet.group("nested_blocked") == ["AMD1", "AMD2"]
    assert fleet.host("AMD1").variables["hyperv_vm_nested_blockers"] == ["host.processor_unsupported"]
    assert fleet.host("AMD2").variables["hyperv_vm_nested_blockers"] == ["host.processor_unsupported"]
    assert fleet.host("AMD2").variables["hyperv_vm_nested_changes"] == ["vm.extensions_not_exposed"]
    assert fleet.host("hv01").groups == ["hyperv_hosts", "hyperv_processor_amd", "hyperv_build_17763"]
    assert fleet.host("hv02").groups == ["hyperv_hosts", "hyperv_processor_intel", "hyperv_build_20348"]
    assert fleet.host("hv01").variables["hyperv_host_nested_blockers"] == ["host.processor_unsupported"]
    other = probe_host(processor={"manufacturer": "CentaurHauls", "name": "x"})
    assert build([Reading("hv01", result=answer(host=other))], hosts=["hv01"]).host("hv01").groups[1] == "hyperv_processor_other"


def test_l0_host_vars_are_connection_vars_and_host_facts_never_the_password() -> None:
    fleet = build([Reading("hv01", result=answer(probe_vm("A"), probe_vm("B"))), Reading("hv02", result=answer())], password="S3cret!")
    variables = fleet.host("hv01").variables
    assert variables["ansible_connection"] == "winrm" and variables["ansible_user"] == "ansible"
    assert variables["hyperv_host_build"] == 20348 and variables["hyperv_host_vm_count"] == 2
    assert variables["hyperv_host_processor_manufacturer"] == "GenuineIntel"
    assert variables["hyperv_host_supported_versions"] == ["8.0", "9.0", "10.0"]
    assert "S3cret!" not in repr(fleet)


def test_an_unread_host_is_kept_in_its_own_group_with_a_warning_and_the_rest_builds() -> None:
    fleet = build([Reading("hv01", error="could not connect (Connection refused) (https://hv01:5986/wsman)"), Reading("hv02", result=answer(probe_vm("VM2")))])
    assert fleet.host("hv01").groups == ["hyperv_hosts", "hyperv_hosts_unreachable"]
    assert fleet.host("hv01").variables["hyperv_host_error"].startswith("could not connect")
    assert fleet.group("hyperv_vms") == ["VM2"]
    assert fleet.warnings == [
        "Could not read the Hyper-V host hv01: could not connect (Connection refused) (https://hv01:5986/wsman). Its VMs are not in the inventory."
    ]


def test_refused_vm_listing_and_missing_module_are_warnings() -> None:
    denied = answer(access_denied="You do not have the required permission to complete this task.")
    no_module = answer(hyperv_module=False)
    fleet = build([Reading("hv01", result=denied), Reading("hv02", result=no_module)])
    assert "may not list the VMs of hv01" in fleet.warnings[0] and "required permission" in fleet.warnings[0]
    assert "hv02 has no Hyper-V PowerShell module" in fleet.warnings[1]
    assert fleet.group("hyperv_vms") == []


def test_filters_choose_vms_by_pattern_and_state() -> None:
    vms = [probe_vm("LAB-HV1"), probe_vm("LAB-OFF", state="Off"), probe_vm("WEB1")]
    fleet = build([Reading("hv01", result=answer(*vms)), Reading("hv02", result=answer())], vm_filters={"names": ["lab-*"], "states": ["Running"]})
    assert fleet.group("hyperv_vms") == ["LAB-HV1"]


def test_names_that_clash_are_never_merged_into_one_host() -> None:
    fleet = build(
        [
            Reading("hv01", result=answer(probe_vm("DC1"), probe_vm("hv02"), probe_vm("DUP", id="AB-12-CD-99"), probe_vm("dup", id="EF-34"))),
            Reading("hv02", result=answer(probe_vm("DC1"), probe_vm("WEB"))),
        ]
    )
    names = [host.name for host in fleet.hosts]
    assert names == ["hv01", "hv02", "DC1@hv01", "hv02@hv01", "DUP", "dup", "DC1@hv02", "WEB"]
    assert fleet.host("DC1@hv01").variables["nested_parent"] == "hv01"
    assert fleet.host("DC1@hv02").variables["nested_vm_name"] == "DC1"
    # Two VMs of one name (any case) on one host: Hyper-V allows it, the modules refuse it.
    assert fleet.host("DUP").variables["hyperv_vm_nested_blockers"] == ["vm.duplicate_name"]
    assert fleet.host("dup").variables["hyperv_vm_nested_blockers"] == ["vm.duplicate_name"]
    assert fleet.warnings == [
        "Several VMs (or a VM and a Hyper-V host) would be named 'DC1': they are named DC1@hv01, DC1@hv02 instead.",
        "Several VMs (or a VM and a Hyper-V host) would be named 'hv02': they are named hv02@hv01 instead.",
    ]


def test_the_same_name_twice_on_one_host_is_told_apart_by_id() -> None:
    fleet = build(
        [Reading("hv01", result=answer(probe_vm("DUP", id="AB-12-CD-99"), probe_vm("DUP", id="EF-34"))), Reading("hv02", result=answer())],
        hostname_lowercase=True,
    )
    assert [host.name for host in fleet.hosts][2:] == ["dup@hv01#ab12cd99", "dup@hv01#ef34"]


def test_prefix_and_dns_names_apply_to_vms_only() -> None:
    vm = probe_vm("LAB-HV1", guest_dns_name="lab-hv1.corp.example")
    fleet = build([Reading("hv01", result=answer(vm)), Reading("hv02", result=answer())], hostname_source="guest_dns_name", hostname_prefix="vm-")
    assert [host.name for host in fleet.hosts] == ["hv01", "hv02", "vm-lab-hv1.corp.example"]


def test_ansible_host_comes_from_a_running_vms_addresses_when_asked() -> None:
    running = probe_vm("RUN", adapters=[vm_adapter("RUN", ip_addresses=["fe80::5", "10.0.0.21"])])
    stopped = probe_vm("OFF", state="Off", adapters=[vm_adapter("OFF", ip_addresses=["10.0.0.22"])])
    silent = probe_vm("SILENT", adapters=[vm_adapter("SILENT", ip_addresses=[])])
    readings = [Reading("hv01", result=answer(running, stopped, silent)), Reading("hv02", result=answer())]
    assert "ansible_host" not in build(readings).host("RUN").variables
    fleet = build(readings, vm_ansible_host=True)
    assert fleet.host("RUN").variables["ansible_host"] == "10.0.0.21"
    assert "ansible_host" not in fleet.host("OFF").variables
    assert "ansible_host" not in fleet.host("SILENT").variables
