# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The VM rules (reason codes `vm.*`): can this VM be a Hyper-V host, and would it start as configured?

`vm_verdict` runs the rule families of VM_RULES in order; each adds its findings to the verdict.
The order of VM_RULES is the order of the findings in the result. `why_not_starting` then picks,
from the VM's and the host's blockers, Microsoft's "my VM won't start" checklist.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import quote, vm_reference
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.host import HOST_START_BLOCKERS, host_verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.platform import INTEL, required_version
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.verdict import Facts, Finding, Verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import integration_service, processor_manufacturer, version_key

RECOMMENDED_MEMORY_BYTES = 4 * 1024**3
RECOMMENDED_PROCESSORS = 2
VCPU_LIMIT_2019_GUESTS = 225
# How the VMs' guests reach the network (win_nested_info option network_modes).
NETWORK_MODES = ("nat", "mac_spoofing")
# The blockers a Saved VM cannot leave its state with: its processor and memory settings must change.
_NEEDS_CHANGES = frozenset({"vm.version_too_low", "vm.extensions_not_exposed"})


@dataclass(frozen=True)
class VMFacts:
    """One entry of the probe's `vms` section, its host, and what the rules derive from them once."""

    host: Facts
    vm: Facts
    network_mode: str | None
    name: str
    by_name: str  # for fix texts: "-VMName 'x'", or "-VM (Get-VM ...)" for a name with wildcard characters
    state: str
    version: str
    exposed: bool

    @classmethod
    def of(cls, host: Facts, vm: Facts, network_mode: str | None) -> VMFacts:
        name = str(vm.get("name"))
        # For fix texts: -VMName is a wildcard pattern, so names with wildcard characters get the exact form.
        by_name = f"-VMName {quote(name)}" if vm_reference(name).startswith("(Get-VM -Name") else f"-VM {vm_reference(name)}"
        return cls(
            host=host,
            vm=vm,
            network_mode=network_mode,
            name=name,
            by_name=by_name,
            state=str(vm.get("state") or ""),
            version=str(vm.get("version") or ""),
            exposed=bool(vm.get("expose_virtualization_extensions")),
        )


def vm_verdict(host: Facts, vm: Facts, host_result: Verdict | None = None, *, network_mode: str | None = None) -> Verdict:
    """The verdict for one VM on `host` (`host_result`: the host's verdict, when already known;
    `network_mode`: how its guests reach the network, "nat" or "mac_spoofing", None when unknown)."""
    host_result = host_result if host_result is not None else host_verdict(host)
    verdict = Verdict()
    facts = VMFacts.of(host, vm, network_mode)
    for rule in VM_RULES:
        rule(verdict, facts)
    verdict.why_not_starting = _why_not_starting(verdict, host_result, facts.state, facts.exposed)
    return verdict


def _configuration_version(verdict: Verdict, facts: VMFacts) -> None:
    """Reason codes: vm.version_unsupported_by_host, vm.version_too_low."""
    host, version, by_name = facts.host, facts.version, facts.by_name
    supported = [str(v) for v in host.get("supported_versions") or []]
    if supported and version and version_key(version) > max(version_key(v) for v in supported):
        verdict.block(
            "vm.version_unsupported_by_host",
            f"Configuration version {version} is newer than this host supports (up to {max(supported, key=version_key)}): the VM cannot start here.",
            "Run the VM on a host with a newer Windows build.",
        )

    minimum = required_version(host)
    if minimum and version and version_key(version) < version_key(minimum):
        vendor = "Intel" if processor_manufacturer(host) == INTEL else "AMD"
        default = host.get("default_version")
        target = f" (it upgrades to this host's default version, {default})" if default else ""
        verdict.block(
            "vm.version_too_low",
            f"Configuration version {version} is below {minimum}, the minimum for nested virtualization on {vendor} hosts.",
            f"With the VM off, run Update-VMVersion {by_name}{target}, or set upgrade_version: true on "
            "hyperv.nested.win_nested_vm; the upgrade cannot be undone and the VM then no longer runs on older hosts.",
        )


