# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nested virtualization report: rows, merging with the file of earlier runs, rendering.

Documentation: nested_report_row.yml, nested_report_rows.yml, nested_report_merge.yml,
nested_report_render.yml; the JSON it makes is described in docs/report.md.
"""

from __future__ import annotations

import json
import re
import typing as t
from collections.abc import Iterable, Mapping
from pathlib import Path

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.filter.nested_findings import FIXED_BY, nested_l1_findings
from ansible_collections.hyperv.nested.plugins.plugin_utils.nested_report_html import DEFAULT_COLLAPSE_ABOVE, DEFAULT_DOCS_URL, render_html

SCHEMA_VERSION = 1
STATUSES = ("ready", "not_ready", "failed", "unreachable")
COLLECTION_ROOT = Path(__file__).resolve().parents[2]


def collection_version(root: Path = COLLECTION_ROOT) -> str | None:
    """The version of this collection: MANIFEST.json of an installed one, else galaxy.yml of a source tree."""
    try:
        return str(json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))["collection_info"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        found = re.search(r"^version:\s*['\"]?([^'\"\s#]+)", (root / "galaxy.yml").read_text(encoding="utf-8"), re.MULTILINE)
    except OSError:
        return None
    return found.group(1) if found else None


def _mapping(value: t.Any) -> Mapping[str, t.Any]:
    return value if isinstance(value, Mapping) else {}


def _answer(result: t.Any) -> Mapping[str, t.Any]:
    """A win_nested_info result that holds an answer, else {}."""
    result = _mapping(result)
    return result if isinstance(result.get("host"), Mapping) else {}


def _ran(result: t.Any) -> bool:
    """A registered result of a task that ran (not skipped, not missing)."""
    result = _mapping(result)
    return bool(result) and not result.get("skipped")


def _find(items: Iterable[t.Any], name: str, key: str = "name") -> Mapping[str, t.Any]:
    for item in items or []:
        if isinstance(item, Mapping) and str(item.get(key, "")).casefold() == name.casefold():
            return item
    return {}


def _l1_note(answer: Mapping[str, t.Any], result: t.Any, vm_state: str | None) -> str:
    result = _mapping(result)
    if answer:
        return "reached"
    if vm_state and vm_state != "Running":
        return "not running"
    if result.get("unreachable"):
        return "unreachable"
    if result.get("failed"):
        return f"error: {result.get('msg') or 'no message'}"
    return "not read"


def _networking_state(networking: Mapping[str, t.Any]) -> str | None:
    """present or absent when nested_networking ran for the host in this play (from its NAT or switch result), else None."""
    nat = _mapping(networking.get("nat"))
    switch = _mapping(networking.get("switch"))
    if _ran(nat) and isinstance(nat.get("nat"), Mapping) and nat["nat"].get("state") in ("present", "absent"):
        return str(nat["nat"]["state"])
    if _ran(switch) and isinstance(switch.get("switch"), Mapping) and "present" in switch["switch"]:
        return "present" if switch["switch"]["present"] else "absent"
    return None


class _GuestNetwork(t.NamedTuple):
    """What this run did and read of one L1 host's guest networking, the same for each of its guests."""

    mode: str | None
    l1_host: str
    l1_answer: Mapping[str, t.Any]
    l1_vm_name: t.Any
    nat_guests: t.Any  # the addresses the NAT task reported
    addressed_by_nat: bool  # the NAT task of this run set the NAT network up
    removed: bool  # nested_networking removed the guests' networking in this run
    nat_switch: str
    external_switch: str
    spoofing: set[str]  # MAC address spoofing of the L1 VM's adapters (On, Off), as its parent reported it


def _guest_network(
    mode: str | None, l1_answer: Mapping[str, t.Any], l1_host: str, vm: Mapping[str, t.Any], networking: Mapping[str, t.Any]
) -> _GuestNetwork:
    state = _networking_state(networking)
    nat_result = _mapping(networking.get("nat"))
    switch_result = _mapping(networking.get("switch"))
    nat_ok = _ran(nat_result) and not nat_result.get("failed") and not nat_result.get("unreachable")
    nat_switch, external_switch = _switch_names(networking)
    return _GuestNetwork(
        mode=mode,
        l1_host=l1_host,
        l1_answer=l1_answer,
        l1_vm_name=vm.get("name"),
        nat_guests=nat_result.get("guests") or [],
        addressed_by_nat=mode == "nat" and nat_ok and state == "present",
        removed=state == "absent" and (_ran(nat_result) or _ran(switch_result)),
        nat_switch=nat_switch,
        external_switch=external_switch,
        spoofing=_spoofing(vm),
    )


