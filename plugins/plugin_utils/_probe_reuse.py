# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""An earlier read of a host (a win_nested_info result) as the answer to a later module's probe.

win_nested_info records what it asked (`read`: the host, when, the sections, the VM names, the
guests and their user names) next to what it found. A later module on the same host may plan
from that read instead of probing again (its `earlier_read` option), through the same planner:
`answer_from_read` rebuilds, from the read, exactly the answer the module's own probe would
get, or says why it cannot. The read is refused when:

- it was made on another host, or before a change this collection's modules made on the host
  (the `hyperv_nested_changed_at` fact they set, `changed_since`);
- the module asks for a section the read does not hold, a VM it did not list (the read lists
  them all or none), or a guest it did not read from inside, or read with another user name.

Pure code: the action plugin decides what to do with a refusal (probe as usual).
"""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import GuestReport, ProbeAnswer, VmInfo, VmsSection

# The fact each changing module of the collection sets on the host of its task when it changed
# something there (nanoseconds since the epoch on the controller).
CHANGED_AT_FACT = "hyperv_nested_changed_at"

# The probe sections a read may answer for a later module; `platform` comes from the host section.
_READABLE = ("host", "vms", "network", "guests", "platform")


class Refused(t.NamedTuple):
    """Why an earlier read cannot answer this probe (one sentence)."""

    reason: str


def read_record(parameters: t.Mapping[str, t.Any], answer: t.Mapping[str, t.Any], host: str | None, at_ns: int) -> dict[str, t.Any]:
    """What win_nested_info records about its own probe (the sections it got): never a password."""
    return {
        "host": host,
        "at_ns": at_ns,
        "sections": [section for section in _READABLE if section in answer],
        "vm_names": None if parameters.get("vm_names") is None else list(parameters["vm_names"]),
        "guests": [{"vm": g.get("vm"), "username": g.get("username")} for g in parameters.get("guests") or []],
    }


def changed_since(read: t.Mapping[str, t.Any], changed_at: object) -> bool:
    """Whether a module of the collection changed the host after the read (a missing fact: never)."""
    if changed_at is None:
        return False
    try:
        return int(t.cast(t.Any, changed_at)) >= int(read.get("at_ns") or 0)
    except (TypeError, ValueError):
        return True


def _project_vms(section: t.Mapping[str, t.Any], listed: list[VmInfo], names: list[str] | None) -> VmsSection:
    """The vms section for `names` from a read of every VM, as the probe script selects them
    (exact, case-insensitive names; the host's order)."""
    projected = t.cast(VmsSection, {key: value for key, value in section.items() if key != "vms"})
    if names is None:
        projected["vms"] = list(listed)
        return projected
    if not section.get("hyperv_module") or "access_denied" in section or "service_unavailable" in section:
        # The probe script's answer when it cannot list VMs: no names, no VMs.
        projected.update({"missing": [], "duplicates": [], "vms": []})
        return projected
    all_names = [str(name).casefold() for name in section.get("all_names") or []]
    counts = [all_names.count(name.casefold()) for name in names]
    projected["missing"] = [name for name, count in zip(names, counts, strict=True) if count == 0]
    projected["duplicates"] = [name for name, count in zip(names, counts, strict=True) if count > 1]
    wanted = {name.casefold() for name in names}
    projected["vms"] = [vm for vm in listed if str(vm.get("name", "")).casefold() in wanted]
    return projected


def answer_from_read(read_result: t.Mapping[str, t.Any] | None, parameters: t.Mapping[str, t.Any],
                     host: str | None, changed_at: object = None) -> ProbeAnswer | Refused:
    """The probe answer `parameters` would get on `host`, from an earlier win_nested_info result."""
    if not read_result:
        return Refused("no earlier read was given")
    read = read_result.get("read")
    if not isinstance(read, t.Mapping):
        return Refused("the earlier result is not a win_nested_info read")
    if read.get("host") != host:
        return Refused(f"the earlier read was made on {read.get('host')!r}, not on {host!r}")
    if changed_since(read, changed_at):
        return Refused("a module of this collection changed the host after the earlier read")
    read_sections = set(read.get("sections") or [])
    answer: dict[str, t.Any] = {}
    for section in parameters.get("sections") or []:
        if section not in _READABLE:
            return Refused(f"the probe section {section!r} cannot be answered from a read")
        if section == "platform":
            if "host" not in read_sections or not isinstance((read_result.get("host") or {}).get("platform"), t.Mapping):
                return Refused("the earlier read has no host section (and so no platform)")
            answer["platform"] = read_result["host"]["platform"]
        elif section == "vms":
            refused = _vms_answer(read_result, read, parameters.get("vm_names"), answer)
            if refused:
                return refused
        elif section == "guests":
            refused = _guests_answer(read_result, read, parameters.get("guests") or [], answer)
            if refused:
                return refused
        elif section not in read_sections or section not in read_result:
            return Refused(f"the earlier read has no {section} section")
        else:
            answer[section] = read_result[section]
    return t.cast(ProbeAnswer, answer)


def _vms_answer(read_result: t.Mapping[str, t.Any], read: t.Mapping[str, t.Any], names: object,
                answer: dict[str, t.Any]) -> Refused | None:
    if "vms" not in (read.get("sections") or []) or not isinstance(read_result.get("vms_section"), t.Mapping):
        return Refused("the earlier read has no vms section")
    if read.get("vm_names") is not None:
        # A read of some VMs answers only the same request (its missing/duplicates are for those names).
        if names is None or [str(n) for n in t.cast(list[t.Any], names)] != list(read["vm_names"]):
            return Refused("the earlier read listed other VMs")
    requested = None if names is None else [str(n) for n in t.cast(list[t.Any], names)]
    answer["vms"] = _project_vms(read_result["vms_section"], list(read_result.get("vms") or []), requested)
    return None


def _guests_answer(read_result: t.Mapping[str, t.Any], read: t.Mapping[str, t.Any], wanted: list[t.Any],
                   answer: dict[str, t.Any]) -> Refused | None:
    if not wanted:
        answer["guests"] = []
        return None
    if "guests" not in (read.get("sections") or []) or not isinstance(read_result.get("guests"), list):
        return Refused(f"the earlier read has no guests section ({read_result.get('guests_unavailable') or 'not asked'})")
    recorded = [(str(g.get("vm", "")).casefold(), g.get("username")) for g in read.get("guests") or []]
    found: dict[str, tuple[t.Any, GuestReport]] = {}
    for (name, username), report in zip(recorded, read_result["guests"], strict=False):
        found.setdefault(name, (username, report))
    reports: list[GuestReport] = []
    for guest in wanted:
        name = str(guest.get("vm", ""))
        if name.casefold() not in found:
            return Refused(f"the earlier read did not read the guest {name!r} from inside")
        username, report = found[name.casefold()]
        if username != guest.get("username"):
            return Refused(f"the earlier read read the guest {name!r} as another user")
        reports.append(t.cast(GuestReport, {**report, "vm": name}))  # the probe names each guest as it was asked
    answer["guests"] = reports
    return None
