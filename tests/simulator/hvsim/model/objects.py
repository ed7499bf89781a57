"""Plain data of the model. Behaviour lives in the other modules of this package."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from .accounts import Account

GB = 1024 ** 3
MB = 1024 ** 2
PHYSICAL_PLATFORM = {"manufacturer": "Dell Inc.", "model": "PowerEdge R750", "smbios_asset_tag": ""}


@dataclass
class IPv4Address:
    ip_address: str
    prefix_length: int
    prefix_origin: str = "Manual"            # Manual | Dhcp | WellKnown


@dataclass
class NetAdapter:
    """A network adapter as an operating system sees it (Get-NetAdapter / Get-NetIPConfiguration)."""

    name: str
    interface_index: int
    mac_address: str                          # "00-15-5D-..." (NetAdapter format)
    status: str = "Up"
    interface_description: str = "Microsoft Hyper-V Network Adapter"
    ipv4: list[IPv4Address] = field(default_factory=list)
    default_gateway: str | None = None
    dns_servers: list[str] = field(default_factory=list)
    dhcp: bool = False
    bound_switch: str | None = None           # an external switch took this adapter over
    switch_name: str | None = None            # for "vEthernet (X)": the switch X it belongs to


@dataclass
class OSState:
    """What runs inside a machine: its OS, login, network configuration and features."""

    os: dict[str, Any]
    username: str
    password: str
    adapters: list[NetAdapter] = field(default_factory=list)
    hyperv_feature: str = "Disabled"          # Enabled | Disabled | EnablePending
    next_interface_index: int = 20
    boot_count: int = 1
    boot_filetime: int = 0                    # LastBootUpTime as a Windows FILETIME
    accounts: list[Account] = field(default_factory=list)   # local accounts besides `username` (accounts.py)
    local_account_token_filter_policy: bool = False         # full tokens over the network for local admins
    # The Hyper-V PowerShell module without the role (RSAT / "management tools only", RULES #43).
    hyperv_management_tools: bool = False
    culture: str = "en-US"                    # the OS's display language (RULES #47, model/culture.py)
    language_mode: str = "FullLanguage"       # PowerShell's, under a WDAC / AppLocker policy (RULES #46)
    # Group Policy "Turn on Module Logging" / "Script Block Logging" (RULES #61): the events 4103 and
    # 4104 Windows PowerShell writes to Microsoft-Windows-PowerShell/Operational (powershell/module_logging.py).
    module_logging: bool = False
    powershell_log: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class VMAdapter:
    name: str
    id: str
    mac_address: str                          # "00155D..." (Hyper-V format)
    switch_name: str | None = None
    mac_address_spoofing: str = "Off"


@dataclass
class Checkpoint:
    name: str
    id: str


@dataclass
class Switch:
    name: str
    id: str
    switch_type: str                          # External | Internal | Private
    net_adapter: str | None = None            # bound physical adapter name (External)
    net_adapter_interface_description: str | None = None
    allow_management_os: bool = True


@dataclass
class Nat:
    name: str
    internal_ip_interface_address_prefix: str


@dataclass
class StaticMapping:
    nat_name: str
    static_mapping_id: int
    protocol: str
    external_ip_address: str
    external_port: int
    internal_ip_address: str
    internal_port: int


@dataclass
class FirewallRule:
    """An inbound or outbound rule of the Windows Firewall (New-NetFirewallRule), as far as it is modelled."""

    name: str
    display_name: str
    group: str | None = None
    description: str | None = None
    direction: str = "Inbound"                # Inbound | Outbound
    action: str = "Allow"                     # Allow | Block | NotConfigured
    enabled: bool = True
    protocol: str = "Any"                     # TCP | UDP | Any | a number
    local_port: list[str] = field(default_factory=lambda: ["Any"])
    local_address: list[str] = field(default_factory=lambda: ["Any"])
    profile: str = "Any"


@dataclass
class VM:
    name: str
    id: str
    generation: int = 2
    version: str = "9.0"
    state: str = "Off"                        # Running | Off | Saved | Paused
    processor_count: int = 2
    expose_virtualization_extensions: bool = False
    dynamic_memory_enabled: bool = False
    startup_memory_bytes: int = 2 * GB
    minimum_memory_bytes: int = 512 * MB
    maximum_memory_bytes: int = 1024 * GB
    adapters: list[VMAdapter] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    integration_services: dict[str, bool] = field(default_factory=dict)
    ignores_shutdown: bool = False
    # A guest slower than timing.shutdown_seconds (RULES #41): once asked, it still powers off after this.
    shutdown_seconds: float | None = None
    # The guest runs Hyper-V's integration components (hv_utils on Linux); without them every
    # enabled service reports NoContact and a graceful shutdown is refused (RULES #42).
    integration_components: bool = True
    # A configuration Hyper-V cannot read (state OffCritical): its settings cmdlets fail (RULES #44).
    configuration_error: str | None = None
    virtualization_based_security_opt_out: bool = False
    is_clustered: bool = False                # a clustered role of a failover cluster (Get-VM IsClustered)
    guest: OSState | None = None              # the OS inside, when we can log into it
    nested_host: Host | None = None         # the guest OS is itself a Hyper-V host (an L1)
    shutdown_at: float | None = None          # wall-clock time (time.time()) a graceful shutdown completes
    booted_at: float | None = None            # wall-clock time the guest OS finishes booting
    hypervisor_running: bool = False          # the guest's hypervisor came up at its last boot
    saved_hypervisor_running: bool = False    # what it was when the VM was saved
    inventory_name: str | None = None         # the guest's name in the fleet (connectivity, logins)
    notes: str = ""                           # VM.Notes (Hyper-V Manager's Notes box; Set-VM -Notes)


@dataclass
class Host:
    """A Hyper-V host: an L0 machine or the OS of an L1 VM (then `os_state` is that VM's guest)."""

    name: str
    username: str
    password: str
    address: str
    port: int
    os_state: OSState
    processor: dict[str, Any]
    logical_processors: int
    memory_bytes: int
    hypervisor_present: bool
    vbs: dict[str, bool]
    bcd_offer_nested_virt_disabled: bool = False
    is_virtual_machine: bool = False
    # Win32_ComputerSystem Manufacturer / Model and Win32_SystemEnclosure SMBIOSAssetTag of the machine.
    platform: dict[str, str] = field(default_factory=lambda: dict(PHYSICAL_PLATFORM))
    firewall_enabled: bool = True             # Windows Firewall on (default inbound action Block)
    firewall_rules: list[FirewallRule] = field(default_factory=list)
    parent: str | None = None                 # host name of the parent Hyper-V host (L1 and deeper)
    vm_name: str | None = None                # this host's VM name on the parent
    switches: list[Switch] = field(default_factory=list)
    vms: list[VM] = field(default_factory=list)
    nats: list[Nat] = field(default_factory=list)
    static_mappings: list[StaticMapping] = field(default_factory=list)
    supported_versions: list[str] = field(default_factory=list)
    rebooting_until: float | None = None      # wall-clock time a reboot completes
    pending_reboot: bool = False
    # The collection's restart-mark files in ProgramData (wire protocol §3.1), keyed by VM Id in
    # lower case: {"vm_id", "vm_name", "stopped_at", "stopped_by"}. Written by the executor only.
    restart_marks: dict[str, dict[str, Any]] = field(default_factory=dict)
    program_data_read_only: bool = False      # ProgramData locked down for the connecting account
    # Virtual disk files, the disks attached to VMs, golden images and planned machines: model/provisioning.py.
    storage: dict[str, Any] = field(default_factory=dict)
    # Processors of the root partition when fewer than the host's (minroot, RULES #45); None: all.
    root_partition_processors: int | None = None


def to_dict(obj: Any) -> Any:
    """JSON-able form of a model object."""
    return asdict(obj)


T = TypeVar("T")


def _build(cls: type[T], data: dict[str, Any]) -> T:
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        kwargs[f.name] = data[f.name]
    return cls(**kwargs)


def os_from_dict(data: dict[str, Any]) -> OSState:
    state = _build(OSState, data)
    state.adapters = [_net_adapter(a) for a in data.get("adapters", [])]
    # State files written before accounts existed have none.
    state.accounts = [_build(Account, a) for a in data.get("accounts") or []]
    return state


def _net_adapter(data: dict[str, Any]) -> NetAdapter:
    adapter = _build(NetAdapter, data)
    adapter.ipv4 = [_build(IPv4Address, a) for a in data.get("ipv4", [])]
    return adapter


def vm_from_dict(data: dict[str, Any]) -> VM:
    vm = _build(VM, data)
    vm.adapters = [_build(VMAdapter, a) for a in data.get("adapters", [])]
    vm.checkpoints = [_build(Checkpoint, c) for c in data.get("checkpoints", [])]
    vm.guest = os_from_dict(data["guest"]) if data.get("guest") else None
    vm.nested_host = host_from_dict(data["nested_host"]) if data.get("nested_host") else None
    if vm.nested_host is not None:
        vm.guest = vm.nested_host.os_state    # one OS, shared: the L1's guest is the nested host
    return vm


def host_from_dict(data: dict[str, Any]) -> Host:
    host = _build(Host, data)
    host.os_state = os_from_dict(data["os_state"])
    host.switches = [_build(Switch, s) for s in data.get("switches", [])]
    host.vms = [vm_from_dict(v) for v in data.get("vms", [])]
    host.nats = [_build(Nat, n) for n in data.get("nats", [])]
    host.static_mappings = [_build(StaticMapping, m) for m in data.get("static_mappings", [])]
    # State files written before the firewall was modelled have no rules.
    host.firewall_rules = [_build(FirewallRule, r) for r in data.get("firewall_rules") or []]
    # State files written before restart marks existed have none.
    host.restart_marks = {str(k).lower(): v for k, v in (data.get("restart_marks") or {}).items()}
    return host


def vm_to_dict(vm: VM) -> dict[str, Any]:
    nested = vm.nested_host
    guest = vm.guest
    vm.nested_host, vm.guest = None, None
    try:
        data = asdict(vm)
    finally:
        vm.nested_host, vm.guest = nested, guest
    data["nested_host"] = host_to_dict(nested) if nested else None
    data["guest"] = asdict(guest) if guest and not nested else None
    return data


def host_to_dict(host: Host) -> dict[str, Any]:
    vms = host.vms
    host.vms = []
    try:
        data = asdict(host)
    finally:
        host.vms = vms
    data["vms"] = [vm_to_dict(v) for v in vms]
    return data
