# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""win_nested_vm_provision: create (or remove) L1 VMs on their Hyper-V host (docs in plugins/modules)."""

from __future__ import annotations

import typing as t

from ansible_collections.hyperv.nested.plugins.plugin_utils._action_base import ModuleFailure, NestedActionBase, step_reports
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._provision_answers import (
    computer_name_problem,
    linux_user_problem,
    time_zone_problem,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._provision_planner import (
    DEFAULT_FOLDER,
    SECURE_BOOT_DEFAULTS,
    inspect_parameters,
    path_problem,
    plan,
    render_step,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._sizes import SizeError, parse_size
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_name, validate_vm_name

_ADAPTER_SPEC: dict[str, t.Any] = {
    "switch": {"type": "str"},
    "mac_address_spoofing": {"type": "bool"},
}
_VM_SPEC: dict[str, t.Any] = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str"},
    "os_family": {"type": "str", "choices": ["windows", "linux"], "default": "windows"},
    "disk_mode": {"type": "str", "choices": ["differencing", "copy"], "default": "differencing"},
    "generation": {"type": "int", "choices": [1, 2], "default": 2},
    "version": {"type": "str"},
    "processor_count": {"type": "int", "default": 2},
    "memory": {"type": "raw", "default": "4GB"},
    "expose_virtualization_extensions": {"type": "bool", "default": True},
    "network_mode": {"type": "str", "choices": ["nat", "mac_spoofing"]},
    "adapters": {"type": "list", "elements": "dict", "options": _ADAPTER_SPEC, "default": []},
    "secure_boot": {"type": "bool", "default": True},
    "secure_boot_template": {"type": "str"},
    "computer_name": {"type": "str"},
    "time_zone": {"type": "str", "default": "UTC"},
    "linux_user": {"type": "str", "default": "labadmin"},
    "ssh_authorized_keys": {"type": "list", "elements": "str", "default": [], "no_log": False},
    "start": {"type": "bool", "default": True},
}
_MAX_VCPUS = 240     # Hyper-V's limit per VM on Windows Server 2016 and later (generation 2)


def _check_vm(index: int, vm: dict[str, t.Any], state: str) -> dict[str, t.Any]:
    where = f"vms[{index}]"
    validate_vm_name(f"{where}.name", vm["name"])
    problem = path_problem(vm["name"])
    if problem:
        raise PlanningError(f"Option '{where}.name': the VM name {vm['name']!r} {problem}.")
    vm = dict(vm)
    vm["computer_name"] = vm["computer_name"] or vm["name"]
    problem = computer_name_problem(vm["computer_name"])
    if problem:
        option = f"{where}.computer_name" if vm["computer_name"] != vm["name"] else f"{where}.computer_name (default: the VM name)"
        raise PlanningError(f"Option '{option}': {vm['computer_name']!r} {problem}.")
    problem = time_zone_problem(vm["time_zone"])
    if problem:
        raise PlanningError(f"Option '{where}.time_zone': {vm['time_zone']!r} {problem}.")
    if vm["os_family"] == "linux":
        problem = linux_user_problem(vm["linux_user"])
        if problem:
            raise PlanningError(f"Option '{where}.linux_user': {vm['linux_user']!r} {problem}.")
    if not 1 <= vm["processor_count"] <= _MAX_VCPUS:
        raise PlanningError(f"Option '{where}.processor_count': {vm['processor_count']} is not between 1 and {_MAX_VCPUS}.")
    try:
        vm["memory_bytes"] = parse_size(f"'{where}.memory'", vm["memory"])
    except SizeError as exc:
        raise PlanningError(f"Option {exc}") from None
    if vm["memory_bytes"] < 512 * 1024 * 1024 or vm["memory_bytes"] % (2 * 1024 * 1024):
        raise PlanningError(f"Option '{where}.memory': {vm['memory']!r} must be at least 512MB and a multiple of 2MB.")
    for position, adapter in enumerate(vm["adapters"]):
        if adapter["switch"] is not None:
            validate_name(f"{where}.adapters[{position}].switch", adapter["switch"], "switch name")
    if state == "present":
        if not vm["image"]:
            raise PlanningError(f"Option '{where}.image' is required with state=present: the golden VHDX on this host.")
        if not vm["image"].lower().endswith((".vhdx", ".vhd")) or "\n" in vm["image"]:
            raise PlanningError(f"Option '{where}.image': {vm['image']!r} is not the path of a .vhdx or .vhd file.")
        if not vm["adapters"]:
            raise PlanningError(f"Option '{where}.adapters': give at least one adapter (with its 'switch', or none to "
                                "leave it unconnected).")
    if vm["generation"] == 1 and vm["secure_boot_template"]:
        raise PlanningError(f"Option '{where}.secure_boot_template': generation 1 VMs have no Secure Boot.")
    vm["secure_boot_template"] = vm["secure_boot_template"] or SECURE_BOOT_DEFAULTS[vm["os_family"]]
    if vm["version"] is not None and not all(part.isdigit() for part in vm["version"].split(".", 1)):
        raise PlanningError(f"Option '{where}.version': {vm['version']!r} is not a configuration version such as '10.0'.")
    return vm


class ActionModule(NestedActionBase):
    argument_spec: t.ClassVar[dict[str, t.Any]] = {
        "vms": {"type": "list", "elements": "dict", "options": _VM_SPEC, "required": True},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "path": {"type": "str", "default": DEFAULT_FOLDER},
        "admin_password": {"type": "str", "no_log": True},
        "start_timeout": {"type": "int", "default": 900},
    }

    def plan(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Planned:
        if not args["vms"]:
            raise PlanningError("Option 'vms': give at least one VM.")
        if not args["path"] or len(args["path"]) < 3 or args["path"][1:3] not in (":\\", ":/") or "\n" in args["path"]:
            raise PlanningError(f"Option 'path': {args['path']!r} is not an absolute Windows folder such as 'D:\\Hyper-V'.")
        if args["start_timeout"] < 1:
            raise PlanningError("Option 'start_timeout': give a number of seconds above 0.")
        args["vms"] = [_check_vm(index, vm, args["state"]) for index, vm in enumerate(args["vms"])]
        seen: set[str] = set()
        for index, vm in enumerate(args["vms"]):
            if vm["name"].casefold() in seen:
                raise PlanningError(f"Option 'vms[{index}].name': {vm['name']!r} is listed twice.")
            seen.add(vm["name"].casefold())
        return plan(args, self.call_target("provision", inspect_parameters(args)))

    def commands(self, planned: Planned) -> list[str]:
        return [render_step(step) for step in planned.operations]

    def execute(self, planned: Planned, result: dict[str, t.Any]) -> dict[str, t.Any]:
        """The provisioning script applies its own steps; each is reported under `steps`, and every
        VM's state and addresses after it ran (failed or not) under `vms`."""
        outcome = self.call_target("provision", {"action": "apply", "steps": planned.operations})
        result["steps"] = step_reports(result["commands"], outcome)
        found = outcome.get("vms") or {}
        for vm in result["vms"]:
            state = found.get(vm["name"])
            vm["state"] = state.get("state") if state else None
            vm["ip_addresses"] = [ip for a in (state or {}).get("adapters") or [] for ip in a.get("ip_addresses") or []]
        return outcome

    def failure(self, planned: Planned, outcome: dict[str, t.Any], result: dict[str, t.Any]) -> ModuleFailure:
        index = int(outcome["failed_index"])
        return ModuleFailure(
            f"VM {planned.operations[index].get('vm')!r}: {result['commands'][index].split(' ')[0]} failed: "
            f"{result['steps'][index]['message']} "
            "Run the task again once the cause is fixed: what was created is kept and reused.",
            **{**result, "changed": any(s["status"] == "ok" for s in result["steps"])},
        )
