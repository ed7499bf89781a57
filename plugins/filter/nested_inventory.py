# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the inventory model of the collection, all of it at once (documentation: nested_inventory_problems.yml)."""

from __future__ import annotations

import ipaddress
import typing as t
from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleError, AnsibleFilterError
from jinja2 import Undefined

NETWORK_MODES = ("nat", "mac_spoofing")
DEFAULT_NAT_PREFIX = "192.168.100.0/24"
_MISSING = object()


class _Host:
    """One inventory host's variables, read once each; a value that cannot be templated is remembered as an error."""

    def __init__(self, hostvars: Mapping[str, t.Any], name: str) -> None:
        self.name = name
        try:
            variables = hostvars[name]
        except (KeyError, AnsibleError):
            variables = None
        self._variables: Mapping[str, t.Any] = variables if isinstance(variables, Mapping) else {}
        self._cache: dict[str, tuple[t.Any, str | None]] = {}

    def read(self, variable: str) -> tuple[t.Any, str | None]:
        """(value, None), (_MISSING, None) when not set, or (_MISSING, why it cannot be read)."""
        if variable not in self._cache:
            if variable not in self._variables:
                self._cache[variable] = (_MISSING, None)
            else:
                try:
                    value = self._variables[variable]
                    if isinstance(value, Undefined):
                        str(value)  # an undefined marker raises here, saying what is undefined
                    self._cache[variable] = (value, None)
                except Exception as error:  # any templating error: the message names the variable, never a value
                    self._cache[variable] = (_MISSING, _first_line(str(error)))
        return self._cache[variable]

    def value(self, variable: str) -> t.Any:
        return self.read(variable)[0]


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "it cannot be templated"
    return line.rstrip(".")


def _names(hosts: Iterable[str]) -> str:
    listed = sorted(hosts)
    if not listed:
        return "none"
    return ", ".join(listed[:8]) + (f" and {len(listed) - 8} more" if len(listed) > 8 else "")


def _group(groups: Mapping[str, t.Any], name: str) -> list[str]:
    members = groups.get(name) if isinstance(groups, Mapping) else None
    return [str(host) for host in members] if isinstance(members, Iterable) and not isinstance(members, (str, bytes)) else []


