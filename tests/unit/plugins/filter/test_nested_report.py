"""The report filters: rows (guests, network, status), merging with the earlier file, and the words of
the console table and the Markdown."""

from __future__ import annotations

import json
import typing as t

from ansible_collections.hyperv.nested.plugins.filter.nested_findings import nested_finding_line, nested_l1_findings
from ansible_collections.hyperv.nested.plugins.filter.nested_report import (
    FilterModule,
    collection_version,
    nested_report_failure,
    nested_report_merge,
    nested_report_render,
    nested_report_row,
    nested_report_rows,
)

WARN_SPOOF = {"code": "vm.mac_spoofing_off", "msg": "MAC address spoofing is off.", "fix": "Turn it on."}
WARN_VM = {"code": "host.is_virtual_machine", "msg": "This host is a VM.", "fix": "Nothing."}


def parent_answer(spoofing: str = "Off", extensions: bool = True, warnings: list[dict[str, str]] | None = None) -> dict[str, t.Any]:
    return {
        "host": {"os": {"build": 20348}, "processor": {"manufacturer": "GenuineIntel"}},
        "vms": [{"name": "LAB-HV1", "state": "Running", "expose_virtualization_extensions": extensions, "dynamic_memory_enabled": False,
                 "adapters": [{"name": "Network Adapter", "mac_address_spoofing": spoofing}]}],
        "verdict": {"host": {"blockers": [], "warnings": []},
                    "vms": {"LAB-HV1": {"blockers": [] if extensions else [{"code": "vm.extensions_not_exposed", "msg": "Not exposed.", "fix": "Expose."}],
                                        "warnings": warnings or []}}},
    }


