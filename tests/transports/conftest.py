"""The transport suite: the same playbooks over every inventory `hvsim up` writes.

Each transport gets its own labs, and the transports run side by side (threads driving
ansible-playbook processes): the suite costs about one transport's time, not six.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from hvsim.pytest_plugin import Lab, hvsim, start_lab

VENV_BIN = Path(sys.executable).parent
TRANSPORTS = ("winrm", "psrp", "ssh", "kerberos", "credssp", "https")
_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)

__all__ = ["TRANSPORTS", "Lab", "Run", "TransportLab", "hvsim", "start_lab"]


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    seconds: float
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    def total(self, key: str) -> int:
        return sum(host[key] for host in self.recap.values())

    def explain(self) -> str:
        return f"rc={self.rc}\nstdout={self.stdout[-5000:]}\nstderr={self.stderr[-2000:]}"


@dataclass
class TransportLab:
    """A started lab and the inventory of one transport."""

    lab: Lab
    transport: str

    @property
    def inventory(self) -> Path:
        return self.lab.state_dir / ("inventory.yml" if self.transport == "winrm" else f"inventory.{self.transport}.yml")

    @property
    def krb5_config(self) -> Path:
        return self.lab.state_dir / "krb5" / "krb5.conf"

    def playbook(self, playbook: Path, *flags: str, inventory: Path | None = None) -> Run:
        """ansible-playbook with the default (human) callback; the recap is parsed."""
        env = {
            **os.environ,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_STDOUT_CALLBACK": "default",
            # What an operator exports for the Kerberos inventory: the lab realm's configuration.
            "KRB5_CONFIG": str(self.krb5_config),
        }
        started = time.monotonic()
        done = subprocess.run(
            [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory or self.inventory), str(playbook), *flags],
            capture_output=True, text=True, env=env, timeout=900, check=False,
        )
        recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "unreachable": int(m.group(4)),
                              "failed": int(m.group(5))} for m in _RECAP.finditer(done.stdout)}
        return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started, recap)


def write_playbook(path: Path, plays: list[dict[str, t.Any]]) -> Path:
    import json

    path.write_text(json.dumps(plays, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
