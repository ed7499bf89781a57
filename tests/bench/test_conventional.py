"""The conventional playbook (tests/bench/conventional/site.yml) is a fair opponent: it converges a fresh
generated lab, changes nothing on its second run, and leaves the lab in the state the collection's
site.yml reports as converged (check mode, changed=0). The side-by-side benchmark runs end to end on the
smallest fleet, and site.yml's converged run stays within its round trips.

Times are never asserted (docs/benchmark.md reports them); the realistic timing model is scaled down
(--timing-scale 0.02) so that the power cycles, the feature install and the restart take seconds.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tests.bench import side_by_side
from tests.bench.measure import Lab, hvsim


@pytest.fixture
def fresh_lab(tmp_path: Path) -> t.Iterator[Lab]:
    lab_file = side_by_side.fleet_lab(tmp_path, 1, timing_scale=0.02)
    lab = Lab.up(lab_file, tmp_path / "lab")
    try:
        yield lab
    finally:
        lab.down()


def test_the_conventional_playbook_converges_idempotently_to_what_site_reports_as_converged(fresh_lab: Lab, tmp_path: Path) -> None:
    report = ["-e", f"report_dir={tmp_path}"]
    first, _cpu = side_by_side.run_file(fresh_lab, side_by_side.PLAYBOOKS["conventional"], 5, report)
    assert first.failed == 0 and first.changed > 0, first.output
    second, _cpu = side_by_side.run_file(fresh_lab, side_by_side.PLAYBOOKS["conventional"], 5, report)
    assert second.failed == 0 and second.changed == 0, second.output
    checked, _cpu = side_by_side.run_file(fresh_lab, side_by_side.PLAYBOOKS["site.yml"], 5,
                                          ["--check", "-e", f"nested_report_dir={tmp_path}"])
    assert checked.failed == 0 and checked.changed == 0, checked.output
    # The end state itself: nested on the parent, Hyper-V, the networking and the guest's address inside the L1 hosts.
    parent = json.loads(hvsim("show", "hv01", "--state", str(fresh_lab.state_dir)))
    for vm in parent["vms"]["vms"]:
        assert vm["expose_virtualization_extensions"] is True and vm["state"] == "Running", vm
    assert (tmp_path / "conventional-report.md").read_text(encoding="utf-8").count("| Installed |") == 2


def test_the_side_by_side_benchmark_runs_on_one_host(tmp_path: Path) -> None:
    assert side_by_side.main(["--sizes", "1", "--timing-scale", "0.02", "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "side_by_side.json").read_text(encoding="utf-8"))
    runs = {(run["playbook"], run["phase"]): run for run in document["runs"]}
    assert set(runs) == {("site.yml", "first"), ("site.yml", "converged"), ("raw", "floor"),
                         ("conventional", "first"), ("conventional", "converged")}
    assert runs["site.yml", "converged"]["changed"] == 0 and runs["conventional", "converged"]["changed"] == 0
    assert runs["raw", "floor"]["commands_per_host"] == 1
    # One L0 host and two L1 hosts: site.yml's converged run sends 3 commands to the three of them (the
    # parent's read; each L1 host's own read, from which its NAT or switch module and the NAT-mode L1 host's
    # proof plan when nothing changed since: docs/benchmark.md), fewer than the conventional playbook's 13.
    assert runs["site.yml", "converged"]["commands_per_host"] == round(3 / 3, 2)
    assert runs["conventional", "converged"]["commands_per_host"] == round(13 / 3, 2)
    assert runs["site.yml", "converged"]["commands_per_host"] < runs["conventional", "converged"]["commands_per_host"]
    # Task results, what the controller pays for: the floor is one raw task on each of the 3 hosts, 1.5 per L1 host.
    assert runs["raw", "floor"]["task_results_per_l1_host"] == 1.5
    assert runs["conventional", "converged"]["task_results_per_l1_host"] >= 1
