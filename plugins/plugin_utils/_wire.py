# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The wire contract (docs/internals/wire-protocol.md) as types, and the one reader of each
field more than one module reads.

Probe sections and executor operations are JSON objects: TypedDicts with `total=False`, since a
section's fields are filled by PowerShell and a reader must not trust that every key is there.
Strict mypy checks the planners against these types.
"""

from __future__ import annotations

import difflib
import re
import typing as t

# ------------------------------------------------------------------ probe: host


class OsInfo(t.TypedDict, total=False):
    caption: str
    product_type: str  # server | client
    edition: str
    build: int
    version: str


class Processor(t.TypedDict, total=False):
    manufacturer: str  # GenuineIntel | AuthenticAMD | other
    name: str
    virtualization_firmware_enabled: bool
    vm_monitor_mode_extensions: bool
    second_level_address_translation: bool


class Platform(t.TypedDict, total=False):
    manufacturer: str
    model: str
    smbios_asset_tag: str | None


class NatInfo(t.TypedDict, total=False):
    name: str
    internal_ip_interface_address_prefix: str


class HostSection(t.TypedDict, total=False):
    computer_name: str
    os: OsInfo
    processor: Processor
    logical_processor_count: int
    memory_capacity_bytes: int
    hypervisor_present: bool
    hyperv_feature: str
    vbs: dict[str, t.Any]
    bcd_offer_nested_virt_disabled: bool
    supported_versions: list[str]
    default_version: str | None
    is_virtual_machine: bool
    platform: Platform
    nats: list[NatInfo]
    is_administrator: bool
    is_hyperv_administrator: bool


# ------------------------------------------------------------------ probe: vms


class VmAdapter(t.TypedDict, total=False):
    name: str
    id: str
    switch_name: str | None
    mac_address: str
    mac_address_spoofing: str  # On | Off
    ip_addresses: list[str]


class IntegrationService(t.TypedDict, total=False):
    name: str
    enabled: bool
    primary_status: str


class RestartMark(t.TypedDict, total=False):
    stopped_at: str


class VmInfo(t.TypedDict, total=False):
    name: str
    error: str  # Hyper-V could not read this VM's settings (vm.unreadable)
    id: str
    state: str  # [string] of VMState: Running | Off | Saved | Paused | ...
    generation: int
    version: str
    processor_count: int
    expose_virtualization_extensions: bool
    dynamic_memory_enabled: bool
    memory_assigned_bytes: int
    startup_memory_bytes: int
    minimum_memory_bytes: int
    maximum_memory_bytes: int
    checkpoints: list[dict[str, t.Any]]
    adapters: list[VmAdapter]
    integration_services: list[IntegrationService]
    virtualization_based_security_opt_out: bool | None
    is_clustered: bool
    guest_os: str | None
    guest_dns_name: str | None
    notes: str
    restart_mark: RestartMark | None


class VmsSection(t.TypedDict, total=False):
    hyperv_module: bool
    service_unavailable: str  # the module is there but vmms does not answer
    vmms: str  # the Virtual Machine Management service's state then
    access_denied: str
    missing: list[str]
    duplicates: list[str]
    all_names: list[str]
    vms: list[VmInfo]


# ------------------------------------------------------------------ probe: network and guests


class SwitchInfo(t.TypedDict, total=False):
    name: str
    switch_type: str  # External | Internal | Private
    net_adapter_interface_description: str | None
    host_interface_index: int | None  # the switch's host adapter (Get-VMNetworkAdapter -ManagementOS -SwitchName)


class StaticMapping(t.TypedDict, total=False):
    nat_name: str
    static_mapping_id: int
    protocol: str
    external_ip_address: str
    external_port: int
    internal_ip_address: str
    internal_port: int


class IpAddress(t.TypedDict, total=False):
    interface_alias: str
    interface_index: int
    ip_address: str
    prefix_length: int
    address_family: str
    prefix_origin: str


class NetAdapter(t.TypedDict, total=False):
    name: str
    interface_index: int
    interface_description: str
    status: str
    mac_address: str


class FirewallRule(t.TypedDict, total=False):
    name: str
    display_name: str
    enabled: bool
    direction: str
    action: str
    protocol: str
    local_port: list[str]
    local_address: list[str]


class NetworkSection(t.TypedDict, total=False):
    hyperv_module: bool
    service_unavailable: str  # the module is there but vmms does not answer
    switches: list[SwitchInfo]
    nats: list[NatInfo]
    static_mappings: list[StaticMapping]
    ip_addresses: list[IpAddress]
    adapters: list[NetAdapter]
    firewall_rules: list[FirewallRule]


class GuestIpv4(t.TypedDict, total=False):
    ip_address: str
    prefix_length: int
    prefix_origin: str


class GuestAdapter(t.TypedDict, total=False):
    interface_alias: str
    interface_index: int
    mac_address: str
    ipv4: list[GuestIpv4]
    default_gateway: str | None
    dns_servers: list[str]
    dhcp: bool


class GuestReport(t.TypedDict, total=False):
    vm: str
    state: str
    reachable: bool
    error: str | None
    adapters: list[GuestAdapter]


class ProbeAnswer(t.TypedDict, total=False):
    host: HostSection
    platform: Platform
    vms: VmsSection
    network: NetworkSection
    guests: list[GuestReport]


# ------------------------------------------------------------------ executor


class Operation(t.TypedDict, total=False):
    """One executor operation; `kind` says which fields it has (wire protocol §3)."""

    kind: t.Literal["cmdlet", "stop_vm", "start_vm", "ensure_running", "wait_vm", "guest", "clear_restart_mark"]
    cmdlet: str  # cmdlet
    vm: str  # every kind but host cmdlets without a VM
    adapter_id: str  # cmdlet on one VM network adapter
    switch_adapter: str  # cmdlet on the host adapter of a switch created in this call
    parameters: dict[str, t.Any]  # cmdlet
    mode: t.Literal["shutdown", "turn_off"]  # stop_vm
    timeout_seconds: int  # stop_vm, start_vm, ensure_running, wait_vm
    wait: bool  # stop_vm, start_vm
    mark_for_restart: bool  # stop_vm
    state: t.Literal["Off", "Running"]  # wait_vm
    username: str  # guest
    password: str  # guest
    operations: list[Operation]  # guest: cmdlet operations run inside it


class OperationReport(t.TypedDict, total=False):
    index: int
    status: t.Literal["ok", "failed", "not_run"]
    message: str | None
    duration_ms: int


class ExecuteOutcome(t.TypedDict, total=False):
    operations: list[OperationReport]
    failed_index: int | None
    on_failure: list[OperationReport]
    vm_states: dict[str, str]


# ------------------------------------------------------------------ provisioning script (provision.ps1)


class ProvisionedVm(t.TypedDict, total=False):
    """One VM as provision.ps1 reports it (Get-VMReport), in `inspect` and after `apply`."""

    name: str
    id: str
    state: str
    generation: int
    version: str
    processor_count: int
    expose_virtualization_extensions: bool
    dynamic_memory_enabled: bool
    startup_memory_bytes: int
    notes: str  # the first line is win_nested_vm_provision's mark on a VM it created
    adapters: list[VmAdapter]
    hard_drives: list[str]
    secure_boot: str | None  # On | Off; None on generation 1
    secure_boot_template: str | None
    heartbeat: str | None


class ProvisionFile(t.TypedDict, total=False):
    path: str
    exists: bool
    parent_path: str | None  # a differencing disk's parent


class ProvisionInspect(t.TypedDict, total=False):
    """provision.ps1's answer to `inspect`: the named VMs, the switches, the files (docs/internals/provisioning.md)."""

    hyperv_module: bool
    vms: list[ProvisionedVm]
    missing: list[str]
    duplicates: list[str]
    switches: list[str]
    supported_versions: list[str]
    default_version: str | None
    files: list[ProvisionFile]


