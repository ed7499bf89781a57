"""Where a simulator instance keeps its files: one state directory per running lab."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StateDir:
    root: Path

    @classmethod
    def at(cls, path: str | Path) -> StateDir:
        return cls(Path(path).resolve())

    @property
    def daemon_file(self) -> Path:
        """pid, control port and endpoint addresses of the running daemon."""
        return self.root / "daemon.json"

    @property
    def lock_file(self) -> Path:
        """flock'ed by the daemon while it runs: a second daemon for the same dir refuses to start."""
        return self.root / "daemon.lock"

    @property
    def state_file(self) -> Path:
        """The whole fleet (Fleet.export_state), rewritten atomically after each change."""
        return self.root / "state.json"

    @property
    def lab_file(self) -> Path:
        """Copy of the lab the state was first built from (inventory names come from it)."""
        return self.root / "lab.yml"

    @property
    def ports_file(self) -> Path:
        """Ports handed out at the first `up`, reused on restart so the inventory stays valid."""
        return self.root / "ports.json"

    @property
    def inventory_file(self) -> Path:
        return self.root / "inventory.yml"

    def inventory(self, transport: str) -> Path:
        """inventory.yml (winrm) or inventory.<transport>.yml."""
        return self.root / ("inventory.yml" if transport == "winrm" else f"inventory.{transport}.yml")

    @property
    def krb5_dir(self) -> Path:
        """The lab's Kerberos realm: krb5.conf (KRB5_CONFIG for clients), KDC database, keytabs."""
        return self.root / "krb5"

    @property
    def ssh_dir(self) -> Path:
        """SSH host key, the lab client key (id_ed25519) and known_hosts."""
        return self.root / "ssh"

    @property
    def files_dir(self) -> Path:
        """The hosts' file systems as sftp and scp see them."""
        return self.root / "files"

    @property
    def transcripts_dir(self) -> Path:
        return self.root / "transcripts"

    @property
    def tls_dir(self) -> Path:
        """The lab CA (ca.crt: what clients trust) and each host's certificate."""
        return self.root / "tls"

    @property
    def log_file(self) -> Path:
        return self.root / "daemon.log"

    def transcript(self, host: str) -> Path:
        return self.transcripts_dir / f"{host}.jsonl"
