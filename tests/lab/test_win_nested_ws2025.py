"""A default Windows Server 2025 Hyper-V host (build 26100, virtualization-based security running,
as Credential Guard is by default) whose L1 VM runs with dynamic memory and a checkpoint: Microsoft's
current guidance sets none of these against nesting, so playbooks/site.yml converges on it like on
any other host (tests/simulator/labs/ws2025-vbs.yml)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def test_site_converges_on_a_ws2025_host_running_vbs(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("ws2025-vbs")
    extra = ("-e", f"nested_report_dir={tmp_path / 'reports'}")
    first = lab.playbook(PLAYBOOKS / "site.yml", *extra)
    first.assert_ok()
    assert first.total("changed") > 0

    vm = {entry["name"]: entry for entry in lab.show("hv-2025")["vms"]["vms"]}["LAB-2025"]
    assert (vm["expose_virtualization_extensions"], vm["state"]) == (True, "Running")
    assert [checkpoint["name"] for checkpoint in vm["checkpoints"]] == ["before-nesting"]     # never deleted
    assert lab.show("hv-2025")["host"]["vbs"]["running"] is True                               # never turned off
    assert lab.show("lab-2025")["host"]["hypervisor_present"] is True
    assert lab.connectivity("lab-2025-vm1")["connected"] is True

    report = json.loads((tmp_path / "reports" / "nested-report.json").read_text(encoding="utf-8"))
    (row,) = report["hosts"]
    assert row["nested_ready"] is True
    assert row["parent_host"]["blockers"] == [] and row["vm"]["blockers"] == []

    second = lab.playbook(PLAYBOOKS / "site.yml", *extra)
    second.assert_ok()
    assert second.total("changed") == 0, second.recap
