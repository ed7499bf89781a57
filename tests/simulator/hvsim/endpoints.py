"""The endpoints of a lab, per host: WinRM over HTTP and over HTTPS (one listener each, both with
PSRP, NTLM, Kerberos and CredSSP), and SSH; plus the lab-wide pieces they share (the CA, the
Kerberos realm, the SSH keys), and the protocol faults."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvsim.inventory import Listening
from hvsim.kerberos import DOMAIN_ADMIN, KDC, REALM, hostname_of
from hvsim.labfile import Machine
from hvsim.ssh import SSHEndpoints
from hvsim.winrm.auth import KerberosConfig
from hvsim.winrm.tls import LabCA, TLSConfig

log = logging.getLogger("hvsim.endpoints")

PROTOCOL_FAULTS = {"latency", "drop_connection"}
_PARALLEL = 32


@dataclass
class LabSecurity:
    """What every host's endpoints share: the lab CA, the Kerberos realm, the SSH listeners."""

    ca: LabCA
    certificates: Path                     # where the hosts' certificates are issued
    kdc: KDC | None = None
    ssh: SSHEndpoints | None = None
    main_account: Callable[[str], str] | None = None   # host -> its main local account

    def tls_for(self, machine: Machine) -> TLSConfig:
        assert machine.address is not None
        return TLSConfig.issued(self.ca, machine.name, hostname_of(machine.name), machine.address, self.certificates)

    def kerberos_for(self, machine: Machine) -> KerberosConfig | None:
        if self.kdc is None:
            return None
        main_account = self.main_account

        def principal_account(principal: str) -> str | None:
            # The realm's domain admin is in every host's Administrators: it works as the host's main account.
            if principal.lower() == f"{DOMAIN_ADMIN}@{REALM}".lower() and main_account is not None:
                return main_account(machine.name)
            return None

        return KerberosConfig(self.kdc.keytab(machine.name), hostname_of(machine.name), principal_account)


class HostEndpoints:
    def __init__(self, endpoint_class: Any, backend: Any, security: LabSecurity) -> None:
        self._endpoint_class = endpoint_class
        self._backend = backend
        self._security = security
        self._addresses: dict[str, str] = {}
        self._by_host: dict[str, dict[str, Any]] = {}   # host -> {"http": ep, "https": ep}
        self._ssh_ports: dict[str, int] = {}

    def start(self, machines: list[Machine], remembered: dict[str, dict[str, int]]) -> None:
        """Listen for every machine that has an endpoint, on its remembered ports when free."""
        jobs: list[tuple[Machine, str, int]] = []
        for machine in machines:
            if machine.address is not None:
                self._addresses[machine.name] = machine.address
                ports = remembered.get(machine.name, {})
                jobs.append((machine, "http", ports.get("http") or machine.port))
                jobs.append((machine, "https", ports.get("https") or 0))
                jobs.append((machine, "ssh", ports.get("ssh") or 0))
        # Big generated labs have hundreds of listeners, each bind and stop costing a little.
        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            started = list(pool.map(lambda job: self._start_one(*job), jobs))
        for (machine, scheme, _unused), endpoint in zip(jobs, started, strict=True):
            if scheme == "ssh":
                self._ssh_ports[machine.name] = endpoint
            else:
                self._by_host.setdefault(machine.name, {})[scheme] = endpoint

    def _start_one(self, machine: Machine, scheme: str, port: int) -> Any:
        try:
            return self._listen(machine, scheme, port)
        except OSError:
            if port == 0:
                raise
            log.warning("%s: %s port %d is taken, picking another", machine.name, scheme, port)
            return self._listen(machine, scheme, 0)

    def _listen(self, machine: Machine, scheme: str, port: int) -> Any:
        assert machine.address is not None
        if scheme == "ssh":
            if self._security.ssh is None:
                return None
            return self._security.ssh.listen(machine.name, machine.address, port)
        tls = self._security.tls_for(machine) if scheme == "https" else None
        endpoint = self._endpoint_class(machine.name, self._backend, bind_address=machine.address, port=port, tls=tls,
                                        kerberos=self._security.kerberos_for(machine), credssp=True)
        endpoint.start()
        return endpoint

    def stop(self) -> None:
        endpoints = [endpoint for pair in self._by_host.values() for endpoint in pair.values()]
        # Each stop waits for its server's poll interval: in parallel, not one after another.
        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            list(pool.map(lambda endpoint: endpoint.stop(), endpoints))
        self._by_host.clear()

    def listening(self) -> dict[str, Listening]:
        return {host: Listening(self._addresses[host], int(pair["http"].port), int(pair["https"].port),
                                self._ssh_ports.get(host), hostname_of(host))
                for host, pair in self._by_host.items()}

    def inject(self, fault: dict[str, Any]) -> None:
        """A latency or drop_connection fault (DESIGN.md) on one host's WinRM endpoints."""
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
