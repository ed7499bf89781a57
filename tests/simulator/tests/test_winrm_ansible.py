"""ansible-core's winrm connection plugin, run for real (`ansible -m raw`) against endpoints."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hvsim.winrm import CommandResult, Endpoint, TLSConfig

ANSIBLE = Path(sys.executable).parent / "ansible"
USER, PASSWORD = "Administrator", "Passw0rd!"
CLIXML_ERROR = (
    b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">Simulated failure_x000D__x000A_</S></Objs>'
)


@dataclass
class FixedBackend:
    """Answers every command with fixed text; hv02 fails with a PowerShell error; hv04 is off."""

    command_lines: dict[str, list[str]] = field(default_factory=dict)
    stdins: list[bytes] = field(default_factory=list)

    def reachable(self, host: str) -> bool:
        return host != "hv04"

    def credentials(self, host: str) -> tuple[str, str]:
        return USER, PASSWORD

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        self.command_lines.setdefault(host, []).append(command_line)
        if stdin:  # a PowerShell module: bootstrap on the command line, its payload on stdin
            self.stdins.append(stdin)
            return CommandResult(0, b'{"changed": false, "ping": "pong from the simulator"}\r\n', b"")
        if host == "hv02":
            return CommandResult(1, b"", CLIXML_ERROR)
        return CommandResult(0, f"simulated output from {host}\r\n".encode(), b"")


@pytest.fixture
def backend() -> FixedBackend:
    return FixedBackend()


@pytest.fixture
def endpoints(backend: FixedBackend, tmp_path: Path) -> Iterator[dict[str, Endpoint]]:
    tls = TLSConfig.self_signed("hv03", tmp_path / "tls")
    eps = {"hv01": Endpoint("hv01", backend), "hv02": Endpoint("hv02", backend), "hv03": Endpoint("hv03", backend, tls=tls), "hv04": Endpoint("hv04", backend)}
    for ep in eps.values():
        ep.start()
    yield eps
    for ep in eps.values():
        ep.stop()


def inventory(eps: dict[str, Endpoint], path: Path) -> Path:
    lines = ["[windows]"]
    for name, ep in eps.items():
        line = f"{name} ansible_host={ep.bind_address} ansible_port={ep.port} ansible_winrm_scheme={ep.scheme}"
        if ep.scheme == "https":
            line += " ansible_winrm_server_cert_validation=ignore"
        else:
            line += " ansible_winrm_message_encryption=always"
        lines.append(line)
    lines += [
        "[windows:vars]",
        "ansible_connection=winrm",
        f"ansible_user={USER}",
        f"ansible_password={PASSWORD}",
        "ansible_winrm_transport=ntlm",
        "ansible_winrm_connection_timeout=5",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_ansible(pattern: str, eps: dict[str, Endpoint], tmp_path: Path, *module: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_FORKS": "4",
    }
    command = [str(ANSIBLE), pattern, "-i", str(inventory(eps, tmp_path / "hosts.ini")), *module, "-o"]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_ansible_raw_over_winrm(endpoints: dict[str, Endpoint], backend: FixedBackend, tmp_path: Path) -> None:
    result = run_ansible("windows", endpoints, tmp_path, "-m", "raw", "-a", "Get-Service WinRM")
    lines = {line.split(" | ")[0]: line for line in result.stdout.splitlines() if " | " in line}
    assert set(lines) == {"hv01", "hv02", "hv03", "hv04"}, result.stdout + result.stderr

    assert lines["hv01"].startswith("hv01 | CHANGED | rc=0 | (stdout) simulated output from hv01")
    assert lines["hv03"].startswith("hv03 | CHANGED | rc=0 | (stdout) simulated output from hv03")  # NTLM over HTTPS
    assert lines["hv02"].startswith("hv02 | FAILED! => ")
    failed = json.loads(lines["hv02"].split(" => ", 1)[1])
    assert (failed["rc"], failed["stderr_lines"]) == (1, ["Simulated failure"])  # the plugin decoded our CLIXML
    assert lines["hv04"].startswith("hv04 | UNREACHABLE!")  # reset or closed, depending on timing
    assert result.returncode != 0

    # The wire shape of a raw command: one PowerShell -EncodedCommand line, the script in UTF-16-LE.
    assert "hv04" not in backend.command_lines
    for host in ("hv01", "hv02", "hv03"):
        (command_line,) = backend.command_lines[host]
        prefix, _unused, encoded = command_line.rpartition(" ")
        assert prefix == "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand"
        assert "Get-Service WinRM" in base64.b64decode(encoded).decode("utf-16-le")


def test_ansible_powershell_module_sends_its_payload_on_stdin(endpoints: dict[str, Endpoint], backend: FixedBackend, tmp_path: Path) -> None:
    result = run_ansible("hv01", endpoints, tmp_path, "-m", "ansible.windows.win_ping")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("hv01 | SUCCESS => ")
    assert json.loads(result.stdout.split(" => ", 1)[1])["ping"] == "pong from the simulator"
    (stdin,) = backend.stdins
    first, separator, _unused = stdin.partition(b"\0\0\0\0")
    assert separator and json.loads(first)  # the payload arrived whole, in order
    assert b"win_ping" in stdin
