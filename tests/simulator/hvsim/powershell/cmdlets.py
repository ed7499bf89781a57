"""The cmdlets that change the model (what the executor and the script interpreter run), implemented
against the model after signature binding. Each handler returns what it changed or created (the
objects -PassThru, or a New- cmdlet, writes to the pipeline)."""
from __future__ import annotations

import fnmatch
import re
import uuid
from collections.abc import Callable
from typing import Any

from ..model import hyperv_service, lifecycle, network, settings, throwaway
from ..model.accounts import Rights
from ..model.errors import HyperVError
from ..model.objects import VM, FirewallRule, Nat, NetAdapter, OSState, StaticMapping, Switch, VMAdapter
from .errors import PSError, cim_access_denied, command_not_found, hyperv_permission_denied, switch_access_denied, vmms_unavailable
from .session import Session
from .signatures import Bound, ObjectRef, bind, module_of

# Host networking: administrators only (RULES #33). Hyper-V switches answer in Hyper-V's words,
# the CIM cmdlets (NetNat, NetTCPIP, DnsClient) with "Access is denied." and their CIM class.
SWITCH_CMDLETS = {"New-VMSwitch", "Remove-VMSwitch"}
CIM_CLASSES = {"New-NetNat": "MSFT_NetNat", "Remove-NetNat": "MSFT_NetNat",
               "Add-NetNatStaticMapping": "MSFT_NetNatStaticMapping",
               "Remove-NetNatStaticMapping": "MSFT_NetNatStaticMapping",
               "New-NetIPAddress": "MSFT_NetIPAddress", "Remove-NetIPAddress": "MSFT_NetIPAddress",
               "Set-DnsClientServerAddress": "MSFT_DNSClientServerAddress",
               "Set-NetIPInterface": "MSFT_NetIPInterface", "Remove-NetRoute": "MSFT_NetRoute",
               "New-NetFirewallRule": "MSFT_NetFirewallRule", "Remove-NetFirewallRule": "MSFT_NetFirewallRule"}


def vm_ref(vm: VM) -> ObjectRef:
    return ObjectRef("VirtualMachine", vm)


def adapter_ref(vm: VM, adapter: VMAdapter) -> ObjectRef:
    return ObjectRef("VMNetworkAdapter", (vm, adapter), bases=("VMNetworkAdapterBase",))


def _wildcard(pattern: str) -> re.Pattern[str]:
    # PowerShell wildcards: * ? [abc]; fnmatch's syntax is the same for these.
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def select_vms(session: Session, bound: Bound, name_param: str) -> list[VM]:
    if bound.has("VM"):
        refs = bound.get("VM")   # VirtualMachine[] for most cmdlets, one VirtualMachine for some
        return [ref.target for ref in (refs if isinstance(refs, list) else [refs])]
    found: list[VM] = []
    for pattern in bound.get(name_param) or []:
        matches = [vm for vm in session.host.vms if _wildcard(pattern).fullmatch(vm.name)]
        if not matches:
            raise HyperVError(f"Hyper-V was unable to find a virtual machine with name \"{pattern}\".",
                              "InvalidArgument", "InvalidParameter")
        found.extend(vm for vm in matches if vm not in found)
    return found


def _select_adapters(session: Session, bound: Bound) -> list[tuple[VM, VMAdapter]]:
    if bound.has("VMNetworkAdapter"):
        refs = bound.get("VMNetworkAdapter")
        return [ref.target for ref in (refs if isinstance(refs, list) else [refs])]
    vms = select_vms(session, bound, "VMName")
    pattern = _wildcard(bound.get("Name") or "*")
    pairs = [(vm, a) for vm in vms for a in vm.adapters if pattern.fullmatch(a.name)]
    if not pairs:
        raise HyperVError("No network adapter is found.", "ObjectNotFound", "ObjectNotFound")
    return pairs


def _runs_hypervisor(vm: VM) -> bool:
    return vm.state == "Running" and vm.hypervisor_running


def _set_processor(s: Session, b: Bound) -> list[VM]:
    vms = select_vms(s, b, "VMName")
    for vm in vms:
        settings.set_processor(s.host, vm, b.get("Count"), b.get("ExposeVirtualizationExtensions"))
    return vms


def _set_memory(s: Session, b: Bound) -> list[VM]:
    vms = select_vms(s, b, "VMName")
    for vm in vms:
        settings.set_memory(vm, _runs_hypervisor(vm), b.get("DynamicMemoryEnabled"), b.get("StartupBytes"),
                            b.get("MinimumBytes"), b.get("MaximumBytes"))
    return vms


