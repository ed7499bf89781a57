# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape win_nested_info findings for the roles (documentation: nested_findings.yml, nested_finding_line.yml)."""

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleFilterError

# Reason codes a role of the collection fixes, and which role. An L1 host's processor findings
# follow from its parent not exposing virtualization extensions yet, which nested_vm_settings does.
FIXED_BY = {
    "vm.extensions_not_exposed": "nested_vm_settings",
    "vm.dynamic_memory_enabled": "nested_vm_settings",
    "host.hyperv_not_installed": "nested_hyperv",
    "host.hyperv_powershell_missing": "nested_hyperv",
    "host.hypervisor_not_running": "nested_hyperv",
    "host.processor_unsupported": "nested_vm_settings",
    "host.slat_missing": "nested_vm_settings",
    "host.virtualization_disabled_in_firmware": "nested_vm_settings",
    "vm.mac_spoofing_off": "nested_networking",
}
_L1_PROCESSOR_CODES = ("host.processor_unsupported", "host.slat_missing", "host.virtualization_disabled_in_firmware")
# Expected on every L1 host, so not worth a warning there: it is a VM (that is the point).
_EXPECTED_AT_L1 = frozenset({"host.is_virtual_machine"})


def nested_findings(findings: Iterable[Mapping[str, t.Any]] | None, where: str, level: str, deferred_codes: Iterable[str] = ()) -> list[dict[str, t.Any]]:
    """Each finding with where it was found, and whether a later role fixes it (its code is deferred)."""
    deferred = set(deferred_codes or ())
    shaped = []
    for finding in findings or []:
        if not isinstance(finding, Mapping) or "code" not in finding:
            raise AnsibleFilterError(f"nested_findings expects win_nested_info findings (code, msg, fix), got {finding!r}")
        is_deferred = finding["code"] in deferred
        shaped.append({**finding, "where": where, "level": level, "deferred": is_deferred, "fixed_by": FIXED_BY.get(finding["code"]) if is_deferred else None})
    return shaped


def nested_finding_line(finding: Mapping[str, t.Any], label: str = "BLOCKER") -> str:
    """One readable line: label, reason code, where, message, and the fix or the role that makes it."""
    text = f"{label} [{finding.get('code')}] {finding.get('where', '?')}: {finding.get('msg', '')}"
    if finding.get("deferred"):
        fixed_by = finding.get("fixed_by")
        text += f" ({fixed_by} fixes this in site.yml)" if fixed_by else " (a later role of site.yml fixes this)"
    elif finding.get("fix"):
        text += f" Fix: {finding['fix']}"
    return text


def _list(value: t.Any) -> list[Mapping[str, t.Any]]:
    return [item for item in value if isinstance(item, Mapping) and "code" in item] if isinstance(value, list) else []


def _mapping(value: t.Any) -> Mapping[str, t.Any]:
    return value if isinstance(value, Mapping) else {}


def _answer(result: t.Any) -> Mapping[str, t.Any]:
    """A win_nested_info result that holds an answer, else {}."""
    return result if isinstance(result, Mapping) and isinstance(result.get("host"), Mapping) else {}


def _l1_note(l1_result: t.Any, vm_state: str | None) -> str:
    if not isinstance(l1_result, Mapping) or not l1_result or l1_result.get("skipped"):
        return f"not checked (its VM is {vm_state or 'missing'})"
    if l1_result.get("unreachable"):
        return f"not reachable: {l1_result.get('msg') or ''}".rstrip(": ")
    if l1_result.get("failed") or not _answer(l1_result):
        return f"check failed: {l1_result.get('msg') or ''}".rstrip(": ")
    return "checked"


class _Read(t.NamedTuple):
    """What win_nested_info read of one L1 host's parent, its VM there, and the L1 host itself ({} where nothing)."""

    parent_answer: Mapping[str, t.Any]
    parent_verdict: Mapping[str, t.Any]
    vm: Mapping[str, t.Any]
    vm_verdict: Mapping[str, t.Any] | None  # None: the parent reported no verdict for the VM
    l1_answer: Mapping[str, t.Any]
    l1_verdict: Mapping[str, t.Any]


class _Place(t.NamedTuple):
    """Where each level's findings were made, for their `where`."""

    parent: str
    vm: str
    host: str


