"""One simulator process per state directory: the Fleet, its endpoints, persistence, control.

Run in the foreground by `hvsim serve` (which `hvsim up` starts in the background).
"""

from __future__ import annotations

import fcntl
import http.server
import logging
import os
import shutil
import signal
import socketserver
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from hvsim import labfile
from hvsim.control import ControlServer
from hvsim.inventory import Listening, build_inventory, write_inventory
from hvsim.persistence import PeriodicSaver, StatePersister, atomic_write_json, read_json
from hvsim.recording import RecordingBackend
from hvsim.statedir import StateDir
from hvsim.transcript import TranscriptWriter
from hvsim.winrm.tls import TLSConfig

log = logging.getLogger("hvsim.daemon")

_ENDPOINT_FAULTS = {"latency", "drop_connection"}
_PARALLEL = 32


def _default_fleet_class() -> Any:
    from hvsim.fleet import Fleet
    return Fleet


def _default_endpoint_class() -> Any:
    from hvsim.winrm import Endpoint
    return Endpoint


class AlreadyRunning(RuntimeError):
    pass


class Daemon:
    def __init__(self, state: StateDir, lab_path: Path | None = None,
                 fleet_class: Callable[[], Any] = _default_fleet_class,
                 endpoint_class: Callable[[], Any] = _default_endpoint_class) -> None:
        self.state = state
        self._lab_path = lab_path
        self._fleet_class = fleet_class()
        self._endpoint_class = endpoint_class()
        self._stop_requested = threading.Event()
        self._endpoints: dict[str, dict[str, Any]] = {}   # host -> {"http": ep, "https": ep}
        self._machines: list[labfile.Machine] = []
        self._lab_name = ""
        self.fleet: Any = None
        self._control: ControlServer | None = None
        self._saver: PeriodicSaver | None = None
        self._persister: StatePersister | None = None
        self._lock_file: IO[str] | None = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self.state.root.mkdir(parents=True, exist_ok=True)
        self._lock_state_dir()
        lab = self._load_fleet()
        self._lab_name = str(lab.get("name", self.state.lab_file.stem))
        self._machines = labfile.machines(lab)
        self._check_names()
        self._persister = StatePersister(self.fleet, self.state.state_file)
        self._persister.save()
        backend = RecordingBackend(self.fleet, self._persister,
                                   TranscriptWriter(self.state.transcripts_dir))
        self._start_endpoints(backend)
        self._saver = PeriodicSaver(self._persister)
        self._saver.start()
        self._control = ControlServer(self)
        self._control.start()
        listening = self._listening()
        write_inventory(self.state.inventory_file, build_inventory(self._machines, listening),
                        self._lab_name)
        atomic_write_json(self.state.ports_file, {
            host: {"http": where.port, "https": where.https_port} for host, where in listening.items()})
        # Written last: its presence (with our pid) is what `hvsim up` waits for.
        atomic_write_json(self.state.daemon_file, {
            "pid": os.getpid(), "control_port": self._control.port, "lab": self._lab_name,
            "inventory": str(self.state.inventory_file),
            "hosts": {host: where._asdict() for host, where in listening.items()},
        })
        log.info("lab %s up: %d endpoints, control port %d", self._lab_name,
                 len(self._endpoints), self._control.port)

    def _lock_state_dir(self) -> None:
        """One daemon per state dir: held for the process lifetime, released by the kernel on exit."""
        self._lock_file = open(self.state.lock_file, "a")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise AlreadyRunning(f"another simulator owns {self.state.root}") from None

    def serve_forever(self) -> None:
        self._stop_requested.wait()
        self.shutdown()

    def request_stop(self) -> None:
        self._stop_requested.set()

    def shutdown(self) -> None:
        if self._control:
            self._control.stop()
        endpoints = [endpoint for pair in self._endpoints.values() for endpoint in pair.values()]
        # Each stop waits for its server's poll interval: in parallel, not one after another.
        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            list(pool.map(lambda endpoint: endpoint.stop(), endpoints))
        if self._saver:
            self._saver.stop()
        if self._persister:
            self._persister.save_if_changed()
        if self._lock_file is not None:
            self.state.daemon_file.unlink(missing_ok=True)
            self._lock_file.close()
            self._lock_file = None
        log.info("stopped")

    # -- building ----------------------------------------------------------------------------

    def _load_fleet(self) -> dict[str, Any]:
        """Persisted state wins over the lab file: that is what makes state survive a restart."""
        if self.state.state_file.exists():
            self.fleet = self._fleet_class.from_state(read_json(self.state.state_file))
            log.info("fleet restored from %s", self.state.state_file)
            return labfile.load_lab(self.state.lab_file)
        if self._lab_path is None:
            raise labfile.LabError(f"no saved state in {self.state.root} and no lab file given")
        if self._lab_path.resolve() != self.state.lab_file:
            shutil.copyfile(self._lab_path, self.state.lab_file)
        lab = labfile.load_lab(self.state.lab_file)
        self.fleet = self._fleet_class.from_lab(lab)
        log.info("fleet built from lab %s", self._lab_path)
        return lab

    def _check_names(self) -> None:
        known = set(self.fleet.host_names())
        missing = [m.name for m in self._machines if m.has_endpoint and m.name not in known]
        if missing:
            raise labfile.LabError(f"the Fleet does not know hosts {missing}; it has {sorted(known)}")

    def _start_endpoints(self, backend: RecordingBackend) -> None:
        remembered = read_json(self.state.ports_file) if self.state.ports_file.exists() else {}
        tls = self._tls_config()
        jobs: list[tuple[labfile.Machine, str, int, TLSConfig | None]] = []
        for machine in self._machines:
            if machine.has_endpoint:
                ports = remembered.get(machine.name, {})
                jobs.append((machine, "http", ports.get("http") or machine.port, None))
                jobs.append((machine, "https", ports.get("https") or 0, tls))
        # In parallel: binding an HTTPServer does a reverse DNS lookup of its address, which
        # takes tens of milliseconds per loopback alias, and big generated labs have hundreds.
        with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
            started = list(pool.map(lambda job: self._start_endpoint(job[0], backend, job[2], job[3]), jobs))
        for (machine, scheme, _, _), endpoint in zip(jobs, started, strict=True):
            self._endpoints.setdefault(machine.name, {})[scheme] = endpoint

    def _start_endpoint(self, machine: labfile.Machine, backend: RecordingBackend, port: int,
                        tls: TLSConfig | None) -> Any:
        try:
            endpoint = self._endpoint_class(machine.name, backend, bind_address=machine.address,
                                            port=port, tls=tls)
            endpoint.start()
        except OSError:
            if port == 0:
                raise
            log.warning("%s: port %d is taken, picking another", machine.name, port)
            endpoint = self._endpoint_class(machine.name, backend, bind_address=machine.address,
                                            port=0, tls=tls)
            endpoint.start()
        return endpoint

    def _tls_config(self) -> TLSConfig:
        """One self-signed certificate per state dir, kept across restarts."""
        cert, key = self.state.tls_dir / "hvsim.crt", self.state.tls_dir / "hvsim.key"
        if cert.exists() and key.exists():
            return TLSConfig(cert, key)
        return TLSConfig.self_signed("hvsim", self.state.tls_dir)

    def _listening(self) -> dict[str, Listening]:
        by_name = {m.name: m for m in self._machines}
        return {host: Listening(str(by_name[host].address), int(pair["http"].port),
                                int(pair["https"].port))
                for host, pair in self._endpoints.items()}

    # -- control channel (hvsim.control.ControlTarget) --------------------------------------

    def status(self) -> dict[str, Any]:
        listening = self._listening()
        return {
            "pid": os.getpid(), "lab": self._lab_name, "state_dir": str(self.state.root),
            "generation": self.fleet.generation(),
            "hosts": {host: {**where._asdict(), "reachable": self.fleet.reachable(host)}
                      for host, where in listening.items()},
        }

    def show(self, host: str) -> dict[str, Any]:
        return dict(self.fleet.host_state(host))

    def connectivity(self, guest: str) -> dict[str, Any]:
        return dict(self.fleet.connectivity(guest))

    def fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        kind = fault.get("kind")
        if kind in _ENDPOINT_FAULTS:
            self._endpoint_fault(fault)
        else:
            self.fleet.inject(fault)
            if self._persister:
                self._persister.save_if_changed()
        return {"injected": fault}

    def _endpoint_fault(self, fault: dict[str, Any]) -> None:
        pair = self._endpoints[str(fault.get("host"))]
        # A drop is one-shot: armed on an endpoint nobody uses, it would fire in some later test.
        scheme = fault.get("scheme", "both" if fault["kind"] == "latency" else "http")
        if scheme not in ("http", "https", "both"):
            raise ValueError(f"scheme must be http, https or both, not {scheme!r}")
        targets = list(pair.values()) if scheme == "both" else [pair[scheme]]
        for endpoint in targets:
            if fault["kind"] == "latency":
                endpoint.faults.latency_seconds = float(_required(fault, "seconds"))
            else:
                when = fault.get("when", "before")
                if when not in ("before", "after"):
                    raise ValueError(f"when must be before or after, not {when!r}")
                endpoint.faults.drop_connection(int(_required(fault, "at_command")), when)


