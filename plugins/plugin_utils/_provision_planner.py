# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Plan win_nested_vm_provision: which VMs to create on this Hyper-V host, and which to remove.

Pure functions over the provisioning script's `inspect` answer (docs/internals/provisioning.md);
the action plugin sends the planned steps to the same script's `apply`. Nothing here talks to a
host. It returns a `Planned` (docs/internals/planner-contract.md) whose operations are this
script's steps, not the executor's.

Ownership: every VM this module creates carries MARK as the first line of its Notes, written
right after New-VM in the same step (a failure there removes the new VM again). A VM without
the mark is never changed or removed; a VM with the mark and other hardware than asked is
reported, not replaced. Disks are removed only at the paths this module gives them.
"""

from __future__ import annotations

import ntpath
import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import Planned, PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._provision_answers import nocloud_seed, unattend_xml
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    Operation,
    ProvisionedVm,
    ProvisionFile,
    ProvisionInspect,
    ProvisionStep,
)

MARK = "hyperv.nested: created by win_nested_vm_provision"
DEFAULT_FOLDER = "C:\\Hyper-V\\hyperv.nested"
# Characters Windows refuses in a file or folder name: the VM name becomes both.
_PATH_UNSAFE = frozenset('<>:"/\\|?*')
SECURE_BOOT_DEFAULTS = {"windows": "MicrosoftWindows", "linux": "MicrosoftUEFICertificateAuthority"}


class AdapterArgs(t.TypedDict):
    switch: str | None
    mac_address_spoofing: bool | None


class VmArgs(t.TypedDict):
    """One entry of the module's `vms` option, as win_nested_vm_provision checked and completed it."""

    name: str
    image: str | None
    os_family: str  # windows | linux
    disk_mode: str  # differencing | copy
    generation: int
    version: str | None
    processor_count: int
    memory: t.Any
    memory_bytes: int
    expose_virtualization_extensions: bool
    network_mode: str | None
    adapters: list[AdapterArgs]
    secure_boot: bool
    secure_boot_template: str
    computer_name: str
    time_zone: str
    linux_user: str
    ssh_authorized_keys: list[str]
    start: bool


class ProvisionArgs(t.TypedDict):
    """The module's options, checked by win_nested_vm_provision."""

    vms: list[VmArgs]
    state: str  # present | absent
    path: str
    admin_password: str | None
    start_timeout: int


class VMReport(t.TypedDict):
    """One VM's entry of the module's `vms` return value, before the run adds its state and addresses."""

    name: str
    status: str
    differences: list[str]
    disk_path: str | None
    seed_path: str | None


@dataclass
class VMPlan:
    name: str
    status: str                      # create | resume | present | differs | unmanaged | remove | absent
    steps: list[ProvisionStep] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    disk_path: str | None = None
    seed_path: str | None = None

    def report(self) -> VMReport:
        return {"name": self.name, "status": self.status, "differences": self.differences,
                "disk_path": self.disk_path, "seed_path": self.seed_path}


def path_problem(name: str) -> str | None:
    bad = sorted({char for char in name if char in _PATH_UNSAFE})
    if bad:
        return "contains " + " ".join(repr(char) for char in bad) + ", which a folder name cannot hold"
    if name != name.strip() or name.endswith("."):
        return "starts or ends with a space, or ends with a dot, which a folder name cannot"
    return None


def layout(folder: str, name: str, os_family: str) -> tuple[str, str, str | None]:
    """(VM folder given to New-VM -Path, OS disk path, seed disk path or None)."""
    disks = ntpath.join(folder, name, "Virtual Hard Disks")
    seed = ntpath.join(disks, f"{name}-cidata.vhdx") if os_family == "linux" else None
    return folder, ntpath.join(disks, f"{name}.vhdx"), seed