def _read(parent_result: t.Any, vm_name: str, l1_result: t.Any) -> _Read:
    parent_answer = _answer(parent_result)
    vms = [vm for vm in parent_answer.get("vms") or [] if isinstance(vm, Mapping)]
    vm = next((vm for vm in vms if str(vm.get("name", "")).casefold() == vm_name.casefold()), {})
    verdict = _mapping(parent_answer.get("verdict"))
    vm_verdicts = _mapping(verdict.get("vms"))
    vm_verdict = vm_verdicts.get(vm.get("name", vm_name)) or next(
        (value for key, value in vm_verdicts.items() if str(key).casefold() == vm_name.casefold()), None
    )
    l1_answer = _answer(l1_result)
    return _Read(
        parent_answer=parent_answer,
        parent_verdict=_mapping(verdict.get("host")),
        vm=vm,
        vm_verdict=vm_verdict,
        l1_answer=l1_answer,
        l1_verdict=_mapping(_mapping(l1_answer.get("verdict")).get("host")),
    )


def _blockers(read: _Read, place: _Place, vm_name: str, deferred_codes: Iterable[str]) -> list[dict[str, t.Any]]:
    """Every level's blockers, deferred where a later role takes the step. An L1 host's processor
    findings are deferred while its VM does not expose virtualization extensions."""
    deferred = set(deferred_codes or ())
    l1_deferred = deferred | (set(_L1_PROCESSOR_CODES) if not read.vm.get("expose_virtualization_extensions") else set())
    if not read.parent_answer:
        vm_blockers: list[Mapping[str, t.Any]] = []
    elif isinstance(read.vm_verdict, Mapping):
        vm_blockers = _list(read.vm_verdict.get("blockers"))
    else:
        vm_blockers = [{"code": "vm.not_found", "msg": f"{place.parent} reported nothing about a VM named {vm_name}.",
                        "fix": f"Check {place.host}'s nested_vm_name and nested_parent in the inventory."}]
    return (
        nested_findings(_list(read.parent_verdict.get("blockers")), place.parent, "L0 host", deferred)
        + nested_findings(vm_blockers, place.vm, "L1 VM", deferred)
        + nested_findings(_list(read.l1_verdict.get("blockers")), place.host, "L1 host", l1_deferred)
    )


class _Warnings(t.NamedTuple):
    warnings: list[dict[str, t.Any]]
    pending: list[dict[str, t.Any]]  # warnings about a step a later role takes
    notes: list[dict[str, t.Any]]  # expected in this setup, or informational: never printed as warnings


def _warnings(read: _Read, place: _Place, network_mode: str | None) -> _Warnings:
    """Every level's warnings, sorted by what the collection expects, and every level's notes."""
    sorted_ = _Warnings([], [], [])
    sorted_.warnings.extend(nested_findings(_list(read.parent_verdict.get("warnings")), place.parent, "L0 host", set()))
    for finding in nested_findings(_list(_mapping(read.vm_verdict).get("warnings")), place.vm, "L1 VM", set()):
        if finding["code"] == "vm.mac_spoofing_off" and network_mode == "nat":
            sorted_.notes.append(finding)  # deliberate: NAT needs no spoofing
        elif finding["code"] == "vm.mac_spoofing_off" and network_mode == "mac_spoofing":
            sorted_.pending.append({**finding, "deferred": True, "fixed_by": FIXED_BY[finding["code"]]})
        else:
            sorted_.warnings.append(finding)
    for finding in nested_findings(_list(read.l1_verdict.get("warnings")), place.host, "L1 host", set()):
        (sorted_.notes if finding["code"] in _EXPECTED_AT_L1 else sorted_.warnings).append(finding)
    for source, where, level in (
        (read.parent_verdict, place.parent, "L0 host"),
        (_mapping(read.vm_verdict), place.vm, "L1 VM"),
        (read.l1_verdict, place.host, "L1 host"),
    ):
        sorted_.notes.extend(nested_findings(_list(source.get("notes")), where, level, set()))
    return sorted_