class ProvisionStep(t.TypedDict, total=False):
    """One step of provision.ps1's `apply`; `kind` says which fields it has (docs/internals/provisioning.md)."""

    kind: t.Literal["new_disk", "write_unattend", "new_seed_disk", "new_vm", "cmdlet", "add_disk", "adapter", "start",
                    "turn_off", "remove_vm"]
    vm: str
    path: str  # new_disk, new_seed_disk, new_vm (the VM folder), add_disk
    parent_path: str  # new_disk
    mode: str  # new_disk: differencing | copy
    disk_path: str  # write_unattend
    file: str  # write_unattend: where in the image
    content: str  # write_unattend
    label: str  # new_seed_disk
    files: dict[str, str] | list[str]  # new_seed_disk: name -> content; remove_vm: the paths to delete
    generation: int  # new_vm
    memory_startup_bytes: int  # new_vm
    notes: str  # new_vm
    switch_name: str | None  # new_vm, adapter
    version: str  # new_vm
    cmdlet: str  # cmdlet
    parameters: dict[str, t.Any]  # cmdlet
    first_boot_device: bool  # add_disk
    index: int  # adapter
    name: str  # adapter
    mac_address_spoofing: str  # adapter: On | Off
    timeout_seconds: int  # start
    vm_id: str | None  # remove_vm


