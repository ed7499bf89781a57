"""The SSH endpoint (asyncssh) as Win32-OpenSSH behaves, driven by the OpenSSH client ansible runs."""

from __future__ import annotations

import subprocess
import typing as t
from pathlib import Path

import pytest
from hvsim.ssh import SSHEndpoints, SSHKeys, SSHOptions
from hvsim.winrm import CommandResult

USER, PASSWORD = "Administrator", "Passw0rd!"
ADDRESS = "127.0.0.1"


class Backend:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, str | None]] = []
        self.up = True

    def reachable(self, host: str) -> bool:
        return self.up

    def credentials(self, host: str) -> tuple[str, str]:
        return USER, PASSWORD

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        self.calls.append((command_line, stdin, user))
        return CommandResult(7, "Ünïcødé ✓\r\n".encode(), b"")


class Server:
    def __init__(self, tmp_path: Path, options: SSHOptions) -> None:
        self.backend = Backend()
        self.keys = SSHKeys.create(tmp_path / "ssh")
        self.files = tmp_path / "files"
        self.endpoints = SSHEndpoints(self.backend, self.keys, self.files, options)
        self.port = self.endpoints.listen("hv01", ADDRESS, 0)
        self.keys.write_known_hosts([(ADDRESS, self.port)])

    def options(self) -> list[str]:
        return ["-o", f"UserKnownHostsFile={self.keys.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-i", str(self.keys.client_key)]

    def ssh(self, command: str, stdin: bytes = b"", user: str = USER) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["ssh", "-p", str(self.port), *self.options(), f"{user}@{ADDRESS}", command],
                              input=stdin, capture_output=True, timeout=30, check=False)


@pytest.fixture
def server(tmp_path: Path) -> t.Iterator[Server]:
    running = Server(tmp_path, SSHOptions())
    yield running
    running.endpoints.stop()


def test_cmd_exe_runs_the_first_line_only_and_writes_the_oem_code_page(server: Server) -> None:
    done = server.ssh("PowerShell -NoProfile -EncodedCommand QQA=\r\nsecond line", stdin=b'{"a":1}')
    assert done.returncode == 7
    assert done.stdout == "Ünïcødé ✓\r\n".encode("cp437", errors="replace")
    assert server.backend.calls == [("PowerShell -NoProfile -EncodedCommand QQA=", b'{"a":1}', USER)]


def test_an_empty_first_line_runs_nothing(server: Server) -> None:
    # What the unencoded multi-line stub looked like to cmd.exe: a line break first.
    done = server.ssh("\n$ErrorActionPreference = 'Stop'\n$request = $input")
    assert (done.returncode, done.stdout) == (0, b"")
    assert server.backend.calls == []


def test_logins_are_case_insensitive_and_unknown_accounts_refused(server: Server) -> None:
    assert server.ssh("hostname", user="administrator").returncode == 7
    refused = server.ssh("hostname", user="nobody")
    assert refused.returncode == 255 and b"Permission denied" in refused.stderr
    assert len(server.backend.calls) == 1


def test_a_host_that_is_down_drops_the_connection(server: Server) -> None:
    server.backend.up = False
    assert server.ssh("hostname").returncode == 255
    assert server.backend.calls == []


def test_powershell_default_shell_runs_the_whole_text_as_a_script(tmp_path: Path) -> None:
    running = Server(tmp_path, SSHOptions(default_shell="powershell.exe", codepage=850))
    try:
        running.ssh("Get-Date\nGet-Host")
        encoded = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
        assert running.backend.calls[0][0].startswith(encoded)
        running.ssh("PowerShell -NoProfile -EncodedCommand QQA=")
        assert running.backend.calls[1][0] == "PowerShell -NoProfile -EncodedCommand QQA="
    finally:
        running.endpoints.stop()


def test_an_unknown_default_shell_is_refused() -> None:
    with pytest.raises(ValueError, match="default_shell"):
        SSHOptions(default_shell="bash")


@pytest.mark.parametrize("tool", ["sftp", "scp"])
def test_files_go_both_ways_with_windows_paths(server: Server, tmp_path: Path, tool: str) -> None:
    source = tmp_path / "source.txt"
    source.write_bytes(b"payload \x00\xff")
    back = tmp_path / "back.txt"
    remote = "/C:/Windows/Temp/hvsim test.txt"
    if tool == "sftp":
        batch = f'put {source} "{remote}"\nget "{remote}" {back}\n'.encode()
        done = subprocess.run(["sftp", "-P", str(server.port), *server.options(), "-b", "-", f"{USER}@{ADDRESS}"],
                              input=batch, capture_output=True, timeout=30, check=False)
        assert done.returncode == 0, done.stderr
    else:
        scp = ["scp", "-O", "-P", str(server.port), *server.options()]
        escaped = remote.replace(" ", "\\ ")
        assert subprocess.run([*scp, str(source), f"{USER}@{ADDRESS}:{escaped}"], capture_output=True, timeout=30, check=False).returncode == 0
        assert subprocess.run([*scp, f"{USER}@{ADDRESS}:{escaped}", str(back)], capture_output=True, timeout=30, check=False).returncode == 0
    assert (server.files / "hv01" / "C" / "Windows" / "Temp" / "hvsim test.txt").read_bytes() == b"payload \x00\xff"
    assert back.read_bytes() == b"payload \x00\xff"
