# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""Can this host run nested virtualization, and can each VM be a Hyper-V host? The verdict rules.

Input is the probe's `host` and `vms` sections (docs/internals/wire-protocol.md); output is a
verdict per host and per VM with stable reason codes, each explained in docs/reason-codes.md.
Pure functions: no I/O, so every rule is unit-tested on Linux.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import quote, vm_reference
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import did_you_mean, integration_service, processor_manufacturer, version_key

Facts = t.Mapping[str, t.Any]

INTEL = "GenuineIntel"
AMD = "AuthenticAMD"
# Microsoft (Windows Server docs, enable-nested-virtualization.md, 2025): Intel needs Windows Server
# 2016 / Windows 10 or later and VM version 8.0; AMD needs Windows Server 2022 (build 20348) or
# Windows 11 (build 22000) and VM version 9.3. Build 14393 is the GA build of Windows Server 2016 /
# Windows 10 1607; builds 10565 to 14392 only had the 2016 preview of nested virtualization.
MIN_BUILD_INTEL = 14393
FIRST_PREVIEW_BUILD = 10565
MIN_BUILD_AMD_SERVER = 20348
MIN_BUILD_AMD_CLIENT = 22000
MIN_VERSION_INTEL = "8.0"
MIN_VERSION_AMD = "9.3"
RECOMMENDED_MEMORY_BYTES = 4 * 1024**3
RECOMMENDED_PROCESSORS = 2
VCPU_LIMIT_2019_GUESTS = 225
# Win32_SystemEnclosure.SMBIOSAssetTag of every Azure VM ("To verify if a VM is an Azure VM, check
# for Asset tag value", MicrosoftDocs/azure-docs articles/automation/troubleshoot/update-agent-issues-linux.md).
AZURE_ASSET_TAG = "7783-7084-3265-9085-8269-3286-77"
AZURE_DNS = "168.63.129.16"
# How the VMs' guests reach the network (win_nested_info option network_modes).
NETWORK_MODES = ("nat", "mac_spoofing")

# Every code the rules can emit, with its one-line meaning (docs/reason-codes.md explains each).
CODES: dict[str, str] = {
    "host.not_hyperv_admin": "the connecting account is neither in Hyper-V Administrators nor an administrator",
    "host.hyperv_not_installed": "the Hyper-V role is not installed (or waits for a restart)",
    "host.hyperv_powershell_missing": "the Hyper-V PowerShell module is not installed",
    "host.hypervisor_not_running": "Hyper-V is installed but the hypervisor is not running",
    "host.processor_unsupported": "the processor cannot run nested virtualization on this build",
    "host.build_too_old": "the Windows build predates nested virtualization",
    "host.virtualization_disabled_in_firmware": "VT-x / AMD-V is disabled in the firmware",
    "host.slat_missing": "the processor lacks second level address translation (EPT / RVI)",
    "host.bcd_nested_disabled": "the boot configuration sets OFFERNESTEDVIRT=FALSE",
    "host.bcd_unreadable": "the boot configuration could not be read",
    "host.is_virtual_machine": "the host is itself a Hyper-V VM: nesting depends on its parent (a note)",
    "host.azure_vm": "the host is an Azure VM: nesting depends on its VM size and security type (a note)",
    "host.parent_not_hyperv": "the host is a VM on another hypervisor, which Microsoft does not support for Hyper-V",
    "host.multiple_nats": "the host has more than one NAT network",
    "vm.not_found": "no VM has the requested name",
    "vm.duplicate_name": "more than one VM has the requested name",
    "vm.version_too_low": "the VM configuration version is below the nested minimum",
    "vm.version_unsupported_by_host": "this host cannot run the VM's configuration version",
    "vm.extensions_not_exposed": "ExposeVirtualizationExtensions is off",
    "vm.dynamic_memory_enabled": "dynamic memory is on: the memory stays fixed while Hyper-V runs inside",
    "vm.saved_state": "the VM is in the Saved state",
    "vm.checkpoints_present": "the VM has checkpoints (a note)",
    "vm.clustered": "the VM is a clustered role of a failover cluster",
    "vm.memory_below_recommended": "startup memory is below 4 GB",
    "vm.processor_count_below_recommended": "fewer than 2 virtual processors",
    "vm.processor_count_above_2019_limit": "more than 225 virtual processors for a Windows Server 2019 or earlier guest",
    "vm.mac_spoofing_off": "MAC address spoofing is off on connected adapters (a note for a VM in NAT mode)",
    "vm.shutdown_service_missing": "the Shutdown integration service is off: no graceful shutdown",
    "vm.heartbeat_missing": "the Heartbeat integration service is off: a start cannot be confirmed",
    "vm.heartbeat_not_ok": "the running guest does not answer the heartbeat",
    "vm.restart_pending": "win_nested_vm shut the VM down and the run ended before starting it again",
    "vm.unreadable": "Hyper-V could not read the VM's settings (Off-Critical, an unreachable configuration)",
}