def _is_text(value: t.Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _ipv4(value: t.Any) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(str(value).strip()) if isinstance(value, str) else None
    except ValueError:
        return None


SLICING_HINT = (
    " If this is a sliced job, slicing put the parent in another slice (AWX and Automation Platform give each slice every "
    "N-th host of the inventory, and a host's delegate_to needs its parent in the same slice): set the job template's "
    "job slicing to 1 and raise forks instead, or run one job per group of L0 hosts with a limit that names them with "
    "their L1 hosts and L2 guests (docs/slicing.md)."
)


def _slicing_hint(problems: list[str]) -> str:
    """Said once, after the first parent that is missing from the inventory (what a job slice looks like)."""
    return "" if any(SLICING_HINT in problem for problem in problems) else SLICING_HINT


def _quoted(value: t.Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value!r} (a {type(value).__name__})"


def nested_inventory_problems(
    hostvars: Mapping[str, t.Any],
    groups: Mapping[str, t.Any],
    network_mode_required: bool = True,
    guest_credentials_required: bool = True,
    guest_username: t.Any = None,
    guest_password: t.Any = None,
    nat_prefix: str = DEFAULT_NAT_PREFIX,
    l0_group: str = "hyperv_hosts",
    l1_group: str = "nested_hosts",
    l2_group: str = "nested_guests",
) -> list[str]:
    """Every problem of the inventory model, one sentence each naming the host and the variable; [] when none."""
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("nested_inventory_problems expects the hostvars magic variable as input.")
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError("nested_inventory_problems: 'groups' must be the groups magic variable.")
    l0, l1, l2 = _group(groups, l0_group), _group(groups, l1_group), _group(groups, l2_group)
    l0_set, l1_set, l2_set = set(l0), set(l1), set(l2)
    known = {str(host) for host in _group(groups, "all")} | l0_set | l1_set | l2_set
    hosts = {name: _Host(hostvars, name) for name in dict.fromkeys(l0 + l1 + l2)}
    problems: list[str] = []

    for name in sorted(l0_set & l1_set):
        problems.append(f"{name} is in both {l0_group} (L0) and {l1_group} (L1): a host is one or the other; keep it in one group.")
    for name in sorted((l0_set | l1_set) & l2_set):
        other = l0_group if name in l0_set else l1_group
        problems.append(f"{name} is in both {other} and {l2_group} (L2): keep it in one group.")
    for name in l0:
        parent = hosts[name].value("nested_parent")
        if parent is not _MISSING and parent not in (None, ""):
            problems.append(
                f"{name} is an L0 host ({l0_group}) but has nested_parent {_quoted(parent)}: a VM that becomes a Hyper-V host belongs "
                f"in {l1_group}; an L0 host is the physical host and has no parent."
            )

    def parent_of(name: str, level: str, wanted: set[str], wanted_group: str, wanted_level: str) -> str | None:
        """The host's nested_parent when it names a host of `wanted`; a problem appended otherwise."""
        value, error = hosts[name].read("nested_parent")
        where = f"{name}'s nested_parent"
        if error:
            problems.append(f"{where} cannot be read: {error}.")
            return None
        if value is _MISSING or value in (None, ""):
            problems.append(f"{where} is not set: set it to the inventory name of the {wanted_level} host ({wanted_group}) that runs this {level}.")
            return None
        if not _is_text(value):
            problems.append(f"{where} must be an inventory host name, got {_quoted(value)}.")
            return None
        if value == name:
            problems.append(f"{where} names {name} itself; it must name the {wanted_level} host ({wanted_group}) that runs this {level}.")
            return None
        if value in wanted:
            return str(value)
        if value not in known and value not in hostvars:
            problems.append(f"{where} {value!r} is not a host of this inventory ({wanted_group} has: {_names(wanted)})." + _slicing_hint(problems))
        elif value in l0_set:
            problems.append(f"{where} {value!r} is an L0 host ({l0_group}); the parent of an {level} must be an {wanted_level} host of {wanted_group}.")
        elif value in l1_set:
            problems.append(f"{where} {value!r} is an L1 host ({l1_group}); the parent of an {level} must be an {wanted_level} host of {wanted_group}.")
        else:
            problems.append(f"{where} {value!r} is not in the group {wanted_group}; the parent of an {level} must be an {wanted_level} host of {wanted_group}.")
        return None

    def vm_name_of(name: str) -> str | None:
        value, error = hosts[name].read("nested_vm_name")
        if error:
            problems.append(f"{name}'s nested_vm_name cannot be read: {error}.")
            return None
        if value is _MISSING or value in (None, ""):
            problems.append(f"{name}'s nested_vm_name is not set: set it to the VM's name in Hyper-V on its parent.")
            return None
        if not _is_text(value):
            problems.append(f"{name}'s nested_vm_name must be the VM's name (text), got {_quoted(value)}.")
            return None
        return str(value)

    def check_duplicate_names(members: list[str], parent_of_member: dict[str, str], vm_names: dict[str, str]) -> None:
        seen: dict[tuple[str, str], str] = {}
        for name in members:
            if name not in parent_of_member or name not in vm_names:
                continue
            key = (parent_of_member[name], vm_names[name].casefold())
            if key in seen:
                problems.append(
                    f"{name}'s nested_vm_name {vm_names[name]!r} duplicates {seen[key]}'s on {key[0]} "
                    "(Hyper-V names compare case-insensitively): each inventory host must name its own VM."
                )
            else:
                seen[key] = name

    # L1 hosts: VMs on an L0 host that become Hyper-V hosts.
    l1_parent: dict[str, str] = {}
    l1_vm: dict[str, str] = {}
    l1_mode: dict[str, str | None] = {}
    for name in l1:
        parent = parent_of(name, "L1 VM", l0_set, l0_group, "L0 Hyper-V")
        if parent:
            l1_parent[name] = parent
        vm_name = vm_name_of(name)
        if vm_name:
            l1_vm[name] = vm_name
        mode, error = hosts[name].read("nested_network_mode")
        if error:
            problems.append(f"{name}'s nested_network_mode cannot be read: {error}.")
            l1_mode[name] = None
        elif mode is _MISSING or mode in (None, ""):
            l1_mode[name] = None
            if network_mode_required:
                problems.append(
                    f"{name}'s nested_network_mode is not set: set it to nat or mac_spoofing (per host, or for every L1 host in "
                    f"group_vars/{l1_group}.yml); there is no default."
                )
        elif mode not in NETWORK_MODES:
            l1_mode[name] = None
            problems.append(f"{name}'s nested_network_mode is {_quoted(mode)}; use nat or mac_spoofing.")
        else:
            l1_mode[name] = str(mode)
    check_duplicate_names(l1, l1_parent, l1_vm)

    # L2 guests: VMs inside an L1 host, reached from it through PowerShell Direct.
    l2_parent: dict[str, str] = {}
    l2_vm: dict[str, str] = {}
    for name in l2:
        parent = parent_of(name, "L2 guest", l1_set, l1_group, "L1")
        if parent:
            l2_parent[name] = parent
        vm_name = vm_name_of(name)
        if vm_name:
            l2_vm[name] = vm_name
    check_duplicate_names(l2, l2_parent, l2_vm)

    addresses: dict[tuple[str, ipaddress.IPv4Address], str] = {}
    for name in l2:
        parent = l2_parent.get(name)
        mode = l1_mode.get(parent) if parent else None
        host = hosts[name]
        ip_value, ip_error = host.read("nested_ip")
        if ip_error:
            problems.append(f"{name}'s nested_ip cannot be read: {ip_error}.")
        elif ip_value is not _MISSING and ip_value not in (None, ""):
            address = _ipv4(ip_value)
            if address is None:
                problems.append(f"{name}'s nested_ip {_quoted(ip_value)} is not an IPv4 address.")
            elif parent and mode == "mac_spoofing":
                problems.append(
                    f"{name}'s nested_ip is set, but its L1 host {parent} uses mac_spoofing (the guests take their addresses from the "
                    f"network there): remove nested_ip, or set {parent}'s nested_network_mode to nat."
                )
            elif parent:
                if mode == "nat":
                    problems.extend(_address_problems(name, address, parent, hosts[parent], nat_prefix))
                key = (parent, address)
                if key in addresses:
                    problems.append(f"{name}'s nested_ip {address} duplicates {addresses[key]}'s (both are L2 guests on {parent}'s NAT network).")
                else:
                    addresses[key] = name
        dns, dns_error = host.read("nested_dns")
        if dns_error:
            problems.append(f"{name}'s nested_dns cannot be read: {dns_error}.")
        elif dns is not _MISSING and dns is not None:
            if isinstance(dns, (str, bytes)) or not isinstance(dns, Iterable) or any(_ipv4(server) is None for server in dns):
                problems.append(f"{name}'s nested_dns must be a list of IPv4 addresses, got {_quoted(dns) if not isinstance(dns, list) else dns!r}.")
        addressing = host.value("nested_addressing")
        if addressing not in (_MISSING, None, "static", "dhcp"):
            problems.append(f"{name}'s nested_addressing must be static or dhcp, got {_quoted(addressing)}.")
        # A DHCP guest gets its address from the L1's DHCP server (win_nested_dhcp): no guest credentials needed.
        if parent and mode == "nat" and guest_credentials_required and addressing != "dhcp":
            problems.extend(_credential_problems(name, host, parent, hosts[parent], guest_username, guest_password))
    return problems


def _address_problems(name: str, address: ipaddress.IPv4Address, parent: str, parent_host: _Host, default_prefix: str) -> list[str]:
    prefix_value = parent_host.value("nested_networking_nat_prefix")
    prefix_text = prefix_value if isinstance(prefix_value, str) and prefix_value else default_prefix
    try:
        network = ipaddress.IPv4Network(prefix_text, strict=False)
    except ValueError:
        return [f"{parent}'s nested_networking_nat_prefix {prefix_text!r} is not an IPv4 network in CIDR form (e.g. 192.168.100.0/24)."]
    if address not in network:
        return [f"{name}'s nested_ip {address} is outside {parent}'s NAT network {network} (nested_networking_nat_prefix)."]
    if address in (network.network_address, network.broadcast_address):
        return [f"{name}'s nested_ip {address} is the {'network' if address == network.network_address else 'broadcast'} address of {network}."]
    gateway_value = parent_host.value("nested_networking_nat_gateway")
    gateway = _ipv4(gateway_value) if isinstance(gateway_value, str) and gateway_value else network.network_address + 1
    if address == gateway:
        return [f"{name}'s nested_ip {address} is the NAT gateway of {parent} (the L1 host's own address on that network)."]
    return []


def _credential_problems(name: str, host: _Host, parent: str, parent_host: _Host, guest_username: t.Any, guest_password: t.Any) -> list[str]:
    """A guest behind NAT is addressed through PowerShell Direct, which needs a local administrator of the guest."""
    problems = []
    for variable, fallback_variable, fallback in (
        ("nested_guest_username", "nested_networking_guest_username", guest_username),
        ("nested_guest_password", "nested_networking_guest_password", guest_password),
    ):
        value, error = host.read(variable)
        if error:
            problems.append(
                f"{name}'s {variable} cannot be read: {error}. Define it where {name} sees it: a guest is not in the windows group, "
                "so put the vault variables in group_vars/all/ (or group_vars/nested_guests/)."
            )
            continue
        if value is not _MISSING and value not in (None, ""):
            continue
        if fallback not in (None, "") or parent_host.value(fallback_variable) not in (_MISSING, None, ""):
            continue
        problems.append(
            f"{name}'s {variable} is not set: {parent} uses NAT and addresses its L2 guests through PowerShell Direct, with a local "
            f"administrator of each guest; set nested_guest_username and nested_guest_password for {name} (kept in a vault), "
            f"or {fallback_variable} for all of {parent}'s guests."
        )
    return problems


class FilterModule:
    """hyperv.nested filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_inventory_problems": nested_inventory_problems}
