"""Build the model from a lab dictionary (schema in tests/simulator/DESIGN.md)."""
from __future__ import annotations

import time
import uuid
from typing import Any

from .accounts import accounts_from_spec
from .objects import GB, PHYSICAL_PLATFORM, VM, Checkpoint, Host, IPv4Address, Nat, NetAdapter, OSState, Switch, VMAdapter
from .platform import supported_versions

DEFAULT_INTEGRATION = {"Shutdown": True, "Heartbeat": True, "Guest Service Interface": False,
                       "VSS": True, "Time Synchronization": True, "Key-Value Pair Exchange": True}
FILETIME_EPOCH_OFFSET = 116444736000000000      # 1601-01-01 -> 1970-01-01 in 100 ns units


def filetime(now: float) -> int:
    return int(now * 10_000_000) + FILETIME_EPOCH_OFFSET


class MacAllocator:
    """Hyper-V's default dynamic MAC range 00-15-5D-xx-xx-xx, unique within a lab."""

    def __init__(self, start: int = 0x010100) -> None:
        self._next = start

    def next(self) -> str:
        value = self._next
        self._next += 1
        return f"00155D{value:06X}"


def dashed(mac: str) -> str:
    return "-".join(mac[i:i + 2] for i in range(0, 12, 2))


def _uuid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hvsim:{seed}")).upper()


def hyperv_vm_platform(vm_id: str) -> dict[str, str]:
    """What a Hyper-V VM's firmware reports (RULES #37): Microsoft Corporation / Virtual Machine, and a
    chassis asset tag of digit groups that differs per VM (Azure's is one fixed value)."""
    digits = "".join(str(int(c, 16) % 10) for c in vm_id.replace("-", ""))[:26]
    groups = [digits[i:i + 4] for i in range(0, 24, 4)] + [digits[24:26]]
    return {"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": "-".join(groups)}


def _platform(spec: dict[str, Any] | None, default: dict[str, str]) -> dict[str, str]:
    return {key: str((spec or {}).get(key, value)) for key, value in default.items()}


def host_name_for(vm: dict[str, Any]) -> str:
    nested = (vm.get("guest") or {}).get("nested_host") or {}
    inventory = vm.get("inventory") or {}
    return str(nested.get("name") or inventory.get("name") or vm["name"].lower())


def build_hosts(lab: dict[str, Any]) -> list[Host]:
    macs = MacAllocator()
    now = time.time()
    return [_l0_host(spec, macs, now) for spec in lab["hosts"]]


def _l0_host(spec: dict[str, Any], macs: MacAllocator, now: float) -> Host:
    os_info = dict(spec["os"])
    os_state = OSState(os=os_info, username=spec["username"], password=spec["password"],
                       hyperv_feature=spec.get("hyperv_feature", "Enabled"), boot_filetime=filetime(now),
                       hyperv_management_tools=bool(spec.get("hyperv_management_tools", False)),
                       culture=str(spec.get("culture", "en-US")),
                       language_mode=str(spec.get("language_mode", "FullLanguage")),
                       module_logging=bool(spec.get("module_logging", False)))
    _set_accounts(os_state, spec, f"host {spec['name']}")
    switch_adapters = {s["net_adapter"] for s in spec.get("switches") or [] if s.get("net_adapter")}
    for name in sorted(switch_adapters | {"Ethernet"}):
        _add_adapter(os_state, name, macs, "Physical Ethernet Adapter")
    platform = _platform(spec.get("platform"), PHYSICAL_PLATFORM)
    host = Host(
        name=spec["name"], username=spec["username"], password=spec["password"],
        address=spec.get("address", "127.0.0.1"), port=int(spec.get("port", 0)), os_state=os_state,
        processor=_processor(spec.get("processor") or {}),
        logical_processors=int(spec.get("logical_processors", 16)),
        memory_bytes=int(float(spec.get("memory_gb", 64)) * GB),
        hypervisor_present=bool(spec.get("hypervisor_present", True)),
        vbs=_vbs(spec.get("vbs")),
        bcd_offer_nested_virt_disabled=bool(spec.get("bcd_offer_nested_virt_disabled", False)),
        # A lab root may be a VM whose parent the lab does not model (an Azure VM, a VMware VM).
        is_virtual_machine=platform["model"] == "Virtual Machine",
        platform=platform,
        root_partition_processors=spec.get("root_partition_processors"),
    )
    _finish_host(host, spec, macs, now)
    return host


