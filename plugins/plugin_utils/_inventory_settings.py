# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The options of the hyperv.nested.hyperv inventory source, checked and typed.

Ansible's config system has checked each option's type and choices already; this module checks
what it cannot (the shape of `hosts` entries and of `vm_filters`, combinations, CIDR networks)
and turns the options into small frozen objects. Every error names the option it is about.
Pure: no I/O, so every rule is unit-tested on Linux.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import typing as t
from dataclasses import dataclass, field

ConnectionKind = t.Literal["winrm", "psrp"]

# Get-VM's VMState names (Microsoft.HyperV.PowerShell.VMState), what the probe reports as `state`.
VM_STATES = (
    "Running",
    "Off",
    "Saved",
    "Paused",
    "Starting",
    "Stopping",
    "Saving",
    "Pausing",
    "Resuming",
    "Reset",
    "FastSaved",
    "FastSaving",
    "RunningCritical",
    "OffCritical",
    "StoppingCritical",
    "SavedCritical",
    "PausedCritical",
    "StartingCritical",
    "ResetCritical",
    "SavingCritical",
    "PausingCritical",
    "ResumingCritical",
    "FastSavedCritical",
    "FastSavingCritical",
    "Other",
)
# Authentication per library: pywinrm's `transport` and pypsrp's `auth` (negotiate is pypsrp's only).
TRANSPORTS: dict[str, tuple[str, ...]] = {
    "winrm": ("ntlm", "kerberos", "credssp", "basic"),
    "psrp": ("negotiate", "ntlm", "kerberos", "credssp", "basic"),
}
DEFAULT_TRANSPORT: dict[str, str] = {"winrm": "ntlm", "psrp": "negotiate"}
_HOST_ENTRY_KEYS = frozenset({"name", "address", "port"})
_FILTER_KEYS = frozenset({"names", "exclude_names", "states"})