# Host problems that stop a VM with exposed extensions from starting.
_HOST_START_BLOCKERS = frozenset(
    {
        "host.hyperv_not_installed",
        "host.hypervisor_not_running",
        "host.processor_unsupported",
        "host.build_too_old",
        "host.virtualization_disabled_in_firmware",
        "host.slat_missing",
        "host.bcd_nested_disabled",
    }
)


@dataclass(frozen=True)
class Finding:
    code: str
    msg: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "msg": self.msg, "fix": self.fix}


@dataclass
class Verdict:
    """Blockers stop nesting; warnings will bite later; notes are information that is expected or
    harmless where it stands (an L1 host is a VM, checkpoints, spoofing off in NAT mode)."""

    blockers: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    why_not_starting: list[Finding] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blockers

    def block(self, code: str, msg: str, fix: str) -> None:
        self.blockers.append(Finding(code, msg, fix))

    def warn(self, code: str, msg: str, fix: str) -> None:
        self.warnings.append(Finding(code, msg, fix))

    def note(self, code: str, msg: str, fix: str) -> None:
        self.notes.append(Finding(code, msg, fix))

    def as_dict(self, *, with_start: bool = False) -> dict[str, t.Any]:
        shaped: dict[str, t.Any] = {
            "ready": self.ready,
            "blockers": [finding.as_dict() for finding in self.blockers],
            "warnings": [finding.as_dict() for finding in self.warnings],
            "notes": [finding.as_dict() for finding in self.notes],
        }
        if with_start:
            shaped["why_not_starting"] = [finding.as_dict() for finding in self.why_not_starting]
        return shaped


def _build(host: Facts) -> int:
    try:
        return int((host.get("os") or {}).get("build") or 0)
    except (TypeError, ValueError):
        return 0


def _is_client(host: Facts) -> bool:
    return (host.get("os") or {}).get("product_type") == "client"


def amd_min_build(host: Facts) -> int:
    return MIN_BUILD_AMD_CLIENT if _is_client(host) else MIN_BUILD_AMD_SERVER


def required_version(host: Facts) -> str | None:
    """The lowest VM configuration version that can nest on this host's processor."""
    vendor = processor_manufacturer(host)
    if vendor == INTEL:
        return MIN_VERSION_INTEL
    if vendor == AMD:
        return MIN_VERSION_AMD
    return None


def _release(host: Facts) -> str:
    return "Windows 11" if _is_client(host) else "Windows Server 2022"


@dataclass(frozen=True)
class Platform:
    """What the host runs on: physical hardware, or a VM of some hypervisor (and cloud)."""

    virtual: bool
    hypervisor: str | None  # "Hyper-V", "VMware", "KVM/QEMU", ... None when physical
    cloud: str | None  # "Azure", "AWS", "Google Cloud" or None

    def as_dict(self) -> dict[str, t.Any]:
        return {"virtual": self.virtual, "hypervisor": self.hypervisor, "cloud": self.cloud}


