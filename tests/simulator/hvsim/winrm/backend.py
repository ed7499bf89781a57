"""What the WinRM endpoint needs from whatever executes commands (the fleet, or a test fake)."""

from __future__ import annotations

from typing import NamedTuple, Protocol


class CommandResult(NamedTuple):
    rc: int
    stdout: bytes
    stderr: bytes


class CommandBackend(Protocol):
    def reachable(self, host: str) -> bool:
        """False while the host is off or rebooting: its endpoint drops every connection."""

    def credentials(self, host: str) -> tuple[str, str]:
        """(username, password) accepted by Basic and NTLM."""

    def run_command(self, host: str, command_line: str, stdin: bytes) -> CommandResult:
        """Run one command line to completion; may block."""


class CommandObserver(Protocol):
    def __call__(
        self,
        host: str,
        command_line: str,
        stdin: bytes,
        rc: int,
        stdout: bytes,
        stderr: bytes,
        duration_s: float,
    ) -> None:
        """Called once per completed command, from the thread that ran it."""