class ProvisionApplied(t.TypedDict, total=False):
    """provision.ps1's answer to `apply`: each step's report, and each VM's state after them."""

    steps: list[OperationReport]
    failed_index: int | None
    vms: dict[str, ProvisionedVm]


# ------------------------------------------------------------------ DHCP script (dhcp.ps1)


class DhcpScope(t.TypedDict, total=False):
    """A DHCP scope with its router (option 3) and DNS (option 6) values; also the scope win_nested_dhcp asks for."""

    scope_id: str
    name: str
    subnet_mask: str
    start_range: str
    end_range: str
    state: str
    router: list[str]
    dns_server: list[str]


class DhcpReservation(t.TypedDict, total=False):
    scope_id: str
    ip_address: str
    client_id: str  # the adapter's MAC address, upper case, with dashes
    name: str


class DhcpVm(t.TypedDict, total=False):
    name: str
    adapters: list[VmAdapter]  # name, mac_address, switch_name


class DhcpInspect(t.TypedDict, total=False):
    """dhcp.ps1's answer to `inspect` (docs/internals/provisioning.md, "DHCP")."""

    dhcp_module: bool
    scopes: list[DhcpScope]
    reservations: list[DhcpReservation]
    vms: list[DhcpVm]  # the VMs named in the request that exist
    all_names: list[str]


class DhcpStep(t.TypedDict, total=False):
    """One step of dhcp.ps1's `apply`: a DhcpServer cmdlet by `kind`, splatted with `parameters`."""

    kind: t.Literal["scope", "options", "reservation"]
    vm: str  # reservation
    parameters: dict[str, t.Any]


# ------------------------------------------------------------------ shared readers


def same_name(left: object, right: object) -> bool:
    """Hyper-V and Windows compare object names case-insensitively; a missing name matches nothing."""
    return left is not None and right is not None and str(left).casefold() == str(right).casefold()


def processor_manufacturer(host: t.Mapping[str, t.Any]) -> str:
    """The CPUID vendor string as probed ("GenuineIntel", "AuthenticAMD", ...), "" when unknown."""
    return str((host.get("processor") or {}).get("manufacturer") or "")


def vendor_label(host: t.Mapping[str, t.Any]) -> str:
    """The processor vendor for a person: Intel, AMD, the raw string, or unknown-vendor."""
    manufacturer = processor_manufacturer(host)
    return {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}.get(manufacturer, manufacturer or "unknown-vendor")


def integration_service(vm: t.Mapping[str, t.Any], name: str) -> IntegrationService | None:
    """The VM's integration service called `name` (case-insensitively), or None."""
    for service in vm.get("integration_services") or []:
        if str(service.get("name", "")).casefold() == name.casefold():
            return t.cast(IntegrationService, service)
    return None


_VERSION = re.compile(r"\s*(\d+)\.(\d+)\s*")


def parse_version(text: object) -> tuple[int, int] | None:
    """A VM configuration version 'major.minor' -> (major, minor); None for anything else."""
    match = _VERSION.fullmatch(str(text)) if text is not None else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def version_key(version: object) -> tuple[int, int]:
    """A configuration version as a sort key; anything unparsable sorts lowest."""
    return parse_version(version) or (0, 0)


def did_you_mean(name: str, candidates: t.Sequence[str]) -> list[str]:
    """Up to three of `candidates` close to `name`, compared case-insensitively like Hyper-V names."""
    by_key = {candidate.casefold(): candidate for candidate in candidates}
    return [by_key[key] for key in difflib.get_close_matches(name.casefold(), list(by_key), n=3, cutoff=0.6)]
