"""Model objects as the .NET objects the cmdlets write: type names and the properties PowerShell shows.

Each view is an ObjectRef whose `target` is the model object (what a later cmdlet acts on when the
object arrives through the pipeline) and whose `properties` are what member access, pipeline binding
by property name and output formatting read. Values are a snapshot taken when the object is made,
as with Windows' objects (Get-VM again to see a new state).
"""

from __future__ import annotations

from typing import Any

from ..model import lifecycle
from ..model.objects import VM, Checkpoint, Host, Nat, NetAdapter, StaticMapping, Switch, VMAdapter
from .signatures import ObjectRef

MB = 1024 * 1024
INFINITE_LIFETIME = "Infinite ([TimeSpan]::MaxValue)"


class PSEnum(str):
    """An enum value: reads, compares and binds as its name (as PowerShell converts strings to enums),
    and win_powershell reports it as {Type, String, Value}."""

    type_name: str
    number: int

    def __new__(cls, type_name: str, name: str, number: int) -> PSEnum:
        value = super().__new__(cls, name)
        value.type_name = type_name
        value.number = number
        return value


VM_STATES = {"Other": 1, "Running": 2, "Off": 3, "Stopping": 4, "Saved": 6, "Paused": 9, "Starting": 10,
             "Reset": 11, "Saving": 32773, "Pausing": 32776, "Resuming": 32777}
SWITCH_TYPES = {"Private": 0, "Internal": 1, "External": 2}
ON_OFF = {"On": 1, "Off": 2}


def _enum(type_name: str, values: dict[str, int], name: str) -> PSEnum:
    return PSEnum(type_name, name, values.get(name, 0))


def vm_object(host: Host, vm: VM, now: float) -> ObjectRef:
    running = vm.state == "Running"
    uptime = max(0.0, now - vm.booted_at) if running and vm.booted_at is not None else 0.0
    return ObjectRef("VirtualMachine", vm, bases=("VirtualMachineBase",), properties={
        "Name": vm.name, "State": _enum("Microsoft.HyperV.PowerShell.VMState", VM_STATES, vm.state), "CPUUsage": 0,
        "MemoryAssigned": vm.startup_memory_bytes if running else 0,
        "Uptime": _timespan(uptime), "Status": "Operating normally", "Version": vm.version,
        "VMName": vm.name, "VMId": vm.id, "Id": vm.id, "Generation": vm.generation,
        "ProcessorCount": vm.processor_count, "DynamicMemoryEnabled": vm.dynamic_memory_enabled,
        "MemoryStartup": vm.startup_memory_bytes, "MemoryMinimum": vm.minimum_memory_bytes,
        "MemoryMaximum": vm.maximum_memory_bytes, "ComputerName": (host.vm_name or host.name).upper(),
        "Heartbeat": "OkApplicationsUnknown" if running and lifecycle.guest_booted(vm, now) else None,
    })


def adapter_object(host: Host, vm: VM | None, adapter: VMAdapter, running: bool) -> ObjectRef:
    return ObjectRef("VMNetworkAdapter", (vm, adapter), bases=("VMNetworkAdapterBase",), properties={
        "Name": adapter.name, "IsManagementOs": vm is None, "VMName": vm.name if vm else "",
        "SwitchName": adapter.switch_name, "MacAddress": adapter.mac_address,
        "Status": ["Ok"] if running else [], "IPAddresses": [], "Id": adapter.id, "VMId": vm.id if vm else None,
        "MacAddressSpoofing": _enum("Microsoft.HyperV.PowerShell.OnOffState", ON_OFF, adapter.mac_address_spoofing),
        "Connected": adapter.switch_name is not None,
        "ComputerName": (host.vm_name or host.name).upper(),
    })


def switch_object(switch: Switch) -> ObjectRef:
    return ObjectRef("VMSwitch", switch, properties={
        "Name": switch.name, "Id": switch.id,
        "SwitchType": _enum("Microsoft.HyperV.PowerShell.VMSwitchType", SWITCH_TYPES, switch.switch_type),
        "NetAdapterInterfaceDescription": switch.net_adapter_interface_description if switch.switch_type == "External"
        else None,
        "AllowManagementOS": switch.allow_management_os,
    })


