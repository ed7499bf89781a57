"""The benchmark's deterministic figures, on the simulated fleet: WinRM round trips per task.

Times are reported by `tests/bench/bench.py` (docs/benchmark.md), never asserted: they depend on the
machine and on what else runs on it. Round trips do not: they are the collection's contract.
"""

from __future__ import annotations

import typing as t

import pytest

from tests.bench import bench
from tests.bench.measure import Lab

if t.TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def module_costs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bench.TaskCost]:
    lab = Lab.up(bench.HEALTHY, tmp_path_factory.mktemp("bench") / "modules")
    try:
        return {cost.scenario: cost for cost in bench.per_module(lab, repeat=2)}
    finally:
        lab.down()


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, bench.BatchCost]]:
    yield {row.vms: row for row in bench.batching(tmp_path_factory.mktemp("batch"), [1, 3])}


def test_a_converged_module_task_is_one_round_trip(module_costs: dict[str, bench.TaskCost]) -> None:
    assert module_costs["raw (floor)"].commands_per_task == 1
    assert module_costs["win_nested_info"].commands_per_task == 1
    assert module_costs["win_nested_vm converged"].commands_per_task == 1


def test_a_change_is_two_round_trips_without_power_waits(module_costs: dict[str, bench.TaskCost]) -> None:
    assert module_costs["win_nested_vm change (no power cycle)"].commands_per_task == 2


def test_a_batched_task_needs_one_round_trip_whatever_the_number_of_vms(batches: dict[int, bench.BatchCost]) -> None:
    assert batches[1].batched_commands == 1
    assert batches[3].batched_commands == 1


def test_a_loop_needs_one_round_trip_per_vm(batches: dict[int, bench.BatchCost]) -> None:
    assert batches[1].loop_commands == 1
    assert batches[3].loop_commands == 3


@pytest.fixture(scope="module")
def power_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bench.PowerRun]:
    """Two running VMs power-cycled (state=enabled, power=shutdown) by one task and by a loop, each on a fresh lab."""
    root = tmp_path_factory.mktemp("power")
    lab_file = bench.power_lab(root, 2, {"shutdown_seconds": 0.2, "boot_seconds": 0.2, "reboot_seconds": 0.5})
    return {mode: bench.power_once(lab_file, root / mode, mode) for mode in ("together", "loop")}


def test_one_task_power_cycles_several_vms_in_two_round_trips(power_runs: dict[str, bench.PowerRun]) -> None:
    assert power_runs["together"].commands == 2


def test_a_loop_power_cycles_each_vm_with_round_trips_of_its_own(power_runs: dict[str, bench.PowerRun]) -> None:
    assert power_runs["loop"].commands == 4
