"""The report filters' exact answers, pinned before _guest_rows, nested_l1_findings and the renderers were
split into named phases (issue 19).

Each scenario changes the facts of test_nested_report.facts() (or the arguments of nested_l1_findings)
and compares the whole answer with `nested_report_golden.json`, recorded from the filters as they
were before the split: every row, every finding and line, and the text, Markdown and HTML renderings
of a report holding all the rows. After an intended change, record again with `HVN_RECORD_GOLDEN=1`
and review the diff.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.filter.nested_findings import FIXED_BY, nested_l1_findings
from ansible_collections.hyperv.nested.plugins.filter.nested_report import (
    nested_report_merge,
    nested_report_render,
    nested_report_row,
    nested_report_rows,
)

from ...golden import codes_in, load_golden
from .test_nested_report import WARN_SPOOF, WARN_VM, facts, guest, l1_answer, parent_answer

GOLDEN = Path(__file__).with_name("nested_report_golden.json")

BLOCK_EXT = {"code": "vm.extensions_not_exposed", "msg": "Not exposed.", "fix": "Expose."}
BLOCK_L0 = {"code": "host.virtualization_disabled_in_firmware", "msg": "VT-x is off.", "fix": "Turn it on in firmware."}
BLOCK_L1_CPU = {"code": "host.slat_missing", "msg": "No SLAT.", "fix": "Expose extensions."}
BLOCK_L1_HV = {"code": "host.hyperv_not_installed", "msg": "No Hyper-V.", "fix": "Install it."}
BLOCK_OTHER = {"code": "host.unsupported_os", "msg": "Client SKU | old.", "fix": "Use <Server>."}
WARN_L0 = {"code": "host.low_memory", "msg": "Little memory.", "fix": "Add memory."}
WARN_DYN = {"code": "vm.dynamic_memory_enabled", "msg": "Dynamic memory.", "fix": "Turn it off."}
NOTE = {"code": "host.note_only", "msg": "For the record.", "fix": ""}
NAT_PRESENT = {"nat": {"changed": False, "nat": {"state": "present", "switch_name": "VmNAT"},
                       "guests": [{"vm": "LAB-VM1", "ip": "192.168.100.11", "gateway": "192.168.100.1"}, {"vm": "lab-vm2", "ip": None}]}}
PROOF = {"changed": False, "guests": [
    {"vm": "LAB-VM1", "ok": True, "view": "inside", "findings": []},
    {"vm": "lab-vm2", "ok": False, "view": "outside", "findings": [{"code": "guest.no_address"}, {"msg": "no code"}, "junk"]},
]}


def parent(spoofing: str = "Off", extensions: bool = True, **verdicts: t.Any) -> dict[str, t.Any]:
    """parent_answer() with its host and VM verdict lists replaced (host_blockers=, vm_warnings=, vm_notes= ...)."""
    answer = parent_answer(spoofing, extensions)
    vm_verdict = answer["verdict"]["vms"]["LAB-HV1"]
    for key, value in verdicts.items():
        part, kind = key.split("_", 1)
        (answer["verdict"]["host"] if part == "host" else vm_verdict)[kind] = value
    return answer


def l1(guests: list[dict[str, t.Any]] | None = None, **verdict: t.Any) -> dict[str, t.Any]:
    answer = l1_answer(guests)
    answer["verdict"]["host"].update(verdict)
    return answer


TWO_GUESTS = [guest("LAB-VM1"), guest("LAB-VM2")]

# name -> facts changes for nested_report_row (see test_nested_report.facts).
ROWS: dict[str, dict[str, t.Any]] = {
    "default": {},
    "nat-addressed": {"l1_result": l1_answer(TWO_GUESTS), "networking": NAT_PRESENT},
    "nat-addressed-one-off": {"networking": NAT_PRESENT},
    "nat-failed": {"networking": {"nat": {"failed": True, "msg": "boom", "nat": {"state": "present"}}}},
    "nat-unreachable": {"networking": {"nat": {"unreachable": True, "msg": "gone"}}},
    "nat-skipped": {"networking": {"nat": {"skipped": True}}},
    "nat-removed": {"networking": {"nat": {"changed": True, "nat": {"state": "absent"}, "guests": []}}},
    "nat-custom-switch": {"l1_result": l1_answer([guest("LAB-VM1", switch="Inner"), guest("LAB-VM2", switch="VmNAT")]),
                          "networking": {"nat_switch": "Inner"}},
    "nat-switch-from-result": {"l1_result": l1_answer([guest("LAB-VM1", switch="Lab")]),
                               "networking": {"nat": {"failed": True, "nat": {"switch_name": "Lab"}}}},
    "nat-no-switch": {"l1_result": l1_answer([guest("LAB-VM1", switch=None), guest("LAB-VM2")])},
    "nat-no-guests": {"guests": []},
    "nat-no-guests-present": {"guests": [], "networking": NAT_PRESENT},
    "nat-guests-not-mappings": {"guests": ["lab-vm1", {"host": "lab-vm9", "vm_name": "LAB-VM9"}]},
    "guest-without-name": {"guests": [{"host": "lab-vm0"}]},
    "guest-missing-on-l1": {"guests": [{"host": "lab-vm9", "vm_name": "LAB-VM9", "ip": "192.168.100.19"}]},
    "guest-saved": {"l1_result": l1_answer([guest("LAB-VM1", state="Saved"), guest("LAB-VM2")])},
    "guest-adapters-junk": {"l1_result": l1_answer([{"name": "LAB-VM1", "state": "Running", "adapters": ["x", {"switch_name": ""}]}])},
    "l1-not-read": {"l1_result": {}},
    "l1-unreachable": {"l1_result": {"unreachable": True, "msg": "timed out"}},
    "l1-failed": {"l1_result": {"failed": True, "msg": ""}},
    "l1-vm-off": {"parent_result": parent_answer() | {"vms": [{"name": "LAB-HV1", "state": "Off", "adapters": []}]}, "l1_result": {}},
    "l1-skipped": {"l1_result": {"skipped": True}},
    "parent-not-read": {"parent_result": {"failed": True, "msg": "no route"}},
    "parent-vm-missing": {"parent_result": parent_answer() | {"vms": []}},
    "spoofing-up": {"network_mode": "mac_spoofing", "parent_result": parent("On"),
                    "l1_result": l1_answer([guest("LAB-VM1", switch="NestedExternal"), guest("LAB-VM2", switch="NestedExternal")])},
    "spoofing-off": {"network_mode": "mac_spoofing",
                     "l1_result": l1_answer([guest("LAB-VM1", switch="NestedExternal"), guest("LAB-VM2", switch="NestedExternal")])},
    "spoofing-mixed": {"network_mode": "mac_spoofing",
                       "parent_result": parent_answer() | {"vms": [{"name": "LAB-HV1", "state": "Running", "expose_virtualization_extensions": True,
                                                                    "adapters": [{"mac_address_spoofing": "On"}, {"mac_address_spoofing": "Off"}]}]},
                       "l1_result": l1_answer([guest("LAB-VM1", switch="NestedExternal")])},
    "spoofing-not-read": {"network_mode": "mac_spoofing",
                          "parent_result": parent_answer() | {"vms": [{"name": "LAB-HV1", "state": "Running", "adapters": "junk"}]},
                          "l1_result": l1_answer([guest("LAB-VM1", switch="NestedExternal")])},
    "spoofing-wrong-switch": {"network_mode": "mac_spoofing", "parent_result": parent("On")},
    "spoofing-switch-from-result": {"network_mode": "mac_spoofing", "parent_result": parent("On"),
                                    "l1_result": l1_answer([guest("LAB-VM1", switch="Ext")]),
                                    "networking": {"switch": {"changed": True, "switch": {"name": "Ext", "present": True}}}},
    "spoofing-switch-variable": {"network_mode": "mac_spoofing", "parent_result": parent("On"),
                                 "l1_result": l1_answer([guest("LAB-VM1", switch="Ext")]), "networking": {"external_switch": "Ext"}},
    "spoofing-switch-removed": {"network_mode": "mac_spoofing", "networking": {"switch": {"changed": True, "switch": {"present": False}}}},
    "spoofing-switch-failed": {"network_mode": "mac_spoofing", "networking": {"switch": {"failed": True, "msg": "x"}}},
    "spoofing-no-guests-present": {"network_mode": "mac_spoofing", "guests": [],
                                   "networking": {"switch": {"changed": False, "switch": {"name": "NestedExternal", "present": True}}}},
    "mode-unknown": {"network_mode": "bridge"},
    "mode-none-no-guests": {"network_mode": None, "guests": []},
    "proof": {"proof": PROOF},
    "proof-failed-task": {"proof": {**PROOF, "failed": True}},
    "proof-skipped": {"proof": {**PROOF, "skipped": True}},
    "proof-not-a-list": {"proof": {"guests": "x"}},
    "proof-without-verdict": {"proof": {"guests": [{"vm": "LAB-VM1", "ok": "yes"}]}},
    "failed": {"failure": {"failed": True, "msg": ["The parent could not be checked:", "no route"]}},
    "failed-no-message": {"failure": {"failed": True}},
    "failed-with-blockers": {"failure": {"failed": True, "msg": "blocked"}, "parent_result": parent(host_blockers=[BLOCK_L0])},
    "unreachable": {"failure": {"unreachable": True, "failed": True, "msg": "x" * 400}},
    "extensions-off": {"parent_result": parent(extensions=False)},
    "blockers-everywhere": {"parent_result": parent(extensions=False, host_blockers=[BLOCK_L0], vm_warnings=[WARN_DYN, WARN_SPOOF]),
                            "l1_result": l1(TWO_GUESTS, blockers=[BLOCK_L1_CPU, BLOCK_L1_HV, BLOCK_OTHER], warnings=[WARN_VM, WARN_L0])},
    "warnings-only": {"parent_result": parent(host_warnings=[WARN_L0], vm_warnings=[WARN_DYN]), "l1_result": l1_answer(TWO_GUESTS),
                      "networking": NAT_PRESENT},
    "hypervisor-not-running": {"l1_result": {"host": {"os": {}, "hyperv_feature": "Disabled", "hypervisor_present": False}, "vms": TWO_GUESTS}},
    "nat-spoofing-left-on": {"parent_result": parent("On")},
    "no-mode-spoofing-warning": {"network_mode": None, "parent_result": parent(vm_warnings=[WARN_SPOOF])},
    "html-specials": {"host": "<lab&hv1>", "vm_name": "LAB-HV1", "parent": "hv01\"'", "parent_result": parent(host_blockers=[BLOCK_OTHER])},
}

# name -> (positional arguments after parent_result, keyword arguments) of nested_l1_findings.
L1 = ("lab-hv1", "hv01", "LAB-HV1")
FINDINGS: dict[str, tuple[t.Any, tuple[t.Any, ...], dict[str, t.Any]]] = {
    "nothing-read": (None, L1, {}),
    "parent-failed": ({"failed": True}, L1, {"l1_result": {"failed": True, "msg": "no"}}),
    "vm-missing": (parent_answer() | {"vms": ["junk"]}, L1, {"l1_result": {"unreachable": True}}),
    "vm-missing-no-verdict": (parent_answer() | {"vms": [], "verdict": {"vms": {}}}, L1, {}),
    "vm-other-case": (parent(), ("lab-hv1", "hv01", "lab-hv1"), {"l1_result": l1_answer()}),
    "verdict-other-case": (parent_answer() | {"vms": [], "verdict": {"vms": {"lab-HV1": {"blockers": [BLOCK_EXT]}}}}, L1, {}),
    "verdict-not-mapping": (parent_answer() | {"verdict": {"vms": {"LAB-HV1": "x"}, "host": "y"}}, L1, {"l1_result": {"skipped": True}}),
    "nat": (parent(vm_warnings=[WARN_SPOOF, WARN_DYN]), L1, {"l1_result": l1_answer(), "network_mode": "nat"}),
    "mac-spoofing": (parent(vm_warnings=[WARN_SPOOF]), L1, {"l1_result": l1_answer(), "network_mode": "mac_spoofing"}),
    "nat-left-on": (parent("On"), L1, {"l1_result": l1_answer(), "network_mode": "nat"}),
    "deferred-all": (parent(extensions=False, host_blockers=[BLOCK_L0]), L1,
                     {"l1_result": l1(blockers=[BLOCK_L1_CPU, BLOCK_L1_HV]), "deferred_codes": FIXED_BY, "network_mode": "mac_spoofing"}),
    "deferred-none": (parent(extensions=False, host_blockers=[BLOCK_L0]), L1, {"l1_result": l1(blockers=[BLOCK_L1_CPU, BLOCK_L1_HV])}),
    "extensions-exposed-cpu-codes-block": (parent(), L1, {"l1_result": l1(blockers=[BLOCK_L1_CPU]), "deferred_codes": ["host.hyperv_not_installed"]}),
    "mixed-pending-and-blocking": (parent(extensions=False, vm_warnings=[WARN_SPOOF]), L1,
                                   {"l1_result": l1(blockers=[BLOCK_OTHER, BLOCK_L1_HV]), "deferred_codes": FIXED_BY, "network_mode": "mac_spoofing"}),
    "unknown-fixer": (parent(extensions=False), L1, {"deferred_codes": ["vm.extensions_not_exposed", "host.unknown"],
                                                     "l1_result": l1(blockers=[{"code": "host.unknown", "msg": "?"}])}),
    "notes-everywhere": (parent(host_notes=[NOTE], vm_notes=[NOTE, "junk"], host_warnings="junk"), L1,
                         {"l1_result": l1(notes=[NOTE], warnings=[WARN_VM, WARN_L0])}),
    "bad-host": (parent(), ("", "hv01", "LAB-HV1"), {}),
    "bad-parent": (parent(), ("lab-hv1", None, "LAB-HV1"), {}),
    "bad-vm-name": (parent(), ("lab-hv1", "hv01", 3), {}),
    "bad-finding": (parent(vm_blockers=[{"code": "x"}]) | {"verdict": {"host": {"blockers": []}, "vms": {"LAB-HV1": {"blockers": [{"code": "vm.x"}]}}}},
                    L1, {}),
}


def row_of(name: str) -> dict[str, t.Any]:
    return nested_report_row(facts(**ROWS[name]))


def findings_of(name: str) -> dict[str, t.Any]:
    parent_result, arguments, options = FINDINGS[name]
    try:
        return nested_l1_findings(parent_result, *arguments, **options)
    except AnsibleFilterError as error:
        return {"error": str(error)}


def report() -> dict[str, t.Any]:
    """A report of every row scenario, every other one of this run (the rest are stale), and two rows
    of hosts that failed before the report."""
    gone = {"nested_parent": "hv01", "nested_vm_name": "LAB-GONE", "nested_network_mode": "nat",
            "nested_hyperv_connection": {"failed": True, "msg": "never answered"}}
    rows = nested_report_rows(["zz-gone", "zz-gone2"], {"zz-gone": gone, "zz-gone2": {}}, "mark", "run1", [],
                              ["nested_hyperv_connection"], at="2026-05-01T10:00:00Z")
    for index, name in enumerate(ROWS):
        row = row_of(name)
        row["host"] = f"{index:02d}-{row['host']}"  # sorted by host in the report: the scenarios' order
        row["parent"] = f"hv0{index % 3}" if name != "html-specials" else row["parent"]
        rows.append(row)
    run = {"at": "2026-05-01T10:00:00Z", "play": "site.yml", "limit": "lab", "check_mode": True, "collection_version": "1.2.3",
           "hosts": [row["host"] for row in rows[::2]] + ["zz-gone", "zz-gone2"]}
    return nested_report_merge(None, rows, run, [row["host"] for row in rows])


def renderings() -> dict[str, t.Any]:
    whole = report()
    return {
        "text": nested_report_render(whole),
        "text-some": nested_report_render(whole, hosts=[whole["hosts"][0]["host"], "nobody"]),
        "markdown": nested_report_render(whole, "markdown"),
        "html": nested_report_render(whole, "html", docs_url="https://docs.example/x", collapse_above=10),
        "html-open": nested_report_render({**whole, "hosts": whole["hosts"][:8]}, "html"),
        "html-empty": nested_report_render({}, "html"),
        "markdown-empty": nested_report_render({}, "markdown"),
        "errors": [error_of(whole, *arguments) for arguments in (("pdf",), ("html", ""), ("html", "u", "x"), ("html", "u", -1))],
    }


def error_of(whole: dict[str, t.Any], form: str, docs_url: t.Any = "u", collapse_above: t.Any = 1) -> str:
    try:
        nested_report_render(whole, form, docs_url=docs_url, collapse_above=collapse_above)
    except AnsibleFilterError as error:
        return str(error)
    return "no error"


def recorded() -> dict[str, t.Any]:
    return {"rows": {name: row_of(name) for name in ROWS}, "findings": {name: findings_of(name) for name in FINDINGS},
            "renderings": renderings()}


@pytest.fixture(scope="module")
def golden() -> dict[str, t.Any]:
    return load_golden(GOLDEN, recorded)


@pytest.mark.parametrize("name", ROWS)
def test_row_exactly_as_recorded(golden: dict[str, t.Any], name: str) -> None:
    assert row_of(name) == golden["rows"][name]


@pytest.mark.parametrize("name", FINDINGS)
def test_l1_findings_exactly_as_recorded(golden: dict[str, t.Any], name: str) -> None:
    assert findings_of(name) == golden["findings"][name]


def test_renderings_exactly_as_recorded(golden: dict[str, t.Any]) -> None:
    now = renderings()
    for form, text in golden["renderings"].items():
        assert now[form] == text, form


def test_the_scenarios_reach_the_codes_they_are_meant_to() -> None:
    # Guards the scenarios themselves: if a helper stopped producing these codes, the golden file would pin nothing.
    codes = set(codes_in(t.cast(t.Any, recorded())))
    assert {"vm.not_found", "l1.mac_spoofing_left_on", "host.slat_missing", "vm.mac_spoofing_off", "host.hyperv_not_installed"} <= codes
