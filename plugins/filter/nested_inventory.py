# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the inventory model of the collection, all of it at once (documentation: nested_inventory_problems.yml)."""

from __future__ import annotations

import ipaddress
import typing as t
from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleError, AnsibleFilterError
from jinja2 import Undefined

from ansible_collections.hyperv.nested.plugins.plugin_utils._addressing import AddressError, parse_prefix

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


def _same_machine(value: str, wanted: set[str]) -> str | None:
    """The one host of `wanted` whose name is `value` up to case and domain (hv01 / HV01.lab.example.com), if any."""
    label = str(value).split(".", 1)[0].lower()
    matches = [name for name in wanted if name.split(".", 1)[0].lower() == label]
    return matches[0] if len(matches) == 1 else None


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
    """Every problem of the inventory model, one sentence each naming the host and the variable; [] when none.

    In order: hosts in two levels' groups, L0 hosts with a parent, each L1 host (parent, VM name,
    network mode) and their duplicate VM names, each NAT-mode L1 host's NAT prefix and gateway, each L2 guest (parent, VM name) and theirs, then each
    L2 guest's network (address, DNS, addressing, credentials).
    """
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("nested_inventory_problems expects the hostvars magic variable as input.")
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError("nested_inventory_problems: 'groups' must be the groups magic variable.")
    check = _Check(hostvars, groups, l0_group, l1_group, l2_group)
    check.group_overlaps()
    check.l0_parents()
    l1_mode = check.l1_hosts(network_mode_required)
    for name in [host for host, mode in l1_mode.items() if mode == "nat"]:
        check.nat_prefix(name, nat_prefix)
        check.nat_gateway(name, nat_prefix)
    l2_parent = check.l2_guests()
    addresses: dict[tuple[str, ipaddress.IPv4Address], str] = {}
    for name in check.l2:
        parent = l2_parent.get(name)
        mode = l1_mode.get(parent) if parent else None
        check.guest_address(name, parent, mode, nat_prefix, addresses)
        check.guest_dns(name)
        addressing = check.guest_addressing(name)
        # A DHCP guest gets its address from the L1's DHCP server (win_nested_dhcp): no guest credentials needed.
        if parent and mode == "nat" and guest_credentials_required and addressing != "dhcp":
            check.problems.extend(_credential_problems(name, check.hosts[name], parent, check.hosts[parent],
                                                       guest_username, guest_password))
    return check.problems


