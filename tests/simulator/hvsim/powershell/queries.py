"""The Get- cmdlets of the simulated subset: read the model, write objects (psobjects.py).

Names select with PowerShell wildcards where the documentation says they accept them; a plain
name that matches nothing is an error, a wildcard that matches nothing is not (as on Windows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..model import lifecycle
from ..model.culture import feature_display_name, integration_service_name
from ..model.errors import HyperVError
from ..model.objects import VM, OSState, VMAdapter
from . import psobjects
from .cmdlets import _wildcard, select_vms
from .features import SERVER_FEATURES, install_state
from .session import Session
from .signatures import Bound, ObjectRef

_WILDCARD = re.compile(r"[*?\[]")


def _has_wildcard(pattern: str) -> bool:
    return bool(_WILDCARD.search(pattern))


def _patterns(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _vm_not_found(pattern: str) -> HyperVError:
    return HyperVError(f"Hyper-V was unable to find a virtual machine with name \"{pattern}\".",
                       "InvalidArgument", "InvalidParameter")


def _vms(session: Session, bound: Bound, name_param: str) -> list[VM]:
    """-VM objects, or -VMName/-Name patterns (all VMs when none is given)."""
    if bound.has("VM") or bound.has(name_param):
        if bound.has(name_param) and any(_has_wildcard(p) for p in _patterns(bound.get(name_param))):
            found: list[VM] = []
            for pattern in _patterns(bound.get(name_param)):
                regex = _wildcard(pattern)
                matches = [vm for vm in session.host.vms if regex.fullmatch(vm.name)]
                if not matches and not _has_wildcard(pattern):
                    raise _vm_not_found(pattern)
                found.extend(vm for vm in matches if vm not in found)
            return found
        return select_vms(session, bound, name_param)
    return list(session.host.vms)


def get_vm(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    if bound.has("Id"):
        wanted = str(bound.get("Id")).strip("{}").lower()
        vms = [vm for vm in session.host.vms if vm.id.lower() == wanted]
        if not vms:
            raise HyperVError(f"Hyper-V was unable to find a virtual machine with id \"{bound.get('Id')}\".",
                              "InvalidArgument", "InvalidParameter")
    else:
        vms = _vms(session, bound, "Name")
    now = session.clock()
    return [psobjects.vm_object(session.host, vm, now) for vm in vms]


def get_vm_network_adapter(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    host = session.host
    pattern = _wildcard(str(bound.get("Name") or "*"))
    found: list[ObjectRef] = []
    if bound.has("ManagementOS") or bound.has("All"):
        switch_filter = bound.get("SwitchName")
        for adapter in host.os_state.adapters:
            if adapter.switch_name is None or not pattern.fullmatch(adapter.switch_name):
                continue
            if switch_filter is not None and adapter.switch_name.lower() != str(switch_filter).lower():
                continue
            management = next((s for s in host.switches if s.name == adapter.switch_name), None)
            if management is None:
                continue
            view = _management_adapter(adapter.switch_name, adapter.mac_address)
            found.append(psobjects.adapter_object(host, None, view, running=True))
        if bound.has("ManagementOS"):
            return found
    vms = list(host.vms) if bound.has("All") else _vms(session, bound, "VMName")
    for vm in vms:
        for vm_adapter in vm.adapters:
            if pattern.fullmatch(vm_adapter.name):
                found.append(psobjects.adapter_object(host, vm, vm_adapter, vm.state == "Running"))
    if bound.has("Name") and not found and not _has_wildcard(str(bound.get("Name"))):
        raise HyperVError("No network adapter is found.", "ObjectNotFound", "ObjectNotFound")
    return found


def _management_adapter(switch: str, mac: str) -> VMAdapter:
    return VMAdapter(name=switch, id=f"Microsoft:{switch}", mac_address=mac.replace("-", ""), switch_name=switch)


def get_vm_switch(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    name = bound.get("Name")
    types = {str(t).lower() for t in _patterns(bound.get("SwitchType"))}
    switches = [s for s in session.host.switches if not types or s.switch_type.lower() in types]
    if bound.has("Id"):
        ids = {str(i).strip("{}").lower() for i in _patterns(bound.get("Id"))}
        switches = [s for s in switches if s.id.lower() in ids]
    if name is not None:
        regex = _wildcard(str(name))
        switches = [s for s in switches if regex.fullmatch(s.name)]
        if not switches and not _has_wildcard(str(name)):
            raise HyperVError(f"Hyper-V was unable to find a virtual switch with name \"{name}\".",
                              "InvalidArgument", "InvalidParameter")
    return [psobjects.switch_object(s) for s in switches]


def get_vm_processor(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    return [psobjects.processor_object(vm) for vm in _vms(session, bound, "VMName")]


def get_vm_memory(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    return [psobjects.memory_object(vm) for vm in _vms(session, bound, "VMName")]


def get_vm_integration_service(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    # -Name matches the host's (localised) names: "Heartbeat" finds nothing on a German host (RULES #47).
    names = [_wildcard(p) for p in _patterns(bound.get("Name"))] or [_wildcard("*")]
    now = session.clock()
    culture = os_state.culture
    found = []
    for vm in _vms(session, bound, "VMName"):
        for name, enabled in vm.integration_services.items():
            local = integration_service_name(culture, name)
            if any(n.fullmatch(local) for n in names):
                answers = enabled and vm.state == "Running" and vm.integration_components and lifecycle.guest_booted(vm, now)
                status = "" if not enabled or vm.state != "Running" else ("Ok" if answers else "NoContact")
                found.append(psobjects.integration_service_object(vm, name, local, enabled, status, culture))
    return found


def get_vm_snapshot(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    regex = _wildcard(str(bound.get("Name") or "*"))
    return [psobjects.checkpoint_object(vm, c) for vm in _vms(session, bound, "VMName")
            for c in vm.checkpoints if regex.fullmatch(c.name)]


def _cim_not_found(cim_class: str, prop: str, value: Any) -> HyperVError:
    return HyperVError(f"No {cim_class} objects found with property '{prop}' equal to '{value}'. Verify the value "
                       "of the property and retry.", "ObjectNotFound", "CmdletizationQuery_NotFound_" + prop)


def _select(items: list[Any], patterns: list[str], name_of: Callable[[Any], str], cim_class: str,
            prop: str) -> list[Any]:
    """Items whose name matches one of the patterns, in pattern order; a plain name matching nothing
    is the CIM cmdlets' "No ... objects found" error."""
    selected: list[Any] = []
    for pattern in patterns:
        regex = _wildcard(pattern)
        matches = [item for item in items if regex.fullmatch(name_of(item))]
        if not matches and not _has_wildcard(pattern):
            raise _cim_not_found(cim_class, prop, pattern)
        selected.extend(item for item in matches if item not in selected)
    return selected