def _switch_names(networking: Mapping[str, t.Any]) -> tuple[str, str]:
    """The NAT switch and the external switch inside the L1 host: as nested_networking reported them, else as configured."""
    nat = _mapping(_mapping(networking.get("nat")).get("nat"))
    switch = _mapping(_mapping(networking.get("switch")).get("switch"))
    nat_switch = nat.get("switch_name") or networking.get("nat_switch") or "VmNAT"
    external_switch = switch.get("name") or networking.get("external_switch") or "NestedExternal"
    return str(nat_switch), str(external_switch)


def _spoofing(vm: Mapping[str, t.Any]) -> set[str]:
    """MAC address spoofing (On, Off) of the L1 VM's network adapters, as its parent reported them."""
    return {str(adapter.get("mac_address_spoofing")) for adapter in vm.get("adapters") or [] if isinstance(adapter, Mapping)}


class GuestProof(t.TypedDict):
    """A guest's verdict from win_nested_guest_check in the run that made the row."""

    ok: bool
    view: t.Any  # inside | l1, as the module said
    codes: list[str]


class GuestRow(t.TypedDict):
    """One L2 guest of a report row (docs/report.md, docs/report.schema.json)."""

    host: t.Any
    vm_name: str
    state: t.Any  # as the L1 host reported it; None when it was not read
    switches: list[str]
    configured_ip: t.Any
    ip: t.Any
    gateway: t.Any
    connected: bool | None
    note: str
    proof: GuestProof | None


class NetworkState(t.TypedDict):
    mode: str | None
    state: str  # up | down | partial | removed | failed | unknown


class _Connectivity(t.NamedTuple):
    """A guest row's ip, gateway, connected and note: "not known" unless this run tells more."""

    ip: t.Any = None
    gateway: t.Any = None
    connected: bool | None = None
    note: str = ""


def _guest_rows(
    guests: list[Mapping[str, t.Any]],
    mode: str | None,
    l1_answer: Mapping[str, t.Any],
    l1_host: str,
    vm: Mapping[str, t.Any],
    networking: Mapping[str, t.Any],
    proof: Mapping[str, t.Any] | None = None,
) -> list[GuestRow]:
    network = _guest_network(mode, l1_answer, l1_host, vm, networking)
    proof = _mapping(proof)
    proven = proof.get("guests") if _ran(proof) and not proof.get("failed") else None
    return [_guest_row(guest, network, proven) for guest in guests]


def _guest_row(guest: Mapping[str, t.Any], network: _GuestNetwork, proven: object) -> GuestRow:
    """One L2 guest's row: what its L1 host reported of it, and whether it is connected."""
    name = str(guest.get("vm_name") or "")
    entry = _find(network.l1_answer.get("vms") or [], name) if network.l1_answer else {}
    adapters = [adapter for adapter in entry.get("adapters") or [] if isinstance(adapter, Mapping)]
    switches = sorted({str(adapter["switch_name"]) for adapter in adapters if adapter.get("switch_name")})
    connectivity = _connectivity(guest, name, entry, switches, network)
    return {
        "host": guest.get("host"),
        "vm_name": name,
        "state": entry.get("state") if entry else None,
        "switches": switches,
        "configured_ip": guest.get("ip"),
        "ip": connectivity.ip,
        "gateway": connectivity.gateway,
        "connected": connectivity.connected,
        "note": connectivity.note,
        "proof": _proof(proven, name),
    }


