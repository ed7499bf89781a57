# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Plan win_nested_vm: probed VM state x options -> ordered executor operations.

Pure code: no I/O. The plan says, per VM, what the settings are before and after, what has to
happen (power cycles included) and which executor operations do it; plus the `on_failure`
operations that bring stopped VMs back. Anything that would make the run fail is collected as a
problem first, so that a bad request never touches the target.

Every stop that is followed by a start leaves a restart mark on the host until the start
(docs/internals/wire-protocol.md §3.1): a VM found Off with a mark was running before a run that
was cut off between the two, and `power_after=previous` starts it again.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import RECOMMENDED_MEMORY_BYTES, RECOMMENDED_PROCESSORS, VCPU_LIMIT_2019_GUESTS
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._sizes import SizeError, format_size, parse_size
from ansible_collections.hyperv.nested.plugins.plugin_utils._validation import validate_vm_names
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_power import power_order, stops
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_steps import Step, VmPlan
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import (
    HostSection,
    Operation,
    VmInfo,
    VmsSection,
    did_you_mean,
    integration_service,
    parse_version,
    vendor_label,
)

State = t.Literal["enabled", "disabled", "unchanged"]
Spoofing = t.Literal["on", "off", "unchanged"]
Power = t.Literal["fail", "shutdown", "turn_off"]
PowerAfter = t.Literal["previous", "off", "running"]
SavedState = t.Literal["fail", "discard"]
# A restart mark on a VM in one of these states is stale: the VM has been started since.
STARTED_STATES = frozenset({"Running", "Paused", "Saved"})
Checkpoints = t.Literal["note", "warn", "fail"]
DynamicMemory = t.Literal["off", "unchanged"]
Clustered = t.Literal["fail", "allow"]


@dataclass(frozen=True)
class Options:
    names: list[str]
    state: State = "enabled"
    startup_memory: int | None = None
    processor_count: int | None = None
    mac_address_spoofing: Spoofing = "unchanged"
    adapters: list[str] | None = None
    power: Power = "fail"
    power_after: PowerAfter = "previous"
    saved_state: SavedState = "fail"
    checkpoints: Checkpoints = "note"
    dynamic_memory: DynamicMemory = "off"
    clustered: Clustered = "fail"
    upgrade_version: bool = False
    shutdown_timeout: int = 300
    start_timeout: int = 300
    power_concurrency: int = 0  # VMs powered at once; 0 = all of them


# Hyper-V allocates VM memory in 2 MB pages; Set-VMMemory refuses other sizes.
MEMORY_ALIGNMENT = 2 * 1024**2


