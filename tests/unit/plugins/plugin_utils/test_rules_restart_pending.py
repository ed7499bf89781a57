"""win_nested_info reports a VM left off by an interrupted win_nested_vm run: reason code
vm.restart_pending, from the probe's `restart_mark` (docs/internals/wire-protocol.md, section 3.1)."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.action.win_nested_info import ActionModule
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import CODES, evaluate, summarize, vm_verdict

from ...probe_fixtures import GB, probe_host, vm_adapter, vms_section
from ...probe_fixtures import probe_vm as shared_probe_vm
from ..action.action_harness import ActionHarness

DOCS = Path(__file__).resolve().parents[4] / "docs"
MARK = {"stopped_at": "2026-11-25T23:40:00Z"}
CODE = "vm.restart_pending"


def probe_vm(name: str = "LAB-HV1", **overrides: t.Any) -> dict[str, t.Any]:
    """A running VM, not nested yet, that draws no other finding: 4 processors, 8 GB, spoofing on."""
    return shared_probe_vm(name, processor_count=4, startup_memory_bytes=8 * GB, adapters=[vm_adapter(name, mac_address_spoofing="On")], **overrides)


def nested_vm(name: str = "LAB-HV1", **overrides: t.Any) -> dict[str, t.Any]:
    """A VM that is ready to run Hyper-V and draws no finding."""
    return probe_vm(name, **{"expose_virtualization_extensions": True, "dynamic_memory_enabled": False, **overrides})


def codes(vm: dict[str, t.Any]) -> tuple[list[str], list[str], list[str]]:
    verdict = vm_verdict(probe_host(), vm)
    return (
        [f.code for f in verdict.blockers],
        [f.code for f in verdict.warnings],
        [f.code for f in verdict.why_not_starting],
    )


def test_the_baseline_vm_draws_no_finding_off_or_running() -> None:
    assert codes(nested_vm()) == ([], [], [])
    assert codes(nested_vm(state="Off")) == ([], [], [])


def test_a_vm_that_is_off_with_a_mark_is_a_warning_with_when_and_what_to_do() -> None:
    verdict = vm_verdict(probe_host(), nested_vm(state="Off", restart_mark=MARK))
    assert verdict.ready
    assert verdict.blockers == [] and verdict.why_not_starting == []
    (finding,) = verdict.warnings
    assert finding.code == CODE
    assert finding.msg == (
        "VM 'LAB-HV1' was shut down by win_nested_vm at 2026-11-25T23:40:00Z to change its settings, "
        "and the run that stopped it ended before starting it again."
    )
    assert "power_after=previous (the default) or running" in finding.fix
    assert "it starts the VM and removes the mark." in finding.fix
    assert "Start-VM -VMName 'LAB-HV1'" in finding.fix
    assert "power_after=off forgets the mark and leaves the VM off." in finding.fix


@pytest.mark.parametrize("mark", [{"stopped_at": None}, {}, "not a mapping"])
def test_an_unreadable_mark_still_reports_the_vm_without_a_time(mark: t.Any) -> None:
    (finding,) = vm_verdict(probe_host(), nested_vm(state="Off", restart_mark=mark)).warnings
    assert finding.code == CODE
    assert "at an unknown time" in finding.msg


@pytest.mark.parametrize("state", ["Running", "Saved", "Paused", "Starting", "Stopping", "Saving"])
def test_a_mark_on_a_vm_that_is_not_off_is_not_reported(state: str) -> None:
    # Running, Paused or Saved: the mark is stale (the VM was started since); otherwise a stop may be under way.
    blockers, warnings, why = codes(nested_vm(state=state, restart_mark=MARK))
    assert CODE not in blockers + warnings + why


@pytest.mark.parametrize("overrides", [{"restart_mark": None}, {}])
def test_no_mark_no_finding(overrides: dict[str, t.Any]) -> None:
    vm = nested_vm(state="Off", **overrides)
    if not overrides:
        del vm["restart_mark"]  # an answer from before restart marks
    assert codes(vm) == ([], [], [])


def test_the_pending_restart_does_not_hide_or_replace_other_findings() -> None:
    vm = probe_vm("LAB-HV2", state="Off", restart_mark=MARK)  # not nested yet: extensions hidden, dynamic memory
    blockers, warnings, why = codes(vm)
    assert blockers == ["vm.extensions_not_exposed"]
    assert "vm.dynamic_memory_enabled" in warnings and CODE in warnings
    assert CODE not in why


def test_a_name_with_wildcard_characters_gets_the_exact_selection_in_the_fix() -> None:
    (finding,) = vm_verdict(probe_host(), nested_vm("lab[1]", state="Off", restart_mark=MARK)).warnings
    assert "VM 'lab[1]'" in finding.msg
    assert "Start-VM -VM (Get-VM | Where-Object Name -eq 'lab[1]')" in finding.fix


def test_the_report_lists_it_as_a_warning_and_stays_ready() -> None:
    host = probe_host()
    report = evaluate(host, vms_section(nested_vm(state="Off", restart_mark=MARK), nested_vm("LAB-HV2")), None)
    assert report.ready
    shaped = report.as_dict()["vms"]
    assert [w["code"] for w in shaped["LAB-HV1"]["warnings"]] == [CODE]
    assert shaped["LAB-HV1"]["why_not_starting"] == []
    assert shaped["LAB-HV2"]["warnings"] == []
    assert "1 warning(s); see verdict." in summarize(host, report)


def test_win_nested_info_returns_it_in_the_vm_verdict() -> None:
    answer = {"host": probe_host(), "vms": vms_section(nested_vm(state="Off", restart_mark=MARK))}
    result = ActionHarness(ActionModule, {"name": ["LAB-HV1"]}).respond(answer).run()
    assert "failed" not in result and result["changed"] is False
    assert result["ready"] is True
    entry = result["verdict"]["vms"]["LAB-HV1"]
    assert [w["code"] for w in entry["warnings"]] == [CODE]
    assert set(entry["warnings"][0]) == {"code", "msg", "fix"}
    assert result["vms"][0]["restart_mark"] == MARK


def test_the_code_is_registered_and_documented() -> None:
    assert CODE in CODES
    guide = (DOCS / "reason-codes.md").read_text(encoding="utf-8")
    section = guide.split(f"## `{CODE}`", 1)[1].split("\n## ", 1)[0]
    assert section.lstrip().startswith("Warning")
    assert "restart-marks" in section and "power_after" in section
    table = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    assert re.search(rf"^\| `{re.escape(CODE)}` \| warning \|", table, flags=re.MULTILINE)
