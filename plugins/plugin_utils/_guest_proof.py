# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Judge win_nested_guest_check: does each L2 guest of a NAT-mode L1 host really have its network?

Pure functions over the probe's `vms`, `network` and `guests` sections (wire-protocol.md section 2).
A Windows guest with credentials is read from inside through PowerShell Direct (its adapter's
address, gateway and DNS servers); any other guest (Linux, appliances, DHCP) is judged from the L1's
view: the address the guest reports through KVP on its adapter, the switch the adapter is on, the
NAT and its gateway. Each problem is a finding with a reason code and a fix. The judgement is a
`Planned` with nothing to do: its values are the module's `guests` and `ok`.
"""

from __future__ import annotations

import ipaddress
import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    GuestAdapter,
    GuestReport,
    NetworkSection,
    ProbeAnswer,
    VmAdapter,
    VmInfo,
)

FIXES = {
    "guest.vm_missing": "Create the guest (nested_provision) or correct nested_vm_name.",
    "guest.not_running": "Start the guest: site.yml starts the L2 guests in its networking phase.",
    "guest.not_on_nat_switch": "Connect the guest's adapter to the NAT switch (site.yml networking phase).",
    "guest.no_address": "Static guests: run the networking phase with guest credentials; DHCP guests: check the "
                        "L1's DHCP scope and the guest's reservation (nested_dhcp).",
    "guest.wrong_address": "Set nested_ip to the address the guest should have, and run the networking phase again.",
    "guest.address_outside_nat": "Give the guest an address inside the NAT prefix (nested_ip).",
    "guest.wrong_gateway": "The guest's default gateway must be the NAT gateway; run the networking phase again.",
    "guest.no_dns": "Give the guest DNS servers (nested_dns, or nested_networking_nat_dns / DHCP's DNS option).",
    "guest.unreachable": "Check the guest credentials (nested_guest_username/password) and that the guest has booted.",
    "nat.missing": "Create the NAT inside the L1 host (site.yml networking phase, win_nested_nat).",
    "nat.gateway_missing": "The NAT gateway address is missing on the internal switch's vEthernet adapter; run the "
                           "networking phase again.",
}


class GuestArgs(t.TypedDict):
    """One entry of the module's `guests` option."""

    vm: str
    ip: str | None
    username: str | None
    password: str | None


class Finding(t.TypedDict):
    code: str
    message: str
    fix: str


class GuestVerdict(t.TypedDict):
    """One entry of the module's `guests` return value."""

    vm: str
    view: str  # inside | l1
    address: str | None
    gateway: str | None
    dns: list[str]
    findings: list[Finding]
    ok: bool


def _finding(code: str, message: str) -> Finding:
    return {"code": code, "message": message, "fix": FIXES[code]}


def _ipv4(value: t.Any) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        return None


def _in_prefix(value: t.Any, prefix: ipaddress.IPv4Network) -> bool:
    """An IPv4 address in the prefix; Windows lists IPv6 addresses (link-local on every interface) beside them."""
    address = _ipv4(value)
    return address is not None and address in prefix


def probe_parameters(guests: list[GuestArgs]) -> dict[str, t.Any]:
    direct = [{"vm": g["vm"], "username": g["username"], "password": g["password"]}
              for g in guests if g.get("username") and g.get("password")]
    sections = ["vms", "network"] + (["guests"] if direct else [])
    return {"sections": sections, "vm_names": [g["vm"] for g in guests], "guests": direct}


def _nat(network: NetworkSection, prefix: ipaddress.IPv4Network, switch_name: str) -> tuple[str | None, list[Finding]]:
    """The NAT gateway on the switch's vEthernet adapter, and what is wrong with the NAT itself."""
    nats = [n for n in network.get("nats") or []
            if str(n.get("internal_ip_interface_address_prefix")) == str(prefix)]
    if not nats:
        return None, [_finding("nat.missing", f"No NetNat for {prefix} exists on this host.")]
    alias = f"vEthernet ({switch_name})"
    # Hyper-V matches switch names whatever their case, and names the switch's adapter after the switch.
    gateways = [a for a in network.get("ip_addresses") or []
                if str(a.get("interface_alias")).casefold() == alias.casefold() and _in_prefix(a.get("ip_address"), prefix)]
    if not gateways:
        return None, [_finding("nat.gateway_missing", f"{alias} has no address in {prefix}.")]
    return str(gateways[0]["ip_address"]), []


def judge(guests: list[GuestArgs], probe: ProbeAnswer, prefix_text: str,
          switch_name: str) -> list[GuestVerdict]:
    """One row per guest, in the order asked: how it is seen, its address, gateway, DNS and findings."""
    prefix = ipaddress.IPv4Network(prefix_text, strict=False)
    gateway, nat_findings = _nat(probe.get("network") or {}, prefix, switch_name)
    nat = _Nat(prefix, switch_name, gateway, nat_findings)
    vms = {str(vm["name"]).casefold(): vm for vm in (probe.get("vms") or {}).get("vms") or []}
    inside = {str(g["vm"]).casefold(): g for g in probe.get("guests") or []}
    return [_row(guest, vms.get(guest["vm"].casefold()), inside.get(guest["vm"].casefold()), nat) for guest in guests]


@dataclass(frozen=True)
class _Nat:
    """The NAT every guest of the L1 hangs on: its prefix and switch, its gateway, what is wrong with it."""

    prefix: ipaddress.IPv4Network
    switch_name: str
    gateway: str | None
    findings: list[Finding]