def _unitless_hint(value: t.Any) -> str:
    """For a number without a unit (bytes), how to write it if it was meant in MB, as Hyper-V Manager shows memory."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        return ""
    return f" A number without a unit is bytes: write {text}MB (or {format_size(int(text) * 1024**2)}) for megabytes."


def build_options(args: t.Mapping[str, t.Any]) -> Options:
    """Check what the argument spec cannot express; every error names its option."""
    names = validate_vm_names("name", args["name"])
    if not names:
        raise PlanningError("Option 'name' must list at least one VM.")
    startup_memory = None
    if args["startup_memory"] is not None:
        try:
            startup_memory = parse_size("startup_memory", args["startup_memory"])
        except SizeError as exc:
            raise PlanningError(str(exc)) from None
        if startup_memory % MEMORY_ALIGNMENT:
            raise PlanningError(
                f"startup_memory must be a multiple of 2MB (Hyper-V allocates memory in 2 MB pages), got {args['startup_memory']!r}."
                + _unitless_hint(args["startup_memory"])
            )
    for option in ("processor_count", "shutdown_timeout", "start_timeout"):
        if args[option] is not None and args[option] < 1:
            raise PlanningError(f"{option} must be 1 or more, got {args[option]}.")
    if args["power_concurrency"] < 0:
        raise PlanningError(f"power_concurrency must be 0 (every VM at once) or more, got {args['power_concurrency']}.")
    if args["adapters"] is not None and args["mac_address_spoofing"] == "unchanged":
        raise PlanningError("adapters selects the adapters for mac_address_spoofing; set mac_address_spoofing to on or off, or leave adapters out.")
    if args["adapters"] is not None and not args["adapters"]:
        raise PlanningError("adapters must name at least one adapter; leave it out to mean every adapter of each VM.")
    return Options(
        names=names,
        state=args["state"],
        startup_memory=startup_memory,
        processor_count=args["processor_count"],
        mac_address_spoofing=args["mac_address_spoofing"],
        adapters=args["adapters"],
        power=args["power"],
        power_after=args["power_after"],
        saved_state=args["saved_state"],
        checkpoints=args["checkpoints"],
        dynamic_memory=args["dynamic_memory"],
        clustered=args["clustered"],
        upgrade_version=args["upgrade_version"],
        shutdown_timeout=args["shutdown_timeout"],
        start_timeout=args["start_timeout"],
        power_concurrency=args["power_concurrency"],
    )


@dataclass
class PlannedVms:
    vms: list[VmPlan]
    on_failure: list[Operation]
    warnings: list[str]
    # Execution order across VMs when it is not VM after VM (several VMs powered at once).
    order: list[tuple[str, Step]] | None = None
    # Information that is no warning (checkpoints=note): the module returns it as `notes`.
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(vm.changed for vm in self.vms)

    @property
    def steps(self) -> list[tuple[str, Step]]:
        """Every step in execution order, with the VM it belongs to."""
        if self.order is not None:
            return list(self.order)
        return [(vm.name, step) for vm in self.vms for step in vm.steps]

    @property
    def operations(self) -> list[Operation]:
        return [step.operation for _vm, step in self.steps]


def check_selection(vms_section: VmsSection, names: list[str], host_name: str) -> list[str]:
    """Problems with which VMs the probe found for the requested names."""
    problems = []
    if not vms_section.get("hyperv_module", True):
        return [f"The Hyper-V PowerShell module is not available on {host_name}: install the Hyper-V role and its PowerShell module."]
    if vms_section.get("service_unavailable"):
        return [
            f"The Hyper-V PowerShell module is installed on {host_name} but the Virtual Machine Management service does not answer "
            f"(vmms: {vms_section.get('vmms')}): Hyper-V waits for a restart, or only its management tools are installed. "
            f"({vms_section['service_unavailable']})"
        ]
    if vms_section.get("access_denied"):
        return [
            f"The connecting account may not see the VMs of {host_name} ({vms_section['access_denied']}): "
            "connect with a member of Hyper-V Administrators or an administrator."
        ]
    all_names = [str(name) for name in vms_section.get("all_names") or []]
    for missing in vms_section.get("missing") or []:
        close = did_you_mean(missing, all_names)
        hint = f" Did you mean {', '.join(repr(name) for name in close)}?" if close else ""
        problems.append(f"No VM named {missing!r} on {host_name} (name).{hint}")
    for duplicate in vms_section.get("duplicates") or []:
        problems.append(
            f"More than one VM on {host_name} is named {duplicate!r}; this module selects VMs by exact name and will not guess: rename one of them."
        )
    for vm in vms_section.get("vms") or []:
        if vm.get("error") and str(vm.get("name")).casefold() in {name.casefold() for name in names}:
            problems.append(f"VM {vm.get('name')!r} on {host_name} could not be read (state {vm.get('state')}): {vm['error']}")
    found = {str(vm["name"]).casefold() for vm in vms_section.get("vms") or []}
    reported = {str(name).casefold() for name in [*(vms_section.get("missing") or []), *(vms_section.get("duplicates") or [])]}
    for name in names:
        if name.casefold() not in found and name.casefold() not in reported:
            problems.append(f"The host did not report VM {name!r} (name).")
    return problems


def check_host_limits(host: HostSection, options: Options) -> list[str]:
    """Problems with sizes the host cannot give any VM."""
    problems = []
    host_name = host.get("computer_name") or "the host"
    logical = host.get("logical_processor_count")
    if options.processor_count is not None and isinstance(logical, int) and options.processor_count > logical:
        problems.append(f"processor_count={options.processor_count} is more than the {logical} logical processors of {host_name}.")
    capacity = host.get("memory_capacity_bytes")
    if options.startup_memory is not None and isinstance(capacity, int) and options.startup_memory > capacity:
        problems.append(f"startup_memory={format_size(options.startup_memory)} is more than the {format_size(capacity)} of memory of {host_name}.")
    return problems


def input_warnings(options: Options) -> list[str]:
    warnings = []
    if options.startup_memory is not None and options.startup_memory < RECOMMENDED_MEMORY_BYTES and options.state == "enabled":
        warnings.append(
            f"startup_memory={format_size(options.startup_memory)} is below the {format_size(RECOMMENDED_MEMORY_BYTES)} "
            "Microsoft recommends for a VM that runs Hyper-V."
        )
    if options.processor_count is not None and options.processor_count < RECOMMENDED_PROCESSORS and options.state == "enabled":
        warnings.append(
            f"processor_count={options.processor_count}: a VM that runs Hyper-V needs at least {RECOMMENDED_PROCESSORS} virtual processors to be useful."
        )
    return warnings


def _snapshot(vm: VmInfo) -> dict[str, t.Any]:
    return {
        "power_state": vm["state"],
        "version": vm.get("version"),
        "expose_virtualization_extensions": bool(vm["expose_virtualization_extensions"]),
        "dynamic_memory_enabled": bool(vm["dynamic_memory_enabled"]),
        "startup_memory_bytes": int(vm["startup_memory_bytes"]),
        "processor_count": int(vm["processor_count"]),
        "adapters": [
            {"name": adapter["name"], "id": adapter["id"], "mac_address_spoofing": adapter["mac_address_spoofing"]} for adapter in vm.get("adapters") or []
        ],
    }


class _VmPlanner:
    """Plans one VM; problems and warnings accumulate on the instance."""

    def __init__(self, vm: VmInfo, options: Options, host: HostSection, min_version: tuple[int, int] | None) -> None:
        self.vm = vm
        self.options = options
        self.host = host
        self.min_version = min_version
        self.name = str(vm["name"])
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []

    def plan(self) -> VmPlan:
        options = self.options
        before = _snapshot(self.vm)
        after = {**before, "adapters": [dict(adapter) for adapter in before["adapters"]]}
        settings: list[Step] = []
        needs_off: list[str] = []  # why the VM must be off, for messages

        exposing = options.state == "enabled" and not before["expose_virtualization_extensions"]

        version_step = self._version(before, after)
        if version_step:
            settings.append(version_step)
            needs_off.append("Update-VMVersion")

        processor_step = self._processor(before, after, needs_off)
        memory_step = self._memory(before, after, needs_off)
        # Either order would leave a startable VM (dynamic memory does not stop a nested VM from
        # starting); a fixed one keeps `commands` the same from run to run.
        ordered = [memory_step, processor_step] if options.state == "enabled" else [processor_step, memory_step]
        settings.extend(step for step in ordered if step is not None)
        self._warn_dynamic_memory_kept(after)

        if exposing and self.vm.get("checkpoints"):
            count = len(self.vm["checkpoints"])
            sentence = (
                f"VM {self.name!r} has {count} checkpoint(s). Checkpoints work with nested virtualization; applying one restores "
                "the VM's configuration as it was then, so one taken before now hides the virtualization extensions again. "
                "This module never deletes checkpoints."
            )
            if options.checkpoints == "fail":
                self.problems.append(sentence + " Remove them, or set checkpoints=note.")
            elif options.checkpoints == "warn":
                self.warnings.append(sentence)
            else:
                self.notes.append(sentence)

        adapter_steps = self._adapters(after)
        if adapter_steps and before["power_state"] == "Saved":
            # Hyper-V changes no device of a saved VM; a running or off one it can.
            needs_off.append("MAC address spoofing")

        power_steps_before, power_steps_after = self._power(before, after, needs_off)
        steps = [*power_steps_before, *settings, *adapter_steps, *power_steps_after]
        return VmPlan(self.name, before, after, self._with_restart_mark_kept_right(steps))

    @property
    def interrupted(self) -> bool:
        """Off with a restart mark: running before a run of this module that stopped it was cut off."""
        return self.vm.get("restart_mark") is not None and self.vm.get("state") == "Off"

    def _with_restart_mark_kept_right(self, steps: list[Step]) -> list[Step]:
        """Add the step that removes a mark nothing else in the plan removes: a stale one, or the
        mark of an interrupted run when power_after=off keeps the VM off."""
        mark = self.vm.get("restart_mark")
        if mark is None or any(step.operation["kind"] == "start_vm" for step in steps):
            return steps  # no mark, or the plan's start removes it
        if self.vm.get("state") in STARTED_STATES:
            action = "remove the restart mark an interrupted run left (the VM has been started since)"
        elif self.interrupted:
            action = "remove the restart mark of an interrupted run (power_after=off keeps the VM off)"
        else:
            return steps  # Starting, Stopping...: a stop may be under way; leave the mark alone
        return [Step(action, {"kind": "clear_restart_mark", "vm": self.name}), *steps]

    def _cmdlet(self, cmdlet: str, parameters: dict[str, t.Any], adapter_id: str | None = None) -> Operation:
        operation: Operation = {"kind": "cmdlet", "cmdlet": cmdlet, "vm": self.name}
        if adapter_id is not None:
            operation["adapter_id"] = adapter_id
        operation["parameters"] = parameters
        return operation

    def _version(self, before: dict[str, t.Any], after: dict[str, t.Any]) -> Step | None:
        if self.options.state != "enabled" or self.min_version is None:
            return None
        current = parse_version(before["version"])
        if current is None:
            self.warnings.append(f"VM {self.name!r} reports configuration version {before['version']!r}, which this module cannot compare.")
            return None
        if current >= self.min_version:
            return None
        needed = "{}.{}".format(*self.min_version)
        vendor = vendor_label(self.host)
        requirement = f"VM {self.name!r} has configuration version {before['version']}; nested virtualization on this {vendor} host needs {needed} or higher."
        if not self.options.upgrade_version:
            self.problems.append(f"{requirement} Set upgrade_version=true to run Update-VMVersion (irreversible: the VM will no longer run on older hosts).")
            return None
        target = self.host.get("default_version")
        target_version = parse_version(target)
        if target_version is None or target_version < self.min_version:
            self.problems.append(f"{requirement} This host upgrades VMs only to version {target}, so upgrade_version cannot help.")
            return None
        after["version"] = target
        return Step(f"upgrade configuration version {before['version']} -> {target} (irreversible)", self._cmdlet("Update-VMVersion", {"Force": True}))

    def _processor(self, before: dict[str, t.Any], after: dict[str, t.Any], needs_off: list[str]) -> Step | None:
        options = self.options
        parameters: dict[str, t.Any] = {}
        actions = []
        want_expose = options.state == "enabled" if options.state != "unchanged" else before["expose_virtualization_extensions"]
        if before["expose_virtualization_extensions"] != want_expose:
            parameters["ExposeVirtualizationExtensions"] = want_expose
            actions.append(("expose" if want_expose else "hide") + " virtualization extensions")
            needs_off.append("ExposeVirtualizationExtensions")
            after["expose_virtualization_extensions"] = want_expose
        if options.processor_count is not None and before["processor_count"] != options.processor_count:
            self._warn_above_2019_limit(want_expose)
            parameters["Count"] = options.processor_count
            actions.append(f"set processor count {before['processor_count']} -> {options.processor_count}")
            needs_off.append("processor count")
            after["processor_count"] = options.processor_count
        if not parameters:
            return None
        return Step("; ".join(actions), self._cmdlet("Set-VMProcessor", parameters))

    def _warn_above_2019_limit(self, exposed: bool) -> None:
        count = self.options.processor_count
        if exposed and count is not None and count > VCPU_LIMIT_2019_GUESTS:
            guest = self.vm.get("guest_os") or "an unknown guest OS"
            self.warnings.append(
                f"processor_count={count} for VM {self.name!r} ({guest}): with Windows Server 2019 or earlier inside, "
                f"nested Hyper-V supports at most {VCPU_LIMIT_2019_GUESTS} virtual processors."
            )

    def _warn_dynamic_memory_kept(self, after: dict[str, t.Any]) -> None:
        """dynamic_memory=unchanged on a VM that runs Hyper-V: say what that means (Microsoft's
        current guide: the memory of a VM running Hyper-V 'doesn't fluctuate')."""
        if not (after["expose_virtualization_extensions"] and after["dynamic_memory_enabled"]):
            return
        assigned = int(self.vm.get("memory_assigned_bytes") or 0)
        if self.vm.get("state") == "Running" and self.vm.get("expose_virtualization_extensions") and assigned > 0:
            amount = f"keeps the {format_size(assigned)} it has now"
        else:
            amount = f"keeps the {format_size(after['startup_memory_bytes'])} of startup memory it starts with"
        self.warnings.append(
            f"VM {self.name!r}: dynamic memory stays on (dynamic_memory=unchanged). The VM runs Hyper-V, but while it does, it {amount}: "
            "its memory neither grows nor shrinks until it is turned off. Set dynamic_memory=off and startup_memory for an amount you choose."
        )

    def _memory(self, before: dict[str, t.Any], after: dict[str, t.Any], needs_off: list[str]) -> Step | None:
        options = self.options
        parameters: dict[str, t.Any] = {}
        actions = []
        turn_off = options.state == "enabled" and options.dynamic_memory == "off"
        want_dynamic = False if turn_off else before["dynamic_memory_enabled"]
        if before["dynamic_memory_enabled"] != want_dynamic:
            parameters["DynamicMemoryEnabled"] = want_dynamic
            actions.append("turn dynamic memory off")
            needs_off.append("DynamicMemoryEnabled")
            after["dynamic_memory_enabled"] = want_dynamic
        if options.startup_memory is not None and before["startup_memory_bytes"] != options.startup_memory:
            if want_dynamic:
                self._check_dynamic_range(options.startup_memory)
            parameters["StartupBytes"] = options.startup_memory
            actions.append(f"set startup memory {format_size(before['startup_memory_bytes'])} -> {format_size(options.startup_memory)}")
            after["startup_memory_bytes"] = options.startup_memory
            # Runtime resize works only for static memory, and not once Hyper-V runs inside the VM.
            hyperv_inside = before["expose_virtualization_extensions"] or after["expose_virtualization_extensions"]
            if before["dynamic_memory_enabled"] or want_dynamic or hyperv_inside or before["power_state"] != "Running":
                needs_off.append("startup memory")
        if not parameters:
            return None
        return Step("; ".join(actions), self._cmdlet("Set-VMMemory", parameters))

    def _check_dynamic_range(self, startup: int) -> None:
        minimum = self.vm.get("minimum_memory_bytes")
        maximum = self.vm.get("maximum_memory_bytes")
        if isinstance(minimum, int) and startup < minimum:
            self.problems.append(f"startup_memory={format_size(startup)} is below VM {self.name!r}'s dynamic memory minimum of {format_size(minimum)}.")
        if isinstance(maximum, int) and startup > maximum:
            self.problems.append(f"startup_memory={format_size(startup)} is above VM {self.name!r}'s dynamic memory maximum of {format_size(maximum)}.")

    def _adapters(self, after: dict[str, t.Any]) -> list[Step]:
        options = self.options
        if options.mac_address_spoofing == "unchanged":
            return []
        wanted = "On" if options.mac_address_spoofing == "on" else "Off"
        adapters = after["adapters"]
        if options.adapters is not None:
            present = {str(adapter["name"]).casefold() for adapter in adapters}
            unknown = [name for name in options.adapters if name.casefold() not in present]
            if unknown:
                have = ", ".join(repr(adapter["name"]) for adapter in adapters) or "none"
                self.problems.append(
                    f"VM {self.name!r} has no network adapter named {', '.join(repr(name) for name in unknown)} (adapters). Its adapters: {have}."
                )
                return []
            selected = {name.casefold() for name in options.adapters}
            adapters = [adapter for adapter in adapters if str(adapter["name"]).casefold() in selected]
        steps = []
        for adapter in adapters:
            if adapter["mac_address_spoofing"] == wanted:
                continue
            adapter["mac_address_spoofing"] = wanted
            steps.append(
                Step(
                    f"MAC address spoofing {wanted} on adapter {adapter['name']!r}",
                    self._cmdlet("Set-VMNetworkAdapter", {"MacAddressSpoofing": wanted}, adapter_id=adapter["id"]),
                )
            )
        return steps

    def _power(self, before: dict[str, t.Any], after: dict[str, t.Any], needs_off: list[str]) -> tuple[list[Step], list[Step]]:
        options = self.options
        state = before["power_state"]
        first: list[Step] = []
        stopped = False
        if needs_off and state != "Off":
            why = ", ".join(dict.fromkeys(needs_off))
            if state == "Running":
                stop = self._stop(why)
                if stop is None:
                    return [], []
                first.append(stop)
                stopped = True
            elif state == "Saved":
                if options.saved_state != "discard":
                    self.problems.append(
                        f"VM {self.name!r} is in a saved state and these changes need it off: {why}. "
                        "Set saved_state=discard to discard the saved state (the guest loses what it had in memory), or start and shut it down yourself."
                    )
                    return [], []
                first.append(Step("discard saved state", self._cmdlet("Remove-VMSavedState", {})))
            else:
                self.problems.append(f"VM {self.name!r} is {state} and these changes need it off: {why}. Wait for it, or resume and stop it, then rerun.")
                return [], []
            after["power_state"] = "Off"

        last: list[Step] = []
        start: Operation = {"kind": "start_vm", "vm": self.name, "timeout_seconds": options.start_timeout}
        if (stopped and options.power_after != "off") or (options.power_after == "running" and after["power_state"] in ("Off", "Saved")):
            last.append(Step("start", start))
            after["power_state"] = "Running"
        elif self.interrupted and options.power_after == "previous":
            stopped_at = (self.vm.get("restart_mark") or {}).get("stopped_at") or "an unknown time"
            last.append(Step(f"start (it was running until a run of this module shut it down at {stopped_at} and was cut off)", start))
            after["power_state"] = "Running"
        elif options.power_after == "running" and after["power_state"] != "Running":
            self.warnings.append(f"VM {self.name!r} is {after['power_state']}; power_after=running leaves it so.")
        return first, last

    def _stop(self, why: str) -> Step | None:
        options = self.options
        if options.power == "fail":
            self.problems.append(
                f"VM {self.name!r} is running and these changes need it off: {why}. Set power=shutdown (graceful, through the guest) "
                "or power=turn_off (loses unsaved guest data) to let this module stop it and start it again, or stop it yourself."
            )
            return None
        if self.vm.get("is_clustered"):
            refusal = (
                f"VM {self.name!r} is a clustered role of a failover cluster, and these changes need it off: {why}. "
                "This module does not stop a clustered VM with Stop-VM: the cluster manages its power state, and Microsoft calls "
                "nested virtualization not suitable for Windows Server Failover Clustering."
            )
            if options.clustered != "allow":
                self.problems.append(
                    refusal + " Stop it through the cluster (Stop-ClusterGroup) and rerun, use a VM outside the cluster, or set clustered=allow."
                )
                return None
            self.warnings.append(refusal.replace("This module does not stop", "clustered=allow: this module stops it anyway; it normally does not stop"))
        mark_for_restart = options.power_after != "off"
        if options.power == "turn_off":
            return Step("turn off (unsaved guest data is lost)", {"kind": "stop_vm", "vm": self.name, "mode": "turn_off", "mark_for_restart": mark_for_restart})
        service = integration_service(self.vm, "Shutdown")
        if service is None or not service.get("enabled"):
            self.problems.append(
                f"VM {self.name!r} cannot be shut down gracefully: its Shutdown integration service is disabled (power=shutdown). "
                "Enable the service, or set power=turn_off (loses unsaved guest data)."
            )
            return None
        status = str(service.get("primary_status") or "")
        if self.vm.get("state") == "Running" and status and status.casefold() != "ok":
            # Enabled on the host, but nothing in the guest answers (PXE boot, a Linux guest without
            # hv_utils, a hung guest): Stop-VM would be refused or wait out the timeout.
            self.problems.append(
                f"VM {self.name!r} cannot be shut down gracefully: its Shutdown integration service is enabled but the guest does "
                f"not answer it ({status}) (power=shutdown). Check that the guest runs Hyper-V's integration services, "
                "or set power=turn_off (loses unsaved guest data)."
            )
            return None
        return Step(
            f"shut down through the guest (up to {options.shutdown_timeout}s)",
            {"kind": "stop_vm", "vm": self.name, "mode": "shutdown", "timeout_seconds": options.shutdown_timeout, "mark_for_restart": mark_for_restart},
        )


def plan(
    host: HostSection,
    vms_section: VmsSection,
    options: Options,
    *,
    min_version: tuple[int, int] | None = None,
    host_problems: t.Sequence[str] = (),
) -> PlannedVms:
    """Plan every requested VM, or raise PlanningError with every problem found.

    `min_version` is the configuration version this host's processor vendor needs for nested
    virtualization; `host_problems` are reasons the host cannot run nested at all. Both come
    from the host readiness rules and only matter for state=enabled.
    """
    host_name = str(host.get("computer_name") or "the host")
    problems = check_selection(vms_section, options.names, host_name)
    if options.state == "enabled":
        problems.extend(host_problems)
    problems.extend(check_host_limits(host, options))
    warnings = input_warnings(options)
    notes: list[str] = []
    by_name = {str(vm["name"]).casefold(): vm for vm in vms_section.get("vms") or []}
    vm_plans = []
    interrupted: set[str] = set()  # VMs to bring back if this run fails too
    for name in options.names:
        vm = by_name.get(name.casefold())
        if vm is None or vm.get("error"):
            continue  # check_selection named it
        planner = _VmPlanner(vm, options, host, min_version if options.state == "enabled" else None)
        vm_plans.append(planner.plan())
        if planner.interrupted:
            interrupted.add(planner.name)
        problems.extend(planner.problems)
        warnings.extend(planner.warnings)
        notes.extend(planner.notes)
    if problems:
        raise PlanningError(problems, warnings=warnings)
    on_failure: list[Operation] = [
        {"kind": "ensure_running", "vm": vm.name, "timeout_seconds": options.start_timeout}
        for vm in vm_plans
        if options.power_after != "off" and (vm.name in interrupted or (vm.before["power_state"] == "Running" and stops(vm)))
    ]
    vm_plans, order = power_order(vm_plans, options.power_concurrency, options.shutdown_timeout, options.start_timeout)
    return PlannedVms(vm_plans, on_failure, warnings, order=order, notes=notes)
