"""The report never hides a failure: a run in which every host fails replaces an earlier "all ready"
report with rows that say so, each with its error."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import yaml

from tests.lab.report_file import load_report

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab

REPO = Path(__file__).resolve().parents[2]
L1 = ("lab-hv1", "lab-hv2", "lab-hv3")


def earlier_ready_report(path: Path) -> None:
    """What a successful run left: every L1 host ready."""
    rows = [
        {"host": host, "reported_at": "2026-01-01T00:00:00Z", "status": "ready", "error": None, "parent": "hv01", "vm_name": host.upper(),
         "network_mode": "nat", "network": {"mode": "nat", "state": "up"}, "nested_ready": True, "vm": None, "l1": None, "parent_host": None, "guests": []}
        for host in L1
    ]
    path.mkdir(parents=True)
    (path / "nested-report.json").write_text(
        json.dumps({"schema_version": 1, "collection": "hyperv.nested", "generated_at": "2026-01-01T00:00:00Z",
                    "last_run": {"at": "2026-01-01T00:00:00Z", "play": "site", "limit": None, "check_mode": False, "hosts": list(L1)}, "hosts": rows}),
        encoding="utf-8",
    )


def test_a_run_where_every_host_fails_replaces_the_ready_report(healthy_lab: Lab, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    earlier_ready_report(reports)
    # Both Hyper-V hosts refuse the account: every L1 host fails at its parent's check.
    folder = healthy_lab.inventory.parent / "host_vars"
    folder.mkdir(exist_ok=True)
    for parent in ("hv01", "hv02"):
        (folder / f"{parent}.yml").write_text(yaml.safe_dump({"ansible_password": "not-the-password"}), encoding="utf-8")

    run = healthy_lab.playbook(REPO / "playbooks" / "site.yml", "-e", f"nested_report_dir={reports}")
    assert run.rc != 0 and all(run.recap[host]["failures"] + run.recap[host]["unreachable"] > 0 for host in L1), run.recap

    report = load_report(reports)
    rows = {row["host"]: row for row in report["hosts"]}
    assert set(rows) == set(L1)
    for host in L1:
        assert rows[host]["status"] in ("failed", "unreachable"), rows[host]
        assert rows[host]["error"] and rows[host]["reported_at"] > "2026-01-01", rows[host]
    assert any("hv01" in rows[host]["error"] for host in ("lab-hv1", "lab-hv2")), rows
    assert report["last_run"]["at"] > "2026-01-01" and sorted(report["last_run"]["hosts"]) == list(L1)
    markdown = (reports / "nested-report.md").read_text(encoding="utf-8")
    assert "| yes |" not in markdown and markdown.count("FAILED") + markdown.count("UNREACHABLE") >= len(L1)