@dataclass
class _View:
    """One guest's network as seen from inside ("inside", PowerShell Direct) or from the L1 ("l1")."""

    name: str
    addresses: list[str]
    gateway: str | None = None
    dns: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def _row(guest: GuestArgs, vm: VmInfo | None, report: GuestReport | None, nat: _Nat) -> GuestVerdict:
    """A guest's row: the NAT's findings first, then guest.vm_missing, guest.not_running, or its network's."""
    findings: list[Finding] = list(nat.findings)
    if vm is None:
        findings.append(_finding("guest.vm_missing", f"No VM named {guest['vm']!r} on this host."))
    elif vm.get("state") != "Running":
        findings.append(_finding("guest.not_running", f"{vm['name']} is {vm.get('state')}."))
    else:
        view = _view(vm, report, nat)
        address, address_findings = _address(guest, vm, view.addresses, nat.prefix)
        findings += view.findings + address_findings
        return {"vm": guest["vm"], "view": view.name, "address": address, "gateway": view.gateway, "dns": view.dns,
                "findings": findings, "ok": not findings}
    return {"vm": guest["vm"], "view": "l1", "address": None, "gateway": None, "dns": [], "findings": findings, "ok": not findings}


def _view(vm: VmInfo, report: GuestReport | None, nat: _Nat) -> _View:
    """A running guest's network: guest.not_on_nat_switch, then the inside view's or the L1 view's findings."""
    adapters = vm.get("adapters") or []
    on_nat = [a for a in adapters if str(a.get("switch_name") or "").casefold() == nat.switch_name.casefold()]
    findings = [] if on_nat else [_finding("guest.not_on_nat_switch",
                                           f"No adapter of {vm['name']} is on the NAT switch {nat.switch_name!r}.")]
    if report is not None and report.get("reachable"):
        view = _inside_view(vm, report, on_nat or adapters, nat.gateway)
    else:
        view = _l1_view(vm, report, on_nat)
    view.findings = findings + view.findings
    return view


def _inside_view(vm: VmInfo, report: GuestReport, adapters: list[VmAdapter], nat_gateway: str | None) -> _View:
    """Read from inside, on the guest's own adapter: guest.wrong_gateway, guest.no_dns."""
    first = _own_adapter(report, adapters)
    gateway = first.get("default_gateway")
    dns = list(first.get("dns_servers") or [])
    findings = []
    if nat_gateway is not None and gateway != nat_gateway:
        findings.append(_finding("guest.wrong_gateway", f"The default gateway of {vm['name']} is "
                                 f"{gateway or 'not set'}, the NAT gateway is {nat_gateway}."))
    if not dns:
        findings.append(_finding("guest.no_dns", f"{vm['name']} has no DNS server."))
    return _View("inside", [str(a.get("ip_address")) for a in first.get("ipv4") or []], gateway, dns, findings)


def _own_adapter(report: GuestReport, adapters: list[VmAdapter]) -> GuestAdapter:
    """The guest adapter with the MAC of the VM's first (NAT) adapter, else the guest's first adapter, else {}."""
    mac = str(adapters[0].get("mac_address") or "").replace("-", "").upper() if adapters else ""
    reported = report.get("adapters") or []
    own = [a for a in reported if str(a.get("mac_address", "")).replace("-", "").upper() == mac] or reported
    return own[0] if own else {}


def _l1_view(vm: VmInfo, report: GuestReport | None, on_nat: list[VmAdapter]) -> _View:
    """Judged from the L1, on the IPv4 addresses KVP reports for the NAT switch's adapters: guest.unreachable
    when PowerShell Direct was tried and failed."""
    findings = [] if report is None else [_finding("guest.unreachable", f"PowerShell Direct into {vm['name']} failed: "
                                                   f"{report.get('error')}")]
    addresses = [ip for a in on_nat for ip in a.get("ip_addresses") or [] if _ipv4(ip) is not None]
    return _View("l1", addresses, findings=findings)


def _address(guest: GuestArgs, vm: VmInfo, addresses: list[str],
             prefix: ipaddress.IPv4Network) -> tuple[str | None, list[Finding]]:
    """The guest's address (its first in the NAT prefix, else its first), and guest.no_address,
    guest.address_outside_nat or guest.wrong_address."""
    in_prefix = [ip for ip in addresses if _in_prefix(ip, prefix)]
    address = in_prefix[0] if in_prefix else (addresses[0] if addresses else None)
    if not addresses:
        return address, [_finding("guest.no_address", f"{vm['name']} reports no IPv4 address.")]
    if not in_prefix:
        return address, [_finding("guest.address_outside_nat",
                                  f"{vm['name']}'s addresses {', '.join(addresses)} are outside {prefix}.")]
    if guest.get("ip") and guest["ip"] not in in_prefix:
        return address, [_finding("guest.wrong_address", f"{vm['name']} has {address}, the inventory says {guest['ip']}.")]
    return address, []


def plan(guests: list[GuestArgs], probe: t.Mapping[str, t.Any], prefix_text: str, switch_name: str) -> Planned:
    """Nothing to change: the judgement of every guest as the module's return values."""
    results = judge(guests, t.cast(ProbeAnswer, probe), prefix_text, switch_name)
    return Planned([], values={"guests": results, "ok": all(r["ok"] for r in results)})
