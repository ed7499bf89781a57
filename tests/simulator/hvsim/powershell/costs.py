"""What each kind of command costs a Windows host, as items of the timing model (model/timing.py).

The collection's probe and executor are charged for the work their scripts do on Windows
(plugins/plugin_utils/powershell/probe.ps1, execute.ps1): counted from the request and what it
returned, so a probe of three VMs costs more than one of a single VM. Scripts run by the
interpreter are charged as they go, cmdlet by cmdlet (interpreter.py). Ansible's PowerShell
modules pay the exec wrapper and then their own work.
"""

from __future__ import annotations

from typing import Any

from .signatures import module_of

Items = list[tuple[str, int]]
CDXML_MODULES = {"NetNat", "NetTCPIP", "NetAdapter", "DnsClient"}
# CIM cmdlets the probe's network section and the guest facts run.
_NETWORK_READS = 4           # Get-NetNat, Get-NetNatStaticMapping, Get-NetIPAddress, Get-NetAdapter
_GUEST_READS_PER_ADAPTER = 4  # Get-NetIPAddress, Get-NetRoute, Get-DnsClientServerAddress, Get-NetIPInterface
_HOST_CIM_QUERIES = 5        # Win32_OperatingSystem, _ComputerSystem, _Processor, Win32_DeviceGuard, Win32_OptionalFeature
_VM_READS = 6                # Get-VMProcessor, -VMMemory, -VMSecurity, -VMSnapshot, -VMNetworkAdapter, -VMIntegrationService


def import_key(module: str) -> str | None:
    """The timing item of loading a module into a fresh powershell.exe (None: loaded with PowerShell)."""
    if module == "Hyper-V":
        return "import:Hyper-V"
    if module in CDXML_MODULES:
        return "import:cdxml"
    if module == "ServerManager":
        return "import:ServerManager"
    return None


def cmdlet_key(cmdlet: str) -> str:
    module = module_of(cmdlet)
    reads = cmdlet.startswith("Get-")
    if module == "Hyper-V":
        return "cmdlet:hyperv_read" if reads else "cmdlet:hyperv_change"
    if module in CDXML_MODULES:
        return "cmdlet:cim_read" if reads else "cmdlet:cim_change"
    if module == "ServerManager":
        return "servermanager:query"
    if module == "DISM":
        return "dism:query"
    if module == "CimCmdlets":
        return "cim:query"
    return "cmdlet:builtin"


def probe_items(parameters: dict[str, Any], result: dict[str, Any] | None) -> Items:
    """The probe script's work (powershell/probe.ps1) for the sections asked and what they found."""
    sections = set(parameters.get("sections") or [])
    # The *_if_available sections run the same commands as their sections (probe.ps1).
    sections |= {section.removesuffix("_if_available") for section in sections if section.endswith("_if_available")}
    result = result or {}
    items: Items = []
    hyperv = False
    if "host" in sections:
        items += [("cim:query", _HOST_CIM_QUERIES), ("dism:query", 1), ("process:native", 1)]
        if (result.get("host") or {}).get("supported_versions"):
            hyperv = True
            items.append(("cmdlet:hyperv_read", 2))      # Get-VMHostSupportedVersion, and -Default
    if "vms" in sections:
        vms = (result.get("vms") or {}).get("vms") or []
        if (result.get("vms") or {}).get("hyperv_module", True):
            hyperv = True
            items += [("cmdlet:hyperv_read", 1 + _VM_READS * len(vms)), ("cim:query", len(vms))]
    if "network" in sections:
        network = result.get("network") or {}
        if network.get("hyperv_module"):
            hyperv = True
            items.append(("cmdlet:hyperv_read", 1))      # Get-VMSwitch
        items += [("import:cdxml", 3), ("cmdlet:cim_read", _NETWORK_READS)]
    if "guests" in sections:
        guests = result.get("guests") or []
        if guests:
            hyperv = True
            items.append(("cmdlet:hyperv_read", len(guests)))
        for guest in guests:
            if guest.get("reachable"):
                adapters = len(guest.get("adapters") or [])
                items += [("powershell_direct:session", 1), ("cmdlet:cim_read", 1 + _GUEST_READS_PER_ADAPTER * adapters)]
    if hyperv:
        items.insert(0, ("import:Hyper-V", 1))
    return items


def execute_items(parameters: dict[str, Any], result: dict[str, Any] | None) -> Items:
    """The executor script's work (powershell/execute.ps1): the operations that ran (not those skipped)."""
    ran: set[int] = set()
    for entry in (result or {}).get("operations") or []:
        if entry.get("status") in ("ok", "failed"):
            ran.add(int(entry.get("index", -1)))
    operations = [op for index, op in enumerate(parameters.get("operations") or []) if index in ran]
    operations += [op for op, entry in zip(parameters.get("on_failure") or [], (result or {}).get("on_failure") or [], strict=False)
                   if entry.get("status") in ("ok", "failed")]
    items: Items = []
    modules: set[str] = set()
    for op in operations:
        if not isinstance(op, dict):
            continue
        kind = op.get("kind")
        if op.get("vm") is not None:
            modules.add("Hyper-V")
            items.append(("cmdlet:hyperv_read", 1))       # Resolve-ExactVM: Get-VM
        if kind == "cmdlet" and isinstance(op.get("cmdlet"), str):
            try:
                module = module_of(op["cmdlet"])
            except KeyError:
                continue
            modules.add(module)
            items.append((cmdlet_key(op["cmdlet"]), 1))
        elif kind in ("stop_vm", "start_vm", "ensure_running"):
            items.append(("cmdlet:hyperv_change", 1))
        elif kind == "guest":
            nested = [n for n in op.get("operations") or [] if isinstance(n, dict)]
            items += [("powershell_direct:session", 1), ("cmdlet:cim_change", len(nested))]
    imports = [key for key in (import_key(m) for m in sorted(modules)) if key is not None]
    return [(key, 1) for key in imports] + items


def module_items(name: str, args: dict[str, Any], document: dict[str, Any]) -> Items:
    """A PowerShell module's own work after the exec wrapper (the scripts ones charge as they run)."""
    short = name.rsplit(".", 1)[-1]
    if short == "win_feature":
        items: Items = [("import:ServerManager", 1), ("servermanager:query", 1)]
        return items + ([("feature:install", 1)] if document.get("changed") and not args.get("_ansible_check_mode") else [])
    if short == "win_optional_feature":
        items = [("dism:query", 1)]
        return items + ([("feature:install", 1)] if document.get("changed") and not args.get("_ansible_check_mode") else [])
    if short == "setup":
        return [("cim:query", 20)]
    return []