def get_net_adapter(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    adapters = list(os_state.adapters)
    if bound.has("Name"):
        adapters = _select(adapters, _patterns(bound.get("Name")), lambda a: a.name, "MSFT_NetAdapter", "Name")
    if bound.has("InterfaceDescription"):
        adapters = _select(adapters, _patterns(bound.get("InterfaceDescription")), lambda a: a.interface_description,
                           "MSFT_NetAdapter", "InterfaceDescription")
    if bound.has("InterfaceIndex"):
        wanted = [int(i) for i in _patterns(bound.get("InterfaceIndex"))]
        for index in wanted:
            if not any(a.interface_index == index for a in adapters):
                raise _cim_not_found("MSFT_NetAdapter", "InterfaceIndex", index)
        adapters = [a for a in adapters if a.interface_index in wanted]
    if bound.get("Physical"):
        adapters = [a for a in adapters if a.switch_name is None]
    return [psobjects.net_adapter_object(a) for a in adapters]


def get_net_ip_address(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    families = {str(f) for f in _patterns(bound.get("AddressFamily"))}
    if families and "IPv4" not in families:
        return []
    ips = [_wildcard(p) for p in _patterns(bound.get("IPAddress"))]
    aliases = [_wildcard(p) for p in _patterns(bound.get("InterfaceAlias"))]
    indexes = {int(i) for i in _patterns(bound.get("InterfaceIndex"))}
    origins = {str(o).lower() for o in _patterns(bound.get("PrefixOrigin"))}
    found = []
    for adapter in os_state.adapters:
        if aliases and not any(a.fullmatch(adapter.name) for a in aliases):
            continue
        if indexes and adapter.interface_index not in indexes:
            continue
        for entry in adapter.ipv4:
            if ips and not any(i.fullmatch(entry.ip_address) for i in ips):
                continue
            if origins and entry.prefix_origin.lower() not in origins:
                continue
            found.append(psobjects.ip_address_object(adapter, entry.ip_address, entry.prefix_length,
                                                     entry.prefix_origin))
    if not found and (ips or aliases or indexes):
        condition = " AND ".join(
            [f"(IPAddress LIKE '{p}')" for p in _patterns(bound.get("IPAddress"))]
            + [f"(InterfaceAlias LIKE '{p}')" for p in _patterns(bound.get("InterfaceAlias"))]
            + [f"(InterfaceIndex = {i})" for i in sorted(indexes)])
        raise HyperVError("No matching MSFT_NetIPAddress objects found by CIM query for instances of the "
                          "ROOT/StandardCimv2/MSFT_NetIPAddress class on the  CIM server: SELECT * FROM "
                          f"MSFT_NetIPAddress  WHERE ({condition}). Verify query parameters and retry.",
                          "ObjectNotFound", "CmdletizationQuery_NotFound")
    return found


def get_net_nat(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    nats = list(session.host.nats)
    if bound.has("Name"):
        nats = _select(nats, _patterns(bound.get("Name")), lambda n: n.name, "MSFT_NetNat", "Name")
    return [psobjects.nat_object(n) for n in nats]


def get_net_nat_static_mapping(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    names = [_wildcard(p) for p in _patterns(bound.get("NatName"))]
    return [psobjects.static_mapping_object(m) for m in session.host.static_mappings
            if not names or any(n.fullmatch(m.nat_name) for n in names)]


def get_dns_client_server_address(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    aliases = [_wildcard(p) for p in _patterns(bound.get("InterfaceAlias"))]
    indexes = {int(i) for i in _patterns(bound.get("InterfaceIndex"))}
    families = [str(f) for f in _patterns(bound.get("AddressFamily"))] or ["IPv4", "IPv6"]
    found: list[ObjectRef] = []
    for adapter in os_state.adapters:
        if aliases and not any(a.fullmatch(adapter.name) for a in aliases):
            continue
        if indexes and adapter.interface_index not in indexes:
            continue
        found.extend(psobjects.dns_object(adapter, family) for family in families)
    if not found and (aliases or indexes):
        shown: list[Any] = _patterns(bound.get("InterfaceAlias")) or sorted(indexes)
        raise _cim_not_found("MSFT_DNSClientServerAddress", "InterfaceAlias" if aliases else "InterfaceIndex",
                             shown[0])
    return found


def get_windows_feature(session: Session, os_state: OSState, bound: Bound) -> list[ObjectRef]:
    patterns = [_wildcard(p) for p in _patterns(bound.get("Name"))] or [_wildcard("*")]
    state = install_state(os_state)
    return [psobjects.feature_object(name, feature_display_name(os_state.culture, name, display), state)
            for name, display in SERVER_FEATURES.items()
            if any(p.fullmatch(name) for p in patterns)]


Query = Callable[[Session, OSState, Bound], list[ObjectRef]]
QUERIES: dict[str, Query] = {
    "Get-VM": get_vm, "Get-VMNetworkAdapter": get_vm_network_adapter, "Get-VMSwitch": get_vm_switch,
    "Get-VMProcessor": get_vm_processor, "Get-VMMemory": get_vm_memory,
    "Get-VMIntegrationService": get_vm_integration_service, "Get-VMSnapshot": get_vm_snapshot,
    "Get-NetAdapter": get_net_adapter, "Get-NetIPAddress": get_net_ip_address, "Get-NetNat": get_net_nat,
    "Get-NetNatStaticMapping": get_net_nat_static_mapping,
    "Get-DnsClientServerAddress": get_dns_client_server_address, "Get-WindowsFeature": get_windows_feature,
}
# Queries of the host itself (Hyper-V and NetNat): inside a plain guest they do not exist.
HOST_QUERIES = {"Get-VM", "Get-VMNetworkAdapter", "Get-VMSwitch", "Get-VMProcessor", "Get-VMMemory",
                "Get-VMIntegrationService", "Get-VMSnapshot", "Get-NetNat", "Get-NetNatStaticMapping"}
