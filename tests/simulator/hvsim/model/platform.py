"""What a host's OS build and processor allow: VM configuration versions and nested support."""
from __future__ import annotations

from .objects import VM, Host

# Configuration versions by the build that introduced them (Microsoft's "Supported virtual
# machine configuration versions" table; builds are the GA builds of each release).
_VERSIONS: list[tuple[int, str]] = [
    (9600, "5.0"), (14393, "8.0"), (17763, "9.0"), (19041, "9.2"), (20348, "10.0"),
    (22000, "10.0"), (26100, "12.0"),
]
_ALL = ["5.0", "6.2", "7.0", "7.1", "8.0", "8.1", "8.2", "8.3", "9.0", "9.1", "9.2", "9.3",
        "10.0", "11.0", "12.0"]

# Windows Server 2016 / Windows 10 1607 (GA); 10565-14392 had only the 2016 preview (RULES #8).
NESTED_MIN_BUILD_INTEL = 14393
NESTED_MIN_BUILD_AMD_SERVER = 20348     # Windows Server 2022
NESTED_MIN_BUILD_AMD_CLIENT = 22000     # Windows 11


def version_key(version: str) -> tuple[int, int]:
    major, _unused, minor = version.partition(".")
    return int(major), int(minor or 0)


def default_version(build: int) -> str:
    best = "5.0"
    for min_build, version in _VERSIONS:
        if build >= min_build and version_key(version) > version_key(best):
            best = version
    return best


def supported_versions(build: int) -> list[str]:
    top = version_key(default_version(build))
    return [v for v in _ALL if version_key(v) <= top]


def host_build(host: Host) -> int:
    return int(host.os_state.os.get("build", 0))


def nested_blockers(host: Host, vm: VM) -> list[str]:
    """Why `host` cannot run `vm` with virtualization extensions exposed ([] = it can)."""
    reasons: list[str] = []
    cpu = host.processor
    build = host_build(host)
    vendor = cpu.get("manufacturer", "")
    product_type = host.os_state.os.get("product_type", "server")
    if vendor == "GenuineIntel":
        if not (cpu.get("vmx", True) and cpu.get("ept", True)):
            reasons.append("the processor does not provide Intel VT-x with EPT")
        if build < NESTED_MIN_BUILD_INTEL:
            reasons.append(f"build {build} is older than {NESTED_MIN_BUILD_INTEL}")
        minimum = "8.0"
    elif vendor == "AuthenticAMD":
        amd_build = NESTED_MIN_BUILD_AMD_CLIENT if product_type == "client" else NESTED_MIN_BUILD_AMD_SERVER
        if build < amd_build:
            reasons.append(f"nested virtualization on AMD processors needs build {amd_build} or later "
                           f"(this host runs build {build})")
        if not (cpu.get("vmx", True) and cpu.get("ept", True)):
            reasons.append("the processor does not provide AMD-V with RVI")
        minimum = "9.3"
    else:
        reasons.append(f"processor manufacturer {vendor or 'unknown'} does not support nested virtualization")
        minimum = "8.0"
    if not cpu.get("virtualization_firmware_enabled", True):
        reasons.append("virtualization is disabled in the firmware")
    if version_key(vm.version) < version_key(minimum):
        reasons.append(f"the virtual machine configuration version {vm.version} is lower than {minimum}")
    # Virtualization-based security on the host is no obstacle (RULES #9, removed: preview-era only).
    if host.bcd_offer_nested_virt_disabled:
        reasons.append("the hypervisor is configured with OFFERNESTEDVIRT=FALSE")
    return reasons
