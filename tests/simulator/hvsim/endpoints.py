"""The WinRM endpoints of a lab: one HTTP and one HTTPS listener per host, and their faults."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hvsim.inventory import Listening
from hvsim.labfile import Machine
from hvsim.winrm.tls import TLSConfig

log = logging.getLogger("hvsim.endpoints")

PROTOCOL_FAULTS = {"latency", "drop_connection"}
_PARALLEL = 32


class HostEndpoints:
    def __init__(self, endpoint_class: Any, backend: Any, tls: TLSConfig) -> None:
        self._endpoint_class = endpoint_class
        self._backend = backend
        self._tls = tls
        self._addresses: dict[str, str] = {}
        self._by_host: dict[str, dict[str, Any]] = {}   # host -> {"http": ep, "https": ep}

    def start(self, machines: list[Machine], remembered: dict[str, dict[str, int]]) -> None:
        """Listen for every machine that has an endpoint, on its remembered ports when free."""
        jobs: list[tuple[Machine, str, int, TLSConfig | None]] = []
        for machine in machines:
            if machine.address is not None:
                self._addresses[machine.name] = machine.address
                ports = remembered.get(machine.name, {})
                jobs.append((machine, "http", ports.get("http") or machine.port, None))
                jobs.append((machine, "https", ports.get("https") or 0, self._tls))
        # Big generated labs have hundreds of listeners, each bind and stop costing a little.
        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            started = list(pool.map(lambda job: self._start_one(job[0], job[2], job[3]), jobs))
        for (machine, scheme, _unused, _unused), endpoint in zip(jobs, started, strict=True):
            self._by_host.setdefault(machine.name, {})[scheme] = endpoint

    def _start_one(self, machine: Machine, port: int, tls: TLSConfig | None) -> Any:
        try:
            return self._listen(machine, port, tls)
        except OSError:
            if port == 0:
                raise
            log.warning("%s: port %d is taken, picking another", machine.name, port)
            return self._listen(machine, 0, tls)

    def _listen(self, machine: Machine, port: int, tls: TLSConfig | None) -> Any:
        endpoint = self._endpoint_class(machine.name, self._backend, bind_address=machine.address,
                                        port=port, tls=tls)
        endpoint.start()
        return endpoint

    def stop(self) -> None:
        endpoints = [endpoint for pair in self._by_host.values() for endpoint in pair.values()]
        # Each stop waits for its server's poll interval: in parallel, not one after another.
        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            list(pool.map(lambda endpoint: endpoint.stop(), endpoints))
        self._by_host.clear()

    def listening(self) -> dict[str, Listening]:
        return {host: Listening(self._addresses[host], int(pair["http"].port), int(pair["https"].port))
                for host, pair in self._by_host.items()}

    def inject(self, fault: dict[str, Any]) -> None:
        """A latency or drop_connection fault (DESIGN.md) on one host's endpoints."""
        pair = self._by_host[str(fault.get("host"))]
        kind = fault["kind"]
        # A drop is one-shot: armed on an endpoint nobody uses, it would fire in some later test.
        scheme = fault.get("scheme", "both" if kind == "latency" else "http")
        if scheme not in ("http", "https", "both"):
            raise ValueError(f"scheme must be http, https or both, not {scheme!r}")
        targets = list(pair.values()) if scheme == "both" else [pair[scheme]]
        if kind == "latency":
            seconds = float(_required(fault, "seconds"))
            for endpoint in targets:
                endpoint.faults.latency_seconds = seconds
        elif kind == "drop_connection":
            at_command, when = int(_required(fault, "at_command")), fault.get("when", "before")
            if when not in ("before", "after"):
                raise ValueError(f"when must be before or after, not {when!r}")
            for endpoint in targets:
                endpoint.faults.drop_connection(at_command, when)
        else:
            raise ValueError(f"not a protocol fault: {kind!r}")


def _required(fault: dict[str, Any], key: str) -> Any:
    if key not in fault:
        raise ValueError(f"a {fault['kind']} fault needs {key}=")
    return fault[key]