# Win32_ComputerSystem Manufacturer / Model of VMs of other hypervisors (what their virtual
# firmware reports): (text to look for, case-insensitively, in "manufacturer model", hypervisor, cloud).
_OTHER_HYPERVISORS: tuple[tuple[str, str, str | None], ...] = (
    ("vmware", "VMware", None),
    ("amazon ec2", "AWS Nitro (KVM)", "AWS"),
    ("google compute engine", "Google Compute Engine (KVM)", "Google Cloud"),
    ("qemu", "KVM/QEMU", None),
    ("kvm", "KVM/QEMU", None),
    ("xen", "Xen", None),
    ("virtualbox", "VirtualBox", None),
    ("innotek", "VirtualBox", None),
    ("parallels", "Parallels", None),
    ("bhyve", "bhyve", None),
    ("nutanix", "Nutanix AHV (KVM)", None),
)


def platform_of(host: Facts) -> Platform:
    """Physical, a Hyper-V VM (Azure when its SMBIOS asset tag says so), or a VM of another hypervisor."""
    facts = host.get("platform") or {}
    manufacturer = str(facts.get("manufacturer") or "")
    model = str(facts.get("model") or "")
    if str(facts.get("smbios_asset_tag") or "").strip() == AZURE_ASSET_TAG:
        return Platform(virtual=True, hypervisor="Hyper-V", cloud="Azure")
    if host.get("is_virtual_machine") or (manufacturer.strip() == "Microsoft Corporation" and model.strip() == "Virtual Machine"):
        return Platform(virtual=True, hypervisor="Hyper-V", cloud=None)
    text = f"{manufacturer} {model}".casefold()
    for marker, hypervisor, cloud in _OTHER_HYPERVISORS:
        if marker in text:
            return Platform(virtual=True, hypervisor=hypervisor, cloud=cloud)
    return Platform(virtual=False, hypervisor=None, cloud=None)


# What to do when a VM's own virtualization extensions are missing: where the setting lives.
_AZURE_SIZE_FIX = (
    "This is an Azure VM, whose Hyper-V host you cannot reach. Redeploy or resize it to a VM size that supports nested "
    "virtualization, created with security type Standard (Microsoft: 'To enable Nested Virtualization in an Azure VM, "
    "make sure to set Security Type as Standard')."
)


def _parent_fix(platform: Platform) -> str:
    if platform.cloud == "Azure":
        return _AZURE_SIZE_FIX
    if platform.hypervisor == "Hyper-V":
        return "On the parent host, with this VM off: Set-VMProcessor -ExposeVirtualizationExtensions $true for this VM, or hyperv.nested.win_nested_vm."
    where = f"{platform.cloud} instance" if platform.cloud else f"{platform.hypervisor} VM"
    return (
        f"Expose hardware virtualization (VT-x / AMD-V) to this {where} in {platform.hypervisor}'s own settings; "
        "this collection does not manage that parent."
    )