def _set_adapter(s: Session, b: Bound) -> list[tuple[VM, VMAdapter]]:
    if b.has("ManagementOS"):
        raise HyperVError("Configuring management OS adapters is not simulated.", "NotImplemented", "NotImplemented")
    pairs = _select_adapters(s, b)
    for vm, adapter in pairs:
        settings.set_adapter(vm, adapter, b.get("MacAddressSpoofing"))
    return pairs


def _connect_adapter(s: Session, b: Bound) -> list[tuple[VM, VMAdapter]]:
    if not b.has("SwitchName"):
        raise HyperVError("Only -SwitchName connections are simulated.", "NotImplemented", "NotImplemented")
    pairs = _select_adapters(s, b)
    for vm, adapter in pairs:
        settings.connect_adapter(s.host, vm, adapter, b.get("SwitchName"))
    return pairs


def _update_version(s: Session, b: Bound) -> list[VM]:
    vms = select_vms(s, b, "Name")
    for vm in vms:
        settings.update_version(s.host, vm)
    return vms


def _remove_saved_state(s: Session, b: Bound) -> list[VM]:
    vms = select_vms(s, b, "VMName")
    for vm in vms:
        settings.remove_saved_state(vm)
    return vms


def _start_vm(s: Session, b: Bound) -> list[VM]:
    vms = select_vms(s, b, "Name")
    for vm in vms:
        lifecycle.start_vm(s.world, s.host, vm, s.clock())
    return vms


def _stop_vm(s: Session, b: Bound) -> list[VM]:
    vms = select_vms(s, b, "Name")
    for vm in vms:
        if b.get("TurnOff"):
            lifecycle.turn_off(s.world, s.host, vm, s.clock())
        elif b.get("Save"):
            lifecycle.save_vm(s.world, s.host, vm, s.clock())
        else:
            lifecycle.request_shutdown(s.world, s.host, vm, s.clock())
    return vms


def _new_switch(s: Session, b: Bound) -> list[Switch]:
    adapters = b.get("NetAdapterName")
    if b.has("NetAdapterInterfaceDescription"):
        wanted = b.get("NetAdapterInterfaceDescription")[0].lower()
        match = [a.name for a in s.host.os_state.adapters if a.interface_description.lower() == wanted]
        if not match:
            raise HyperVError("Failed while adding virtual Ethernet switch connections. The network adapter "
                              "was not found.", "ObjectNotFound", "ObjectNotFound")
        adapters = match
    return [network.new_switch(s.host, b.get("Name"), b.get("SwitchType"), adapters[0] if adapters else None,
                               b.get("AllowManagementOS"))]


def _remove_switch(s: Session, b: Bound) -> list[Switch]:
    removed: list[Switch] = []
    for pattern in b.get("Name") or []:
        matches = [sw for sw in s.host.switches if _wildcard(pattern).fullmatch(sw.name)]
        if not matches:
            raise HyperVError(f"Hyper-V was unable to find a virtual switch with name \"{pattern}\".",
                              "InvalidArgument", "InvalidParameter")
        for switch in matches:
            network.remove_switch(s.host, switch)
            removed.append(switch)
    return removed


def _refuse_prompt(cmdlet: str, b: Bound) -> None:
    """A removal that would ask "Are you sure?" fails in a non-interactive session (RULES #49)."""
    if not b.get("Force") and b.get("Confirm") is not False:
        raise HyperVError("Windows PowerShell is in NonInteractive mode. Read and Prompt functionality is not "
                          f"available. ({cmdlet} asks for confirmation: add -Force or -Confirm:$false.)",
                          "InvalidOperation", "PromptNotAvailable")


def _new_vm(s: Session, b: Bound) -> list[VM]:
    return [throwaway.new_vm(s.host, b.get("Name"), b.get("MemoryStartupBytes"), b.get("Generation"),
                             b.get("SwitchName"))]


def _remove_vm(s: Session, b: Bound) -> list[VM]:
    _refuse_prompt("Remove-VM", b)
    vms = select_vms(s, b, "Name")
    for vm in vms:
        throwaway.remove_vm(s.host, vm)
    return vms


def _set_security(s: Session, b: Bound) -> list[VM]:
    vms = select_vms(s, b, "VMName")
    for vm in vms:
        settings.set_security(vm, b.get("VirtualizationBasedSecurityOptOut"))
    return vms


def _new_nat(s: Session, b: Bound) -> list[Nat]:
    return [network.new_nat(s.host, b.get("Name"), b.get("InternalIPInterfaceAddressPrefix"))]


def _remove_nat(s: Session, b: Bound) -> list[Any]:
    network.remove_nat(s.host, b.get("Name"))
    return []