def inspect_parameters(args: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The one read-only request the module needs: the named VMs, the switches, the files."""
    paths: list[str] = []
    for vm in args["vms"]:
        _unused, disk, seed = layout(args["path"], vm["name"], vm["os_family"])
        for path in (vm.get("image"), disk, seed):
            if path and path not in paths:
                paths.append(path)
    return {"action": "inspect", "vm_names": [vm["name"] for vm in args["vms"]], "paths": paths}


def _same(left: t.Any, right: t.Any) -> bool:
    return isinstance(left, str) and isinstance(right, str) and left.casefold() == right.casefold()


def _files(inspected: ProvisionInspect) -> dict[str, ProvisionFile]:
    return {str(entry["path"]).casefold(): entry for entry in inspected.get("files") or []}


def is_ours(vm: ProvisionedVm) -> bool:
    notes = str(vm.get("notes") or "")
    return notes.splitlines()[0].strip() == MARK if notes else False


def _spoofing(vm_args: VmArgs, adapter: AdapterArgs) -> str:
    wanted = adapter.get("mac_address_spoofing")
    if wanted is None:
        wanted = vm_args.get("network_mode") == "mac_spoofing"
    return "On" if wanted else "Off"


class HardwareAdapter(t.TypedDict):
    switch_name: str | None
    mac_address_spoofing: str | None


class Hardware(t.TypedDict, total=False):
    """A VM's hardware in the inspect answer's terms: what the inventory asks, what a VM has, and diff mode's states."""

    state: str | None
    generation: int | None
    processor_count: int | None
    startup_memory_bytes: int | None
    dynamic_memory_enabled: bool | None
    expose_virtualization_extensions: bool | None
    secure_boot: str | None
    secure_boot_template: str | None
    hard_drives: list[str] | None
    adapters: list[HardwareAdapter]


def wanted_hardware(vm_args: VmArgs) -> Hardware:
    """The hardware a created VM has, in the inspect answer's terms (for diff and comparison)."""
    hardware: Hardware = {
        "generation": vm_args["generation"],
        "processor_count": vm_args["processor_count"],
        "startup_memory_bytes": vm_args["memory_bytes"],
        "dynamic_memory_enabled": False,
        "expose_virtualization_extensions": vm_args["expose_virtualization_extensions"],
        "adapters": [{"switch_name": a["switch"], "mac_address_spoofing": _spoofing(vm_args, a)}
                     for a in vm_args["adapters"]],
    }
    if vm_args["generation"] == 2:
        hardware["secure_boot"] = "On" if vm_args["secure_boot"] else "Off"
        if vm_args["secure_boot"]:
            hardware["secure_boot_template"] = vm_args["secure_boot_template"]
    return hardware


def _adapters(found: t.Mapping[str, t.Any]) -> list[HardwareAdapter]:
    return [{"switch_name": a.get("switch_name"), "mac_address_spoofing": a.get("mac_address_spoofing")}
            for a in found.get("adapters") or []]


def _differences(wanted: Hardware, found: t.Mapping[str, t.Any]) -> list[str]:
    problems = []
    for key, value in wanted.items():
        if key == "adapters":
            problems += _adapter_differences(wanted["adapters"], _adapters(found))
        elif found.get(key) != value:
            problems.append(f"{key}: {found.get(key)!r} (inventory: {value!r})")
    return problems


def _adapter_differences(wanted: list[HardwareAdapter], have: list[HardwareAdapter]) -> list[str]:
    # An adapter asked without a switch is connected later (by the networking roles): any switch is fine.
    if len(wanted) != len(have) or any(
            (w["switch_name"] is not None and not _same(w["switch_name"], h["switch_name"]))
            or w["mac_address_spoofing"] != h["mac_address_spoofing"] for w, h in zip(wanted, have, strict=True)):
        return [f"adapters: {have} (inventory: {wanted})"]
    return []


def _answer_step(vm_args: VmArgs, disk: str, seed: str | None, admin_password: str | None) -> ProvisionStep:
    if vm_args["os_family"] == "windows":
        if not admin_password:
            raise PlanningError("Option 'admin_password' is required to create a Windows VM: it becomes the "
                                "Administrator password of the answer file.")
        content = unattend_xml(vm_args["computer_name"], admin_password, vm_args["time_zone"])
        return {"kind": "write_unattend", "vm": vm_args["name"], "disk_path": disk,
                "file": "Windows\\Panther\\unattend.xml", "content": content}
    if seed is None:
        raise PlanningError(f"VM {vm_args['name']!r}: a Linux VM needs its seed disk path.")
    files = nocloud_seed(vm_args["name"], vm_args["computer_name"], vm_args["linux_user"], admin_password,
                         vm_args["ssh_authorized_keys"])
    return {"kind": "new_seed_disk", "vm": vm_args["name"], "path": seed, "label": "cidata", "files": files}


def _create_steps(vm_args: VmArgs, folder: str, disk: str, seed: str | None, reuse_disk: bool,
                  admin_password: str | None, timeout: int) -> list[ProvisionStep]:
    name = vm_args["name"]
    steps: list[ProvisionStep] = []
    if not reuse_disk:
        if vm_args["image"] is None:  # win_nested_vm_provision requires it with state=present
            raise PlanningError(f"Option 'vms[].image' is required to create VM {name!r}.")
        steps.append({"kind": "new_disk", "vm": name, "path": disk, "parent_path": vm_args["image"],
                      "mode": vm_args["disk_mode"]})
    steps.append(_answer_step(vm_args, disk, seed, admin_password))
    new_vm: ProvisionStep = {
        "kind": "new_vm", "vm": name, "generation": vm_args["generation"], "path": folder,
        "memory_startup_bytes": vm_args["memory_bytes"], "notes": MARK,
        "switch_name": vm_args["adapters"][0]["switch"] if vm_args["adapters"] else None,
    }
    if version := vm_args.get("version"):
        new_vm["version"] = version
    steps.append(new_vm)
    # Nested settings before the first boot: static memory, processors, extensions exposed.
    steps.append({"kind": "cmdlet", "vm": name, "cmdlet": "Set-VMMemory", "parameters": {"DynamicMemoryEnabled": False}})
    steps.append({"kind": "cmdlet", "vm": name, "cmdlet": "Set-VMProcessor", "parameters": {
        "Count": vm_args["processor_count"],
        "ExposeVirtualizationExtensions": vm_args["expose_virtualization_extensions"]}})
    steps.append({"kind": "add_disk", "vm": name, "path": disk, "first_boot_device": vm_args["generation"] == 2})
    if seed:
        steps.append({"kind": "add_disk", "vm": name, "path": seed, "first_boot_device": False})
    for index, adapter in enumerate(vm_args["adapters"]):
        steps.append({"kind": "adapter", "vm": name, "index": index, "switch_name": adapter["switch"],
                      "name": "Network Adapter" if index == 0 else f"Network Adapter {index + 1}",
                      "mac_address_spoofing": _spoofing(vm_args, adapter)})
    if vm_args["generation"] == 2:
        firmware: dict[str, t.Any] = {"EnableSecureBoot": "On" if vm_args["secure_boot"] else "Off"}
        if vm_args["secure_boot"]:
            firmware["SecureBootTemplate"] = vm_args["secure_boot_template"]
        steps.append({"kind": "cmdlet", "vm": name, "cmdlet": "Set-VMFirmware", "parameters": firmware})
    if vm_args["start"]:
        steps.append({"kind": "start", "vm": name, "timeout_seconds": timeout})
    return steps


def _resume_steps(vm_args: VmArgs, found: ProvisionedVm, inspected: ProvisionInspect, disk: str,
                  seed: str | None, args: ProvisionArgs) -> list[ProvisionStep]:
    files = _files(inspected)
    disk_file = files.get(disk.casefold()) or {}
    reuse = bool(disk_file.get("exists"))
    if reuse and vm_args["disk_mode"] == "differencing" and not _same(disk_file.get("parent_path"), vm_args["image"]):
        raise PlanningError(f"VM {vm_args['name']!r}: the file {disk!r} is not a differencing disk of "
                            f"{vm_args['image']!r}; remove it to let the creation finish.")
    if seed and (files.get(seed.casefold()) or {}).get("exists"):
        raise PlanningError(f"VM {vm_args['name']!r}: the file {seed!r} exists from an interrupted run; remove it "
                            "to let the creation finish.")
    created = _create_steps(vm_args, args["path"], disk, seed, reuse, args.get("admin_password"), args["start_timeout"])
    present = len(found.get("adapters") or [])
    # New-VM already ran (and its Notes carry the mark): everything after it, minus adapters it has.
    after_new_vm = created[[s["kind"] for s in created].index("new_vm") + 1:]
    steps = [s for s in created if s["kind"] in ("new_disk", "write_unattend", "new_seed_disk")]
    steps += [s for s in after_new_vm if not (s["kind"] == "adapter" and 0 < s["index"] < present)]
    return steps


def _plan_present(vm_args: VmArgs, found: ProvisionedVm | None, inspected: ProvisionInspect,
                  args: ProvisionArgs, warnings: list[str]) -> VMPlan:
    name = vm_args["name"]
    folder, disk, seed = layout(args["path"], name, vm_args["os_family"])
    plan = VMPlan(name=name, status="present", disk_path=disk, seed_path=seed)
    if found is not None:
        return _plan_existing(plan, vm_args, found, inspected, args, disk, warnings)
    files = _files(inspected)
    _require_image(vm_args, files)
    _require_switches(vm_args, inspected)
    _require_version(vm_args, inspected)
    reuse = _reusable_disk(vm_args, files, disk)
    if seed and (files.get(seed.casefold()) or {}).get("exists"):
        raise PlanningError(f"VM {name!r}: the file {seed!r} exists; remove it or choose another 'path'.")
    plan.status = "create"
    plan.steps = _create_steps(vm_args, folder, disk, seed, reuse, args.get("admin_password"), args["start_timeout"])
    return plan


def _plan_existing(plan: VMPlan, vm_args: VmArgs, found: ProvisionedVm, inspected: ProvisionInspect, args: ProvisionArgs,
                   disk: str, warnings: list[str]) -> VMPlan:
    """A VM of that name exists: finish its creation (ours, off, without its disk), or report it as it is."""
    plan.differences = _differences(wanted_hardware(vm_args), found)
    if is_ours(found) and found.get("state") == "Off" and not any(
            _same(drive, disk) for drive in found.get("hard_drives") or []):
        # Created by a run that stopped before the disk was attached: finish that creation.
        plan.status = "resume"
        plan.differences = []
        plan.steps = _resume_steps(vm_args, found, inspected, disk, plan.seed_path, args)
    elif not is_ours(found):
        plan.status = "unmanaged"
        warnings.append(f"VM {found['name']!r} exists and was not created by win_nested_vm_provision (its Notes "
                        "do not carry the mark): it is left exactly as it is.")
    elif plan.differences:
        plan.status = "differs"
        warnings.append(f"VM {found['name']!r} exists with other hardware than the inventory describes ("
                        + "; ".join(plan.differences) + "): it is reported, not replaced.")
    return plan


def _require_image(vm_args: VmArgs, files: dict[str, ProvisionFile]) -> None:
    image = files.get(str(vm_args["image"]).casefold()) or {}
    if not image.get("exists"):
        raise PlanningError(f"VM {vm_args['name']!r}: the golden image {vm_args['image']!r} (option 'vms[].image') does not "
                            "exist on this host.")


def _require_switches(vm_args: VmArgs, inspected: ProvisionInspect) -> None:
    switches = [str(s) for s in inspected.get("switches") or []]
    for adapter in vm_args["adapters"]:
        if adapter["switch"] is not None and not any(_same(adapter["switch"], s) for s in switches):
            raise PlanningError(f"VM {vm_args['name']!r}: no virtual switch named {adapter['switch']!r} (option "
                                f"'vms[].adapters[].switch') on this host; it has: {', '.join(switches) or 'none'}.")


def _require_version(vm_args: VmArgs, inspected: ProvisionInspect) -> None:
    version = vm_args.get("version")
    supported = [str(v) for v in inspected.get("supported_versions") or []]
    if version and supported and version not in supported:
        raise PlanningError(f"VM {vm_args['name']!r}: configuration version {version!r} (option 'vms[].version') is not one "
                            f"this host supports ({', '.join(supported)}).")


def _reusable_disk(vm_args: VmArgs, files: dict[str, ProvisionFile], disk: str) -> bool:
    """True when an earlier run left the VM's disk before New-VM (a differencing disk of its image); any
    other file at that path is refused."""
    existing = files.get(disk.casefold()) or {}
    if not existing.get("exists"):
        return False
    if vm_args["disk_mode"] == "differencing" and _same(existing.get("parent_path"), vm_args["image"]):
        return True
    raise PlanningError(f"VM {vm_args['name']!r}: the file {disk!r} exists and is not a differencing disk of "
                        f"{vm_args['image']!r}; remove it or choose another 'path'.")


def _plan_absent(vm_args: VmArgs, found: ProvisionedVm | None, args: ProvisionArgs,
                 warnings: list[str]) -> VMPlan:
    name = vm_args["name"]
    _unused, disk, seed = layout(args["path"], name, vm_args["os_family"])
    plan = VMPlan(name=name, status="absent", disk_path=disk, seed_path=seed)
    if found is None:
        return plan
    if not is_ours(found):
        raise PlanningError(f"VM {found['name']!r} was not created by win_nested_vm_provision (its Notes do not "
                            "carry the mark): it is not removed. Remove it yourself if that is what you want.")
    ours = {disk.casefold()} | ({seed.casefold()} if seed else set())
    drives = [str(p) for p in found.get("hard_drives") or []]
    removable = [p for p in drives if p.casefold() in ours]
    others = [p for p in drives if p.casefold() not in ours]
    if others:
        warnings.append(f"VM {found['name']!r}: the disks {', '.join(others)} were not created by this module and are "
                        "kept.")
    plan.status = "remove"
    if found.get("state") != "Off":
        plan.steps.append({"kind": "turn_off", "vm": found["name"]})
    plan.steps.append({"kind": "remove_vm", "vm": found["name"], "vm_id": found.get("id"), "files": removable})
    return plan


def _summary(found: ProvisionedVm | None) -> Hardware | None:
    if found is None:
        return None
    return {
        "state": found.get("state"),
        "generation": found.get("generation"),
        "processor_count": found.get("processor_count"),
        "startup_memory_bytes": found.get("startup_memory_bytes"),
        "dynamic_memory_enabled": found.get("dynamic_memory_enabled"),
        "expose_virtualization_extensions": found.get("expose_virtualization_extensions"),
        "secure_boot": found.get("secure_boot"),
        "secure_boot_template": found.get("secure_boot_template"),
        "hard_drives": found.get("hard_drives"),
        "adapters": _adapters(found),
    }


def plan(options: t.Mapping[str, t.Any], answer: t.Mapping[str, t.Any]) -> Planned:
    """Every VM's steps, in order, as `operations`; `values['vms']` is each VM's report.

    `options` are the module's, as win_nested_vm_provision checked them; `answer` is provision.ps1's to `inspect`."""
    args, inspected = t.cast(ProvisionArgs, options), t.cast(ProvisionInspect, answer)
    if inspected.get("hyperv_module") is False:
        raise PlanningError("The Hyper-V PowerShell module is not available on this host: install the Hyper-V "
                            "role (with its management tools) first.")
    duplicates = [str(n) for n in inspected.get("duplicates") or []]
    if duplicates:
        raise PlanningError(f"More than one VM is named {', '.join(repr(n) for n in duplicates)} on this host; "
                            "rename them first.")
    by_name = {str(vm["name"]).casefold(): vm for vm in inspected.get("vms") or []}
    warnings: list[str] = []
    plans: list[VMPlan] = []
    before: dict[str, Hardware | None] = {}
    after: dict[str, Hardware | None] = {}
    for vm_args in args["vms"]:
        found = by_name.get(vm_args["name"].casefold())
        if args["state"] == "absent":
            vm_plan = _plan_absent(vm_args, found, args, warnings)
        else:
            vm_plan = _plan_present(vm_args, found, inspected, args, warnings)
        plans.append(vm_plan)
        before[vm_args["name"]] = _summary(found)
        if vm_plan.status in ("create", "resume"):
            after[vm_args["name"]] = {**wanted_hardware(vm_args), "state": "Running" if vm_args["start"] else "Off",
                                      "hard_drives": [p for p in (vm_plan.disk_path, vm_plan.seed_path) if p]}
        elif vm_plan.status == "remove":
            after[vm_args["name"]] = None
        else:
            after[vm_args["name"]] = before[vm_args["name"]]
    # The provisioning script's steps travel where the executor's operations do (win_nested_vm_provision's `execute`).
    steps = [step for vm_plan in plans for step in vm_plan.steps]
    return Planned(t.cast(list[Operation], steps), before=before, after=after, warnings=warnings,
                   values={"vms": [vm_plan.report() for vm_plan in plans]})


def render_step(step: t.Mapping[str, t.Any]) -> str:
    """The PowerShell an operator would type for a step (never the answer file's content)."""
    from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import literal, render, vm_reference

    kind = step["kind"]
    vm = vm_reference(step["vm"]) if step.get("vm") else ""
    if kind == "new_disk":
        if step["mode"] == "copy":
            return f"Copy-Item -LiteralPath {literal(step['parent_path'])} -Destination {literal(step['path'])}"
        return f"New-VHD -Path {literal(step['path'])} -ParentPath {literal(step['parent_path'])} -Differencing"
    if kind == "write_unattend":
        return (f"Mount-VHD -Path {literal(step['disk_path'])} -PassThru | Get-Disk | Get-Partition | Get-Volume  "
                f"# write {step['file']} ({len(step['content'])} characters, password encoded), then "
                f"Dismount-VHD -Path {literal(step['disk_path'])}")
    if kind == "new_seed_disk":
        names = ", ".join(sorted(step["files"]))
        return (f"New-VHD -Path {literal(step['path'])} -SizeBytes 16MB -Dynamic | Mount-VHD -PassThru | Initialize-Disk "
                f"-PassThru | New-Partition -UseMaximumSize -AssignDriveLetter | Format-Volume -FileSystem FAT32 "
                f"-NewFileSystemLabel {literal(step['label'])}  # write {names}, then Dismount-VHD")
    if kind == "new_vm":
        line = (f"New-VM -Name {literal(step['vm'])} -Generation {step['generation']} -MemoryStartupBytes "
                f"{step['memory_startup_bytes']} -Path {literal(step['path'])} -NoVHD")
        if step.get("switch_name"):
            line += f" -SwitchName {literal(step['switch_name'])}"
        if step.get("version"):
            line += f" -Version {literal(step['version'])}"
        return line + f" | Set-VM -Notes {literal(step['notes'])}"
    if kind == "cmdlet":
        return render(t.cast(Operation, step))
    if kind == "add_disk":
        line = f"Add-VMHardDiskDrive -VM {vm} -Path {literal(step['path'])}"
        return line + (" -Passthru | ForEach-Object { Set-VMFirmware -VM $_.VMName -FirstBootDevice $_ }"
                       if step.get("first_boot_device") else "")
    if kind == "adapter":
        if step["index"] == 0:
            return (f"Set-VMNetworkAdapter -VMNetworkAdapter (Get-VMNetworkAdapter -VM {vm})[0] "
                    f"-MacAddressSpoofing {step['mac_address_spoofing']}")
        switch = f" -SwitchName {literal(step['switch_name'])}" if step.get("switch_name") else ""
        return (f"Add-VMNetworkAdapter -VM {vm} -Name {literal(step['name'])}{switch} "
                f"-Passthru | Set-VMNetworkAdapter -MacAddressSpoofing {step['mac_address_spoofing']}")
    if kind == "start":
        return f"Start-VM -VM {vm}; while ({vm}.Heartbeat -notlike 'Ok*') {{ Start-Sleep -Seconds 1 }}"
    if kind == "turn_off":
        return f"Stop-VM -VM {vm} -TurnOff -Force"
    if kind == "remove_vm":
        files = "; ".join(f"Remove-Item -LiteralPath {literal(p)}" for p in step["files"])
        return f"Remove-VM -VM {vm} -Force" + (f"; {files}" if files else "")
    raise ValueError(f"unknown provisioning step {kind!r}")