def host_verdict(host: Facts, *, hyperv_module: bool = True) -> Verdict:
    verdict = Verdict()
    build = _build(host)
    vendor = processor_manufacturer(host)
    cpu = host.get("processor") or {}
    hypervisor_present = bool(host.get("hypervisor_present"))
    platform = platform_of(host)

    if host.get("is_hyperv_administrator") is False:
        verdict.block(
            "host.not_hyperv_admin",
            "The account Ansible connects with is neither a member of Hyper-V Administrators (S-1-5-32-578) nor an "
            "administrator: Hyper-V may show it no VMs and refuses every change.",
            "Add the account to the local group Hyper-V Administrators (Add-LocalGroupMember -SID 'S-1-5-32-578' "
            "-Member <account>) and connect again: group membership applies at the next logon.",
        )

    feature = str(host.get("hyperv_feature") or "Unknown")
    if feature != "Enabled":
        pending = feature == "EnablePending"
        tools_only = not pending and hyperv_module and host.get("vmms") == "Absent"
        verdict.block(
            "host.hyperv_not_installed",
            "Hyper-V is installed but waits for a restart."
            if pending
            else "Only the Hyper-V management tools are installed, not the Hyper-V role."
            if tools_only
            else f"The Hyper-V role is not installed (state: {feature}).",
            "Restart the host."
            if pending
            else "Install Hyper-V (ansible.windows.win_feature name=Hyper-V include_management_tools=true on Windows Server, "
            "ansible.windows.win_optional_feature name=Microsoft-Hyper-V-All on Windows 10/11), then restart.",
        )
    elif not hyperv_module:
        verdict.block(
            "host.hyperv_powershell_missing",
            "The Hyper-V PowerShell module is not installed, so VMs can be neither inspected nor configured.",
            "Install it: ansible.windows.win_feature name=Hyper-V-PowerShell (Windows Server) or "
            "ansible.windows.win_optional_feature name=Microsoft-Hyper-V-Management-PowerShell (Windows 10/11).",
        )
    elif not hypervisor_present:
        fix = "Check 'bcdedit /enum {current}': hypervisorlaunchtype must be Auto (bcdedit /set hypervisorlaunchtype auto)"
        if platform.virtual:
            fix += f", then restart. This host is a VM: it also needs virtualization extensions from its parent. {_parent_fix(platform)}"
        else:
            fix += ", and virtualization must be enabled in the firmware; then restart."
        verdict.block("host.hypervisor_not_running", "Hyper-V is installed but the hypervisor is not running.", fix)

    if vendor == INTEL:
        if build < MIN_BUILD_INTEL:
            preview = (
                f" Builds {FIRST_PREVIEW_BUILD} to {MIN_BUILD_INTEL - 1} only had the 2016 preview of nested virtualization, "
                "whose requirements no longer apply."
                if build >= FIRST_PREVIEW_BUILD
                else ""
            )
            verdict.block(
                "host.build_too_old",
                f"Build {build} predates nested virtualization, which needs Windows Server 2016 or Windows 10 version 1607 "
                f"(build {MIN_BUILD_INTEL}) or later.{preview}",
                "Upgrade the host to Windows Server 2016 or Windows 10 version 1607 or later.",
            )
    elif vendor == AMD:
        minimum = amd_min_build(host)
        if build < minimum:
            verdict.block(
                "host.processor_unsupported",
                f"Nested virtualization on AMD processors needs {_release(host)} (build {minimum}) or later; this host runs build {build}.",
                f"Upgrade the host to {_release(host)} or later, or use an Intel host (VT-x with EPT).",
            )
    else:
        verdict.block(
            "host.processor_unsupported",
            f"Processor manufacturer '{vendor or 'unknown'}' does not support Hyper-V nested virtualization (Intel VT-x with EPT or AMD EPYC/Ryzen is needed).",
            "Use a host with an Intel (VT-x and EPT) or AMD (AMD-V and RVI) processor.",
        )

    # With the hypervisor running, Win32_Processor reports these flags as false: it hides them
    # from the root partition. Hyper-V running proves them, so they are judged only without it.
    if not hypervisor_present and vendor in (INTEL, AMD):
        technology = "Intel VT-x" if vendor == INTEL else "AMD-V"
        if platform.virtual and cpu.get("vm_monitor_mode_extensions") is False:
            # A VM sees VT-x/AMD-V (and SLAT) only when its parent exposes them: same code, the real cause.
            verdict.block(
                "host.processor_unsupported",
                f"This host is a virtual machine whose processor shows no {technology}: "
                + ("its parent host" if platform.hypervisor == "Hyper-V" and not platform.cloud else f"its parent ({platform.cloud or platform.hypervisor})")
                + " does not expose virtualization extensions to it, so Hyper-V cannot run here.",
                _parent_fix(platform),
            )
        elif cpu.get("vm_monitor_mode_extensions") is False:
            verdict.block(
                "host.processor_unsupported",
                f"The processor does not provide {technology}.",
                "Use a host whose processor supports hardware virtualization.",
            )
        elif cpu.get("virtualization_firmware_enabled") is False:
            verdict.block(
                "host.virtualization_disabled_in_firmware",
                f"{technology} is disabled in the firmware (BIOS/UEFI).",
                f"Enable {technology} (often 'Intel Virtualization Technology' or 'SVM Mode') in the firmware setup, then restart.",
            )
        if cpu.get("second_level_address_translation") is False and not platform.virtual:
            verdict.block(
                "host.slat_missing",
                "The processor lacks second level address translation (" + ("EPT" if vendor == INTEL else "RVI") + ").",
                "Use a host whose processor supports SLAT (Intel EPT or AMD RVI).",
            )

    bcd = host.get("bcd_offer_nested_virt_disabled")
    if bcd is True:
        verdict.block(
            "host.bcd_nested_disabled",
            "The boot configuration sets hypervisorloadoptions OFFERNESTEDVIRT=FALSE, so the hypervisor offers no nested virtualization.",
            "Run 'bcdedit /deletevalue {current} hypervisorloadoptions' as administrator and restart.",
        )
    elif bcd is None and "bcd_offer_nested_virt_disabled" in host:
        verdict.warn(
            "host.bcd_unreadable",
            "The boot configuration could not be read (bcdedit needs an administrator), so OFFERNESTEDVIRT=FALSE was not checked.",
            "Connect as an administrator to include this check.",
        )

    _platform_findings(verdict, host, platform)
    _nat_findings(verdict, host)
    return verdict