class _Check:
    """The model's three levels and their hosts, and the problems found so far, in the order found."""

    def __init__(self, hostvars: Mapping[str, t.Any], groups: Mapping[str, t.Any], l0_group: str, l1_group: str,
                 l2_group: str) -> None:
        self.hostvars = hostvars
        self.l0_group, self.l1_group, self.l2_group = l0_group, l1_group, l2_group
        self.l0, self.l1, self.l2 = _group(groups, l0_group), _group(groups, l1_group), _group(groups, l2_group)
        self.l0_set, self.l1_set, self.l2_set = set(self.l0), set(self.l1), set(self.l2)
        self.known = {str(host) for host in _group(groups, "all")} | self.l0_set | self.l1_set | self.l2_set
        self.hosts = {name: _Host(hostvars, name) for name in dict.fromkeys(self.l0 + self.l1 + self.l2)}
        self.problems: list[str] = []

    def group_overlaps(self) -> None:
        """A host in the groups of two levels."""
        for name in sorted(self.l0_set & self.l1_set):
            self.problems.append(f"{name} is in both {self.l0_group} (L0) and {self.l1_group} (L1): a host is one or the other; "
                                 "keep it in one group.")
        for name in sorted((self.l0_set | self.l1_set) & self.l2_set):
            other = self.l0_group if name in self.l0_set else self.l1_group
            self.problems.append(f"{name} is in both {other} and {self.l2_group} (L2): keep it in one group.")

    def l0_parents(self) -> None:
        """An L0 host is the physical host: it has no nested_parent."""
        for name in self.l0:
            parent = self.hosts[name].value("nested_parent")
            if parent is not _MISSING and parent not in (None, ""):
                self.problems.append(
                    f"{name} is an L0 host ({self.l0_group}) but has nested_parent {_quoted(parent)}: a VM that becomes a Hyper-V "
                    f"host belongs in {self.l1_group}; an L0 host is the physical host and has no parent."
                )

    def l1_hosts(self, network_mode_required: bool) -> dict[str, str | None]:
        """L1 hosts, VMs on an L0 host that become Hyper-V hosts: parent, VM name, network mode; their network modes."""
        parents: dict[str, str] = {}
        vm_names: dict[str, str] = {}
        modes: dict[str, str | None] = {}
        for name in self.l1:
            parent = self.parent_of(name, "L1 VM", self.l0_set, self.l0_group, "L0 Hyper-V")
            if parent:
                parents[name] = parent
            vm_name = self.vm_name_of(name)
            if vm_name:
                vm_names[name] = vm_name
            modes[name] = self.network_mode_of(name, network_mode_required)
        self.duplicate_names(self.l1, parents, vm_names)
        return modes

    def l2_guests(self) -> dict[str, str]:
        """L2 guests, VMs inside an L1 host reached from it through PowerShell Direct: parent, VM name; their parents."""
        parents: dict[str, str] = {}
        vm_names: dict[str, str] = {}
        for name in self.l2:
            parent = self.parent_of(name, "L2 guest", self.l1_set, self.l1_group, "L1")
            if parent:
                parents[name] = parent
            vm_name = self.vm_name_of(name)
            if vm_name:
                vm_names[name] = vm_name
        self.duplicate_names(self.l2, parents, vm_names)
        return parents

    def parent_of(self, name: str, level: str, wanted: set[str], wanted_group: str, wanted_level: str) -> str | None:
        """The host's nested_parent when it names a host of `wanted`; a problem appended otherwise."""
        value, error = self.hosts[name].read("nested_parent")
        where = f"{name}'s nested_parent"
        if error:
            self.problems.append(f"{where} cannot be read: {error}.")
            return None
        if value is _MISSING or value in (None, ""):
            self.problems.append(f"{where} is not set: set it to the inventory name of the {wanted_level} host ({wanted_group}) "
                                 f"that runs this {level}.")
            return None
        if not _is_text(value):
            self.problems.append(f"{where} must be an inventory host name, got {_quoted(value)}.")
            return None
        if value == name:
            self.problems.append(f"{where} names {name} itself; it must name the {wanted_level} host ({wanted_group}) that runs "
                                 f"this {level}.")
            return None
        if value in wanted:
            return str(value)
        self.problems.append(self._wrong_parent(where, value, level, wanted, wanted_group, wanted_level))
        return None

    def _wrong_parent(self, where: str, value: str, level: str, wanted: set[str], wanted_group: str, wanted_level: str) -> str:
        """Why a parent outside `wanted` is wrong: not in the inventory (a job slice?), an L0, an L1, or another group's."""
        if value not in self.known and value not in self.hostvars:
            meant = _same_machine(value, wanted)
            if meant:
                # The same machine written another way (its short name, its FQDN, its VM's name): not a job slice.
                return f"{where} {value!r} is not a host of this inventory ({wanted_group} has: {_names(wanted)}). Did you mean {meant!r}?"
            return (f"{where} {value!r} is not a host of this inventory ({wanted_group} has: {_names(wanted)})."
                    + _slicing_hint(self.problems))
        if value in self.l0_set:
            return (f"{where} {value!r} is an L0 host ({self.l0_group}); the parent of an {level} must be an {wanted_level} "
                    f"host of {wanted_group}.")
        if value in self.l1_set:
            return (f"{where} {value!r} is an L1 host ({self.l1_group}); the parent of an {level} must be an {wanted_level} "
                    f"host of {wanted_group}.")
        return (f"{where} {value!r} is not in the group {wanted_group}; the parent of an {level} must be an {wanted_level} "
                f"host of {wanted_group}.")

    def vm_name_of(self, name: str) -> str | None:
        """The host's nested_vm_name, its VM's name in Hyper-V; a problem appended when it is unreadable, unset or not text."""
        value, error = self.hosts[name].read("nested_vm_name")
        if error:
            self.problems.append(f"{name}'s nested_vm_name cannot be read: {error}.")
            return None
        if value is _MISSING or value in (None, ""):
            self.problems.append(f"{name}'s nested_vm_name is not set: set it to the VM's name in Hyper-V on its parent.")
            return None
        if not _is_text(value):
            self.problems.append(f"{name}'s nested_vm_name must be the VM's name (text), got {_quoted(value)}.")
            return None
        return str(value)

    def network_mode_of(self, name: str, required: bool) -> str | None:
        """An L1 host's nested_network_mode (nat or mac_spoofing); None, with a problem when it is wrong or required."""
        mode, error = self.hosts[name].read("nested_network_mode")
        if error:
            self.problems.append(f"{name}'s nested_network_mode cannot be read: {error}.")
            return None
        if mode is _MISSING or mode in (None, ""):
            if required:
                self.problems.append(
                    f"{name}'s nested_network_mode is not set: set it to nat or mac_spoofing (per host, or for every L1 host in "
                    f"group_vars/{self.l1_group}.yml); there is no default."
                )
            return None
        if mode not in NETWORK_MODES:
            self.problems.append(f"{name}'s nested_network_mode is {_quoted(mode)}; use nat or mac_spoofing.")
            return None
        return str(mode)

    def duplicate_names(self, members: list[str], parent_of_member: dict[str, str], vm_names: dict[str, str]) -> None:
        """Two hosts naming the same VM (case-insensitively) on the same parent."""
        seen: dict[tuple[str, str], str] = {}
        for name in members:
            if name not in parent_of_member or name not in vm_names:
                continue
            key = (parent_of_member[name], vm_names[name].casefold())
            if key in seen:
                self.problems.append(
                    f"{name}'s nested_vm_name {vm_names[name]!r} duplicates {seen[key]}'s on {key[0]} "
                    "(Hyper-V names compare case-insensitively): each inventory host must name its own VM."
                )
            else:
                seen[key] = name

    def nat_prefix(self, name: str, default_prefix: str) -> None:
        """A NAT-mode L1 host's nested_networking_nat_prefix, by the rules win_nested_nat applies to its prefix."""
        network = _nat_network(self.hosts[name], default_prefix)
        if isinstance(network, str):
            self.problems.append(f"{name}'s nested_networking_nat_prefix {network}")

    def nat_gateway(self, name: str, default_prefix: str) -> None:
        """A NAT-mode L1 host's nested_networking_nat_gateway: an IPv4 address of its NAT network (win_nested_nat's gateway)."""
        host = self.hosts[name]
        gateway_value = host.value("nested_networking_nat_gateway")
        if gateway_value in (_MISSING, None, ""):
            return
        gateway = _ipv4(gateway_value) if isinstance(gateway_value, str) else None
        if gateway is None:
            self.problems.append(f"{name}'s nested_networking_nat_gateway {gateway_value!r} is not an IPv4 address (e.g. 192.168.100.1).")
            return
        network = _nat_network(host, default_prefix)
        if isinstance(network, str):
            return  # nat_prefix names the prefix
        if gateway not in network:
            self.problems.append(f"{name}'s nested_networking_nat_gateway {gateway} is outside its NAT network {network} (nested_networking_nat_prefix).")

    def guest_address(self, name: str, parent: str | None, mode: str | None, nat_prefix: str,
                      addresses: dict[tuple[str, ipaddress.IPv4Address], str]) -> None:
        """An L2 guest's nested_ip: an IPv4 address, only behind NAT, inside its L1's NAT network, used once there."""
        ip_value, ip_error = self.hosts[name].read("nested_ip")
        if ip_error:
            self.problems.append(f"{name}'s nested_ip cannot be read: {ip_error}.")
            return
        if ip_value is _MISSING or ip_value in (None, ""):
            return
        address = _ipv4(ip_value)
        if address is None:
            self.problems.append(f"{name}'s nested_ip {_quoted(ip_value)} is not an IPv4 address.")
        elif parent and mode == "mac_spoofing":
            self.problems.append(
                f"{name}'s nested_ip is set, but its L1 host {parent} uses mac_spoofing (the guests take their addresses from the "
                f"network there): remove nested_ip, or set {parent}'s nested_network_mode to nat."
            )
        elif parent:
            if mode == "nat":
                self.problems.extend(_address_problems(name, address, parent, self.hosts[parent], nat_prefix))
            key = (parent, address)
            if key in addresses:
                self.problems.append(f"{name}'s nested_ip {address} duplicates {addresses[key]}'s (both are L2 guests on "
                                     f"{parent}'s NAT network).")
            else:
                addresses[key] = name

    def guest_dns(self, name: str) -> None:
        """An L2 guest's nested_dns: a list of IPv4 addresses."""
        dns, dns_error = self.hosts[name].read("nested_dns")
        if dns_error:
            self.problems.append(f"{name}'s nested_dns cannot be read: {dns_error}.")
        elif dns is not _MISSING and dns is not None:
            if isinstance(dns, (str, bytes)) or not isinstance(dns, Iterable) or any(_ipv4(server) is None for server in dns):
                self.problems.append(f"{name}'s nested_dns must be a list of IPv4 addresses, got "
                                     f"{_quoted(dns) if not isinstance(dns, list) else dns!r}.")

    def guest_addressing(self, name: str) -> t.Any:
        """An L2 guest's nested_addressing (static or dhcp), as set."""
        addressing = self.hosts[name].value("nested_addressing")
        if addressing not in (_MISSING, None, "static", "dhcp"):
            self.problems.append(f"{name}'s nested_addressing must be static or dhcp, got {_quoted(addressing)}.")
        return addressing


def _nat_network(host: _Host, default_prefix: str) -> ipaddress.IPv4Network | str:
    """The L1 host's NAT network, or why win_nested_nat would refuse its nested_networking_nat_prefix."""
    prefix_value = host.value("nested_networking_nat_prefix")
    prefix_text = prefix_value if prefix_value not in (_MISSING, None, "") else default_prefix
    try:
        return parse_prefix(prefix_text)
    except AddressError:
        pass
    try:
        network = ipaddress.ip_network(str(prefix_text).strip(), strict=False)
    except ValueError:
        network = None
    if not isinstance(network, ipaddress.IPv4Network) or "/" not in str(prefix_text):
        return f"{prefix_text!r} is not an IPv4 network in CIDR form (e.g. 192.168.100.0/24)."
    if network.prefixlen > 30:
        return f"{prefix_text!r} is too small: use a prefix length of 30 or less (room for a gateway and guests)."
    return f"{prefix_text!r} has host bits set: did you mean {network}?"


def _address_problems(name: str, address: ipaddress.IPv4Address, parent: str, parent_host: _Host, default_prefix: str) -> list[str]:
    network = _nat_network(parent_host, default_prefix)
    if isinstance(network, str):
        return []  # the L1 host's nat_prefix check names it
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