class OptionError(ValueError):
    """An option of the inventory source is wrong; the message names it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"option '{option}': {message}")
        self.option = option


@dataclass(frozen=True)
class HostEntry:
    """One L0 Hyper-V host: its inventory name, where to connect, and its own port if any."""

    name: str
    address: str
    port: int | None = None


@dataclass(frozen=True)
class Connection:
    """How every L0 host is reached (the password is kept out of repr and never exported)."""

    kind: ConnectionKind
    scheme: t.Literal["http", "https"]
    transport: str
    cert_validation: t.Literal["validate", "ignore"]
    message_encryption: t.Literal["auto", "always", "never"]
    connection_timeout: int
    probe_timeout: int
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    ca_cert: str | None = None

    def port_of(self, entry: HostEntry) -> int:
        if entry.port is not None:
            return entry.port
        if self.port is not None:
            return self.port
        return 5986 if self.scheme == "https" else 5985

    def endpoint(self, entry: HostEntry) -> str:
        address = f"[{entry.address}]" if ":" in entry.address else entry.address
        return f"{self.scheme}://{address}:{self.port_of(entry)}/wsman"

    def host_vars(self, entry: HostEntry) -> dict[str, t.Any]:
        """The connection variables of an L0 inventory host: the same settings, for the connection plugin."""
        variables: dict[str, t.Any] = {"ansible_host": entry.address, "ansible_port": self.port_of(entry), "ansible_connection": self.kind}
        if self.user:
            variables["ansible_user"] = self.user
        if self.kind == "winrm":
            variables.update(
                ansible_winrm_scheme=self.scheme,
                ansible_winrm_transport=self.transport,
                ansible_winrm_server_cert_validation=self.cert_validation,
                ansible_winrm_message_encryption=self.message_encryption,
            )
            if self.ca_cert:
                variables["ansible_winrm_ca_trust_path"] = self.ca_cert
        else:
            variables.update(
                ansible_psrp_protocol=self.scheme,
                ansible_psrp_auth=self.transport,
                ansible_psrp_cert_validation=self.cert_validation,
                ansible_psrp_message_encryption=self.message_encryption,
            )
            if self.ca_cert:
                variables["ansible_psrp_ca_cert"] = self.ca_cert
        return variables


@dataclass(frozen=True)
class VMFilters:
    """Which VMs become inventory hosts: name patterns (Hyper-V's wildcards, case-insensitive) and states."""

    names: tuple[str, ...] = ()
    exclude_names: tuple[str, ...] = ()
    states: tuple[str, ...] = ()

    def selects(self, vm: t.Mapping[str, t.Any]) -> bool:
        name = str(vm.get("name") or "").casefold()
        if self.names and not any(fnmatch.fnmatchcase(name, pattern.casefold()) for pattern in self.names):
            return False
        if any(fnmatch.fnmatchcase(name, pattern.casefold()) for pattern in self.exclude_names):
            return False
        return not self.states or str(vm.get("state") or "").casefold() in {state.casefold() for state in self.states}


@dataclass(frozen=True)
class Naming:
    """How a VM's inventory host name is made."""

    source: t.Literal["vm_name", "guest_dns_name"] = "vm_name"
    prefix: str = ""
    suffix: str = ""
    lowercase: bool = False

    def name_of(self, vm: t.Mapping[str, t.Any]) -> str:
        base = str(vm.get("name") or "")
        if self.source == "guest_dns_name" and vm.get("guest_dns_name"):
            base = str(vm["guest_dns_name"])
        name = f"{self.prefix}{base}{self.suffix}"
        return name.lower() if self.lowercase else name


@dataclass(frozen=True)
class AddressChoice:
    """Whether a running VM gets `ansible_host` from the addresses its guest reports, and which one."""

    enabled: bool = False
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def pick(self, addresses: t.Iterable[str]) -> str | None:
        """The first usable address: IPv4 before IPv6, link-local never, within `networks` when given."""
        usable: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
        for text in addresses:
            try:
                address = ipaddress.ip_address(str(text).split("%", 1)[0])
            except ValueError:
                continue
            if address.is_link_local or address.is_unspecified:
                continue
            if self.networks and not any(address in network for network in self.networks):
                continue
            usable.append(address)
        usable.sort(key=lambda address: address.version)  # stable: the guest's order within a family
        return str(usable[0]) if usable else None


@dataclass(frozen=True)
class Settings:
    hosts: tuple[HostEntry, ...]
    connection: Connection
    filters: VMFilters
    naming: Naming
    addresses: AddressChoice
    max_concurrency: int


OptionGetter = t.Callable[[str], t.Any]


def settings_from_options(option: OptionGetter) -> Settings:
    """Check the options (as the config system typed them) and build the settings."""
    kind = t.cast(ConnectionKind, option("connection"))
    return Settings(
        hosts=_hosts(option("hosts")),
        connection=_connection(option, kind),
        filters=_filters(option("vm_filters")),
        naming=Naming(
            source=option("hostname_source"),
            prefix=_text(option("hostname_prefix"), "hostname_prefix"),
            suffix=_text(option("hostname_suffix"), "hostname_suffix"),
            lowercase=bool(option("hostname_lowercase")),
        ),
        addresses=AddressChoice(enabled=bool(option("vm_ansible_host")), networks=_networks(option("vm_address_networks"))),
        max_concurrency=_positive(option("max_concurrency"), "max_concurrency"),
    )


def _text(value: t.Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OptionError(name, f"must be a string, not {type(value).__name__}.")
    return value


def _positive(value: t.Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise OptionError(name, f"must be a whole number of at least 1, not {value!r}.")
    return value


def _port(value: t.Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise OptionError(name, f"must be a TCP port number (1 to 65535), not {value!r}.")
    return value


def _hosts(value: t.Any) -> tuple[HostEntry, ...]:
    if not value:
        raise OptionError("hosts", "list at least one Hyper-V host (a name or address, or a mapping with name, address and port).")
    if not isinstance(value, list):
        raise OptionError("hosts", f"must be a list, not {type(value).__name__}.")
    entries: list[HostEntry] = []
    for index, item in enumerate(value):
        where = f"hosts[{index}]"
        if isinstance(item, str):
            if not item.strip():
                raise OptionError(where, "is empty.")
            entries.append(HostEntry(name=item.strip(), address=item.strip()))
            continue
        if not isinstance(item, dict):
            raise OptionError(where, f"must be a host name or a mapping with name, address and port, not {type(item).__name__}.")
        unknown = sorted(str(key) for key in set(item) - _HOST_ENTRY_KEYS)
        if unknown:
            raise OptionError(where, f"unknown key(s) {', '.join(unknown)}; a host entry has name, address and port.")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise OptionError(f"{where}.name", "is required: the host's inventory name.")
        address = item.get("address", name)
        if not isinstance(address, str) or not address.strip():
            raise OptionError(f"{where}.address", "must be a host name or an IP address.")
        entries.append(HostEntry(name=name.strip(), address=address.strip(), port=_port(item.get("port"), f"{where}.port")))
    names = [entry.name for entry in entries]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise OptionError("hosts", f"{', '.join(twice)} listed more than once.")
    return tuple(entries)


def _connection(option: OptionGetter, kind: ConnectionKind) -> Connection:
    transport = option("transport") or DEFAULT_TRANSPORT[kind]
    if transport not in TRANSPORTS[kind]:
        raise OptionError("transport", f"'{transport}' is not available with connection {kind}; choose one of {', '.join(TRANSPORTS[kind])}.")
    user = option("user")
    password = option("password")
    if transport in ("ntlm", "credssp", "basic", "negotiate") and (not user or password in (None, "")):
        missing = "user" if not user else "password"
        raise OptionError(
            missing,
            f"is required with transport {transport} (Kerberos alone can use a ticket you already have): set {missing} in the source "
            f"(a template or a !vault value) or the environment variable HYPERV_NESTED_{missing.upper()}.",
        )
    scheme = option("scheme")
    if transport == "basic" and scheme != "https":
        raise OptionError("transport", "basic sends the password readable by anyone on the network over http: use scheme https, or ntlm or kerberos.")
    return Connection(
        kind=kind,
        scheme=scheme,
        transport=transport,
        cert_validation=option("cert_validation"),
        message_encryption=option("message_encryption"),
        connection_timeout=_positive(option("connection_timeout"), "connection_timeout"),
        probe_timeout=_positive(option("probe_timeout"), "probe_timeout"),
        user=user or None,
        password=password if password not in (None, "") else None,
        port=_port(option("port"), "port"),
        ca_cert=option("ca_cert") or None,
    )


def _names(value: t.Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise OptionError(name, "must be a list of VM names or wildcard patterns (* ? [...]).")
    return tuple(value)


def _filters(value: t.Any) -> VMFilters:
    if value is None:
        return VMFilters()
    if not isinstance(value, dict):
        raise OptionError("vm_filters", f"must be a mapping with names, exclude_names and states, not {type(value).__name__}.")
    unknown = sorted(str(key) for key in set(value) - _FILTER_KEYS)
    if unknown:
        raise OptionError("vm_filters", f"unknown key(s) {', '.join(unknown)}; the filters are names, exclude_names and states.")
    states = _names(value.get("states"), "vm_filters.states")
    known = {state.casefold(): state for state in VM_STATES}
    wrong = [state for state in states if state.casefold() not in known]
    if wrong:
        raise OptionError("vm_filters.states", f"{', '.join(repr(s) for s in wrong)} is not a VM state; use Running, Off, Saved, Paused, ... (Get-VM's State).")
    return VMFilters(
        names=_names(value.get("names"), "vm_filters.names"),
        exclude_names=_names(value.get("exclude_names"), "vm_filters.exclude_names"),
        states=tuple(known[state.casefold()] for state in states),
    )


def _networks(value: t.Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for text in value or []:
        try:
            networks.append(ipaddress.ip_network(str(text), strict=False))
        except ValueError:
            raise OptionError("vm_address_networks", f"{text!r} is not a network in CIDR notation (such as 10.0.0.0/8).") from None
    return tuple(networks)