def _virtualization_extensions(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.extensions_not_exposed."""
    if not facts.exposed:
        verdict.block(
            "vm.extensions_not_exposed",
            "Virtualization extensions are not exposed to the VM, so Hyper-V cannot run inside it.",
            f"With the VM off, run Set-VMProcessor {facts.by_name} -ExposeVirtualizationExtensions $true, or use hyperv.nested.win_nested_vm.",
        )


def _dynamic_memory(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.dynamic_memory_enabled."""
    if facts.vm.get("dynamic_memory_enabled"):
        verdict.warn("vm.dynamic_memory_enabled", _dynamic_memory_sentence(facts.vm, facts.state, facts.exposed), _dynamic_memory_fix(facts.by_name))


def _saved_state(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.saved_state (a blocker when the VM's settings must change, else a warning)."""
    if facts.state != "Saved":
        return
    saved = (
        "The VM is in the Saved state: its processor and memory settings cannot change until it is started and shut down, or its saved state is discarded.",
        f"Start the VM and shut it down cleanly, or discard the saved state (Remove-VMSavedState {facts.by_name}; the memory contents are lost).",
    )
    if any(finding.code in _NEEDS_CHANGES for finding in verdict.blockers):
        verdict.block("vm.saved_state", *saved)
    else:
        verdict.warn("vm.saved_state", *saved)


def _restart_mark(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.restart_pending."""
    # A restart mark (wire protocol 3.1) on a VM that is Off: a run of win_nested_vm stopped it and
    # never got to start it. On a VM in any other state the mark is stale or a stop is under way.
    mark = facts.vm.get("restart_mark")
    if mark is not None and facts.state == "Off":
        stopped_at = (mark.get("stopped_at") if isinstance(mark, t.Mapping) else None) or "an unknown time"
        verdict.warn(
            "vm.restart_pending",
            f"VM '{facts.name}' was shut down by win_nested_vm at {stopped_at} to change its settings, "
            "and the run that stopped it ended before starting it again.",
            "Run hyperv.nested.win_nested_vm again with power_after=previous (the default) or running: it starts the VM and removes "
            f"the mark. Or start it yourself (Start-VM {facts.by_name}): the mark is then stale, and the next run of win_nested_vm removes it. "
            "power_after=off forgets the mark and leaves the VM off.",
        )


def _processor_count(verdict: Verdict, facts: VMFacts) -> None:
    """Reason codes: vm.processor_count_above_2019_limit, vm.processor_count_below_recommended."""
    by_name = facts.by_name
    count = int(facts.vm.get("processor_count") or 0)
    if count > VCPU_LIMIT_2019_GUESTS:
        old_guest = _guest_is_2019_or_earlier(facts.vm.get("guest_os"))
        msg = f"The VM has {count} virtual processors; with Windows Server 2019 or earlier inside, nested Hyper-V supports at most {VCPU_LIMIT_2019_GUESTS}."
        fix = f"Set-VMProcessor {by_name} -Count {VCPU_LIMIT_2019_GUESTS} (VM off), or run a newer guest OS."
        if old_guest:
            verdict.block("vm.processor_count_above_2019_limit", msg, fix)
        elif old_guest is None:
            verdict.warn("vm.processor_count_above_2019_limit", msg + " The guest OS is unknown.", fix)
    elif 0 < count < RECOMMENDED_PROCESSORS:
        verdict.warn(
            "vm.processor_count_below_recommended",
            f"The VM has {count} virtual processor; Hyper-V inside it wants at least {RECOMMENDED_PROCESSORS}.",
            f"Set-VMProcessor {by_name} -Count {RECOMMENDED_PROCESSORS} (VM off), or processor_count on hyperv.nested.win_nested_vm.",
        )


def _startup_memory(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.memory_below_recommended."""
    startup = int(facts.vm.get("startup_memory_bytes") or 0)
    if 0 < startup < RECOMMENDED_MEMORY_BYTES:
        verdict.warn(
            "vm.memory_below_recommended",
            f"Startup memory is {_gib(startup)}; Microsoft recommends at least 4 GB for a VM that runs Hyper-V.",
            f"Set-VMMemory {facts.by_name} -StartupBytes 4GB (VM off), or startup_memory: 4GB on hyperv.nested.win_nested_vm.",
        )


def _checkpoints(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.checkpoints_present (a note)."""
    checkpoints = facts.vm.get("checkpoints") or []
    if checkpoints:
        verdict.note(
            "vm.checkpoints_present",
            f"The VM has {len(checkpoints)} checkpoint(s). Checkpoints work with nested virtualization; applying one restores "
            "the VM's configuration as it was then, so a checkpoint taken before the virtualization extensions were exposed "
            "hides them again when applied.",
            "Nothing to do. After applying an older checkpoint, run hyperv.nested.win_nested_vm again.",
        )


def _cluster(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.clustered."""
    if facts.vm.get("is_clustered"):
        verdict.warn(
            "vm.clustered",
            f"VM '{facts.name}' is a clustered role of a failover cluster. Microsoft: nested virtualization 'isn't suitable for "
            "Windows Server Failover Clustering'. The cluster manages the power state of its VMs, so "
            "hyperv.nested.win_nested_vm does not stop this VM with Stop-VM unless clustered=allow.",
            "Use a VM that is not clustered as a nested Hyper-V host, or take it out of the cluster first "
            "(Remove-ClusterGroup -VMId <id> -RemoveResources keeps the VM).",
        )


def _mac_spoofing(verdict: Verdict, facts: VMFacts) -> None:
    """Reason code: vm.mac_spoofing_off (a note for a VM in NAT mode, else a warning)."""
    network_mode = facts.network_mode
    unspoofed = [
        str(adapter.get("name"))
        for adapter in facts.vm.get("adapters") or []
        if adapter.get("switch_name") and str(adapter.get("mac_address_spoofing")) != "On"
    ]
    if unspoofed and network_mode == "nat":
        verdict.note(
            "vm.mac_spoofing_off",
            f"MAC address spoofing is off on {', '.join(unspoofed)}. Not needed: the VMs nested inside reach the network through NAT inside this VM.",
            "Nothing to do.",
        )
    elif unspoofed:
        both = "" if network_mode == "mac_spoofing" else ", or use NAT networking inside the VM (hyperv.nested.win_nested_nat)"
        verdict.warn(
            "vm.mac_spoofing_off",
            f"MAC address spoofing is off on {', '.join(unspoofed)}: VMs nested inside reach the network through these adapters only "
            "with spoofing on (Microsoft: 'MAC address spoofing must be enabled on the first (L1) level of virtual switch').",
            f"Set mac_address_spoofing: on with hyperv.nested.win_nested_vm{both}.",
        )


def _integration_services(verdict: Verdict, facts: VMFacts) -> None:
    """Reason codes: vm.shutdown_service_missing, vm.heartbeat_missing, vm.heartbeat_not_ok."""
    by_name = facts.by_name
    shutdown = integration_service(facts.vm, "Shutdown")
    if shutdown is None or not shutdown.get("enabled"):
        verdict.warn(
            "vm.shutdown_service_missing",
            "The Shutdown integration service is off: the VM cannot be shut down gracefully, only turned off.",
            f"Enable-VMIntegrationService {by_name} -Name Shutdown.",
        )

    heartbeat = integration_service(facts.vm, "Heartbeat")
    if heartbeat is None or not heartbeat.get("enabled"):
        verdict.warn(
            "vm.heartbeat_missing",
            "The Heartbeat integration service is off: after a start, nothing confirms that the guest booted.",
            f"Enable-VMIntegrationService {by_name} -Name Heartbeat.",
        )
    elif facts.state == "Running" and str(heartbeat.get("primary_status") or "").casefold() not in ("ok", ""):
        verdict.warn(
            "vm.heartbeat_not_ok",
            f"The guest does not answer the heartbeat ({heartbeat.get('primary_status')}): it may still be booting, hung, or lack integration services.",
            "Check the guest's console; install or update its integration services.",
        )


VMRule = t.Callable[[Verdict, VMFacts], None]

# The VM's rule families, in the order their findings are reported.
VM_RULES: tuple[VMRule, ...] = (
    _configuration_version,
    _virtualization_extensions,
    _dynamic_memory,
    _saved_state,
    _restart_mark,
    _processor_count,
    _startup_memory,
    _checkpoints,
    _cluster,
    _mac_spoofing,
    _integration_services,
)


def _guest_is_2019_or_earlier(guest_os: t.Any) -> bool | None:
    """True/False from names like 'Windows Server 2019 Datacenter'; None when unknown."""
    if not guest_os:
        return None
    match = re.search(r"Windows Server (\d{4})", str(guest_os))
    if match:
        return int(match.group(1)) <= 2019
    return False if "Windows" in str(guest_os) else None


def _gib(size: t.Any) -> str:
    value = int(size or 0) / 1024**3
    return f"{value:g} GB" if value >= 1 else f"{int(size or 0) // 1024**2} MB"


def _dynamic_memory_sentence(vm: Facts, state: str, exposed: bool) -> str:
    """What dynamic memory does to a VM that runs Hyper-V: nothing starts or fails; the amount stays put."""
    startup = _gib(vm.get("startup_memory_bytes"))
    assigned = int(vm.get("memory_assigned_bytes") or 0)
    if state == "Running" and assigned > 0:
        amount = f"keeps the {_gib(assigned)} it has now"
    else:
        amount = f"starts with its startup memory of {startup} and keeps that amount"
    quote = (
        " (Microsoft: 'When Hyper-V is running inside a virtual machine, the virtual machine must be turned off to adjust "
        "its memory. Meaning that even if dynamic memory is enabled, the amount of memory doesn't fluctuate.')"
    )
    if exposed:
        return (
            f"Dynamic memory is on. The VM starts and runs Hyper-V, but while Hyper-V runs inside it the VM {amount}: "
            f"its memory neither grows nor shrinks until it is turned off.{quote}"
        )
    return (
        f"Dynamic memory is on. It changes nothing now; once Hyper-V runs inside it, the VM keeps the memory it has then "
        f"(its startup memory is {startup}) and neither grows nor shrinks until it is turned off.{quote}"
    )


def _dynamic_memory_fix(by_name: str) -> str:
    return (
        "Nothing stops the VM from starting. For an amount you choose rather than the one it happens to have, turn dynamic memory "
        f"off and set its memory, with the VM off: Set-VMMemory {by_name} -DynamicMemoryEnabled $false -StartupBytes <size>, "
        "or hyperv.nested.win_nested_vm (which turns it off by default and takes startup_memory)."
    )


def _why_not_starting(verdict: Verdict, host_result: Verdict, state: str, exposed: bool) -> list[Finding]:
    """Microsoft's "my VM won't start" checklist, for this VM as configured now."""
    reasons = [finding for finding in verdict.blockers if finding.code == "vm.version_unsupported_by_host"]
    if not exposed:
        return reasons
    reasons += [finding for finding in host_result.blockers if finding.code in HOST_START_BLOCKERS]
    reasons += [finding for finding in verdict.blockers if finding.code == "vm.version_too_low"]
    reasons += [finding for finding in verdict.blockers if finding.code == "vm.processor_count_above_2019_limit"]
    if reasons and state == "Saved":
        reasons.append(
            Finding(
                "vm.saved_state",
                "The saved state cannot be restored while the problems above remain.",
                "Fix them, or discard the saved state with Remove-VMSavedState (memory contents are lost).",
            )
        )
    return reasons