def _connectivity(guest: Mapping[str, t.Any], name: str, entry: Mapping[str, t.Any], switches: list[str], network: _GuestNetwork) -> _Connectivity:
    if network.addressed_by_nat:
        return _nat_address(name, entry, network)
    if network.removed:
        return _Connectivity(connected=False, note="guest networking removed in this run")
    if not network.l1_answer:
        return _Connectivity(note=f"{network.l1_host} was not read")
    if not entry:
        return _Connectivity(connected=False, note=f"no VM named {name} on {network.l1_host}")
    if entry.get("state") != "Running":
        return _Connectivity(connected=False, note=f"the guest is {entry.get('state')}")
    if network.mode == "nat":
        return _nat_switch_words(switches, network)._replace(ip=guest.get("ip"))
    if network.mode == "mac_spoofing":
        return _external_switch_words(switches, network)
    return _Connectivity()


def _nat_address(name: str, entry: Mapping[str, t.Any], network: _GuestNetwork) -> _Connectivity:
    """A guest of a host whose NAT network this run set up: the address the NAT task gave it, if any."""
    addressed = _find(network.nat_guests, name, key="vm")
    connected = bool(addressed.get("ip")) and (entry.get("state") if entry else None) in (None, "Running")
    note = "addressed on the NAT network in this run" if connected else "not addressed in this run"
    return _Connectivity(ip=addressed.get("ip"), gateway=addressed.get("gateway"), connected=connected, note=note)


def _nat_switch_words(switches: list[str], network: _GuestNetwork) -> _Connectivity:
    """A running guest of a NAT-mode host whose address this run did not read: on the NAT switch or not."""
    if network.nat_switch in switches:
        return _Connectivity(note=f"on {network.nat_switch}; its address was not read in this run")
    return _Connectivity(connected=False, note=f"not connected to {network.nat_switch}")


def _external_switch_words(switches: list[str], network: _GuestNetwork) -> _Connectivity:
    """A running guest of a mac_spoofing-mode host: on the external switch, behind an L1 VM that spoofs MAC addresses."""
    if network.external_switch not in switches:
        return _Connectivity(connected=False, note=f"not connected to {network.external_switch}")
    if network.spoofing and network.spoofing != {"On"}:
        return _Connectivity(connected=False, note=f"MAC address spoofing is off on {network.l1_vm_name}'s adapters")
    if network.spoofing == {"On"}:
        return _Connectivity(connected=True, note=f"on {network.external_switch} (address from the network's DHCP)")
    return _Connectivity(note=f"on {network.external_switch}; MAC address spoofing of its L1 VM was not read")


def _network(mode: str | None, guests: list[GuestRow], networking: Mapping[str, t.Any]) -> NetworkState:
    state = _networking_state(networking)
    ran = _ran(networking.get("nat")) or _ran(networking.get("switch"))
    failed = any(_mapping(networking.get(key)).get("failed") for key in ("nat", "switch"))
    if mode is None:
        status = "unknown"
    elif state == "absent" and ran:
        status = "removed"
    elif failed:
        status = "failed"
    elif guests:
        status = _guests_state([guest["connected"] for guest in guests])
    else:
        status = "up" if (ran and state == "present") else "unknown"
    return {"mode": mode, "state": status}


def _guests_state(connected: list[bool | None]) -> str:
    if all(value is True for value in connected):
        return "up"
    if all(value is False for value in connected):
        return "down"
    return "partial" if False in connected else "unknown"


def _proof(proven: object, name: str) -> GuestProof | None:
    """The guest's verdict from win_nested_guest_check in this run (site.yml's proof), or None."""
    if not isinstance(proven, list):
        return None
    entry = _find([g for g in proven if isinstance(g, Mapping)], name, key="vm")
    if not entry or not isinstance(entry.get("ok"), bool):
        return None
    codes = [str(f["code"]) for f in entry.get("findings") or [] if isinstance(f, Mapping) and f.get("code")]
    return {"ok": entry["ok"], "view": entry.get("view"), "codes": codes}


class VmPart(t.TypedDict):
    """The L1 VM as its parent reported it, and its findings."""

    found: bool
    state: t.Any
    version: t.Any
    processor_count: t.Any
    startup_memory_bytes: t.Any
    expose_virtualization_extensions: t.Any
    dynamic_memory_enabled: t.Any
    mac_address_spoofing: list[str]
    blockers: list[dict[str, t.Any]]
    warnings: list[dict[str, t.Any]]