def _spoofing_left_on(read: _Read, place: _Place, vm_name: str, network_mode: str | None) -> list[dict[str, t.Any]]:
    """A warning when a NAT-mode L1 VM still spoofs MAC addresses (left from mac_spoofing mode, most likely)."""
    spoofing = {str(adapter.get("mac_address_spoofing")) for adapter in read.vm.get("adapters") or [] if isinstance(adapter, Mapping)}
    if network_mode != "nat" or "On" not in spoofing:
        return []
    host, parent = place.host, place.parent
    return [{
        "code": "l1.mac_spoofing_left_on", "where": place.vm, "level": "L1 VM", "deferred": False, "fixed_by": None,
        "msg": f"MAC address spoofing is on for {vm_name}'s network adapters, but {host}'s nested_network_mode is nat, which does not need it.",
        "fix": (f"If it was left from mac_spoofing mode, turn it off: run site.yml with nested_vm_settings_mac_address_spoofing: 'off' "
                f"for {host}, or on {parent}: Get-VMNetworkAdapter -VMName '{vm_name}' | Set-VMNetworkAdapter -MacAddressSpoofing Off."),
    }]


def nested_l1_findings(
    parent_result: t.Any,
    host: str,
    parent: str,
    vm_name: str,
    l1_result: t.Any = None,
    network_mode: str | None = None,
    deferred_codes: Iterable[str] = (),
) -> dict[str, t.Any]:
    """Everything the prerequisite check found for one L1 host, its VM and its parent, ready to print.

    The collection's own expectations are applied here, not in win_nested_info: an L1 host is
    a VM (no host.is_virtual_machine warning there), a NAT-mode L1 VM needs no MAC address
    spoofing (no vm.mac_spoofing_off warning; spoofing left on is flagged instead), and the
    codes in `deferred_codes` are steps the later roles take, not blockers. Informational
    `notes` of win_nested_info, where it has them, are kept apart and never printed as warnings.
    """
    _check_names(host=host, parent=parent, vm_name=vm_name)
    read = _read(parent_result, vm_name, l1_result)
    place = _Place(parent=parent, vm=f"{parent}/{vm_name}", host=host)
    blockers = _blockers(read, place, vm_name, deferred_codes)
    found = _warnings(read, place, network_mode)
    warnings = found.warnings + _spoofing_left_on(read, place, vm_name, network_mode)
    deferred = [finding for finding in blockers if finding["deferred"]]
    blocking = [finding for finding in blockers if not finding["deferred"]]
    pending = deferred + found.pending
    l1_note = _l1_note(l1_result, read.vm.get("state"))
    summary = _summary(vm_name, parent, blocking, pending, l1_note)
    return {
        "host": host,
        "parent": parent,
        "vm_name": vm_name,
        "network_mode": network_mode,
        "parent_host": read.parent_answer.get("host"),
        "vm": read.vm,
        "vm_verdict": read.vm_verdict if isinstance(read.vm_verdict, Mapping) else {},
        "l1_host": read.l1_answer.get("host"),
        "l1_note": l1_note,
        "blockers": blockers,
        "warnings": warnings,
        "notes": found.notes,
        "deferred": deferred,
        "pending": pending,
        "blocking": blocking,
        "summary": summary,
        "lines": [summary] + _lines(blocking, "BLOCKER") + _lines(pending, "PENDING") + _lines(warnings, "warning"),
    }


def _check_names(**names: t.Any) -> None:
    for name, value in names.items():
        if not isinstance(value, str) or not value:
            raise AnsibleFilterError(f"nested_l1_findings: {name!r} must be a non-empty string.")


def _lines(findings: list[dict[str, t.Any]], label: str) -> list[str]:
    return [nested_finding_line(finding, label) for finding in findings]


def _summary(vm_name: str, parent: str, blocking: list[dict[str, t.Any]], pending: list[dict[str, t.Any]], l1_note: str) -> str:
    order = ["nested_vm_settings", "nested_hyperv", "nested_networking"]
    named = {str(finding.get("fixed_by") or "a later role") for finding in pending}
    roles = sorted(named, key=lambda role: (order.index(role) if role in order else len(order), role))
    if not blocking and not pending:
        state = "ready"
    elif not blocking:
        state = f"not nested yet: {len(pending)} step(s) left for {' and '.join(roles)} (site.yml), nothing blocks it"
    else:
        state = f"{len(blocking)} blocker(s) that site.yml cannot fix"
        if pending:
            state += f", and {len(pending)} step(s) left for {' and '.join(roles)}"
    return f"{vm_name} on {parent}: {state}; L1 host {l1_note}"


class FilterModule:
    """hyperv.nested filters for findings."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_findings": nested_findings, "nested_finding_line": nested_finding_line, "nested_l1_findings": nested_l1_findings}