def _platform_findings(verdict: Verdict, host: Facts, platform: Platform) -> None:
    facts = host.get("platform") or {}
    if platform.cloud == "Azure":
        verdict.note(
            "host.azure_vm",
            f"This host is an Azure virtual machine (SMBIOS asset tag {AZURE_ASSET_TAG}). Whether it can run Hyper-V depends on "
            "its VM size and security type, which are set in Azure, not on a host you can reach. MAC address spoofing is not "
            f"available there: its guests reach the network through NAT, and use Azure's DNS resolver {AZURE_DNS} "
            "(hyperv.nested.win_nested_nat does so unless guest_dns is set).",
            "Nothing to do while Hyper-V runs here. If it cannot: pick a VM size that supports nested virtualization, with security type Standard.",
        )
    elif platform.hypervisor == "Hyper-V":
        verdict.note(
            "host.is_virtual_machine",
            "This host is itself a Hyper-V virtual machine (an L1): Hyper-V runs here while its parent exposes virtualization "
            "extensions to it. Its own VMs are the second level; one level of nesting is supported in production, so VMs "
            "here that run Hyper-V themselves are for evaluation only.",
            "Nothing to do. Its parent's view of it: hyperv.nested.win_nested_info on the parent host, naming this VM.",
        )
    elif platform.virtual:
        described = " ".join(part for part in (str(facts.get("manufacturer") or "").strip(), str(facts.get("model") or "").strip()) if part)
        verdict.warn(
            "host.parent_not_hyperv",
            f"This host is a virtual machine on {platform.hypervisor}{f' ({described})' if described else ''}, not on Hyper-V. "
            "Microsoft: 'Hyper-V virtualization on non-Microsoft virtualization isn't supported'; it may work when "
            f"{platform.hypervisor} exposes hardware virtualization to the VM, but Microsoft does not test it.",
            f"Check with the vendor of {platform.hypervisor} that nested virtualization is supported and turned on for this VM, "
            "or run Hyper-V on a physical host or in a Hyper-V VM.",
        )