class L1Part(t.TypedDict):
    """The L1 host as it answered, and its findings."""

    reached: bool
    note: str
    build: t.Any
    hyperv_feature: t.Any
    hypervisor_present: t.Any
    blockers: list[dict[str, t.Any]]
    warnings: list[dict[str, t.Any]]


class ParentPart(t.TypedDict):
    """The L1 host's parent (L0) as it answered, and its findings."""

    reached: bool
    build: t.Any
    processor: t.Any
    blockers: list[dict[str, t.Any]]
    warnings: list[dict[str, t.Any]]


class ReportRow(t.TypedDict):
    """One L1 host's row of the report (docs/report.md, docs/report.schema.json)."""

    host: t.Any
    reported_at: t.Any
    status: str  # one of STATUSES
    error: t.Any
    parent: t.Any
    vm_name: t.Any
    network_mode: t.Any
    network: NetworkState
    nested_ready: bool
    vm: VmPart | None  # None in a row of a host that failed before it made its own
    l1: L1Part | None
    parent_host: ParentPart | None
    guests: list[GuestRow]


def nested_report_row(facts: Mapping[str, t.Any]) -> ReportRow:
    """One L1 host's report row, from what the roles read and did for it (see docs/report.md)."""
    facts = _mapping(facts)
    for name in ("host", "parent", "vm_name"):
        if not isinstance(facts.get(name), str) or not facts.get(name):
            raise AnsibleFilterError(f"nested_report_row: {name!r} must be a non-empty string.")
    host, parent, vm_name = str(facts["host"]), str(facts["parent"]), str(facts["vm_name"])
    mode = facts.get("network_mode") if facts.get("network_mode") in ("nat", "mac_spoofing") else None
    parent_answer = _answer(facts.get("parent_result"))
    l1_answer = _answer(facts.get("l1_result"))
    # A step a role of site.yml takes is marked with that role (check.yml lists it as pending, not as a blocker).
    findings = nested_l1_findings(parent_answer, host, parent, vm_name, l1_answer, network_mode=mode, deferred_codes=FIXED_BY)
    vm = _mapping(findings["vm"])
    networking = _mapping(facts.get("networking"))
    guests = _guest_rows([g for g in facts.get("guests") or [] if isinstance(g, Mapping)], mode, l1_answer, host, vm, networking,
                         _mapping(facts.get("proof")))
    nested_ready = bool(vm.get("expose_virtualization_extensions")) and bool(_mapping(l1_answer.get("host")).get("hypervisor_present"))
    failure = _mapping(facts.get("failure"))
    status = _status(failure, nested_ready, guests)
    return {
        "host": host,
        "reported_at": facts.get("at"),
        "status": status,
        "error": ((_text(failure.get("msg")) or "it failed earlier in the play; see the play output") if status in ("failed", "unreachable") else None),
        "parent": parent,
        "vm_name": vm_name,
        "network_mode": mode,
        "network": _network(mode, guests, networking),
        "nested_ready": nested_ready,
        "vm": _vm_part(vm, parent_answer, findings),
        "l1": _l1_part(l1_answer, facts.get("l1_result"), vm, findings),
        "parent_host": _parent_part(parent_answer, findings),
        "guests": guests,
    }


def _status(failure: Mapping[str, t.Any], nested_ready: bool, guests: list[GuestRow]) -> str:
    if failure.get("unreachable"):
        return "unreachable"
    if failure.get("failed"):
        return "failed"
    if nested_ready and not any(guest["connected"] is False for guest in guests):
        return "ready"
    return "not_ready"


def _at_level(findings: Mapping[str, t.Any], kind: str, level: str) -> list[dict[str, t.Any]]:
    """The blockers or warnings of nested_l1_findings found at one level (L0 host, L1 VM, L1 host)."""
    return [dict(finding) for finding in findings[kind] if finding.get("level") == level]


def _vm_part(vm: Mapping[str, t.Any], parent_answer: Mapping[str, t.Any], findings: Mapping[str, t.Any]) -> VmPart:
    return {
        "found": bool(vm.get("name")) and vm.get("state") is not None,
        "state": vm.get("state") or ("missing" if parent_answer else None),
        "version": vm.get("version"),
        "processor_count": vm.get("processor_count"),
        "startup_memory_bytes": vm.get("startup_memory_bytes"),
        "expose_virtualization_extensions": vm.get("expose_virtualization_extensions"),
        "dynamic_memory_enabled": vm.get("dynamic_memory_enabled"),
        "mac_address_spoofing": sorted(_spoofing(vm)),
        "blockers": _at_level(findings, "blockers", "L1 VM"),
        "warnings": _at_level(findings, "warnings", "L1 VM"),
    }


