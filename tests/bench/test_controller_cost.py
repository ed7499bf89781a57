"""controller_cost counts every host result of every task, skipped ones included (what the controller pays for)."""

from __future__ import annotations

from tests.bench.controller_cost import task_results


def test_task_results_count_each_host_result_of_each_task_skipped_ones_included() -> None:
    report = {"plays": [{"tasks": [{"hosts": {"lab-hv1": {"changed": False}, "lab-hv2": {"skipped": True}}},
                                   {"hosts": {"lab-hv1": {"skipped": True}}}]},
                        {"tasks": [{"hosts": {"hv01": {"changed": True}}}, {"hosts": {}}]}]}
    assert task_results(report) == {"lab-hv1": 2, "lab-hv2": 1, "hv01": 1}
    assert task_results({}) == {}
