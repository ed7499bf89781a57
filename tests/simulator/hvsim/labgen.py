"""Generated labs for benchmarks and concurrency tests: N physical hosts x M L1 VMs each.

Every host gets its own loopback address (127.20.<i>.1 for L0 number i, 127.20.<i>.<j+2> for
its L1 VM number j), so ports never collide and each L0 looks like a separate machine.

`timing="realistic"` gives the lab the realistic timing model (model/timing.py): each host then
spends what Windows spends per command, `scale` times the published figures (1.0: as measured).
The default keeps the short timers tests use.
"""

from __future__ import annotations

from typing import Any

WINDOWS_2022 = {"caption": "Microsoft Windows Server 2022 Datacenter", "product_type": "server",
                "edition": "ServerDatacenter", "build": 20348}
PASSWORD = "Passw0rd!"


def _address(host_index: int, slot: int) -> str:
    # Host indices past 255 move into the next second octet.
    return f"127.{20 + host_index // 256}.{host_index % 256}.{slot}"


def _l2_guest(host: int, vm: int, guest: int) -> dict[str, Any]:
    return {
        "name": f"HV{host:02d}-VM{vm}-G{guest}", "generation": 2, "version": "10.0", "state": "Off",
        "processor_count": 1, "memory": {"startup_gb": 1, "dynamic": False},
        "expose_virtualization_extensions": False,
        "adapters": [{"name": "Network Adapter", "switch": None, "mac_address_spoofing": "Off"}],
        "checkpoints": [],
        "guest": {"os": WINDOWS_2022, "username": "Administrator", "password": PASSWORD},
        "inventory": {"name": f"hv{host:02d}-vm{vm}-g{guest}"},
    }


def _l1_vm(host: int, vm: int, guests: int) -> dict[str, Any]:
    return {
        "name": f"HV{host:02d}-VM{vm}", "generation": 2, "version": "10.0", "state": "Running",
        "processor_count": 2,
        "memory": {"startup_gb": 4, "dynamic": True, "minimum_gb": 1, "maximum_gb": 16},
        "expose_virtualization_extensions": False,
        "adapters": [{"name": "Network Adapter", "switch": "External", "mac_address_spoofing": "Off"}],
        "checkpoints": [],
        "ignores_shutdown": False,
        "guest": {
            "os": WINDOWS_2022, "username": "Administrator", "password": PASSWORD,
            "nested_host": {"address": _address(host, vm + 2), "port": 0,
                            "hyperv_feature": "Disabled", "switches": [],
                            "vms": [_l2_guest(host, vm, g) for g in range(1, guests + 1)]},
        },
        "inventory": {"name": f"hv{host:02d}-vm{vm}",
                      "nested_network_mode": "nat" if vm % 2 else "mac_spoofing"},
    }


def _l0_host(host: int, vms: int, guests: int) -> dict[str, Any]:
    return {
        "name": f"hv{host:02d}", "address": _address(host, 1), "port": 0,
        "username": "Administrator", "password": PASSWORD, "os": WINDOWS_2022,
        "processor": {"manufacturer": "GenuineIntel", "name": "Intel(R) Xeon(R) Gold 6338",
                      "vmx": True, "ept": True, "virtualization_firmware_enabled": True},
        "logical_processors": 32, "memory_gb": 256, "hyperv_feature": "Enabled",
        "hypervisor_present": True, "vbs": {"configured": False, "running": False},
        "bcd_offer_nested_virt_disabled": False,
        "switches": [{"name": "External", "switch_type": "External", "net_adapter": "Ethernet"}],
        "vms": [_l1_vm(host, vm, guests) for vm in range(1, vms + 1)],
    }


def generate_lab(hosts: int, vms: int, guests: int = 0, name: str | None = None, timing: str = "fast",
                 scale: float = 1.0) -> dict[str, Any]:
    if hosts < 1 or vms < 0 or guests < 0:
        raise ValueError("need at least one host and no negative counts")
    if hosts > 256 * 200:
        raise ValueError("too many hosts for the 127.20-219 address plan")
    if timing not in ("fast", "realistic"):
        raise ValueError(f"timing must be fast or realistic, not {timing!r}")
    if scale <= 0:
        raise ValueError(f"scale must be a positive number, not {scale!r}")
    lab: dict[str, Any] = {"name": name or f"generated-{hosts}x{vms}" + ("-realistic" if timing == "realistic" else "")}
    if timing == "realistic":
        # The profile's own shutdown, boot and reboot times (scaled) apply: no `timing:` key.
        lab["timing_model"] = {"profile": "realistic", "scale": scale}
    else:
        lab["timing"] = {"shutdown_seconds": 0.2, "boot_seconds": 0.2, "reboot_seconds": 0.5}
    lab["hosts"] = [_l0_host(h, vms, guests) for h in range(1, hosts + 1)]
    return lab
