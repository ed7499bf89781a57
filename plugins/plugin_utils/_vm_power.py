# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""When win_nested_vm powers several VMs: the order of their steps across VMs.

Pure code over planned VM steps; it returns new VM plans and never changes the ones it is given.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_steps import Step, VmPlan

POWER_KINDS = ("stop_vm", "start_vm")
Order = list[tuple[str, Step]]


def power_order(vm_plans: list[VmPlan], concurrency: int, shutdown_timeout: int, start_timeout: int) -> tuple[list[VmPlan], Order | None]:
    """The VM plans and the execution order when several VMs are powered: the VMs without a power
    step first, then the powered ones in batches of `concurrency` (0: one batch), each batch
    powered at once and one batch after another. A None order keeps the plain VM-after-VM one."""
    powered = [vm for vm in vm_plans if powers(vm)]
    size = concurrency or len(powered)
    if len(powered) < 2 or size < 2:
        return vm_plans, None
    order = [(vm.name, step) for vm in vm_plans if not powers(vm) for step in vm.steps]
    replaced: dict[str, VmPlan] = {}
    for start in range(0, len(powered), size):
        batch = powered[start : start + size]
        together = power_together(batch, shutdown_timeout, start_timeout)
        if together is None:
            order.extend((vm.name, step) for vm in batch for step in vm.steps)
            continue
        batch_plans, batch_order = together
        replaced.update((vm.name, vm) for vm in batch_plans)
        order.extend(batch_order)
    return [replaced.get(vm.name, vm) for vm in vm_plans], order


def powers(vm: VmPlan) -> bool:
    return any(step.operation["kind"] in POWER_KINDS for step in vm.steps)


def stops(vm: VmPlan) -> bool:
    return any(step.operation["kind"] == "stop_vm" for step in vm.steps)


def power_together(vm_plans: list[VmPlan], shutdown_timeout: int, start_timeout: int) -> tuple[list[VmPlan], Order] | None:
    """With two or more VMs to stop or start, power them at once instead of one after another:
    every stop is issued first, each VM is changed as soon as it is off and started again right
    away, and the waits for the starts come last. One VM keeps the plain order (None).

    What a VM's plan does before its stop (removing a stale restart mark) still comes before any
    stop, and each VM's own steps gain the waits (in the VM plans returned), so its actions still
    read in order."""
    if sum(1 for vm in vm_plans if powers(vm)) < 2:
        return None
    before_stops: Order = []
    issued_stops: Order = []
    middle: Order = []
    waits_for_start: Order = []
    plans: list[VmPlan] = []
    for vm in vm_plans:
        kinds = [step.operation["kind"] for step in vm.steps]
        stop_at = kinds.index("stop_vm") if "stop_vm" in kinds else 0
        own: list[Step] = []
        for index, step in enumerate(vm.steps):
            kind = step.operation["kind"]
            if kind not in POWER_KINDS:
                own.append(step)
                (before_stops if index < stop_at else middle).append((vm.name, step))
                continue
            issued = Step(step.action, {**step.operation, "wait": False})
            if kind == "stop_vm":
                waited = wait_step(vm.name, "Off", shutdown_timeout, f"wait until it is off (up to {shutdown_timeout}s)")
                issued_stops.append((vm.name, issued))
                middle.append((vm.name, waited))
            else:
                waited = wait_step(vm.name, "Running", start_timeout, f"wait until it runs (up to {start_timeout}s)")
                middle.append((vm.name, issued))
                waits_for_start.append((vm.name, waited))
            own.extend([issued, waited])
        plans.append(dataclasses.replace(vm, steps=own))
    return plans, before_stops + issued_stops + middle + waits_for_start


def wait_step(vm_name: str, state: t.Literal["Off", "Running"], timeout: int, action: str) -> Step:
    return Step(action, {"kind": "wait_vm", "vm": vm_name, "state": state, "timeout_seconds": timeout})