def _required(fault: dict[str, Any], key: str) -> Any:
    if key not in fault:
        raise ValueError(f"a {fault['kind']} fault needs {key}=")
    return fault[key]


def _bind_without_reverse_dns() -> None:
    """HTTPServer.server_bind resolves its address back to a name (socket.getfqdn) only to fill
    `server_name`, which no endpoint uses. Against a slow resolver that is 60 ms to seconds per
    listener, and a generated lab has hundreds. Patched here, in the daemon's own process only;
    the proper fix is an override in hvsim.winrm.server._Server."""

    def server_bind(self: http.server.HTTPServer) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    http.server.HTTPServer.server_bind = server_bind  # type: ignore[method-assign,assignment]


def serve(state: StateDir, lab_path: Path | None) -> int:
    """Foreground entry point: run until SIGTERM, SIGINT or a control `stop`."""
    state.root.mkdir(parents=True, exist_ok=True)
    _bind_without_reverse_dns()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    daemon = Daemon(state, lab_path)
    signal.signal(signal.SIGTERM, lambda *_: daemon.request_stop())
    signal.signal(signal.SIGINT, lambda *_: daemon.request_stop())
    try:
        daemon.start()
    except Exception:
        log.exception("could not start")
        daemon.shutdown()
        return 1
    daemon.serve_forever()
    return 0
