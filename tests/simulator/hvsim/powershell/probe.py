"""script_name "probe": read-only state in the exact shapes of docs/internals/wire-protocol.md §2."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import hyperv_service, lifecycle
from ..model.culture import error_text, integration_service_name
from ..model.lab import dashed
from ..model.objects import VM, Host, NetAdapter, OSState, VMAdapter
from ..model.platform import default_version, host_build, version_key
from .errors import PSError, command_not_found, hyperv_permission_denied
from .executor import OpFailed, check_powershell_direct
from .session import Session


def _feature_state(session: Session) -> str:
    """Get-HyperVFeatureState: Get-WindowsOptionalFeature needs elevation; without it the probe reads
    Win32_OptionalFeature, which knows no pending state (RULES #35)."""
    feature = session.host.os_state.hyperv_feature
    if not session.rights.administrator and feature == "EnablePending":
        return "Enabled"
    return feature


def _host_section(session: Session) -> dict[str, Any]:
    host = session.host
    rights = session.rights
    os_info = host.os_state.os
    build = host_build(host)
    module = host.os_state.hyperv_feature == "Enabled"     # a service that answers Get-VMHostSupportedVersion
    vbs_running = bool(host.vbs.get("running"))
    vbs_configured = bool(host.vbs.get("configured")) or vbs_running
    # Get-VMHostSupportedVersion (inside Invoke-Quietly) fails outside Hyper-V Administrators.
    versions_readable = module and rights.hyperv_administrator
    versions = sorted(host.supported_versions, key=version_key) if versions_readable else []
    return {
        "computer_name": session.computer_name,
        "os": {"caption": os_info.get("caption", "Microsoft Windows Server 2022 Datacenter"),
               "product_type": os_info.get("product_type", "server"),
               "edition": os_info.get("edition", "ServerDatacenter"), "build": build,
               "version": os_info.get("version", f"10.0.{build}")},
        "processor": _processor(session),
        # Get-VMHost's count (readable by Hyper-V administrators while the service runs), else the
        # root partition's from Win32_ComputerSystem: fewer under minroot (RULES #45).
        "logical_processor_count": host.logical_processors if versions_readable else _root_processors(host),
        "root_partition_processor_count": _root_processors(host),
        "memory_capacity_bytes": host.memory_bytes,
        **_hypervisor_facts(session),
        "vmms": hyperv_service.vmms_state(host.os_state),
        "hyperv_feature": _feature_state(session),
        "vbs": {"configured": vbs_configured, "running": vbs_running,
                "status": 2 if vbs_running else (1 if vbs_configured else 0)},
        # Get-BcdNestedDisabled: bcdedit exits non-zero ("Access is denied.") unless elevated -> $null.
        "bcd_offer_nested_virt_disabled": host.bcd_offer_nested_virt_disabled if rights.administrator else None,
        "supported_versions": versions,
        "default_version": (default_version(build) if not host.supported_versions else
                            max(host.supported_versions, key=version_key)) if versions_readable else None,
        "is_virtual_machine": host.is_virtual_machine,
        "platform": _platform(host),
        # Get-NatList: Get-NetNat inside Invoke-Quietly, refused to non-administrators (RULES #33).
        "nats": _nats(host) if rights.administrator else [],
        "is_administrator": rights.administrator,
        "is_hyperv_administrator": rights.hyperv_administrator,
    }


def _root_processors(host: Host) -> int:
    """Win32_ComputerSystem.NumberOfLogicalProcessors: the root partition's processors."""
    return host.root_partition_processors or host.logical_processors


def _hypervisor_facts(session: Session) -> dict[str, Any]:
    """Win32_ComputerSystem.HypervisorPresent is true in every Hyper-V guest (the parent's hypervisor)
    and on a host whose own hypervisor runs; the HvStats root-partition counters exist only on the
    latter (RULES #41a). The script decides as the probe's Get-HostSection does."""
    host = session.host
    runs = lifecycle.hypervisor_running(session.world, host)
    raw = runs or host.is_virtual_machine
    root_partition = runs
    return {"hypervisor_present": root_partition if host.is_virtual_machine else raw,
            "hypervisor_present_raw": raw, "hypervisor_root_partition": root_partition}


def _platform(host: Host) -> dict[str, Any]:
    """Get-PlatformFacts: Win32_ComputerSystem Manufacturer/Model, Win32_SystemEnclosure SMBIOSAssetTag (RULES #37)."""
    return {"manufacturer": host.platform.get("manufacturer", ""), "model": host.platform.get("model", ""),
            "smbios_asset_tag": host.platform.get("smbios_asset_tag", "")}


def _nats(host: Host) -> list[dict[str, Any]]:
    return [{"name": n.name, "internal_ip_interface_address_prefix": n.internal_ip_interface_address_prefix}
            for n in host.nats]


FIREWALL_GROUP = "hyperv.nested NAT port mappings"   # the probe script's Get-NetFirewallRule -Group


def _firewall_rules(host: Host) -> list[dict[str, Any]]:
    """Get-MappingFirewallRules: the rules of the module's group only, with their port and address filters."""
    return [{"name": r.name, "display_name": r.display_name, "enabled": r.enabled, "direction": r.direction,
             "action": r.action, "protocol": r.protocol, "local_port": list(r.local_port),
             "local_address": list(r.local_address)}
            for r in host.firewall_rules if (r.group or "").lower() == FIREWALL_GROUP.lower()]


def _refuse_hyperv(session: Session, cmdlet: str) -> None:
    """Hyper-V cmdlets fail outside Hyper-V Administrators (RULES #32)."""
    if not session.rights.hyperv_administrator:
        raise hyperv_permission_denied(cmdlet, session.computer_name)


def _processor(session: Session) -> dict[str, Any]:
    """Win32_Processor as the host's OS reports it."""
    host = session.host
    cpu = host.processor
    flags = {"virtualization_firmware_enabled": bool(cpu.get("virtualization_firmware_enabled")),
             "vm_monitor_mode_extensions": bool(cpu.get("vmx")),
             "second_level_address_translation": bool(cpu.get("ept"))}
    parent = session.world.parent_of(host)
    if parent is not None and not parent[1].expose_virtualization_extensions:
        # A VM sees VT-x/AMD-V (and SLAT) only when its parent exposes them.
        flags = dict.fromkeys(flags, False)
    if lifecycle.hypervisor_running(session.world, host):
        # With the hypervisor running, the root partition's Win32_Processor reports all three as
        # False ("A hypervisor has been detected. Features required for Hyper-V will not be displayed.").
        flags = dict.fromkeys(flags, False)
    return {"manufacturer": cpu.get("manufacturer"), "name": cpu.get("name"), **flags}


# Integration service GUIDs (the language-neutral part of Get-VMIntegrationService's Id; powershell/common.ps1).
SERVICE_IDS = {"Heartbeat": "84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47", "Shutdown": "9F8233AC-BE49-4C79-8EE3-E7E1985B2077",
               "Time Synchronization": "2497F4DE-E9FA-4204-80E4-4B75C46419C0",
               "Key-Value Pair Exchange": "2A34B1C2-FD73-4043-8A5B-DD2159BC743F",
               "VSS": "5CED1297-4598-4915-A5FC-AD21BB4D02A4", "Guest Service Interface": "6C09BB55-D683-4DA0-8931-C9BF705F6480"}


def _status(vm: VM, enabled: bool, now: float) -> str:
    """PrimaryOperationalStatus, an enum name ('' while off or disabled): Ok once the guest answers."""
    if not enabled or vm.state != "Running":
        return ""
    return "Ok" if vm.integration_components and lifecycle.guest_booted(vm, now) else "NoContact"


def _integration_services(host: Host, vm: VM, now: float) -> list[dict[str, Any]]:
    culture = host.os_state.culture
    return [{"name": name, "id": SERVICE_IDS.get(name), "display_name": integration_service_name(culture, name),
             "enabled": enabled, "primary_status": _status(vm, enabled, now)}
            for name, enabled in vm.integration_services.items()]


def _restart_mark(host: Host, vm: VM) -> dict[str, Any] | None:
    """The VM's mark file (wire protocol §3.1); one that cannot be parsed reads as stopped_at null."""
    mark = host.restart_marks.get(vm.id.lower())
    if mark is None:
        return None
    stopped_at = mark.get("stopped_at") if isinstance(mark, dict) else None
    return {"stopped_at": stopped_at if isinstance(stopped_at, str) else None}


def _kvp_reported(vm: VM, now: float) -> bool:
    """The guest reports through the KVP exchange: running, booted, the service on (wire protocol §2)."""
    kvp = vm.integration_services.get("Key-Value Pair Exchange", False)
    return vm.guest is not None and bool(kvp) and lifecycle.guest_booted(vm, now)


def _kvp_dns_name(vm: VM) -> str:
    """KVP FullyQualifiedDomainName: the lab's `guest.os.dns_name`, else the guest's NetBIOS name."""
    assert vm.guest is not None
    return str(vm.guest.os.get("dns_name") or vm.name.upper()[:15])


def _kvp_addresses(vm: VM, index: int, adapter: VMAdapter) -> list[str]:
    """VMNetworkAdapter.IPAddresses: what the guest's adapter with this MAC address holds (or, once an
    External switch inside the guest took it over, the switch's vEthernet adapter). An L1's WinRM
    endpoint address is its first connected adapter's address (how the controller reaches it)."""
    assert vm.guest is not None
    mac = dashed(adapter.mac_address)
    nics = [a for a in vm.guest.adapters if a.mac_address == mac]
    bound = {a.bound_switch for a in nics if a.bound_switch}
    nics += [a for a in vm.guest.adapters if a.switch_name in bound]
    # IPv4 addresses first, then the IPv6 link-local address of each adapter (RULES #63).
    # An adapter an External switch took over has no IP stack of its own: its vEthernet adapter has the addresses.
    found = [ip.ip_address for nic in nics for ip in nic.ipv4]
    found += list(dict.fromkeys(link_local(nic.mac_address) for nic in nics if nic.bound_switch is None))
    endpoint = vm.nested_host.address if vm.nested_host is not None else None
    if endpoint and index == 0 and adapter.switch_name and endpoint not in found:
        found.insert(0, endpoint)
    return found


def _vm_entry(host: Host, vm: VM, now: float) -> dict[str, Any]:
    reported = _kvp_reported(vm, now)
    guest_os = vm.guest.os.get("caption") if reported and vm.guest is not None else None
    return {
        "name": vm.name, "id": vm.id, "state": vm.state, "generation": vm.generation, "version": vm.version,
        "processor_count": vm.processor_count,
        "expose_virtualization_extensions": vm.expose_virtualization_extensions,
        "dynamic_memory_enabled": vm.dynamic_memory_enabled,
        # MemoryAssigned: the simulator does not balance dynamic memory, a running VM has its startup memory.
        "memory_assigned_bytes": vm.startup_memory_bytes if vm.state in ("Running", "Paused") else 0,
        "startup_memory_bytes": vm.startup_memory_bytes, "minimum_memory_bytes": vm.minimum_memory_bytes,
        "maximum_memory_bytes": vm.maximum_memory_bytes,
        "checkpoints": [{"name": c.name, "id": c.id} for c in vm.checkpoints],
        "adapters": [{"name": a.name, "id": a.id, "switch_name": a.switch_name, "mac_address": a.mac_address,
                      "mac_address_spoofing": a.mac_address_spoofing,
                      "ip_addresses": _kvp_addresses(vm, i, a) if reported else []} for i, a in enumerate(vm.adapters)],
        "integration_services": _integration_services(host, vm, now),
        "virtualization_based_security_opt_out": vm.virtualization_based_security_opt_out,
        "is_clustered": vm.is_clustered,
        "guest_os": guest_os,
        "guest_dns_name": _kvp_dns_name(vm) if reported else None,
        "notes": vm.notes,
        "restart_mark": _restart_mark(host, vm),
    }


def _vm_or_error(host: Host, vm: VM, now: float) -> dict[str, Any]:
    """Get-VMEntry: a VM whose settings cannot be read has an entry with its error (RULES #44)."""
    if vm.configuration_error is not None:
        return {"name": vm.name, "id": vm.id, "state": vm.state,
                "error": error_text(host.os_state.culture, vm.configuration_error)}
    return _vm_entry(host, vm, now)


def _vms_section(session: Session, names: list[str] | None) -> dict[str, Any]:
    host = session.host
    if host.os_state.hyperv_feature != "Enabled":
        if not hyperv_service.module_present(host.os_state):
            return {"hyperv_module": False, "missing": [], "duplicates": [], "all_names": [], "vms": []}
        if session.rights.hyperv_administrator:
            # The module without a service that answers (RULES #43): Get-VMsSection reports it.
            return {"hyperv_module": True,
                    "service_unavailable": error_text(host.os_state.culture,
                                                      hyperv_service.service_unavailable_message(session.computer_name)),
                    "vmms": hyperv_service.vmms_state(host.os_state),
                    "missing": [], "duplicates": [], "all_names": [], "vms": []}
    try:
        _refuse_hyperv(session, "Get-VM")
    except PSError as error:
        # The probe script answers a refused Get-VM for an account outside Hyper-V Administrators
        # with an empty section that carries the message (wire protocol section 2).
        return {"hyperv_module": True, "access_denied": error_text(host.os_state.culture, error.message),
                "missing": [], "duplicates": [], "all_names": [], "vms": []}
    now = session.clock()
    missing: list[str] = []
    duplicates: list[str] = []
    selected: list[VM] = list(host.vms)
    if names is not None:
        wanted = {n.lower() for n in names}
        for name in names:
            count = sum(1 for vm in host.vms if vm.name.lower() == name.lower())
            if count == 0:
                missing.append(name)
            elif count > 1:
                duplicates.append(name)
        selected = [vm for vm in host.vms if vm.name.lower() in wanted]
    return {"hyperv_module": True, "missing": missing, "duplicates": duplicates,
            "all_names": [vm.name for vm in host.vms], "vms": [_vm_or_error(host, vm, now) for vm in selected]}


def _network_section(session: Session) -> dict[str, Any]:
    host = session.host
    if host.os_state.hyperv_feature != "Enabled":
        module = hyperv_service.module_present(host.os_state)
        if module:
            _refuse_hyperv(session, "Get-VMSwitch")
        unavailable = (error_text(host.os_state.culture, hyperv_service.service_unavailable_message(session.computer_name))
                       if module else None)
        return {"hyperv_module": module, "service_unavailable": unavailable, "switches": [], "nats": [],
                "static_mappings": [], "ip_addresses": _ip_addresses(host.os_state), "adapters": _adapters(host.os_state),
                "firewall_rules": _firewall_rules(host)}
    _refuse_hyperv(session, "Get-VMSwitch")   # not caught by the probe script: the probe fails
    # Get-NetNat / Get-NetNatStaticMapping are read inside Invoke-Quietly; the simulator refuses
    # them to non-administrators, who then see no NAT (RULES #33, stricter than Windows perhaps).
    nat_readable = session.rights.administrator
    return {
        "hyperv_module": True,
        "service_unavailable": None,
        "switches": [{"name": s.name, "switch_type": s.switch_type,
                      "net_adapter_interface_description": s.net_adapter_interface_description,
                      "host_interface_index": _host_interface_index(host, s)}
                     for s in host.switches],
        "nats": _nats(host) if nat_readable else [],
        "static_mappings": [{"nat_name": m.nat_name, "static_mapping_id": m.static_mapping_id,
                             "protocol": m.protocol, "external_ip_address": m.external_ip_address,
                             "external_port": m.external_port, "internal_ip_address": m.internal_ip_address,
                             "internal_port": m.internal_port} for m in host.static_mappings if nat_readable],
        "ip_addresses": _ip_addresses(host.os_state),
        "adapters": _adapters(host.os_state),
        "firewall_rules": _firewall_rules(host),
    }


def _host_interface_index(host: Host, switch: Any) -> int | None:
    """Get-SwitchHostInterfaceIndex: the switch's management-OS adapter (the n-th of its name's
    adapters for the n-th switch of that name, as each switch made its own, RULES #48)."""
    same_name = [s for s in host.switches if s.name == switch.name]
    adapters = [a for a in host.os_state.adapters if a.switch_name == switch.name]
    position = next(i for i, s in enumerate(same_name) if s is switch)
    return adapters[position].interface_index if position < len(adapters) else None


def link_local(mac_address: str) -> str:
    """The adapter's IPv6 link-local address (RULES #63): fe80::/64 with the modified EUI-64 of its MAC."""
    digits = "".join(c for c in mac_address if c not in ":-")
    octets = [int(digits[i:i + 2], 16) for i in range(0, 12, 2)]
    eui = [octets[0] ^ 0x02, *octets[1:3], 0xFF, 0xFE, *octets[3:6]]
    return "fe80::" + ":".join(f"{eui[i] << 8 | eui[i + 1]:x}" for i in range(0, 8, 2))


def _ip_addresses(os_state: OSState) -> list[dict[str, Any]]:
    # Get-NetIPAddress lists every family: an IPv6 link-local address on each interface, then its IPv4 ones.
    return [entry for a in os_state.adapters if a.bound_switch is None for entry in (
        {"interface_alias": a.name, "interface_index": a.interface_index, "ip_address": f"{link_local(a.mac_address)}%{a.interface_index}",
         "prefix_length": 64, "address_family": "IPv6", "prefix_origin": "WellKnown"},
        *({"interface_alias": a.name, "interface_index": a.interface_index, "ip_address": ip.ip_address,
           "prefix_length": ip.prefix_length, "address_family": "IPv4", "prefix_origin": ip.prefix_origin} for ip in a.ipv4))]


def _adapters(os_state: OSState) -> list[dict[str, Any]]:
    return [{"name": a.name, "interface_index": a.interface_index, "status": a.status,
             "mac_address": a.mac_address} for a in os_state.adapters]


def _guest_adapter(adapter: NetAdapter) -> dict[str, Any]:
    return {"interface_alias": adapter.name, "interface_index": adapter.interface_index,
            "mac_address": adapter.mac_address,
            "ipv4": [{"ip_address": ip.ip_address, "prefix_length": ip.prefix_length,
                      "prefix_origin": ip.prefix_origin} for ip in adapter.ipv4],
            "default_gateway": adapter.default_gateway, "dns_servers": list(adapter.dns_servers),
            "dhcp": adapter.dhcp}


def _guests_section(session: Session, guests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for request in guests:
        if session.host.os_state.hyperv_feature == "Enabled":
            _refuse_hyperv(session, "Get-VM")   # Get-ExactVM, not caught by Get-GuestFacts
        name = request.get("vm")
        matches = [vm for vm in session.host.vms if isinstance(name, str) and vm.name.lower() == name.lower()]
        entry: dict[str, Any] = {"vm": name, "state": matches[0].state if len(matches) == 1 else None,
                                 "reachable": False, "error": None, "adapters": []}
        if len(matches) != 1:
            entry["error"] = f"No single virtual machine is named '{name}' on this host."
        else:
            try:
                check_powershell_direct(session, matches[0], request.get("username"), request.get("password"))
                assert matches[0].guest is not None
                entry["reachable"] = True
                entry["adapters"] = [_guest_adapter(a) for a in matches[0].guest.adapters]
            except OpFailed as error:
                entry["error"] = str(error)
        out.append(entry)
    return out


def _if_available(result: dict[str, Any], name: str, read: Callable[[], Any]) -> None:
    """probe.ps1's Read-SectionIfAvailable: the section, or `<name>_unavailable` with the error's message."""
    try:
        result[name] = read()
    except PSError as error:
        result[name + "_unavailable"] = error.message


def _guests_if_available(session: Session, guests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Get-GuestFacts calls Get-ExactVM (Hyper-V\Get-VM) outside its try for each guest: without the
    # Hyper-V module the module-qualified name is not recognized (CommandNotFoundException, RULES #57).
    if guests and not hyperv_service.module_present(session.host.os_state):
        raise command_not_found("Hyper-V\\Get-VM")
    if guests and session.host.os_state.hyperv_feature != "Enabled":
        # The module without a running vmms: Get-VM fails as it does for the vms section (RULES #43).
        raise PSError(error_text(session.host.os_state.culture, hyperv_service.service_unavailable_message(session.computer_name)))
    return _guests_section(session, guests)


def probe(session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
    sections = parameters.get("sections") or []
    result: dict[str, Any] = {}
    with session.lock:
        session.refresh()
        for section in sections:
            if section == "host":
                result["host"] = _host_section(session)
            elif section == "vms":
                result["vms"] = _vms_section(session, parameters.get("vm_names"))
            elif section == "network":
                result["network"] = _network_section(session)
            elif section == "guests":
                result["guests"] = _guests_section(session, parameters.get("guests") or [])
            elif section == "platform":
                result["platform"] = _platform(session.host)
            elif section == "network_if_available":
                _if_available(result, "network", lambda: _network_section(session))
            elif section == "guests_if_available":
                _if_available(result, "guests", lambda: _guests_if_available(session, parameters.get("guests") or []))
            else:
                raise ValueError(f"unknown probe section '{section}'")
    return result