def _add_mapping(s: Session, b: Bound) -> list[StaticMapping]:
    return [network.add_static_mapping(s.host, b.get("NatName"), b.get("Protocol"), b.get("ExternalIPAddress"),
                                       b.get("ExternalPort"), b.get("InternalIPAddress"), b.get("InternalPort"))]


def _remove_mapping(s: Session, b: Bound) -> list[Any]:
    network.remove_static_mappings(s.host, b.get("StaticMappingID"), b.get("NatName"))
    return []


def _new_firewall_rule(s: Session, b: Bound) -> None:
    # Values as bound: enums canonical ("True", "Inbound"), String[] as lists. Name defaults to a new GUID.
    rule = FirewallRule(
        name=b.get("Name") or "{" + str(uuid.uuid4()) + "}", display_name=b.get("DisplayName"),
        group=b.get("Group"), description=b.get("Description"),
        direction=b.get("Direction") or "Inbound", action=b.get("Action") or "Allow",
        enabled=(b.get("Enabled") or "True") == "True", protocol=b.get("Protocol") or "Any",
        local_port=[str(p) for p in b.get("LocalPort") or ["Any"]],
        local_address=[str(a) for a in b.get("LocalAddress") or ["Any"]], profile=b.get("Profile") or "Any")
    network.new_firewall_rule(s.host, rule)


def _remove_firewall_rule(s: Session, b: Bound) -> None:
    for parameter, prop, field in (("Name", "InstanceID", "name"), ("DisplayName", "DisplayName", "display_name"),
                                   ("Group", "Group", "group")):
        if b.has(parameter):
            # -Name and -DisplayName accept wildcards (their pages); -Group is matched as given.
            for pattern in b.get(parameter):
                match = _wildcard(pattern).fullmatch if parameter != "Group" else (lambda v, p=pattern: v.lower() == p.lower())
                selected = [rule for rule in s.host.firewall_rules if getattr(rule, field) and match(getattr(rule, field))]
                network.remove_firewall_rules(s.host, selected, (prop, pattern))
            return
    if set(b.values) - {"All", "PolicyStore"}:
        raise HyperVError("Only -Name, -DisplayName, -Group and -All selections are simulated.", "NotImplemented",
                          "NotImplemented")
    s.host.firewall_rules = []    # the GetAll set: every rule of the store (the page's example 1)


# OS-level cmdlets: they work on whichever OS they run in (the host's own, or a guest's).

def _new_ip(os_state: OSState, b: Bound) -> list[tuple[NetAdapter, str]]:
    adapter = network.find_adapter(os_state, alias=b.get("InterfaceAlias"), index=b.get("InterfaceIndex"))
    network.new_ip_address(os_state, adapter, b.get("IPAddress"), b.get("PrefixLength"), b.get("DefaultGateway"))
    return [(adapter, b.get("IPAddress"))]


def _remove_ip(os_state: OSState, b: Bound) -> list[Any]:
    ips = b.get("IPAddress") or [None]
    aliases = b.get("InterfaceAlias") or [None]
    indexes = b.get("InterfaceIndex") or [None]
    for ip in ips:
        if ip is None:
            raise HyperVError("Removing every address at once is not simulated: give -IPAddress.",
                              "NotImplemented", "NotImplemented")
        network.remove_ip_address(os_state, ip, aliases[0], indexes[0])
    return []


def _set_dns(os_state: OSState, b: Bound) -> list[NetAdapter]:
    targets = [network.find_adapter(os_state, alias=a) for a in b.get("InterfaceAlias") or []]
    targets += [network.find_adapter(os_state, index=i) for i in b.get("InterfaceIndex") or []]
    for adapter in targets:
        network.set_dns(adapter, b.get("ServerAddresses"), bool(b.get("ResetServerAddresses")))
    return targets


def _set_ip_interface(os_state: OSState, b: Bound) -> list[NetAdapter]:
    targets = [network.find_adapter(os_state, alias=a) for a in b.get("InterfaceAlias") or []]
    targets += [network.find_adapter(os_state, index=i) for i in b.get("InterfaceIndex") or []]
    for adapter in targets:
        if b.has("Dhcp"):
            network.set_dhcp(adapter, b.get("Dhcp") == "Enabled")
    return targets


def _remove_route(os_state: OSState, b: Bound) -> list[Any]:
    prefixes = b.get("DestinationPrefix") or []
    if prefixes and any(p not in ("0.0.0.0/0",) for p in prefixes):
        raise HyperVError("Only default routes (0.0.0.0/0) are simulated.", "NotImplemented", "NotImplemented")
    aliases = b.get("InterfaceAlias") or [None]
    indexes = b.get("InterfaceIndex") or [None]
    hops = b.get("NextHop") or [None]
    network.remove_default_route(os_state, aliases[0], indexes[0], hops[0])
    return []


