# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""What the host is: its processor vendor and Windows build, the VM configuration version it needs, and
whether it is physical or a VM of some hypervisor (and cloud)."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules.verdict import Facts
from ansible_collections.hyperv.nested.plugins.plugin_utils._wire import processor_manufacturer

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
# Win32_SystemEnclosure.SMBIOSAssetTag of every Azure VM ("To verify if a VM is an Azure VM, check
# for Asset tag value", MicrosoftDocs/azure-docs articles/automation/troubleshoot/update-agent-issues-linux.md).
AZURE_ASSET_TAG = "7783-7084-3265-9085-8269-3286-77"
AZURE_DNS = "168.63.129.16"


def build_of(host: Facts) -> int:
    try:
        return int((host.get("os") or {}).get("build") or 0)
    except (TypeError, ValueError):
        return 0


def is_client(host: Facts) -> bool:
    return (host.get("os") or {}).get("product_type") == "client"


def amd_min_build(host: Facts) -> int:
    return MIN_BUILD_AMD_CLIENT if is_client(host) else MIN_BUILD_AMD_SERVER


def required_version(host: Facts) -> str | None:
    """The lowest VM configuration version that can nest on this host's processor."""
    vendor = processor_manufacturer(host)
    if vendor == INTEL:
        return MIN_VERSION_INTEL
    if vendor == AMD:
        return MIN_VERSION_AMD
    return None


def release_name(host: Facts) -> str:
    return "Windows 11" if is_client(host) else "Windows Server 2022"


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


def parent_fix(platform: Platform) -> str:
    if platform.cloud == "Azure":
        return _AZURE_SIZE_FIX
    if platform.hypervisor == "Hyper-V":
        return "On the parent host, with this VM off: Set-VMProcessor -ExposeVirtualizationExtensions $true for this VM, or hyperv.nested.win_nested_vm."
    where = f"{platform.cloud} instance" if platform.cloud else f"{platform.hypervisor} VM"
    return (
        f"Expose hardware virtualization (VT-x / AMD-V) to this {where} in {platform.hypervisor}'s own settings; this collection does not manage that parent."
    )
