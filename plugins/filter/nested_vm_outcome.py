# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VM's part of a win_nested_vm result that covered several VMs (documentation: nested_vm_outcome.yml)."""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import vm_reference


def _lines_for(commands: t.Any, name: str) -> list[str]:
    """The command lines that select this VM (each line names its VM by the same exact reference)."""
    if not isinstance(commands, list):
        return []
    reference = vm_reference(name)
    return [line for line in commands if isinstance(line, str) and reference in line]


def nested_vm_outcome(result: t.Any, vm: str | None = None) -> dict[str, t.Any]:
    """What a win_nested_vm task did (or, in check mode, would do) to one of its VMs, or to any of them.

    The result may be missing (the task did not run), skipped, failed part-way or unreachable.
    """
    if vm is not None and (not isinstance(vm, str) or not vm):
        raise AnsibleFilterError("nested_vm_outcome: 'vm' must be the VM's name.")
    if not isinstance(result, Mapping) or not result:
        return {"vm": vm, "ran": False, "changed": False, "failed": False, "msg": "", "actions": [], "commands": []}
    if result.get("skipped"):
        return {"vm": vm, "ran": False, "changed": False, "failed": False, "msg": str(result.get("skip_reason") or ""), "actions": [], "commands": []}
    failed = bool(result.get("failed") or result.get("unreachable"))
    entries = [entry for entry in result.get("vms") or [] if isinstance(entry, Mapping)]
    if vm is None:
        chosen = entries
    else:
        chosen = [entry for entry in entries if str(entry.get("name", "")).casefold() == vm.casefold()]
    changed = any(bool(entry.get("changed")) or bool(entry.get("applied")) for entry in chosen)
    actions = [action for entry in chosen for action in (entry.get("actions") or entry.get("applied") or [])]
    commands = result.get("commands") if vm is None else _lines_for(result.get("commands"), str(chosen[0].get("name")) if chosen else vm)
    msg = str(result.get("msg") or "")
    if vm is not None and not chosen and not failed:
        failed = True
        msg = f"the task's answer has nothing about VM {vm!r}"
    return {
        "vm": vm,
        "ran": True,
        "changed": changed,
        "failed": failed,
        "unreachable": bool(result.get("unreachable")),
        "msg": msg,
        "actions": actions,
        "commands": list(commands or []),
    }


def nested_batch_outcomes(
    plan: t.Any,
    hostvars: Mapping[str, t.Any],
    result: str,
    failure: str = "the task on {parent} for its VMs (run for {acting}) failed: {msg}",
    failed_hosts: list[str] | None = None,
    failed_message: str = "{host} failed",
) -> dict[str, t.Any]:
    """Per grouped host of a nested_batches plan, its VM's part of its group's result (registered as `result` on
    the group's acting host): nested_vm_outcome plus `acting` and `parent`; a failed one gets `msg` from `failure`.
    Hosts of `failed_hosts` (not grouped: nothing was done for them) fail with `failed_message`.

    `attention` lists the hosts that must report under their own name: those another host acted for whose VM
    changed or whose group failed, and `failed_hosts`. `failed` lists every failed host."""
    if not isinstance(plan, Mapping) or not isinstance(plan.get("groups"), Mapping):
        raise AnsibleFilterError("nested_batch_outcomes expects a plan made by hyperv.nested.nested_batches.")
    outcomes: dict[str, dict[str, t.Any]] = {}
    attention: list[str] = []
    for acting, group in plan["groups"].items():
        try:
            variables = hostvars[acting]
            registered = variables[result] if isinstance(variables, Mapping) and result in variables else {}
        except AnsibleError:
            registered = {}
        for host, vm in zip(group.get("hosts") or [], group.get("vms") or [], strict=True):
            outcome = nested_vm_outcome(registered, str(vm))
            outcome.update(acting=acting, parent=group.get("parent"))
            if not outcome["ran"] and not outcome["failed"]:
                outcome.update(failed=True, msg=outcome["msg"] or "it did not run")
            if outcome["failed"]:
                outcome["msg"] = failure.format(parent=group.get("parent"), acting=acting, vm=vm, msg=outcome["msg"] or "no message")
            outcomes[str(host)] = outcome
            if host != acting and (outcome["changed"] or outcome["failed"]):
                attention.append(str(host))
    for host in failed_hosts or []:
        outcomes[str(host)] = {"vm": None, "ran": False, "changed": False, "failed": True, "unreachable": False,
                               "msg": failed_message.format(host=host), "actions": [], "commands": [], "acting": None, "parent": None}
        attention.append(str(host))
    failed = [host for host, outcome in outcomes.items() if outcome["failed"]]
    return {"run": plan.get("run"), "hosts": outcomes, "attention": attention, "failed": failed}


class FilterModule:
    """hyperv.nested filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_vm_outcome": nested_vm_outcome, "nested_batch_outcomes": nested_batch_outcomes}