def _l1_part(l1_answer: Mapping[str, t.Any], l1_result: t.Any, vm: Mapping[str, t.Any], findings: Mapping[str, t.Any]) -> L1Part:
    l1_host = _mapping(l1_answer.get("host"))
    return {
        "reached": bool(l1_answer),
        "note": _l1_note(l1_answer, l1_result, vm.get("state")),
        "build": _mapping(l1_host.get("os")).get("build"),
        "hyperv_feature": l1_host.get("hyperv_feature"),
        "hypervisor_present": l1_host.get("hypervisor_present"),
        "blockers": _at_level(findings, "blockers", "L1 host"),
        "warnings": _at_level(findings, "warnings", "L1 host"),
    }


def _parent_part(parent_answer: Mapping[str, t.Any], findings: Mapping[str, t.Any]) -> ParentPart:
    parent_host = _mapping(parent_answer.get("host"))
    return {
        "reached": bool(parent_answer),
        "build": _mapping(parent_host.get("os")).get("build"),
        "processor": _mapping(parent_host.get("processor")).get("manufacturer"),
        "blockers": _at_level(findings, "blockers", "L0 host"),
        "warnings": _at_level(findings, "warnings", "L0 host"),
    }


# Registered results of tasks that run on the L1 host's parent (delegate_to): their failure is the parent's.
_ON_PARENT = {
    "nested_prerequisites_parent_info": "the check of its parent {parent}",
    "nested_vm_settings_result": "the VM settings task on its parent {parent}",
    "nested_networking_spoofing_result": "turning MAC address spoofing on, on its parent {parent}",
}

# Registered results of tasks that only wait until the L1 host answers (wait_for_connection): their
# failure means the host was not reached, although Ansible counts it as failed.
_REACHING = frozenset({"nested_hyperv_connection"})


def _text(value: t.Any) -> str:
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value or "")


def _failure_of(variables: Mapping[str, t.Any], sources: Iterable[str]) -> dict[str, t.Any]:
    """The failed or unreachable result among a host's registered results named in `sources` (last one wins)."""
    found: dict[str, t.Any] = {}
    for name in sources or []:
        if name not in variables:
            continue
        try:
            value = variables[name]
        except AnsibleError:
            continue
        if isinstance(value, Mapping) and isinstance(value.get("hosts"), Mapping) and "attention" in value:
            # A role's per-host outcomes (nested_batch_outcomes): this host's entry.
            host = variables.get("inventory_hostname") if "inventory_hostname" in variables else None
            value = value["hosts"].get(host) if host is not None else None
        if not isinstance(value, Mapping) or not (value.get("failed") or value.get("unreachable")):
            continue
        message = _text(value.get("msg"))
        if name in _ON_PARENT:
            parent = variables.get("nested_parent") if "nested_parent" in variables else "?"
            what = _ON_PARENT[name].format(parent=parent)
            found = {"failed": True, "unreachable": False, "msg": f"{what} {'was not reached' if value.get('unreachable') else 'failed'}: {message}"}
        else:
            found = {"failed": True, "unreachable": bool(value.get("unreachable")) or name in _REACHING, "msg": message}
    return found


def nested_report_failure(variables: Mapping[str, t.Any], sources: Iterable[str]) -> dict[str, t.Any]:
    """Why this host failed, from its registered results named in `sources`; {} when none of them failed."""
    return _failure_of(_mapping(variables), sources)


