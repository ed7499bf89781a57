"""Builders of fake probe answers (docs/internals/wire-protocol.md section 2) for the unit tests.

Every builder returns a new dict shaped like the real answer, with the values of the protocol's
own example unless a keyword overrides them (a plain, shallow update: an override replaces the
whole value). Tests change what they are about and leave the rest as a healthy answer:

    probe_vm("LAB-HV2", state="Off", **NESTED)
    vms_section(probe_vm("LAB-HV1"), missing=["NOPE"])
    network_section(switches=[host_switch()], nats=[host_nat(internal_ip_interface_address_prefix="10.0.0.0/24")])

Import the names explicitly (`from ...probe_fixtures import probe_host, probe_vm`); this is a
plain module, not a conftest.
"""

from __future__ import annotations

import copy
import typing as t

GB = 1024**3

# The two VM settings nested Hyper-V needs (wire protocol `vms`): extensions exposed, static memory.
NESTED: dict[str, t.Any] = {"expose_virtualization_extensions": True, "dynamic_memory_enabled": False}


def _built(defaults: dict[str, t.Any], overrides: dict[str, t.Any]) -> dict[str, t.Any]:
    # Deep copies on both sides: no two answers share a nested list or dict that a test may change.
    return copy.deepcopy({**defaults, **overrides})


# ---- host ------------------------------------------------------------------------------------


def probe_host(**overrides: t.Any) -> dict[str, t.Any]:
    """The `host` section: an Intel Windows Server 2022 host that can run nested virtualization."""
    return _built(
        {
            "computer_name": "HV01",
            "os": {
                "caption": "Microsoft Windows Server 2022 Datacenter",
                "product_type": "server",
                "edition": "ServerDatacenter",
                "build": 20348,
                "version": "10.0.20348",
            },
            "processor": {
                "manufacturer": "GenuineIntel",
                "name": "Intel(R) Xeon(R) Gold 6338",
                "virtualization_firmware_enabled": True,
                "vm_monitor_mode_extensions": True,
                "second_level_address_translation": True,
            },
            "logical_processor_count": 32,
            "root_partition_processor_count": 32,
            "memory_capacity_bytes": 256 * GB,
            "hypervisor_present": True,
            "hypervisor_present_raw": True,
            "hypervisor_root_partition": True,
            "vmms": "Running",
            "hyperv_feature": "Enabled",
            "vbs": {"configured": False, "running": False, "status": 0},
            "bcd_offer_nested_virt_disabled": False,
            "supported_versions": ["8.0", "9.0", "10.0"],
            "default_version": "10.0",
            "is_virtual_machine": False,
            "platform": {"manufacturer": "Dell Inc.", "model": "PowerEdge R750", "smbios_asset_tag": ""},
            "nats": [],
            "is_administrator": True,
            "is_hyperv_administrator": True,
        },
        overrides,
    )


# ---- vms -------------------------------------------------------------------------------------


def vm_adapter(vm_name: str = "LAB-HV1", **overrides: t.Any) -> dict[str, t.Any]:
    """One entry of a VM's `adapters`: "Network Adapter" on switch External, spoofing off."""
    return _built(
        {
            "name": "Network Adapter",
            "id": f"Microsoft:{vm_name}\\A1",
            "switch_name": "External",
            "mac_address": "00155D000101",
            "mac_address_spoofing": "Off",
            "ip_addresses": [],
        },
        overrides,
    )


def integration_service(name: str, **overrides: t.Any) -> dict[str, t.Any]:
    """One entry of a VM's `integration_services`, enabled and OK."""
    return _built({"name": name, "enabled": True, "primary_status": "OK"}, overrides)


def probe_vm(name: str = "LAB-HV1", **overrides: t.Any) -> dict[str, t.Any]:
    """One entry of `vms.vms`: a running generation 2 VM, version 10.0, not (yet) nested.

    Dynamic memory is on and virtualization extensions are hidden; `**NESTED` turns both.
    """
    return _built(
        {
            "name": name,
            "id": f"id-{name}",
            "state": "Running",
            "generation": 2,
            "version": "10.0",
            "processor_count": 2,
            "expose_virtualization_extensions": False,
            "dynamic_memory_enabled": True,
            "memory_assigned_bytes": 4 * GB,
            "startup_memory_bytes": 4 * GB,
            "minimum_memory_bytes": 1 * GB,
            "maximum_memory_bytes": 16 * GB,
            "checkpoints": [],
            "adapters": [vm_adapter(name)],
            "integration_services": [integration_service("Shutdown"), integration_service("Heartbeat")],
            "virtualization_based_security_opt_out": False,
            "is_clustered": False,
            "guest_os": "Windows Server 2022 Datacenter",
            "guest_dns_name": None,
            "notes": "",
            "restart_mark": None,
        },
        overrides,
    )


