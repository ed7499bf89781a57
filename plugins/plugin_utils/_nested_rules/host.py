# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The host rules (reason codes `host.*`): can this host run nested virtualization?

`host_verdict` runs the rule families of HOST_RULES in order; each adds its findings to the verdict.
The order of HOST_RULES is the order of the findings in the result.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.platform import (
    AMD,
    AZURE_ASSET_TAG,
    AZURE_DNS,
    FIRST_PREVIEW_BUILD,
    INTEL,
    MIN_BUILD_INTEL,
    Platform,
    amd_min_build,
    build_of,
    parent_fix,
    platform_of,
    release_name,
)
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.verdict import Facts, Verdict
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import processor_manufacturer

# Host problems that stop a VM with exposed extensions from starting.
HOST_START_BLOCKERS = frozenset(
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
class HostFacts:
    """The probe's `host` section and what the rules derive from it once."""

    host: Facts
    hyperv_module: bool
    build: int
    vendor: str
    cpu: Facts
    hypervisor_present: bool
    platform: Platform

    @classmethod
    def of(cls, host: Facts, hyperv_module: bool) -> HostFacts:
        return cls(
            host=host,
            hyperv_module=hyperv_module,
            build=build_of(host),
            vendor=processor_manufacturer(host),
            cpu=host.get("processor") or {},
            hypervisor_present=bool(host.get("hypervisor_present")),
            platform=platform_of(host),
        )


def host_verdict(host: Facts, *, hyperv_module: bool = True) -> Verdict:
    verdict = Verdict()
    facts = HostFacts.of(host, hyperv_module)
    for rule in HOST_RULES:
        rule(verdict, facts)
    return verdict


def _account(verdict: Verdict, facts: HostFacts) -> None:
    """Reason code: host.not_hyperv_admin."""
    if facts.host.get("is_hyperv_administrator") is False:
        verdict.block(
            "host.not_hyperv_admin",
            "The account Ansible connects with is neither a member of Hyper-V Administrators (S-1-5-32-578) nor an "
            "administrator: Hyper-V may show it no VMs and refuses every change.",
            "Add the account to the local group Hyper-V Administrators (Add-LocalGroupMember -SID 'S-1-5-32-578' "
            "-Member <account>) and connect again: group membership applies at the next logon.",
        )


def _hyperv(verdict: Verdict, facts: HostFacts) -> None:
    """Reason codes: host.hyperv_not_installed, host.hyperv_powershell_missing, host.hypervisor_not_running."""
    feature = str(facts.host.get("hyperv_feature") or "Unknown")
    if feature != "Enabled":
        _hyperv_not_installed(verdict, facts, feature)
    elif not facts.hyperv_module:
        verdict.block(
            "host.hyperv_powershell_missing",
            "The Hyper-V PowerShell module is not installed, so VMs can be neither inspected nor configured.",
            "Install it: ansible.windows.win_feature name=Hyper-V-PowerShell (Windows Server) or "
            "ansible.windows.win_optional_feature name=Microsoft-Hyper-V-Management-PowerShell (Windows 10/11).",
        )
    elif not facts.hypervisor_present:
        fix = "Check 'bcdedit /enum {current}': hypervisorlaunchtype must be Auto (bcdedit /set hypervisorlaunchtype auto)"
        if facts.platform.virtual:
            fix += f", then restart. This host is a VM: it also needs virtualization extensions from its parent. {parent_fix(facts.platform)}"
        else:
            fix += ", and virtualization must be enabled in the firmware; then restart."
        verdict.block("host.hypervisor_not_running", "Hyper-V is installed but the hypervisor is not running.", fix)


def _hyperv_not_installed(verdict: Verdict, facts: HostFacts, feature: str) -> None:
    pending = feature == "EnablePending"
    tools_only = not pending and facts.hyperv_module and facts.host.get("vmms") == "Absent"
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


def _windows_build(verdict: Verdict, facts: HostFacts) -> None:
    """Reason codes: host.build_too_old (Intel), host.processor_unsupported (AMD on an older build, or another vendor)."""
    build, vendor, host = facts.build, facts.vendor, facts.host
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
                f"Nested virtualization on AMD processors needs {release_name(host)} (build {minimum}) or later; this host runs build {build}.",
                f"Upgrade the host to {release_name(host)} or later, or use an Intel host (VT-x with EPT).",
            )
    else:
        verdict.block(
            "host.processor_unsupported",
            f"Processor manufacturer '{vendor or 'unknown'}' does not support Hyper-V nested virtualization (Intel VT-x with EPT or AMD EPYC/Ryzen is needed).",
            "Use a host with an Intel (VT-x and EPT) or AMD (AMD-V and RVI) processor.",
        )