def nested_report_rows(
    hosts: Iterable[str],
    hostvars: Mapping[str, t.Any],
    mark: str,
    run: str,
    live: Iterable[str],
    failure_sources: Iterable[str] = (),
    at: str | None = None,
) -> list[ReportRow]:
    """The rows of this run: each host's own row (its `mark` of this `run`), and a row for each failed or
    unreachable host of `hosts` that is no longer in `live` and made none."""
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Iterable):
        raise AnsibleFilterError("nested_report_rows expects a list of inventory host names as input, e.g. ansible_play_hosts_all.")
    live_hosts = {str(host) for host in live or []}
    rows: list[ReportRow] = []
    for host in (str(name) for name in hosts):
        try:
            variables = hostvars[host]
        except (KeyError, AnsibleError):
            continue
        if not isinstance(variables, Mapping):
            continue
        row = variables[mark] if mark in variables else None
        if isinstance(row, Mapping) and row.get("run") == run and isinstance(row.get("row"), Mapping):
            rows.append(t.cast(ReportRow, dict(row["row"])))  # made by nested_report_row on that host
        elif host not in live_hosts:
            failure = _failure_of(variables, failure_sources)
            rows.append({
                "host": host,
                "reported_at": at,
                "status": "unreachable" if failure.get("unreachable") else "failed",
                "error": failure.get("msg") or "it failed or became unreachable before the report; see the play output",
                "parent": variables.get("nested_parent") if "nested_parent" in variables else None,
                "vm_name": variables.get("nested_vm_name") if "nested_vm_name" in variables else None,
                "network_mode": variables.get("nested_network_mode") if "nested_network_mode" in variables else None,
                "network": {"mode": None, "state": "unknown"},
                "nested_ready": False,
                "vm": None,
                "l1": None,
                "parent_host": None,
                "guests": [],
            })
    return rows


def _previous(previous: t.Any) -> Mapping[str, t.Any]:
    if isinstance(previous, (str, bytes)):
        try:
            previous = json.loads(previous) if previous.strip() else {}
        except ValueError:
            return {}
    previous = _mapping(previous)
    return previous if previous.get("schema_version") == SCHEMA_VERSION else {}


def nested_report_merge(previous: t.Any, rows: Iterable[Mapping[str, t.Any]], run: Mapping[str, t.Any], inventory_hosts: Iterable[str]) -> dict[str, t.Any]:
    """The report file's new content: this run's rows replace the same hosts' rows of the earlier report,
    the other rows stay (they say when they were made); rows of hosts no longer in the inventory go."""
    inventory = {str(host) for host in inventory_hosts or []}
    merged: dict[str, dict[str, t.Any]] = {}
    for row in _previous(previous).get("hosts") or []:
        if isinstance(row, Mapping) and row.get("host") in inventory and row.get("status") in STATUSES:
            merged[str(row["host"])] = dict(row)
    rows = [row for row in rows or [] if isinstance(row, Mapping) and row.get("host")]
    for row in rows:
        merged[str(row["host"])] = dict(row)
    run = dict(_mapping(run))
    run.setdefault("collection_version", collection_version())
    run.setdefault("hosts", [str(row["host"]) for row in rows or [] if isinstance(row, Mapping) and row.get("host")])
    return {
        "schema_version": SCHEMA_VERSION,
        "collection": "hyperv.nested",
        "generated_at": run.get("at"),
        "last_run": run,
        "hosts": [merged[host] for host in sorted(merged)],
    }


def _on_off(value: t.Any) -> str:
    return "-" if value is None else ("on" if value else "off")


def _cells(row: Mapping[str, t.Any]) -> list[str]:
    """A row's cells in the order of HEADERS (the console table and the Markdown table)."""
    vm = _mapping(row.get("vm"))
    return [
        str(row.get("host") or "-"),
        str(row.get("parent") or "-"),
        str(row.get("vm_name") or "-"),
        str(vm.get("state") or "-"),
        _on_off(vm.get("expose_virtualization_extensions")),
        _on_off(vm.get("dynamic_memory_enabled")),
        "/".join(str(value).lower() for value in vm.get("mac_address_spoofing") or []) or "-",
        _hyperv_cell(_mapping(row.get("l1"))),
        _network_cell(row),
        _guests_cell(row),
        {"ready": "yes", "not_ready": "no"}.get(str(row.get("status")), str(row.get("status") or "-").upper()),
        _problem_cell(row),
    ]


def _hyperv_cell(l1: Mapping[str, t.Any]) -> str:
    if not l1:
        return "-"
    return "running" if l1.get("hypervisor_present") else str(l1.get("hyperv_feature") or l1.get("note") or "-")


