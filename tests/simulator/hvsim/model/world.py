"""The whole simulated fleet: L0 hosts, their VMs and nested hosts, and how to find them."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .objects import VM, Host

DEFAULT_TIMING = {"shutdown_seconds": 0.5, "boot_seconds": 0.5, "reboot_seconds": 1.0}


@dataclass
class World:
    name: str
    roots: list[Host]
    timing: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMING))

    def hosts(self) -> Iterator[Host]:
        """Every Hyper-V host, parents before children."""
        def walk(host: Host) -> Iterator[Host]:
            yield host
            for vm in host.vms:
                if vm.nested_host is not None:
                    yield from walk(vm.nested_host)
        for root in self.roots:
            yield from walk(root)

    def host(self, name: str) -> Host:
        for host in self.hosts():
            if host.name.lower() == name.lower():
                return host
        raise KeyError(f"no host named {name!r}")

    def parent_of(self, host: Host) -> tuple[Host, VM] | None:
        """The Hyper-V host running `host` as a VM, and that VM (None for an L0)."""
        for candidate in self.hosts():
            for vm in candidate.vms:
                if vm.nested_host is host:
                    return candidate, vm
        return None

    def guests(self) -> Iterator[tuple[str, Host, VM]]:
        """(name, the host running it, the VM) for every VM whose OS we can log into."""
        for host in self.hosts():
            for vm in host.vms:
                if vm.guest is not None:
                    yield vm.inventory_name or vm.name.lower(), host, vm

    def guest(self, name: str) -> tuple[Host, VM]:
        for guest_name, host, vm in self.guests():
            if name.lower() in (guest_name.lower(), vm.name.lower()):
                return host, vm
        raise KeyError(f"no guest named {name!r}")