def _nat_findings(verdict: Verdict, host: Facts) -> None:
    nats = [nat for nat in host.get("nats") or [] if isinstance(nat, t.Mapping)]
    if len(nats) > 1:
        listed = ", ".join(f"{nat.get('name')} ({nat.get('internal_ip_interface_address_prefix')})" for nat in nats)
        verdict.warn(
            "host.multiple_nats",
            f"This host has {len(nats)} NAT networks: {listed}. Windows supports one NAT network per host; with several, "
            "WinNAT is in an unknown state and guests may lose their connection (Microsoft, 'Set up a NAT network': "
            "'Multiple NAT networks are not supported').",
            "Keep one: remove the others (Remove-NetNat -Name <name>), or replace them by one NAT whose prefix covers the "
            "networks that need it.",
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


def vm_verdict(host: Facts, vm: Facts, host_result: Verdict | None = None, *, network_mode: str | None = None) -> Verdict:
    """The verdict for one VM on `host` (`host_result`: the host's verdict, when already known;
    `network_mode`: how its guests reach the network, "nat" or "mac_spoofing", None when unknown)."""
    host_result = host_result if host_result is not None else host_verdict(host)
    verdict = Verdict()
    name = str(vm.get("name"))
    # For fix texts: -VMName is a wildcard pattern, so names with wildcard characters get the exact form.
    by_name = f"-VMName {quote(name)}" if vm_reference(name).startswith("(Get-VM -Name") else f"-VM {vm_reference(name)}"
    state = str(vm.get("state") or "")
    version = str(vm.get("version") or "")
    exposed = bool(vm.get("expose_virtualization_extensions"))
    needs_changes = False

    supported = [str(v) for v in host.get("supported_versions") or []]
    if supported and version and version_key(version) > max(version_key(v) for v in supported):
        verdict.block(
            "vm.version_unsupported_by_host",
            f"Configuration version {version} is newer than this host supports (up to {max(supported, key=version_key)}): the VM cannot start here.",
            "Run the VM on a host with a newer Windows build.",
        )

    minimum = required_version(host)
    if minimum and version and version_key(version) < version_key(minimum):
        needs_changes = True
        vendor = "Intel" if processor_manufacturer(host) == INTEL else "AMD"
        default = host.get("default_version")
        target = f" (it upgrades to this host's default version, {default})" if default else ""
        verdict.block(
            "vm.version_too_low",
            f"Configuration version {version} is below {minimum}, the minimum for nested virtualization on {vendor} hosts.",
            f"With the VM off, run Update-VMVersion {by_name}{target}, or set upgrade_version: true on "
            "hyperv.nested.win_nested_vm; the upgrade cannot be undone and the VM then no longer runs on older hosts.",
        )

    if not exposed:
        needs_changes = True
        verdict.block(
            "vm.extensions_not_exposed",
            "Virtualization extensions are not exposed to the VM, so Hyper-V cannot run inside it.",
            f"With the VM off, run Set-VMProcessor {by_name} -ExposeVirtualizationExtensions $true, or use hyperv.nested.win_nested_vm.",
        )

    if vm.get("dynamic_memory_enabled"):
        verdict.warn("vm.dynamic_memory_enabled", _dynamic_memory_sentence(vm, state, exposed), _dynamic_memory_fix(by_name))

    if state == "Saved":
        saved = (
            "The VM is in the Saved state: its processor and memory settings cannot change until it is started and shut down, or its saved state is discarded.",
            f"Start the VM and shut it down cleanly, or discard the saved state (Remove-VMSavedState {by_name}; the memory contents are lost).",
        )
        if needs_changes:
            verdict.block("vm.saved_state", *saved)
        else:
            verdict.warn("vm.saved_state", *saved)

    # A restart mark (wire protocol 3.1) on a VM that is Off: a run of win_nested_vm stopped it and
    # never got to start it. On a VM in any other state the mark is stale or a stop is under way.
    mark = vm.get("restart_mark")
    if mark is not None and state == "Off":
        stopped_at = (mark.get("stopped_at") if isinstance(mark, t.Mapping) else None) or "an unknown time"
        verdict.warn(
            "vm.restart_pending",
            f"VM '{name}' was shut down by win_nested_vm at {stopped_at} to change its settings, and the run that stopped it ended before starting it again.",
            "Run hyperv.nested.win_nested_vm again with power_after=previous (the default) or running: it starts the VM and removes "
            f"the mark. Or start it yourself (Start-VM {by_name}): the mark is then stale, and the next run of win_nested_vm removes it. "
            "power_after=off forgets the mark and leaves the VM off.",
        )

    count = int(vm.get("processor_count") or 0)
    if count > VCPU_LIMIT_2019_GUESTS:
        old_guest = _guest_is_2019_or_earlier(vm.get("guest_os"))
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

    startup = int(vm.get("startup_memory_bytes") or 0)
    if 0 < startup < RECOMMENDED_MEMORY_BYTES:
        verdict.warn(
            "vm.memory_below_recommended",
            f"Startup memory is {_gib(startup)}; Microsoft recommends at least 4 GB for a VM that runs Hyper-V.",
            f"Set-VMMemory {by_name} -StartupBytes 4GB (VM off), or startup_memory: 4GB on hyperv.nested.win_nested_vm.",
        )

    checkpoints = vm.get("checkpoints") or []
    if checkpoints:
        verdict.note(
            "vm.checkpoints_present",
            f"The VM has {len(checkpoints)} checkpoint(s). Checkpoints work with nested virtualization; applying one restores "
            "the VM's configuration as it was then, so a checkpoint taken before the virtualization extensions were exposed "
            "hides them again when applied.",
            "Nothing to do. After applying an older checkpoint, run hyperv.nested.win_nested_vm again.",
        )

    if vm.get("is_clustered"):
        verdict.warn(
            "vm.clustered",
            f"VM '{name}' is a clustered role of a failover cluster. Microsoft: nested virtualization 'isn't suitable for "
            "Windows Server Failover Clustering'. The cluster manages the power state of its VMs, so "
            "hyperv.nested.win_nested_vm does not stop this VM with Stop-VM unless clustered=allow.",
            "Use a VM that is not clustered as a nested Hyper-V host, or take it out of the cluster first "
            "(Remove-ClusterGroup -VMId <id> -RemoveResources keeps the VM).",
        )

    unspoofed = [
        str(adapter.get("name")) for adapter in vm.get("adapters") or [] if adapter.get("switch_name") and str(adapter.get("mac_address_spoofing")) != "On"
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

    shutdown = integration_service(vm, "Shutdown")
    if shutdown is None or not shutdown.get("enabled"):
        verdict.warn(
            "vm.shutdown_service_missing",
            "The Shutdown integration service is off: the VM cannot be shut down gracefully, only turned off.",
            f"Enable-VMIntegrationService {by_name} -Name Shutdown.",
        )

    heartbeat = integration_service(vm, "Heartbeat")
    if heartbeat is None or not heartbeat.get("enabled"):
        verdict.warn(
            "vm.heartbeat_missing",
            "The Heartbeat integration service is off: after a start, nothing confirms that the guest booted.",
            f"Enable-VMIntegrationService {by_name} -Name Heartbeat.",
        )
    elif state == "Running" and str(heartbeat.get("primary_status") or "").casefold() not in ("ok", ""):
        verdict.warn(
            "vm.heartbeat_not_ok",
            f"The guest does not answer the heartbeat ({heartbeat.get('primary_status')}): it may still be booting, hung, or lack integration services.",
            "Check the guest's console; install or update its integration services.",
        )

    verdict.why_not_starting = _why_not_starting(verdict, host_result, state, exposed)
    return verdict


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
    reasons += [finding for finding in host_result.blockers if finding.code in _HOST_START_BLOCKERS]
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


@dataclass
class Report:
    host: Verdict
    vms: dict[str, Verdict]
    missing: list[str]

    @property
    def ready(self) -> bool:
        return self.host.ready and not self.missing and all(verdict.ready for verdict in self.vms.values())

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "ready": self.ready,
            "host": self.host.as_dict(),
            "vms": {name: verdict.as_dict(with_start=True) for name, verdict in self.vms.items()},
        }


def evaluate(
    host: Facts, vms_section: Facts, requested: t.Sequence[str] | None, *, network_modes: t.Mapping[str, str] | None = None
) -> Report:
    """The verdict for the host and for every VM the probe returned or the user asked for.

    `network_modes`: VM name (any case) -> "nat" or "mac_spoofing", how that VM's guests reach the network."""
    modes = {str(name).casefold(): mode for name, mode in (network_modes or {}).items()}
    hyperv_module = vms_section.get("hyperv_module", True) is not False
    host_result = host_verdict(host, hyperv_module=hyperv_module)
    verdicts: dict[str, Verdict] = {}

    groups: dict[str, list[Facts]] = {}
    for vm in vms_section.get("vms") or []:
        groups.setdefault(str(vm.get("name")).casefold(), []).append(vm)
    for group in groups.values():
        name = str(group[0].get("name"))
        if len(group) > 1:
            duplicate = Verdict()
            ids = ", ".join(str(vm.get("id")) for vm in group)
            duplicate.block(
                "vm.duplicate_name",
                f"{len(group)} VMs are named '{name}' (ids {ids}); the modules act only on names that identify one VM.",
                "Rename all but one of them (Rename-VM).",
            )
            verdicts[name] = duplicate
        elif group[0].get("error"):
            unreadable = Verdict()
            unreadable.block(
                "vm.unreadable",
                f"Hyper-V could not read the settings of '{name}' (state {group[0].get('state')}): {group[0]['error']}",
                "Check the VM in Hyper-V Manager: its configuration or storage may be unreachable (Off-Critical).",
            )
            verdicts[name] = unreadable
        else:
            verdicts[name] = vm_verdict(host, group[0], host_result, network_mode=modes.get(name.casefold()))

    missing: list[str] = []
    # Refused VMs (access_denied): the host's not_hyperv_admin blocker says why; no name is "missing".
    if hyperv_module and not vms_section.get("access_denied"):
        all_names = [str(name) for name in vms_section.get("all_names") or []]
        for name in requested or []:
            if name.casefold() in groups:
                continue
            missing.append(name)
            suggestions = did_you_mean(name, all_names)
            hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
            if not all_names and host.get("is_hyperv_administrator") is False:
                hint += " The account may not be allowed to see VMs (see host.not_hyperv_admin)."
            not_found = Verdict()
            not_found.block("vm.not_found", f"No VM named '{name}' exists on this host.{hint}", "Check the name (Get-VM lists the VMs).")
            verdicts[name] = not_found
    return Report(host=host_result, vms=verdicts, missing=missing)


def summarize(host: Facts, report: Report) -> str:
    """One paragraph for `msg`."""
    os_facts = host.get("os") or {}
    platform = platform_of(host)
    runs_on = f", a VM on {platform.cloud or platform.hypervisor}" if platform.virtual else ""
    label = (
        f"{host.get('computer_name') or 'The host'} ({os_facts.get('caption') or 'Windows'}, build {os_facts.get('build')}, "
        f"{processor_manufacturer(host) or 'unknown processor'}{runs_on})"
    )
    if report.host.ready:
        parts = [f"{label} can run nested virtualization."]
    else:
        reasons = "; ".join(finding.msg.rstrip(".") for finding in report.host.blockers)
        parts = [f"{label} cannot run nested virtualization: {reasons}."]
    present = {name: verdict for name, verdict in report.vms.items() if name not in report.missing}
    if present:
        ready = [name for name, verdict in present.items() if verdict.ready]
        parts.append(f"{len(ready)} of {len(present)} VM(s) ready to run Hyper-V" + (f" ({', '.join(ready)})." if ready else "."))
        for name, verdict in present.items():
            if not verdict.ready:
                parts.append(f"{name} is not: {', '.join(finding.code for finding in verdict.blockers)}.")
    if report.missing:
        parts.append(f"Not found: {', '.join(report.missing)}.")
    warnings = len(report.host.warnings) + sum(len(verdict.warnings) for verdict in present.values())
    notes = len(report.host.notes) + sum(len(verdict.notes) for verdict in present.values())
    counted = [text for count, text in ((warnings, f"{warnings} warning(s)"), (notes, f"{notes} note(s)")) if count]
    if counted:
        parts.append(f"{', '.join(counted)}; see verdict.")
    return " ".join(parts)