def _set_accounts(os_state: OSState, spec: dict[str, Any], where: str) -> None:
    """`accounts:` and `local_account_token_filter_policy:` of a host or a guest (model/accounts.py)."""
    try:
        os_state.accounts = accounts_from_spec(spec.get("accounts"), os_state.username)
    except ValueError as error:
        raise ValueError(f"lab: {where}: {error}") from None
    os_state.local_account_token_filter_policy = bool(spec.get("local_account_token_filter_policy", False))


def _processor(spec: dict[str, Any]) -> dict[str, Any]:
    return {"manufacturer": spec.get("manufacturer", "GenuineIntel"),
            "name": spec.get("name", "Intel(R) Xeon(R) CPU"),
            "vmx": bool(spec.get("vmx", True)), "ept": bool(spec.get("ept", True)),
            "virtualization_firmware_enabled": bool(spec.get("virtualization_firmware_enabled", True))}


def _vbs(spec: dict[str, Any] | None) -> dict[str, bool]:
    spec = spec or {}
    return {"configured": bool(spec.get("configured", False)), "running": bool(spec.get("running", False))}


def _add_adapter(os_state: OSState, name: str, macs: MacAllocator, description: str,
                 mac: str | None = None) -> NetAdapter:
    adapter = NetAdapter(name=name, interface_index=os_state.next_interface_index,
                         mac_address=dashed(mac or macs.next()), interface_description=description)
    os_state.next_interface_index += 1
    os_state.adapters.append(adapter)
    return adapter


def _finish_host(host: Host, spec: dict[str, Any], macs: MacAllocator, now: float) -> None:
    """Switches, NATs, versions and VMs: the parts L0 and L1 hosts share."""
    host.supported_versions = list(spec.get("supported_versions") or supported_versions(
        int(host.os_state.os.get("build", 0))))
    host.firewall_enabled = bool(spec.get("firewall_enabled", True))
    host.nats = [Nat(name=nat["name"], internal_ip_interface_address_prefix=nat["prefix"]) for nat in spec.get("nats") or []]
    for sw in spec.get("switches") or []:
        switch_type = sw.get("switch_type") or ("External" if sw.get("net_adapter") else "Internal")
        switch = Switch(name=sw["name"], id=_uuid(f"{host.name}/switch/{sw['name']}"), switch_type=switch_type,
                        net_adapter=sw.get("net_adapter"),
                        allow_management_os=bool(sw.get("allow_management_os", True)))
        if switch_type == "External":
            bound = next((a for a in host.os_state.adapters if a.name == sw.get("net_adapter")), None)
            if bound is not None:
                bound.bound_switch = switch.name
                switch.net_adapter_interface_description = bound.interface_description
        host.switches.append(switch)
        if switch_type == "Internal" or (switch_type == "External" and switch.allow_management_os):
            vnic = _add_adapter(host.os_state, f"vEthernet ({switch.name})", macs,
                                "Hyper-V Virtual Ethernet Adapter")
            vnic.switch_name = switch.name
    for vm_spec in spec.get("vms") or []:
        host.vms.append(_vm(host, vm_spec, macs, now))
    from .provisioning import load_lab_storage  # provisioning builds on this module
    load_lab_storage(host, spec)


