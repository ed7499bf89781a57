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
        """(username, password) accepted by Basic and NTLM.

        A backend with more accounts also has `accounts(host) -> [(username, password), ...]`
        (all of them, this one first) and `authorize(host, username) -> bool` (WinRM's access
        check after authentication; False answers 401). Without them, this one account is the
        only one and may connect.
        """

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
        """Run one command line to completion as `user` (the account that opened the shell); may block.

        A backend may also have `shell_event(host, "shell_create" | "shell_delete")`, called when a
        shell opens or closes (the Fleet charges its timing model there; it may block too).
        """


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
