"""Stand-ins for the Fleet and the Endpoint, for testing the daemon's own wiring in-process."""

from __future__ import annotations

import copy
import socket
import threading
from typing import Any, ClassVar

from hvsim.winrm.backend import CommandResult
from hvsim.winrm.faults import ProtocolFaults


class FakeFleet:
    """Hosts from the lab; `set NAME VALUE` commands change state, everything else only reads."""

    def __init__(self, hosts: dict[str, dict[str, Any]]) -> None:
        self.hosts = hosts
        self.injected: list[dict[str, Any]] = []
        self._generation = 0
        self._lock = threading.Lock()

    @classmethod
    def from_lab(cls, lab: dict[str, Any]) -> FakeFleet:
        hosts: dict[str, dict[str, Any]] = {}
        for host in lab["hosts"]:
            hosts[host["name"]] = {"credentials": [host["username"], host["password"]], "values": {},
                                   "reachable": True}
            for vm in host.get("vms") or []:
                guest = vm.get("guest") or {}
                if guest.get("nested_host"):
                    name = (vm.get("inventory") or {}).get("name", vm["name"].lower())
                    hosts[name] = {"credentials": [guest["username"], guest["password"]], "values": {},
                                   "reachable": vm["state"] == "Running"}
        return cls(hosts)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FakeFleet:
        return cls(copy.deepcopy(state["hosts"]))

    def export_state(self) -> dict[str, Any]:
        with self._lock:
            return {"hosts": copy.deepcopy(self.hosts)}

    def host_names(self) -> list[str]:
        return list(self.hosts)

    def credentials(self, host: str) -> tuple[str, str]:
        user, password = self.hosts[host]["credentials"]
        return user, password

    def reachable(self, host: str) -> bool:
        return bool(self.hosts[host]["reachable"])

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        words = command_line.split()
        if words[:1] == ["set"] and len(words) == 3:
            with self._lock:
                self.hosts[host]["values"][words[1]] = words[2]
                self._generation += 1
            return CommandResult(0, b"ok\r\n", b"")
        return CommandResult(1, b"", b"unknown command\r\n")

    def host_state(self, host: str) -> dict[str, Any]:
        return copy.deepcopy(self.hosts[host])

    def connectivity(self, guest: str) -> dict[str, Any]:
        raise KeyError(guest)

    def inject(self, fault: dict[str, Any]) -> None:
        if fault.get("kind") != "reboot_host":
            raise ValueError(f"unknown fault kind {fault.get('kind')!r}")
        with self._lock:
            self.injected.append(fault)
            self.hosts[fault["host"]]["reachable"] = False
            self._generation += 1

    def generation(self) -> int:
        return self._generation


class FakeEndpoint:
    """Listens (so ports are real) but speaks no WinRM; tests call the backend directly."""

    instances: ClassVar[list[FakeEndpoint]] = []

    def __init__(self, host: str, backend: Any, bind_address: str = "127.0.0.1", port: int = 0,
                 tls: Any = None, observer: Any = None, **_auth: Any) -> None:
        self.host, self.backend, self.tls = host, backend, tls
        self.faults = ProtocolFaults()
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._address = (bind_address, port)
        FakeEndpoint.instances.append(self)

    def start(self) -> None:
        self._socket.bind(self._address)
        self._socket.listen()

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def stop(self) -> None:
        self._socket.close()
