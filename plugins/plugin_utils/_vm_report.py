# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Shape win_nested_vm's result from its plan and, after a run, from the executor's report."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_planner import PlannedVms
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_steps import VmPlan


def vm_results(plan: PlannedVms, vm_states: dict[str, t.Any] | None = None) -> list[dict[str, t.Any]]:
    """Per VM: name, changed, before, after, actions. `vm_states` (from the executor) wins for power."""
    results = []
    for vm in plan.vms:
        after = dict(vm.after)
        if vm_states and vm.name in vm_states:
            after["power_state"] = vm_states[vm.name]
        results.append({"name": vm.name, "changed": vm.changed, "before": vm.before, "after": after, "actions": vm.actions})
    return results


def planned(plan: PlannedVms) -> Planned:
    """The VM plan as the planner contract: the per-VM steps read as operations, `vms` as values."""
    vms = vm_results(plan)
    shown = diff(plan, vms)
    return Planned(
        operations=plan.operations,
        before=shown["before"],
        after=shown["after"],
        after_header=shown.get("after_header"),
        warnings=plan.warnings,
        notes=plan.notes,
        values={"vms": vms},
        on_failure=plan.on_failure,
    )


_POWER_KINDS = {"stop_vm": "stopped", "start_vm": "started"}


def diff(plan: PlannedVms, vms: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """Settings before and after per VM; the header names power cycles, which the states alone hide."""
    cycles = []
    for vm in plan.vms:
        kinds = [_POWER_KINDS[step.operation["kind"]] for step in vm.steps if step.operation["kind"] in _POWER_KINDS]
        if kinds:
            cycles.append(f"{vm.name} {' and '.join(kinds)}")
    result: dict[str, t.Any] = {
        "before": {vm["name"]: vm["before"] for vm in vms},
        "after": {vm["name"]: vm["after"] for vm in vms},
    }
    if cycles:
        result["after_header"] = _shortlist(cycles)
    return result


def _shortlist(items: list[str]) -> str:
    """The first ten items, and how many more there are."""
    return ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")


def _names(vms: list[VmPlan]) -> str:
    return _shortlist([vm.name for vm in vms])


def success_message(plan: PlannedVms, check_mode: bool) -> str:
    changed = [vm for vm in plan.vms if vm.changed]
    total = len(plan.vms)
    noun = "VM" if total == 1 else "VMs"
    if not changed:
        if total == 1:
            return f"VM {plan.vms[0].name} is already as requested; nothing to do."
        return f"All {total} {noun} are already as requested; nothing to do."
    verb = "Would change" if check_mode else "Changed"
    message = f"{verb} {len(changed)} of {total} {noun} ({_names(changed)})"
    unchanged = total - len(changed)
    if unchanged:
        message += f"; {unchanged} already as requested"
    return message + ". See vms[].actions for what " + ("would happen." if check_mode else "was done.")


def failure_report(plan: PlannedVms, outcome: dict[str, t.Any]) -> tuple[str, bool, list[dict[str, t.Any]]]:
    """(msg, whether anything was applied, per-VM progress) after the executor stopped part-way."""
    reports = list(outcome.get("operations") or [])
    status = [str(report.get("status")) for report in reports]
    failed_index = outcome["failed_index"]
    steps = plan.steps
    reason = (reports[failed_index].get("message") if isinstance(failed_index, int) and 0 <= failed_index < len(reports) else None) or "no reason given"
    if isinstance(failed_index, int) and 0 <= failed_index < len(steps):
        failed_vm, failed_step = steps[failed_index]
        headline = f"VM {failed_vm!r}: {failed_step.action!r} failed: {reason.rstrip('.')}."
    else:
        # Not what this plan sent: say so rather than guess which step it was.
        headline = f"The host reported a failure at operation {failed_index!r} of {len(steps)}: {reason.rstrip('.')}."

    progress: dict[str, dict[str, list[str]]] = {vm.name: {"applied": [], "not_applied": []} for vm in plan.vms}
    for index, (vm_name, step) in enumerate(steps):
        done = index < len(status) and status[index] == "ok"
        progress[vm_name]["applied" if done else "not_applied"].append(step.action)
    applied_any = any(entry["applied"] for entry in progress.values())

    parts = [headline]
    applied = [f"{name}: {'; '.join(entry['applied'])}" for name, entry in progress.items() if entry["applied"]]
    parts.append("Applied: " + (" | ".join(applied) if applied else "nothing") + ".")
    pending = [f"{name}: {'; '.join(entry['not_applied'])}" for name, entry in progress.items() if entry["not_applied"]]
    if pending:
        parts.append("Not applied: " + " | ".join(pending) + ".")
    parts.extend(_restore_sentences(plan, outcome))

    states = outcome.get("vm_states") or {}
    per_vm = [
        {
            "name": vm.name,
            "before": vm.before,
            "applied": progress[vm.name]["applied"],
            "not_applied": progress[vm.name]["not_applied"],
            "power_state": states.get(vm.name),
        }
        for vm in plan.vms
    ]
    return " ".join(parts), applied_any, per_vm


def _restore_sentences(plan: PlannedVms, outcome: dict[str, t.Any]) -> list[str]:
    restore_reports = list(outcome.get("on_failure") or [])
    states = outcome.get("vm_states") or {}
    restored, failed = [], []
    for index, operation in enumerate(plan.on_failure):
        report = restore_reports[index] if index < len(restore_reports) else {}
        if report.get("status") == "ok":
            restored.append(operation["vm"])
        else:
            failed.append(f"{operation['vm']} ({report.get('message') or report.get('status') or 'not run'})")
    sentences = []
    if restored:
        sentences.append(f"Running again as before: {', '.join(restored)}.")
    if failed:
        sentences.append(
            f"Could NOT start again: {', '.join(failed)}. Rerun the task (the host keeps a restart mark for each, "
            "so power_after=previous starts them) or start them yourself."
        )
    if states:
        sentences.append("Power states now: " + ", ".join(f"{name} {state}" for name, state in states.items()) + ".")
    return sentences