def vms_section(
    *vms: dict[str, t.Any],
    missing: list[str] | None = None,
    duplicates: list[str] | None = None,
    all_names: list[str] | None = None,
    hyperv_module: bool = True,
) -> dict[str, t.Any]:
    """The `vms` section listing `vms` (`all_names`: their names unless given)."""
    return {
        "hyperv_module": hyperv_module,
        "missing": list(missing or []),
        "duplicates": list(duplicates or []),
        "all_names": list(all_names) if all_names is not None else [vm["name"] for vm in vms],
        "vms": list(vms),
    }


# ---- network (on the host) ---------------------------------------------------------------------


def host_switch(**overrides: t.Any) -> dict[str, t.Any]:
    """One entry of `network.switches`: the internal switch VmNAT."""
    return _built({"name": "VmNAT", "switch_type": "Internal", "net_adapter_interface_description": None}, overrides)


def host_nat(**overrides: t.Any) -> dict[str, t.Any]:
    """One entry of `network.nats`: LocalNAT for 192.168.100.0/24."""
    return _built({"name": "LocalNAT", "internal_ip_interface_address_prefix": "192.168.100.0/24"}, overrides)


def static_mapping(**overrides: t.Any) -> dict[str, t.Any]:
    """One entry of `network.static_mappings`: LocalNAT forwards TCP 0.0.0.0:50022 to 192.168.100.2:22."""
    return _built(
        {
            "nat_name": "LocalNAT",
            "static_mapping_id": 0,
            "protocol": "TCP",
            "external_ip_address": "0.0.0.0",
            "external_port": 50022,
            "internal_ip_address": "192.168.100.2",
            "internal_port": 22,
        },
        overrides,
    )


def host_ip_address(**overrides: t.Any) -> dict[str, t.Any]:
    """One entry of `network.ip_addresses`: the gateway 192.168.100.1/24 on vEthernet (VmNAT)."""
    return _built(
        {
            "interface_alias": "vEthernet (VmNAT)",
            "interface_index": 12,
            "ip_address": "192.168.100.1",
            "prefix_length": 24,
            "address_family": "IPv4",
            "prefix_origin": "Manual",
        },
        overrides,
    )


def host_net_adapter(**overrides: t.Any) -> dict[str, t.Any]:
    """One entry of `network.adapters`: vEthernet (VmNAT), up."""
    return _built({"name": "vEthernet (VmNAT)", "interface_index": 12, "status": "Up", "mac_address": "00-15-5D-00-00-02"}, overrides)


def firewall_rule(**overrides: t.Any) -> dict[str, t.Any]:
    """One entry of `network.firewall_rules`: the rule win_nested_nat opens for `static_mapping()`."""
    return _built(
        {
            "name": "hyperv.nested-nat-TCP-0.0.0.0-50022",
            "display_name": "hyperv.nested NAT: TCP port 50022",
            "enabled": True,
            "direction": "Inbound",
            "action": "Allow",
            "protocol": "TCP",
            "local_port": ["50022"],
            "local_address": ["Any"],
        },
        overrides,
    )


def network_section(
    *,
    switches: list[dict[str, t.Any]] | None = None,
    nats: list[dict[str, t.Any]] | None = None,
    static_mappings: list[dict[str, t.Any]] | None = None,
    ip_addresses: list[dict[str, t.Any]] | None = None,
    adapters: list[dict[str, t.Any]] | None = None,
    firewall_rules: list[dict[str, t.Any]] | None = None,
    hyperv_module: bool = True,
) -> dict[str, t.Any]:
    """The `network` section with the given lists (each empty unless given)."""
    return {
        "hyperv_module": hyperv_module,
        "switches": list(switches or []),
        "nats": list(nats or []),
        "static_mappings": list(static_mappings or []),
        "ip_addresses": list(ip_addresses or []),
        "adapters": list(adapters or []),
        "firewall_rules": list(firewall_rules or []),
    }


AZURE_PLATFORM = {"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": "7783-7084-3265-9085-8269-3286-77"}
HYPERV_VM_PLATFORM = {"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": "4711-0815-1234-5678-9012-3456-78"}


# ---- guests (through PowerShell Direct) ----------------------------------------------------------


def guest_adapter(**overrides: t.Any) -> dict[str, t.Any]:
    """One adapter of a guest report: Ethernet with the MAC of `vm_adapter()`, no address, no DHCP."""
    return _built(
        {
            "interface_alias": "Ethernet",
            "interface_index": 6,
            "mac_address": "00-15-5D-00-01-01",
            "ipv4": [],
            "default_gateway": None,
            "dns_servers": [],
            "dhcp": False,
        },
        overrides,
    )


def guest_report(vm: str, adapters: list[dict[str, t.Any]], **overrides: t.Any) -> dict[str, t.Any]:
    """One entry of the `guests` section: `vm` is running and answered through PowerShell Direct."""
    return _built({"vm": vm, "state": "Running", "reachable": True, "error": None, "adapters": adapters}, overrides)
