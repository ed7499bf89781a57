"""One simulator process per state directory: the Fleet, its endpoints, persistence, control.

Run in the foreground by `hvsim serve` (which `hvsim up` starts in the background).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from hvsim import labfile
from hvsim.control import ControlServer
from hvsim.endpoints import PROTOCOL_FAULTS, HostEndpoints, LabSecurity
from hvsim.inventory import LabSecrets, build_inventories, write_inventory
from hvsim.kerberos import DOMAIN_ADMIN, KDC, REALM
from hvsim.persistence import PeriodicSaver, StatePersister, atomic_write_json, read_json
from hvsim.recording import RecordingBackend
from hvsim.ssh import SSHEndpoints, SSHKeys, SSHOptions
from hvsim.statedir import StateDir
from hvsim.transcript import TranscriptWriter
from hvsim.winrm.tls import LabCA

log = logging.getLogger("hvsim.daemon")


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
        self._endpoints: HostEndpoints | None = None
        self._machines: list[labfile.Machine] = []
        self._lab_name = ""
        self.fleet: Any = None
        self._control: ControlServer | None = None
        self._saver: PeriodicSaver | None = None
        self._persister: StatePersister | None = None
        self._lock_file: IO[str] | None = None
        self._kdc: KDC | None = None
        self._ssh: SSHEndpoints | None = None
        self._ssh_keys: SSHKeys | None = None

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
        self.fleet.on_crash = self._crash
        backend = RecordingBackend(self.fleet, self._persister,
                                   TranscriptWriter(self.state.transcripts_dir))
        remembered = read_json(self.state.ports_file) if self.state.ports_file.exists() else {}
        security = self._lab_security(backend, lab, remembered.get("_kdc", {}).get("port", 0))
        self._endpoints = HostEndpoints(self._endpoint_class, backend, security)
        self._endpoints.start(self._machines, remembered)
        self._saver = PeriodicSaver(self._persister)
        self._saver.start()
        self._control = ControlServer(self)
        self._control.start()
        listening = self._endpoints.listening()
        if self._ssh_keys is not None:
            self._ssh_keys.write_known_hosts([(where.address, where.ssh_port) for where in listening.values()
                                              if where.ssh_port is not None])
        inventories = build_inventories(self._machines, listening, self._secrets(security))
        for transport, inventory in inventories.items():
            write_inventory(self.state.inventory(transport), inventory, self._lab_name)
        ports: dict[str, Any] = {host: {"http": where.port, "https": where.https_port, "ssh": where.ssh_port}
                                 for host, where in listening.items()}
        if self._kdc is not None:
            ports["_kdc"] = {"port": self._kdc.port}
        atomic_write_json(self.state.ports_file, ports)
        # Written last: its presence (with our pid) is what `hvsim up` waits for.
        atomic_write_json(self.state.daemon_file, {
            "pid": os.getpid(), "control_port": self._control.port, "lab": self._lab_name,
            "inventory": str(self.state.inventory_file),
            "inventories": {transport: str(self.state.inventory(transport)) for transport in inventories},
            "krb5_config": str(self._kdc.krb5_conf) if self._kdc is not None else None,
            "hosts": {host: where._asdict() for host, where in listening.items()},
        })
        log.info("lab %s up: %d hosts with endpoints, control port %d", self._lab_name,
                 len(listening), self._control.port)

    def _crash(self) -> None:
        """Fault crash_when_stopped: save the state as it is at this very change, then die at once
        (as kill -9 would, but at a chosen point). Called with the fleet's lock held; the state is
        written directly, not through the persister, whose saver thread may be waiting for that lock."""
        log.warning("fault crash_when_stopped: saving the state and exiting now")
        atomic_write_json(self.state.state_file, self.fleet.export_state())
        os._exit(137)

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
        if self._endpoints:
            self._endpoints.stop()
        if self._ssh is not None:
            self._ssh.stop()
        if self._kdc is not None:
            self._kdc.stop()
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
        known = set(self.fleet.host_names()) | set(getattr(self.fleet, "planned_names", list)())
        missing = [m.name for m in self._machines if m.has_endpoint and m.name not in known]
        if missing:
            raise labfile.LabError(f"the Fleet does not know hosts {missing}; it has {sorted(known)}")

    def _lab_security(self, backend: Any, lab: dict[str, Any], kdc_port: int) -> LabSecurity:
        """The lab CA, the Kerberos realm (an MIT KDC) and the SSH listeners, kept across restarts.

        A lab may leave out Kerberos or SSH with `transports: {kerberos: false, ssh: false}`;
        `ssh: {default_shell: powershell.exe, codepage: 850}` sets how its sshd behaves.
        (Localised hosts, deferred: a lab `locale` would also set the console code page here.)
        """
        options = dict(lab.get("transports") or {})
        security = LabSecurity(LabCA.at(self.state.tls_dir), self.state.tls_dir / "hosts",
                               main_account=lambda host: str(self.fleet.credentials(host)[0]))
        endpoint_hosts = [m.name for m in self._machines if m.has_endpoint]
        if options.get("kerberos", True):
            self._kdc = KDC(self.state.krb5_dir)
            # The acceptors (gssapi, in this process) read the realm's configuration too.
            os.environ["KRB5_CONFIG"] = str(self._kdc.krb5_conf)
            self._kdc.start(endpoint_hosts, kdc_port)
            security.kdc = self._kdc
        if options.get("ssh", True):
            ssh = dict(lab.get("ssh") or {})
            self._ssh_keys = SSHKeys.create(self.state.ssh_dir)
            self._ssh = SSHEndpoints(backend, self._ssh_keys, self.state.files_dir,
                                     SSHOptions(str(ssh.get("default_shell", "cmd.exe")), int(ssh.get("codepage", 437))))
            security.ssh = self._ssh
        return security

    def _secrets(self, security: LabSecurity) -> LabSecrets:
        return LabSecrets(
            ca_certificate=security.ca.certfile,
            ssh_private_key=self._ssh_keys.client_key if self._ssh_keys else None,
            ssh_known_hosts=self._ssh_keys.known_hosts if self._ssh_keys else None,
            kerberos_user=f"{DOMAIN_ADMIN}@{REALM}" if self._kdc else None,
            kerberos_password=self._kdc.admin_password if self._kdc else None,
        )

    # -- control channel (hvsim.control.ControlTarget) --------------------------------------

    def status(self) -> dict[str, Any]:
        listening = self._endpoints.listening() if self._endpoints else {}
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

    def timing(self, host: str) -> dict[str, Any]:
        return {"host": host, "model": self.fleet.timing_config(), "charges": self.fleet.timing_ledger(host)}

    def fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        if fault.get("kind") in PROTOCOL_FAULTS and self._endpoints:
            self._endpoints.inject(fault)
        else:
            self.fleet.inject(fault)
            if self._persister:
                self._persister.save_if_changed()
        return {"injected": fault}


def serve(state: StateDir, lab_path: Path | None) -> int:
    """Foreground entry point: run until SIGTERM, SIGINT or a control `stop`."""
    state.root.mkdir(parents=True, exist_ok=True)
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
