"""Fleet: the Hyper-V model and the PowerShell front door behind one thread-safe API.

One re-entrant lock guards the whole model. Commands that wait (graceful shutdown, boot) poll
with the lock released, so other hosts' commands run meanwhile.
"""
from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from .labfile import timing_model_config
from .model import dhcp, lifecycle, provisioning
from .model.accounts import credentials as _account_credentials
from .model.accounts import rights_of
from .model.connectivity import connectivity as _connectivity
from .model.lab import build_hosts
from .model.objects import Host, host_from_dict, host_to_dict
from .model.timing import TimingModel
from .model.world import World
from .powershell import dispatch
from .powershell.errors import clixml_error
from .powershell.probe import probe
from .powershell.session import Faults, Session
from .winrm.backend import CommandResult

STATE_FORMAT = 1


class Fleet:
    def __init__(self, world: World, clock: Callable[[], float] = time.time, timing: TimingModel | None = None) -> None:
        self._world = world
        self._lock = threading.RLock()
        self._faults = Faults()
        self._generation = 0
        self._clock = clock
        # What each command costs the host it runs on (model/timing.py); charges nothing by default.
        self._timing = timing or TimingModel()
        # Fault crash_when_stopped: (host, the VMs running when it was armed). The first of them
        # seen Off calls on_crash, under the lock, at that exact change (the daemon saves and dies).
        self._crash_watch: tuple[str, set[str]] | None = None
        self.on_crash: Callable[[], None] | None = None

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_lab(cls, lab: dict[str, Any], **timing_options: Any) -> Fleet:
        """`timing_options` (clock, sleep) go to the lab's TimingModel: tests pass fakes."""
        lab = copy.deepcopy(lab)
        model = TimingModel.from_config(timing_model_config(lab), **timing_options)
        # The profile's lifecycle timers, unless the lab sets them itself.
        timing = {**model.lifecycle_timing(), **{k: float(v) for k, v in (lab.get("timing") or {}).items()}}
        world = World(name=str(lab.get("name", "lab")), roots=build_hosts(lab), timing=timing)
        fleet = cls(world, timing=model)
        with fleet._lock:
            for host in world.hosts():
                fleet._boot_at_load(host)
        return fleet

    def _boot_at_load(self, host: Host) -> None:
        """A lab describes machines already up: compute the hypervisors of running L1 VMs."""
        now = self._clock()
        for vm in host.vms:
            if vm.state == "Running":
                if not lifecycle.hypervisor_running(self._world, host):
                    raise ValueError(f"lab: VM {vm.name} is Running but the hypervisor of {host.name} is not")
                vm.state = "Off"
                lifecycle.start_vm(self._world, host, vm, now)
                vm.booted_at = now
                if vm.guest is not None:
                    vm.guest.boot_count = 1

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Fleet:
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported fleet state format {state.get('format')!r}")
        world = World(name=state["name"], roots=[host_from_dict(h) for h in state["roots"]],
                      timing=dict(state["timing"]))
        # State files written before the timing model existed charge nothing.
        fleet = cls(world, timing=TimingModel.from_config(state.get("timing_model")))
        fleet._generation = int(state.get("generation", 0))
        fleet._faults.fail_once = {(h, c): m for h, c, m in state.get("fail_once", [])}
        return fleet

    def export_state(self) -> dict[str, Any]:
        with self._lock:
            return {"format": STATE_FORMAT, "name": self._world.name, "timing": dict(self._world.timing),
                    "timing_model": self._timing.config(),
                    "generation": self._generation,
                    "fail_once": [[h, c, m] for (h, c), m in self._faults.fail_once.items()],
                    "roots": [host_to_dict(h) for h in self._world.roots]}

    # -- queries -----------------------------------------------------------------------------

    def _changed(self) -> None:
        self._generation += 1
        self._crash_if_a_watched_vm_stopped()

    def _crash_if_a_watched_vm_stopped(self) -> None:
        if self._crash_watch is None or self.on_crash is None:
            return
        host_name, watched = self._crash_watch
        if any(vm.state == "Off" and vm.name in watched for vm in self._world.host(host_name).vms):
            self._crash_watch = None
            self.on_crash()

    def _refresh(self) -> None:
        if lifecycle.settle(self._world, self._clock()):
            self._changed()
        if dhcp.renew(self._world):    # DHCP clients take the leases their hosts' DHCP servers offer
            self._changed()

    def _session(self, host: Host, user: str | None = None) -> Session:
        return Session(world=self._world, host=host, lock=self._lock, faults=self._faults,
                       changed=self._changed, clock=self._clock, rights=rights_of(host.os_state, user),
                       charge=self._charger(host))

    def _charger(self, host: Host) -> Callable[[str, list[tuple[str, int]]], None]:
        def charge(label: str, items: list[tuple[str, int]]) -> None:
            self._timing.charge(host.name, host.logical_processors, label, items)
        return charge

    def host_names(self) -> list[str]:
        with self._lock:
            return [h.name for h in self._world.hosts()]

    def credentials(self, host: str) -> tuple[str, str]:
        with self._lock:
            found = self._world.host(host)
            return found.username, found.password

    def accounts(self, host: str) -> list[tuple[str, str]]:
        """(username, password) of every account that may log on: the main one, then the lab's others."""
        with self._lock:
            return _account_credentials(self._world.host(host).os_state)

    def authorize(self, host: str, username: str) -> bool:
        """WinRM's access check after authentication: an administrator or Remote Management Users (RULES #31)."""
        with self._lock:
            return rights_of(self._world.host(host).os_state, username).remote_management

    def reachable(self, host: str) -> bool:
        with self._lock:
            self._refresh()
            try:
                found = self._world.host(host)
            except KeyError:
                # A machine the lab plans (model/provisioning.py) exists once its VM has booted.
                if host.lower() in (name.lower() for name in self.planned_names()):
                    return False
                raise
            return lifecycle.host_reachable(self._world, found, self._clock())

    def planned_names(self) -> list[str]:
        """Inventory names of the machines the lab plans to create (`planned_vms:`), existing or not."""
        with self._lock:
            return provisioning.planned_names(list(self._world.hosts()))

    def generation(self) -> int:
        with self._lock:
            self._refresh()
            return self._generation

    def host_state(self, host: str) -> dict[str, Any]:
        with self._lock:
            self._refresh()
            found = self._world.host(host)
            state = probe(self._session(found), {"sections": ["host", "vms", "network"]})
            state["name"] = found.name
            state["reachable"] = lifecycle.host_reachable(self._world, found, self._clock())
            state["rebooting"] = found.rebooting_until is not None
            state["parent"] = found.parent
            return state

    def connectivity(self, guest: str) -> dict[str, Any]:
        with self._lock:
            self._refresh()
            return _connectivity(self._world, guest, self._clock())

    # -- commands and faults -----------------------------------------------------------------

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        """Run as `user` (an account of the host, as WinRM authenticated it); None is the main account."""
        with self._lock:
            self._refresh()
            found = self._world.host(host)
            if not lifecycle.host_reachable(self._world, found, self._clock()):
                return CommandResult(1, b"", clixml_error([f"hvsim: host {host} is not reachable (off or "
                                                           "rebooting)."]))
            session = self._session(found, user)
        return dispatch.run(session, command_line, stdin)

    def shell_event(self, host: str, event: str) -> None:
        """A protocol endpoint opened ("shell_create") or closed ("shell_delete") a shell on `host`:
        charged by the timing model, and waited for, before the endpoint answers. Call without any lock."""
        with self._lock:
            found = self._world.host(host)
            cores = found.logical_processors
        self._timing.charge(found.name, cores, f"winrm {event}", [(f"winrm:{event}", 1)])

    def timing_ledger(self, host: str) -> list[dict[str, Any]]:
        """Every charge of the timing model on `host` (model/timing.py), oldest first; empty by default."""
        with self._lock:
            name = self._world.host(host).name
        return [charge.to_dict() for charge in self._timing.ledger(name)]

    def timing_config(self) -> dict[str, Any]:
        return self._timing.config()

    def inject(self, fault: dict[str, Any]) -> None:
        kind = fault.get("kind")
        with self._lock:
            host = self._world.host(str(fault.get("host")))
            if kind == "fail_cmdlet_once":
                cmdlet = str(fault["cmdlet"])
                message = fault.get("message") or f"Injected failure of {cmdlet}."
                self._faults.fail_once[(host.name.lower(), cmdlet.lower())] = message
            elif kind == "ignore_shutdown":
                matches = [vm for vm in host.vms if vm.name.lower() == str(fault["vm"]).lower()]
                if len(matches) != 1:
                    raise KeyError(f"no single VM {fault['vm']!r} on {host.name}")
                matches[0].ignores_shutdown = bool(fault.get("value", True))
            elif kind == "slow_shutdown":
                # The guest shuts down, but only `seconds` after it is asked (0 or absent: the lab's pace).
                matches = [vm for vm in host.vms if vm.name.lower() == str(fault["vm"]).lower()]
                if len(matches) != 1:
                    raise KeyError(f"no single VM {fault['vm']!r} on {host.name}")
                seconds = float(fault.get("seconds") or 0)
                matches[0].shutdown_seconds = seconds or None
            elif kind == "crash_when_stopped":
                # The host goes away the moment one of its running VMs is off (a stop under way).
                self._crash_watch = (host.name, {vm.name for vm in host.vms if vm.state == "Running"})
            elif kind == "deny_restart_marks":
                host.program_data_read_only = bool(fault.get("value", True))
            elif kind == "reboot_host":
                lifecycle.begin_reboot(self._world, host, self._clock())
            else:
                raise ValueError(f"unknown model fault kind {kind!r}")
            self._changed()
