# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One VM's part of a win_nested_vm result that covered several VMs (documentation: nested_vm_outcome.yml)."""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

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


class FilterModule:
    """hyperv.nested filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"nested_vm_outcome": nested_vm_outcome}