def processor_object(vm: VM) -> ObjectRef:
    return ObjectRef("VMProcessor", vm, properties={
        "VMName": vm.name, "Count": vm.processor_count, "CompatibilityForMigrationEnabled": False,
        "CompatibilityForOlderOperatingSystemsEnabled": False,
        "ExposeVirtualizationExtensions": vm.expose_virtualization_extensions,
    })


def memory_object(vm: VM) -> ObjectRef:
    return ObjectRef("VMMemory", vm, properties={
        "VMName": vm.name, "DynamicMemoryEnabled": vm.dynamic_memory_enabled,
        "Minimum": vm.minimum_memory_bytes, "Startup": vm.startup_memory_bytes, "Maximum": vm.maximum_memory_bytes,
    })


# PrimaryOperationalStatus (VMIntegrationComponentOperationalStatus): the values the simulator shows.
_OPERATIONAL_STATUS = {"Ok": 2, "NoContact": 12}
# PrimaryStatusDescription, the localised text of that status (realistic translations, RULES #47).
_STATUS_TEXT = {"en-US": {"Ok": "OK", "NoContact": "No Contact"}, "de-DE": {"Ok": "OK", "NoContact": "Kein Kontakt"},
                "fr-FR": {"Ok": "OK", "NoContact": "Aucun contact"}}


def integration_service_object(vm: VM, name: str, local_name: str, enabled: bool, status: str,
                               culture: str = "en-US") -> ObjectRef:
    """`name`: the service's English name (its GUID, in Id); `local_name`: what the host calls it."""
    from .probe import SERVICE_IDS
    texts = _STATUS_TEXT.get(culture, _STATUS_TEXT["en-US"])
    return ObjectRef("VMIntegrationComponent", (vm, name), properties={
        "VMName": vm.name, "Name": local_name, "Id": f"Microsoft:{vm.id.upper()}\\{SERVICE_IDS.get(name, '')}",
        "Enabled": enabled,
        "PrimaryOperationalStatus": PSEnum("VMIntegrationComponentOperationalStatus", status, _OPERATIONAL_STATUS[status])
        if status else None,
        "PrimaryStatusDescription": texts.get(status) if status else None,
        "SecondaryStatusDescription": None,
    })


def checkpoint_object(vm: VM, checkpoint: Checkpoint) -> ObjectRef:
    return ObjectRef("VMSnapshot", (vm, checkpoint), bases=("VirtualMachineBase",), properties={
        "VMName": vm.name, "Name": checkpoint.name, "Id": checkpoint.id, "SnapshotType": "Standard",
        "ParentSnapshotName": None,
    })


def net_adapter_object(adapter: NetAdapter) -> ObjectRef:
    up = adapter.status == "Up"
    return ObjectRef("MSFT_NetAdapter", adapter, bases=("CimInstance",), properties={
        "Name": adapter.name, "InterfaceDescription": adapter.interface_description,
        "ifIndex": adapter.interface_index, "Status": adapter.status, "MacAddress": adapter.mac_address,
        "LinkSpeed": "10 Gbps" if up else "0 bps", "InterfaceAlias": adapter.name, "ifAlias": adapter.name,
        "InterfaceIndex": adapter.interface_index, "MediaConnectionState": "Connected" if up else "Disconnected",
    })


def ip_address_objects(adapter: NetAdapter, ip: str) -> list[ObjectRef]:
    """MSFT_NetIPAddress as New-NetIPAddress writes it: the active and the persistent store."""
    entry = next((a for a in adapter.ipv4 if a.ip_address == ip), None)
    if entry is None:
        return []
    return [ip_address_object(adapter, entry.ip_address, entry.prefix_length, entry.prefix_origin, store)
            for store in ("ActiveStore", "PersistentStore")]


