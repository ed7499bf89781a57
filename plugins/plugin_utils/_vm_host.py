# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can this Hyper-V host give its VMs nested virtualization, and which VM version does that need?

Microsoft's requirements (enable-nested-virtualization.md): Intel VT-x + EPT on Windows Server
2016 / Windows 10 or later with VM configuration version 8.0+; AMD EPYC/Ryzen on Windows Server
2022 / Windows 11 or later with version 9.3+. VBS running on the host and
hypervisorloadoptions OFFERNESTEDVIRT=FALSE both keep the hypervisor from offering nesting.
"""

from __future__ import annotations

import typing as t

INTEL_MIN_BUILD = 10565
AMD_MIN_BUILD = {"server": 20348, "client": 22000}
MIN_VERSION = {"GenuineIntel": (8, 0), "AuthenticAMD": (9, 3)}


def required_vm_version(host: dict[str, t.Any]) -> tuple[int, int] | None:
    """The lowest VM configuration version that can run nested on this host's processor vendor."""
    return MIN_VERSION.get(str((host.get("processor") or {}).get("manufacturer")))


def host_problems(host: dict[str, t.Any]) -> list[str]:
    """Reasons (code: sentence) why no VM on this host can run nested virtualization."""
    name = host.get("computer_name") or "the host"
    processor = host.get("processor") or {}
    vendor = str(processor.get("manufacturer") or "")
    os_info = host.get("os") or {}
    build = os_info.get("build")
    problems = []
    if vendor == "GenuineIntel":
        if isinstance(build, int) and build < INTEL_MIN_BUILD:
            problems.append(f"host.build_too_old: {name} runs build {build}; nested virtualization on Intel needs build {INTEL_MIN_BUILD} or later.")
    elif vendor == "AuthenticAMD":
        product = str(os_info.get("product_type") or "server")
        needed = AMD_MIN_BUILD.get(product, AMD_MIN_BUILD["server"])
        if isinstance(build, int) and build < needed:
            problems.append(
                f"host.build_too_old: {name} runs build {build}; "
                f"nested virtualization on AMD needs Windows Server 2022 or Windows 11 (build {needed}) or later."
            )
    else:
        problems.append(f"host.processor_unsupported: {name} has a {vendor or 'unknown'} processor; nested virtualization needs Intel VT-x or AMD-V.")
    if (host.get("vbs") or {}).get("running"):
        problems.append(
            f"host.vbs_running: virtualization-based security (Device Guard / Credential Guard) runs on {name}; "
            "a host with it cannot expose virtualization extensions to VMs."
        )
    if host.get("bcd_offer_nested_virt_disabled"):
        problems.append(f"host.bcd_nested_disabled: the boot configuration of {name} has hypervisorloadoptions OFFERNESTEDVIRT=FALSE.")
    return problems