def _vm(host: Host, spec: dict[str, Any], macs: MacAllocator, now: float) -> VM:
    memory = spec.get("memory") or {}
    vm_id = _uuid(f"{host.name}/vm/{spec['name']}")
    vm = VM(
        name=spec["name"], id=vm_id, generation=int(spec.get("generation", 2)),
        version=str(spec.get("version", "9.0")), state=spec.get("state", "Off"),
        processor_count=int(spec.get("processor_count", 2)),
        expose_virtualization_extensions=bool(spec.get("expose_virtualization_extensions", False)),
        dynamic_memory_enabled=bool(memory.get("dynamic", False)),
        startup_memory_bytes=int(float(memory.get("startup_gb", 2)) * GB),
        minimum_memory_bytes=int(float(memory.get("minimum_gb", 0.5)) * GB),
        maximum_memory_bytes=int(float(memory.get("maximum_gb", 1024)) * GB),
        integration_services={**DEFAULT_INTEGRATION, **(spec.get("integration_services") or {})},
        ignores_shutdown=bool(spec.get("ignores_shutdown", False)),
        shutdown_seconds=None if spec.get("shutdown_seconds") is None else float(spec["shutdown_seconds"]),
        integration_components=bool(spec.get("integration_components", True)),
        configuration_error=spec.get("configuration_error"),
        virtualization_based_security_opt_out=bool(spec.get("virtualization_based_security_opt_out", False)),
        is_clustered=bool(spec.get("is_clustered", False)),
        notes=str(spec.get("notes") or ""),
    )
    for index, adapter in enumerate(spec.get("adapters") or []):
        vm.adapters.append(VMAdapter(
            name=adapter.get("name", "Network Adapter"),
            id=f"Microsoft:{vm_id}\\{_uuid(f'{vm_id}/nic/{index}')}",
            mac_address=adapter.get("mac_address") or macs.next(),
            switch_name=adapter.get("switch"),
            mac_address_spoofing=str(adapter.get("mac_address_spoofing", "Off"))))
    for checkpoint in spec.get("checkpoints") or []:
        name = checkpoint if isinstance(checkpoint, str) else checkpoint["name"]
        vm.checkpoints.append(Checkpoint(name=name, id=_uuid(f"{vm_id}/checkpoint/{name}")))
    guest = spec.get("guest")
    if guest:
        vm.guest = _guest_os(vm, guest, macs, now)
        vm.inventory_name = host_name_for(spec)
        nested = guest.get("nested_host")
        if nested:
            vm.nested_host = _l1_host(host, vm, spec, nested, macs, now)
    if vm.state == "Running":
        vm.booted_at = now
    return vm


def _guest_os(vm: VM, guest: dict[str, Any], macs: MacAllocator, now: float) -> OSState:
    state = OSState(os=dict(guest.get("os") or {}), username=guest["username"], password=guest["password"],
                    boot_filetime=filetime(now))
    _set_accounts(state, guest, f"guest of VM {vm.name}")
    configured = guest.get("adapters") or []
    for index, vm_adapter in enumerate(vm.adapters):
        adapter = _add_adapter(state, "Ethernet" if index == 0 else f"Ethernet {index + 1}", macs,
                               "Microsoft Hyper-V Network Adapter", mac=vm_adapter.mac_address)
        config = configured[index] if index < len(configured) else {}
        adapter.ipv4 = [IPv4Address(a["ip_address"], int(a["prefix_length"]), a.get("prefix_origin", "Manual"))
                        for a in config.get("ipv4") or []]
        adapter.default_gateway = config.get("default_gateway")
        adapter.dns_servers = list(config.get("dns_servers") or [])
        adapter.dhcp = bool(config.get("dhcp", not adapter.ipv4))
    return state


def _l1_host(parent: Host, vm: VM, vm_spec: dict[str, Any], nested: dict[str, Any],
             macs: MacAllocator, now: float) -> Host:
    assert vm.guest is not None
    vm.guest.hyperv_feature = nested.get("hyperv_feature", "Disabled")
    vm.guest.hyperv_management_tools = bool(nested.get("hyperv_management_tools", False))
    vm.guest.culture = str(nested.get("culture", vm.guest.culture))
    vm.guest.language_mode = str(nested.get("language_mode", vm.guest.language_mode))
    vm.guest.module_logging = bool(nested.get("module_logging", vm.guest.module_logging))
    host = Host(
        name=host_name_for(vm_spec), username=vm.guest.username, password=vm.guest.password,
        address=nested.get("address", "127.0.0.1"), port=int(nested.get("port", 0)), os_state=vm.guest,
        processor=dict(parent.processor), logical_processors=vm.processor_count,
        memory_bytes=vm.startup_memory_bytes, hypervisor_present=False, vbs=_vbs(nested.get("vbs")),
        bcd_offer_nested_virt_disabled=bool(nested.get("bcd_offer_nested_virt_disabled", False)),
        is_virtual_machine=True, platform=_platform(nested.get("platform"), hyperv_vm_platform(vm.id)),
        parent=parent.name, vm_name=vm.name)
    _finish_host(host, nested, macs, now)
    return host