def l1_answer(guests: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    return {"host": {"os": {"build": 20348}, "hyperv_feature": "Enabled", "hypervisor_present": True},
            "vms": guests or [], "verdict": {"host": {"blockers": [], "warnings": [WARN_VM]}}}


def guest(name: str, state: str = "Running", switch: str | None = "VmNAT") -> dict[str, t.Any]:
    return {"name": name, "state": state, "adapters": [{"name": "Network Adapter", "switch_name": switch}]}


def findings(mode: str | None, spoofing: str = "Off") -> dict[str, t.Any]:
    return nested_l1_findings(parent_answer(spoofing, warnings=[WARN_SPOOF]), "lab-hv1", "hv01", "LAB-HV1", l1_answer(), network_mode=mode)


def test_noise_is_filtered_by_what_the_collection_expects() -> None:
    nat = findings("nat")
    assert [f["code"] for f in nat["warnings"]] == [] and {f["code"] for f in nat["notes"]} == {"vm.mac_spoofing_off", "host.is_virtual_machine"}
    spoofing = findings("mac_spoofing")
    assert [f["code"] for f in spoofing["pending"]] == ["vm.mac_spoofing_off"] and spoofing["warnings"] == []
    assert "nested_networking fixes this" in spoofing["lines"][-1]
    # Spoofing left on by an earlier mac_spoofing setup, for a host now in NAT mode, is flagged.
    left = findings("nat", spoofing="On")
    assert [f["code"] for f in left["warnings"]] == ["l1.mac_spoofing_left_on"]
    # Unknown mode: the module's warning stays.
    assert [f["code"] for f in findings(None)["warnings"]] == ["vm.mac_spoofing_off"]


def test_pending_steps_are_not_called_blockers_and_name_their_role() -> None:
    result = nested_l1_findings(parent_answer(extensions=False), "lab-hv1", "hv01", "LAB-HV1", l1_answer(), "nat", ["vm.extensions_not_exposed"])
    assert result["blocking"] == [] and [f["code"] for f in result["pending"]] == ["vm.extensions_not_exposed"]
    assert result["summary"] == "LAB-HV1 on hv01: not nested yet: 1 step(s) left for nested_vm_settings (site.yml), nothing blocks it; L1 host checked"
    assert not any(line.startswith("BLOCKER") for line in result["lines"]) and "fixed by the next roles" not in " ".join(result["lines"])
    blocked = nested_l1_findings(parent_answer(extensions=False), "lab-hv1", "hv01", "LAB-HV1", l1_answer(), "nat", [])
    assert blocked["summary"].startswith("LAB-HV1 on hv01: 1 blocker(s) that site.yml cannot fix")
    assert nested_finding_line(blocked["blocking"][0]) == "BLOCKER [vm.extensions_not_exposed] hv01/LAB-HV1: Not exposed. Fix: Expose."


def facts(**changes: t.Any) -> dict[str, t.Any]:
    base = {
        "host": "lab-hv1.lab.example.com", "parent": "hv01.lab.example.com", "vm_name": "LAB-HV1", "network_mode": "nat", "at": "2026-05-01T10:00:00Z",
        "parent_result": parent_answer(), "l1_result": l1_answer([guest("LAB-VM1"), guest("LAB-VM2", state="Off")]),
        "guests": [{"host": "lab-vm1", "vm_name": "LAB-VM1", "ip": "192.168.100.11"}, {"host": "lab-vm2", "vm_name": "LAB-VM2", "ip": None}],
        "networking": {}, "failure": {},
    }
    return {**base, **changes}


def test_guests_show_addresses_and_connectivity_and_a_guest_that_is_off_makes_the_host_not_ready() -> None:
    row = nested_report_row(facts())
    first, second = row["guests"]
    assert (first["connected"], first["ip"]) == (None, "192.168.100.11")  # on VmNAT, address not read in this run
    assert second["connected"] is False and second["note"] == "the guest is Off"
    assert row["status"] == "not_ready" and row["network"] == {"mode": "nat", "state": "partial"}
    nat = {"nat": {"changed": False, "nat": {"state": "present", "switch_name": "VmNAT"},
                   "guests": [{"vm": "LAB-VM1", "ip": "192.168.100.11", "gateway": "192.168.100.1"}, {"vm": "LAB-VM2", "ip": "192.168.100.2"}]}}
    addressed = nested_report_row(facts(l1_result=l1_answer([guest("LAB-VM1"), guest("LAB-VM2")]), networking=nat))
    assert [g["connected"] for g in addressed["guests"]] == [True, True] and addressed["status"] == "ready"
    assert addressed["network"]["state"] == "up"
    removed = nested_report_row(facts(networking={"nat": {"changed": True, "nat": {"state": "absent"}, "guests": []}}))
    assert removed["network"]["state"] == "removed" and all(g["connected"] is False for g in removed["guests"])


def test_a_failed_host_row_carries_its_error() -> None:
    row = nested_report_row(facts(failure={"failed": True, "msg": ["The parent could not be checked:", "no route"]}))
    assert row["status"] == "failed" and row["error"] == "The parent could not be checked: no route"


def test_rows_of_this_run_and_of_hosts_that_failed_before_the_report() -> None:
    own = {"host": "a", "status": "ready"}
    hostvars = {
        "a": {"row": {"run": "R", "row": own}},
        "b": {"nested_parent": "hv01", "nested_vm_settings_result": {"unreachable": True, "msg": "no route to hv01"}},
        "c": {},  # skipped the report, still live: keeps its earlier row
        "d": {"row": {"run": "old", "row": {"host": "d"}}, "user_task": {"failed": True, "msg": "not today"}},
    }
    rows = nested_report_rows(["a", "b", "c", "d"], hostvars, "row", "R", ["a", "c"], ["nested_vm_settings_result", "user_task"], "T")
    assert [row["host"] for row in rows] == ["a", "b", "d"]
    assert rows[1]["status"] == "failed" and rows[1]["error"] == "the VM settings task on its parent hv01 was not reached: no route to hv01"
    assert rows[2]["status"] == "failed" and rows[2]["error"] == "not today"


def row(host: str, at: str, status: str = "ready") -> dict[str, t.Any]:
    vm = {"state": "Running", "expose_virtualization_extensions": True, "dynamic_memory_enabled": False, "mac_address_spoofing": ["Off"], "blockers": []}
    return {
        "host": host, "reported_at": at, "status": status, "parent": "hv01", "vm_name": host.upper(), "network_mode": "nat",
        "network": {"mode": "nat", "state": "up"}, "vm": vm, "l1": {"hypervisor_present": True, "blockers": []}, "parent_host": {"blockers": []},
        "guests": [],
    }


def test_a_limited_run_merges_into_the_earlier_report_and_gone_hosts_drop_out() -> None:
    earlier = nested_report_merge(None, [row("a", "T1"), row("b", "T1"), row("gone", "T1")], {"at": "T1", "limit": None}, ["a", "b", "gone"])
    merged = nested_report_merge(json.dumps(earlier), [row("b", "T2", "failed")], {"at": "T2", "limit": "b"}, ["a", "b"])
    assert [(r["host"], r["reported_at"], r["status"]) for r in merged["hosts"]] == [("a", "T1", "ready"), ("b", "T2", "failed")]
    assert merged["last_run"] == {"at": "T2", "limit": "b", "hosts": ["b"], "collection_version": collection_version()} and merged["generated_at"] == "T2"
    assert merged["schema_version"] == 1
    # An unreadable or older file is not merged.
    assert [r["host"] for r in nested_report_merge("{not json", [row("a", "T3")], {"at": "T3"}, ["a", "b"])["hosts"]] == ["a"]
    assert [r["host"] for r in nested_report_merge({"hosts": [row("b", "T0")]}, [row("a", "T3")], {"at": "T3"}, ["a", "b"])["hosts"]] == ["a"]


def test_console_columns_stay_aligned_with_fqdn_names_and_words_match_the_markdown() -> None:
    report = nested_report_merge(None, [row("lab-hv1.lab.example.com", "T"), row("b", "T")], {"at": "T"}, ["lab-hv1.lab.example.com", "b"])
    lines = nested_report_render(report, "text")
    header, first, second = lines[:3]
    for column in ("PARENT", "STATE", "EXT", "READY"):
        assert first[header.index(column) - 1] == " " and second[header.index(column) - 1] == " ", (column, lines)
    assert first.split()[4:7] == ["on", "off", "off"]
    markdown = nested_report_render(report, "markdown")
    assert "| lab-hv1.lab.example.com | hv01 | LAB-HV1.LAB.EXAMPLE.COM | Running | on | off | off | running | nat up | - | yes | - | T |" in markdown
    assert "True" not in markdown and "False" not in markdown
    assert nested_report_render(report, "text", hosts=["b"])[-1].endswith("1 more in the report file from earlier runs")
    assert set(FilterModule().filters()) == {"nested_report_row", "nested_report_rows", "nested_report_failure", "nested_report_merge", "nested_report_render"}


def test_an_l1_host_that_never_answered_is_unreachable_not_failed() -> None:
    """nested_hyperv waits for the L1 host (wait_for_connection); when that times out, the host was not reached."""
    timed_out = {"failed": True, "msg": "timed out waiting for ping module test: Connection refused", "elapsed": 600}
    failure = nested_report_failure({"nested_hyperv_connection": timed_out}, ["nested_hyperv_before", "nested_hyperv_connection"])
    assert failure == {"failed": True, "unreachable": True, "msg": "timed out waiting for ping module test: Connection refused"}
    assert nested_report_row(facts(failure=failure))["status"] == "unreachable"
    # A later failure of another task (the host was reached then) is a failure.
    later = nested_report_failure({"nested_hyperv_connection": timed_out, "nested_hyperv_after": {"failed": True, "msg": "no hypervisor"}},
                                  ["nested_hyperv_connection", "nested_hyperv_after"])
    assert later["unreachable"] is False


def test_a_step_a_role_of_site_takes_is_marked_with_that_role_in_the_report() -> None:
    fresh = nested_report_row(facts(parent_result=parent_answer(extensions=False)))
    assert fresh["status"] == "not_ready"
    assert [(f["code"], f["deferred"], f["fixed_by"]) for f in fresh["vm"]["blockers"]] == [("vm.extensions_not_exposed", True, "nested_vm_settings")]


PROOF = {"changed": False, "ok": False, "guests": [
    {"vm": "lab-vm1", "view": "inside", "ok": True, "findings": []},
    {"vm": "LAB-VM2", "view": "l1", "ok": False,
     "findings": [{"code": "guest.not_running", "message": "The guest is Off.", "fix": "Start the guest."}]}]}


def test_each_guest_carries_its_proof_verdict_and_reason_codes() -> None:
    proven = nested_report_row(facts(proof=PROOF))
    first, second = proven["guests"]
    assert first["proof"] == {"ok": True, "view": "inside", "codes": []}   # matched case-insensitively, as Hyper-V names
    assert second["proof"] == {"ok": False, "view": "l1", "codes": ["guest.not_running"]}
    # No proof in this run (skipped, failed, not in site.yml's play): null, never a guess.
    for proof in ({"skipped": True, "changed": False}, {"failed": True, "msg": "boom"}, {}):
        assert [g["proof"] for g in nested_report_row(facts(proof=proof))["guests"]] == [None, None]
    assert [g["proof"] for g in nested_report_row(facts())["guests"]] == [None, None]
    markdown = nested_report_render(nested_report_merge(None, [proven], {"at": "T"}, [proven["host"]]), "markdown")
    assert "lab-vm1 (LAB-VM1): Running, 192.168.100.11, connectivity unknown: on VmNAT; its address was not read in this run; proof: passed" in markdown
    assert "proof: FAILED (`guest.not_running`)" in markdown