def _network_cell(row: Mapping[str, t.Any]) -> str:
    mode = row.get("network_mode")
    return f"{mode} {_mapping(row.get('network')).get('state') or 'unknown'}" if mode else "-"


def _guests_cell(row: Mapping[str, t.Any]) -> str:
    """Connected guests of all, and how many of them nobody knows about: 1/2 (1 ?)."""
    guests = [guest for guest in row.get("guests") or [] if isinstance(guest, Mapping)]
    if not guests:
        return "-"
    connected = sum(1 for guest in guests if guest.get("connected") is True)
    unknown = sum(1 for guest in guests if guest.get("connected") is None)
    return f"{connected}/{len(guests)}" + (f" ({unknown} ?)" if unknown else "")


def _problem_cell(row: Mapping[str, t.Any]) -> str:
    """A failed or unreachable row's error, else its blockers' reason codes."""
    if row.get("status") in ("failed", "unreachable"):
        return str(row.get("error") or "")
    codes = [str(f.get("code")) for part in ("parent_host", "vm", "l1") for f in _mapping(row.get(part)).get("blockers") or [] if isinstance(f, Mapping)]
    return ", ".join(dict.fromkeys(codes)) or "-"


HEADERS = ["L1 HOST", "PARENT", "VM", "STATE", "EXT", "DYNMEM", "MACSPOOF", "HYPERV(L1)", "NETWORK", "GUESTS", "READY", "BLOCKERS / ERROR"]


def _text_table(report: Mapping[str, t.Any], rows: list[Mapping[str, t.Any]], others: int) -> list[str]:
    table = [HEADERS] + [_cells(row) for row in rows]
    widths = [max(len(line[column]) for line in table) for column in range(len(HEADERS) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1] for line in table]
    run = _mapping(report.get("last_run"))
    lines.append(
        f"{len(rows)} L1 host(s) in this run ({_run_words(run)})"
        + (f"; {others} more in the report file from earlier runs" if others else "")
    )
    return [line.rstrip() for line in lines]


def _run_words(run: Mapping[str, t.Any]) -> str:
    words = [f"at {run.get('at') or '?'}"]
    words.append(f"limit {run['limit']}" if run.get("limit") else "no limit")
    if run.get("check_mode"):
        words.append("check mode")
    return ", ".join(words)


def _markdown(report: Mapping[str, t.Any]) -> str:
    run = _mapping(report.get("last_run"))
    rows = [row for row in report.get("hosts") or [] if isinstance(row, Mapping)]
    out = [
        "# Nested virtualization report",
        "",
        "Written by the role `hyperv.nested.nested_report`. Reason codes are explained in the collection's",
        "`docs/troubleshooting.md` and `docs/reason-codes.md`; the JSON next to this file is described in `docs/report.md`.",
        "",
        f"Last run: {run.get('play') or '?'} ({_run_words(run)}); it reported {len(run.get('hosts') or [])} L1 host(s).",
        "Rows of hosts that run did not target are kept from earlier runs: see each row's time.",
        "",
    ]
    out += _markdown_table(rows)
    for row in rows:
        out += _markdown_section(row)
    return "\n".join(out) + "\n"


def _markdown_table(rows: list[Mapping[str, t.Any]]) -> list[str]:
    """The console table's cells, and each row's time, as a Markdown table."""
    out = ["| " + " | ".join(HEADERS + ["as of"]) + " |", "|" + "---|" * (len(HEADERS) + 1)]
    for row in rows:
        cells = [cell.replace("|", "\\|") for cell in _cells(row)] + [str(row.get("reported_at") or "-")]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _markdown_section(row: Mapping[str, t.Any]) -> list[str]:
    """One L1 host's section: its error, L1 host, network, guests, blockers and warnings."""
    out = ["", f"## {row.get('host')} ({row.get('vm_name')} on {row.get('parent')})", ""]
    if row.get("status") in ("failed", "unreachable"):
        out.append(f"- {str(row.get('status')).upper()}: {row.get('error')}")
    out += _markdown_l1(row)
    network = _mapping(row.get("network"))
    out.append(f"- Network: {row.get('network_mode') or 'not set'}, {network.get('state') or 'unknown'}")
    guests = [guest for guest in row.get("guests") or [] if isinstance(guest, Mapping)]
    if guests:
        out.append("- L2 guests:")
        out += [_markdown_guest(guest) for guest in guests]
    for kind, title in (("blockers", "Blockers"), ("warnings", "Warnings")):
        out += _markdown_findings(row, kind, title)
    return out