def ip_address_object(adapter: NetAdapter, ip: str, prefix_length: int, origin: str,
                      store: str = "ActiveStore", state: str = "Preferred") -> ObjectRef:
    return ObjectRef("MSFT_NetIPAddress", (adapter, ip), bases=("CimInstance",), properties={
        "IPAddress": ip, "InterfaceIndex": adapter.interface_index, "InterfaceAlias": adapter.name,
        "AddressFamily": PSEnum("AddressFamily", "IPv4", 2), "Type": PSEnum("Type", "Unicast", 1),
        "PrefixLength": prefix_length,
        "PrefixOrigin": PSEnum("PrefixOrigin", origin, {"Other": 0, "Manual": 1, "WellKnown": 2, "Dhcp": 3}.get(origin, 0)),
        "SuffixOrigin": "Manual" if origin == "Manual" else origin, "AddressState": state,
        "ValidLifetime": INFINITE_LIFETIME, "PreferredLifetime": INFINITE_LIFETIME, "SkipAsSource": False,
        "PolicyStore": store,
    })


def nat_object(nat: Nat) -> ObjectRef:
    return ObjectRef("MSFT_NetNat", nat, bases=("CimInstance",), properties={
        "Name": nat.name, "ExternalIPInterfaceAddressPrefix": None,
        "InternalIPInterfaceAddressPrefix": nat.internal_ip_interface_address_prefix, "IcmpQueryTimeout": 30,
        "TcpEstablishedConnectionTimeout": 1800, "TcpTransientConnectionTimeout": 120,
        "TcpFilteringBehavior": "AddressDependentFiltering", "UdpFilteringBehavior": "AddressDependentFiltering",
        "UdpIdleSessionTimeout": 120, "UdpInboundRefresh": False, "Store": "Local", "Active": True,
    })


def static_mapping_object(mapping: StaticMapping) -> ObjectRef:
    return ObjectRef("MSFT_NetNatStaticMapping", mapping, bases=("CimInstance",), properties={
        "StaticMappingID": mapping.static_mapping_id, "NatName": mapping.nat_name, "Protocol": mapping.protocol,
        "RemoteExternalIPAddressPrefix": "0.0.0.0/0", "ExternalIPAddress": mapping.external_ip_address,
        "ExternalPort": mapping.external_port, "InternalIPAddress": mapping.internal_ip_address,
        "InternalPort": mapping.internal_port, "InternalRoutingDomainId": "{00000000-0000-0000-0000-000000000000}",
        "Active": True,
    })


def dns_object(adapter: NetAdapter, family: str) -> ObjectRef:
    return ObjectRef("MSFT_DNSClientServerAddress", adapter, bases=("CimInstance",), properties={
        "InterfaceAlias": adapter.name, "InterfaceIndex": adapter.interface_index, "AddressFamily": family,
        "ServerAddresses": list(adapter.dns_servers) if family == "IPv4" else [],
    })


def feature_object(name: str, display: str, state: str) -> ObjectRef:
    return ObjectRef("Feature", name, properties={
        "DisplayName": display, "Name": name, "InstallState": state, "Installed": state == "Installed",
        "FeatureType": "Role" if name == "Hyper-V" else "Feature",
    })


def feature_result_object(success: bool, restart_needed: str, exit_code: str, features: list[str]) -> ObjectRef:
    return ObjectRef("FeatureOperationResult", features, properties={
        "Success": success, "RestartNeeded": restart_needed, "FeatureResult": features, "ExitCode": exit_code,
    })


def secure_string(plain: str) -> ObjectRef:
    return ObjectRef("SecureString", plain, properties={"Length": len(plain)})


def credential(username: str, password: ObjectRef) -> ObjectRef:
    return ObjectRef("PSCredential", (username, str(password.target)), properties={
        "UserName": username, "Password": password})


def custom_object(values: dict[str, Any]) -> ObjectRef:
    return ObjectRef("PSCustomObject", values, properties=dict(values))


def _timespan(seconds: float) -> str:
    whole = int(seconds)
    fraction = round((seconds - whole) * 10_000_000)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{text}.{fraction:07d}" if fraction else text