HOST_HANDLERS: dict[str, Callable[[Session, Bound], list[Any]]] = {
    "Set-VMProcessor": _set_processor, "Set-VMMemory": _set_memory, "Set-VMNetworkAdapter": _set_adapter,
    "Connect-VMNetworkAdapter": _connect_adapter, "Update-VMVersion": _update_version,
    "Remove-VMSavedState": _remove_saved_state, "Start-VM": _start_vm, "Stop-VM": _stop_vm,
    "New-VMSwitch": _new_switch, "Remove-VMSwitch": _remove_switch, "Set-VMSecurity": _set_security,
    "New-NetNat": _new_nat, "Remove-NetNat": _remove_nat, "Add-NetNatStaticMapping": _add_mapping,
    "Remove-NetNatStaticMapping": _remove_mapping, "New-NetFirewallRule": _new_firewall_rule,
    "Remove-NetFirewallRule": _remove_firewall_rule,
    "New-VM": _new_vm, "Remove-VM": _remove_vm,
}
OS_HANDLERS: dict[str, Callable[[OSState, Bound], list[Any]]] = {
    "New-NetIPAddress": _new_ip, "Remove-NetIPAddress": _remove_ip, "Set-DnsClientServerAddress": _set_dns,
    "Set-NetIPInterface": _set_ip_interface, "Remove-NetRoute": _remove_route,
}


def is_hyperv(cmdlet: str) -> bool:
    """A cmdlet of the Hyper-V module (it exists only where the Hyper-V feature is installed, RULES #25)."""
    return module_of(cmdlet) == "Hyper-V"


def check_rights(session: Session, cmdlet: str, rights: Rights, in_guest: bool) -> None:
    """Refuse a cmdlet the account may not run, as Windows does (RULES #32, #33)."""
    if is_hyperv(cmdlet) and not in_guest and not rights.hyperv_administrator:
        raise hyperv_permission_denied(cmdlet, session.computer_name)
    if rights.administrator:
        return
    if cmdlet in SWITCH_CMDLETS and not in_guest:
        raise switch_access_denied(cmdlet)
    if cmdlet in CIM_CLASSES:
        raise cim_access_denied(cmdlet, CIM_CLASSES[cmdlet])


def run_cmdlet(session: Session, name: str, parameters: dict[str, Any], os_state: OSState | None = None,
               fault_host: str | None = None, rights: Rights | None = None) -> Bound:
    """Bind and run one cmdlet as `rights` (default: the session's account; a guest's account for
    `os_state`). Call with session.lock held. Raises PSError."""
    bound = bind(name, parameters)
    run_bound(session, bound, os_state=os_state, fault_host=fault_host, rights=rights)
    return bound


def admit(session: Session, cmdlet: str, os_state: OSState | None = None, fault_host: str | None = None,
          rights: Rights | None = None) -> None:
    """What stands before any cmdlet runs: the Hyper-V module must exist where it runs, the account
    may run it, an injected fault fires. Call with session.lock held. Raises PSError."""
    if is_hyperv(cmdlet) and os_state is None and session.host.os_state.hyperv_feature != "Enabled":
        if not hyperv_service.module_present(session.host.os_state):
            raise command_not_found(cmdlet)
        raise vmms_unavailable(cmdlet, session.computer_name)      # the module, but no service (RULES #43)
    check_rights(session, cmdlet, rights or session.rights, in_guest=os_state is not None)
    message = session.faults.take(fault_host or session.host.name, cmdlet)
    if message is not None:
        raise PSError(message, "NotSpecified", "InjectedFault", command=cmdlet)


def as_ps_error(error: HyperVError, cmdlet: str) -> PSError:
    return PSError(error.message, error.category, error.error_id, "Microsoft.HyperV.PowerShell.VirtualizationException",
                   command=cmdlet)


def run_bound(session: Session, bound: Bound, os_state: OSState | None = None, fault_host: str | None = None,
              rights: Rights | None = None) -> list[Any]:
    """Run a bound cmdlet that changes the model; returns what its handler changed or created.
    Call with session.lock held. Raises PSError."""
    cmdlet = bound.cmdlet
    admit(session, cmdlet, os_state, fault_host, rights)
    try:
        if cmdlet in OS_HANDLERS:
            result = OS_HANDLERS[cmdlet](os_state or session.host.os_state, bound)
        elif cmdlet in HOST_HANDLERS and os_state is None:
            result = HOST_HANDLERS[cmdlet](session, bound)
        else:
            raise command_not_found(cmdlet)
    except HyperVError as error:
        raise as_ps_error(error, cmdlet) from None
    session.changed()
    return result