def _markdown_l1(row: Mapping[str, t.Any]) -> list[str]:
    """What the row's L1 host answered, and the builds of it and its parent ([] for a row without it)."""
    l1 = _mapping(row.get("l1"))
    if not l1:
        return []
    build = f", build {l1.get('build')}" if l1.get("build") else ""
    parent_build = _mapping(row.get("parent_host")).get("build")
    return [f"- L1 host: {l1.get('note')}{build}" + (f" (parent build {parent_build})" if parent_build else "")]


def _markdown_guest(guest: Mapping[str, t.Any]) -> str:
    connected = {True: "connected", False: "NOT connected", None: "connectivity unknown"}[guest.get("connected")]
    address = guest.get("ip") or (f"{guest.get('configured_ip')} (configured)" if guest.get("configured_ip") else "no address read")
    return (f"  - {guest.get('host')} ({guest.get('vm_name')}): {guest.get('state') or 'state unknown'}, {address}, {connected}"
            + (f": {guest.get('note')}" if guest.get("note") else "") + proof_words(guest))


def _markdown_findings(row: Mapping[str, t.Any], kind: str, title: str) -> list[str]:
    findings = [f for part in ("parent_host", "vm", "l1") for f in _mapping(row.get(part)).get(kind) or [] if isinstance(f, Mapping)]
    if not findings:
        return []
    return ["", f"{title}:", ""] + [f"- `{f.get('code')}` ({f.get('where')}): {f.get('msg')} Fix: {f.get('fix')}" for f in findings]


def nested_report_render(
    report: Mapping[str, t.Any],
    form: str = "text",
    hosts: Iterable[str] | None = None,
    docs_url: str = DEFAULT_DOCS_URL,
    collapse_above: int = DEFAULT_COLLAPSE_ABOVE,
) -> t.Any:
    """The report as console lines (`text`, the rows of `hosts`, default all), as one Markdown document
    (`markdown`) or as one self-contained HTML page (`html`: reason codes link into `docs_url`, boxes
    collapsed above `collapse_above` L1 hosts)."""
    report = _mapping(report)
    if form == "markdown":
        return _markdown(report)
    if form == "html":
        if not isinstance(docs_url, str) or not docs_url:
            raise AnsibleFilterError("nested_report_render: docs_url must be a non-empty string (the URL of the collection's docs/ folder).")
        try:
            threshold = int(collapse_above)
        except (TypeError, ValueError):
            raise AnsibleFilterError(f"nested_report_render: collapse_above must be a whole number, got {collapse_above!r}.") from None
        if threshold < 0:
            raise AnsibleFilterError(f"nested_report_render: collapse_above must be 0 or more, got {threshold}.")
        return render_html(report, docs_url=docs_url, collapse_above=threshold)
    if form != "text":
        raise AnsibleFilterError("nested_report_render: form must be 'text', 'markdown' or 'html'.")
    rows = [row for row in report.get("hosts") or [] if isinstance(row, Mapping)]
    wanted = None if hosts is None else {str(host) for host in hosts}
    shown = [row for row in rows if wanted is None or row.get("host") in wanted]
    return _text_table(report, shown, len(rows) - len(shown))


class FilterModule:
    """hyperv.nested filters for the report."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "nested_report_row": nested_report_row,
            "nested_report_rows": nested_report_rows,
            "nested_report_failure": nested_report_failure,
            "nested_report_merge": nested_report_merge,
            "nested_report_render": nested_report_render,
        }


def proof_words(guest: Mapping[str, t.Any]) -> str:
    """The guest's proof in words for the text and Markdown reports ("" when it was not proven in that run)."""
    proof = _mapping(guest.get("proof"))
    if not isinstance(proof.get("ok"), bool):
        return ""
    codes = ", ".join(f"`{code}`" for code in proof.get("codes") or [])
    return "; proof: passed" if proof["ok"] else "; proof: FAILED" + (f" ({codes})" if codes else "")