def _processor_features(verdict: Verdict, facts: HostFacts) -> None:
    """Reason codes: host.processor_unsupported (no VT-x / AMD-V), host.virtualization_disabled_in_firmware, host.slat_missing."""
    # With the hypervisor running, Win32_Processor reports these flags as false: it hides them
    # from the root partition. Hyper-V running proves them, so they are judged only without it.
    if facts.hypervisor_present or facts.vendor not in (INTEL, AMD):
        return
    _virtualization_extensions(verdict, facts)
    if facts.cpu.get("second_level_address_translation") is False and not facts.platform.virtual:
        verdict.block(
            "host.slat_missing",
            "The processor lacks second level address translation (" + ("EPT" if facts.vendor == INTEL else "RVI") + ").",
            "Use a host whose processor supports SLAT (Intel EPT or AMD RVI).",
        )


def _virtualization_extensions(verdict: Verdict, facts: HostFacts) -> None:
    technology = "Intel VT-x" if facts.vendor == INTEL else "AMD-V"
    platform, cpu = facts.platform, facts.cpu
    if platform.virtual and cpu.get("vm_monitor_mode_extensions") is False:
        # A VM sees VT-x/AMD-V (and SLAT) only when its parent exposes them: same code, the real cause.
        verdict.block(
            "host.processor_unsupported",
            f"This host is a virtual machine whose processor shows no {technology}: "
            + ("its parent host" if platform.hypervisor == "Hyper-V" and not platform.cloud else f"its parent ({platform.cloud or platform.hypervisor})")
            + " does not expose virtualization extensions to it, so Hyper-V cannot run here.",
            parent_fix(platform),
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


def _boot_configuration(verdict: Verdict, facts: HostFacts) -> None:
    """Reason codes: host.bcd_nested_disabled, host.bcd_unreadable."""
    bcd = facts.host.get("bcd_offer_nested_virt_disabled")
    if bcd is True:
        verdict.block(
            "host.bcd_nested_disabled",
            "The boot configuration sets hypervisorloadoptions OFFERNESTEDVIRT=FALSE, so the hypervisor offers no nested virtualization.",
            "Run 'bcdedit /deletevalue {current} hypervisorloadoptions' as administrator and restart.",
        )
    elif bcd is None and "bcd_offer_nested_virt_disabled" in facts.host:
        verdict.warn(
            "host.bcd_unreadable",
            "The boot configuration could not be read (bcdedit needs an administrator), so OFFERNESTEDVIRT=FALSE was not checked.",
            "Connect as an administrator to include this check.",
        )


def _platform(verdict: Verdict, facts: HostFacts) -> None:
    """Reason codes: host.azure_vm, host.is_virtual_machine (notes), host.parent_not_hyperv."""
    platform = facts.platform
    described_by = facts.host.get("platform") or {}
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
        described = " ".join(part for part in (str(described_by.get("manufacturer") or "").strip(), str(described_by.get("model") or "").strip()) if part)
        verdict.warn(
            "host.parent_not_hyperv",
            f"This host is a virtual machine on {platform.hypervisor}{f' ({described})' if described else ''}, not on Hyper-V. "
            "Microsoft: 'Hyper-V virtualization on non-Microsoft virtualization isn't supported'; it may work when "
            f"{platform.hypervisor} exposes hardware virtualization to the VM, but Microsoft does not test it.",
            f"Check with the vendor of {platform.hypervisor} that nested virtualization is supported and turned on for this VM, "
            "or run Hyper-V on a physical host or in a Hyper-V VM.",
        )


def _nats(verdict: Verdict, facts: HostFacts) -> None:
    """Reason code: host.multiple_nats."""
    nats = [nat for nat in facts.host.get("nats") or [] if isinstance(nat, t.Mapping)]
    if len(nats) > 1:
        listed = ", ".join(f"{nat.get('name')} ({nat.get('internal_ip_interface_address_prefix')})" for nat in nats)
        verdict.warn(
            "host.multiple_nats",
            f"This host has {len(nats)} NAT networks: {listed}. Windows supports one NAT network per host; with several, "
            "WinNAT is in an unknown state and guests may lose their connection (Microsoft, 'Set up a NAT network': "
            "'Multiple NAT networks are not supported').",
            "Keep one: remove the others (Remove-NetNat -Name <name>), or replace them by one NAT whose prefix covers the networks that need it.",
        )


HostRule = t.Callable[[Verdict, HostFacts], None]

# The host's rule families, in the order their findings are reported.
HOST_RULES: tuple[HostRule, ...] = (_account, _hyperv, _windows_build, _processor_features, _boot_configuration, _platform, _nats)
