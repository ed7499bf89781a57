"""An SSH endpoint that behaves like Win32-OpenSSH's sshd on a Windows host, on asyncssh.

What a client meets (Microsoft's "OpenSSH Server configuration for Windows" and the
Win32-OpenSSH wiki):
- the command of an exec request runs under the DefaultShell: cmd.exe (`cmd.exe /c <command>`,
  which runs the command's first line only) unless the lab sets powershell.exe
  (`powershell.exe -c <command>`, the whole text as PowerShell);
- the console's OEM code page (437 on an en-US host) is the encoding of what the command writes
  and of what it reads from stdin;
- password and public-key authentication for the host's local accounts (any account that may
  log on: sshd has no WinRM-style Remote Management Users check);
- the sftp subsystem and scp, on the host's file system with Windows paths (`C:\\...`,
  `/C:/...`), kept in a folder of the state directory.

One asyncio loop in a background thread serves every host of the lab.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import os
import posixpath
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from ..winrm.backend import CommandBackend, CommandObserver

log = logging.getLogger(__name__)

DEFAULT_SHELLS = ("cmd.exe", "powershell.exe")
ENCODED_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
# A command whose client sent no stdin at all and keeps the channel open (ansible's ssh plugin
# without in_data) starts after this long; PowerShell only waits for stdin when it reads $input.
STDIN_GRACE_S = 0.3


@dataclass(frozen=True)
class SSHOptions:
    default_shell: str = "cmd.exe"
    codepage: int = 437          # the console's OEM code page (en-US)

    def __post_init__(self) -> None:
        if self.default_shell.lower() not in DEFAULT_SHELLS:
            raise ValueError(f"ssh default_shell must be one of {', '.join(DEFAULT_SHELLS)}, not {self.default_shell!r}")
        "".encode(f"cp{self.codepage}")  # LookupError for a code page Python does not know


@dataclass(frozen=True)
class SSHKeys:
    """The lab's SSH material: a host key for every endpoint, and one client key every account trusts."""

    host_key: Path
    client_key: Path
    known_hosts: Path

    @classmethod
    def create(cls, directory: Path) -> SSHKeys:
        directory.mkdir(parents=True, exist_ok=True)
        keys = cls(directory / "ssh_host_ed25519_key", directory / "id_ed25519", directory / "known_hosts")
        for path, comment in ((keys.host_key, "hvsim host key"), (keys.client_key, "hvsim lab client key")):
            if not path.exists():
                key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
                key.write_private_key(str(path))
                key.write_public_key(str(path) + ".pub")
                path.chmod(0o600)
        return keys

    def authorized(self) -> asyncssh.SSHAuthorizedKeys:
        return asyncssh.import_authorized_keys(Path(str(self.client_key) + ".pub").read_text())

    def write_known_hosts(self, endpoints: list[tuple[str, int]]) -> None:
        public = Path(str(self.host_key) + ".pub").read_text().split()
        lines = [f"[{address}]:{port} {public[0]} {public[1]}\n" for address, port in endpoints]
        self.known_hosts.write_text("".join(lines))


class SSHEndpoints:
    """SSH listeners for the hosts of one lab, all served by one event loop thread."""

    def __init__(self, backend: CommandBackend, keys: SSHKeys, files_root: Path, options: SSHOptions,
                 observer: CommandObserver | None = None) -> None:
        self._backend = backend
        self._keys = keys
        self._files_root = files_root
        self.options = options
        self._observer = observer
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ssh-endpoints", daemon=True)
        self._thread.start()
        self._servers: dict[str, asyncssh.SSHAcceptor] = {}

    def listen(self, host: str, address: str, port: int) -> int:
        """Start the host's listener (port 0: any free one); returns the port."""
        server = self._call(self._listen(host, address, port))
        self._servers[host] = server
        return int(server.sockets[0].getsockname()[1])

    async def _listen(self, host: str, address: str, port: int) -> asyncssh.SSHAcceptor:
        files = self._files_root / host
        files.mkdir(parents=True, exist_ok=True)
        session = _HostSession(host, self._backend, self.options, self._observer)
        return await asyncssh.create_server(
            lambda: _HostServer(host, self._backend, self._keys.authorized()),
            address, port,
            server_host_keys=[str(self._keys.host_key)],
            process_factory=session.handle,
            sftp_factory=lambda chan: WindowsSFTPServer(chan, files),
            allow_scp=True,
            encoding=None,
            server_version="OpenSSH_for_Windows_9.5",
            reuse_address=True,
        )

    def stop(self) -> None:
        async def close_all() -> None:
            for server in self._servers.values():
                server.close()
                await server.wait_closed()

        if self._servers:
            self._call(close_all())
        self._servers.clear()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=30)


class _HostServer(asyncssh.SSHServer):
    def __init__(self, host: str, backend: CommandBackend, authorized: asyncssh.SSHAuthorizedKeys) -> None:
        self._host = host
        self._backend = backend
        self._authorized = authorized
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        if not self._backend.reachable(self._host):
            conn.abort()  # a host that is down: the client sees the connection go

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        account = _account(self._backend, self._host, username)
        return account is not None and hmac.compare_digest(password.encode(), account[1].encode())

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        if _account(self._backend, self._host, username) is None:
            return False
        return self._authorized.validate(key, "", "127.0.0.1") is not None  # {} = trusted, no options


def _account(backend: CommandBackend, host: str, username: str) -> tuple[str, str] | None:
    """The local account a login name means: case-insensitive, with no domain, `.` or the host name."""
    domain, _unused, user = username.replace("/", "\\").rpartition("\\")
    if domain.lower() not in ("", ".", host.split(".")[0].lower()):
        return None
    listed: Callable[[str], list[tuple[str, str]]] | None = getattr(backend, "accounts", None)
    accounts = list(listed(host)) if listed is not None else [backend.credentials(host)]
    for name, password in accounts:
        if name.rpartition("\\")[2].lower() == user.lower():
            return name.rpartition("\\")[2], password
    return None


class _HostSession:
    """What sshd does with an exec request: the DefaultShell runs the command in a console."""

    def __init__(self, host: str, backend: CommandBackend, options: SSHOptions, observer: CommandObserver | None) -> None:
        self._host = host
        self._backend = backend
        self._options = options
        self._observer = observer

    async def handle(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        command = process.command
        if command is None:
            process.stderr.write(b"hvsim: interactive shells are not simulated; send a command.\r\n")
            process.exit(1)
            return
        username = process.get_extra_info("username") or ""
        account = _account(self._backend, self._host, username)
        stdin = await self._read_stdin(process)
        codepage = f"cp{self._options.codepage}"
        command_line = self.command_line(command)
        if not command_line:
            # cmd.exe /c with an empty first line: nothing runs, exit code 0, no output.
            process.exit(0)
            return
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        # The console decodes stdin in its code page; the backend takes UTF-8.
        utf8_stdin = stdin.decode(codepage, errors="replace").encode("utf-8")
        result = await loop.run_in_executor(
            None, lambda: self._backend.run_command(self._host, command_line, utf8_stdin, user=account[0] if account else None))
        # ... and what the command writes leaves in the console's code page.
        process.stdout.write(_console(result.stdout, codepage))
        process.stderr.write(_console(result.stderr, codepage))
        if self._observer is not None:
            self._observer(self._host, command_line, utf8_stdin, result.rc, result.stdout, result.stderr,
                           time.monotonic() - started)
        process.exit(result.rc & 0xFFFFFFFF)

    def command_line(self, command: str) -> str:
        """The process command line the DefaultShell ends up running for an exec request."""
        if self._options.default_shell.lower() == "cmd.exe":
            # cmd.exe /c: a line break ends the command; nothing after the first line runs.
            return command.replace("\r\n", "\n").split("\n", 1)[0].strip()
        text = command.strip()
        if "\n" not in text and text.lower().startswith(("powershell ", "powershell.exe ")):
            return text  # PowerShell starts the nested powershell.exe with the same stdin
        # powershell.exe -c <text>: the text is the script.
        return ENCODED_PREFIX + base64.b64encode(text.encode("utf-16-le")).decode("ascii")

    @staticmethod
    async def _read_stdin(process: asyncssh.SSHServerProcess[bytes]) -> bytes:
        data = bytearray()
        while True:
            try:
                timeout = None if data else STDIN_GRACE_S
                chunk = await asyncio.wait_for(process.stdin.read(65536), timeout)
            except TimeoutError:
                return bytes(data)  # no stdin coming: the command does not wait for it
            if not chunk:
                return bytes(data)
            data += chunk


def _console(data: bytes, codepage: str) -> bytes:
    return data.decode("utf-8", errors="replace").encode(codepage, errors="replace")


class WindowsSFTPServer(asyncssh.SFTPServer):
    """sftp/scp on a host's simulated file system: `C:\\a\\b`, `/C:/a/b` and `C:/a/b` name one file."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path) -> None:
        super().__init__(chan)
        for folder in ("Windows/Temp", "Users/Public", "ProgramData"):  # what every Windows host has
            (root / "C" / folder).mkdir(parents=True, exist_ok=True)
        self._root = os.fsencode(str(root.resolve()))

    def map_path(self, path: bytes) -> bytes:
        text = path.replace(b"\\", b"/")
        if text[:1] == b"/" and text[2:3] == b":":
            text = text[1:]
        if text[1:2] == b":":
            text = text[:1].upper() + text[2:]
        else:
            text = b"C/Users/" + text  # relative paths start in the account's profile
        normal = posixpath.normpath(posixpath.join(b"/", text)).lstrip(b"/")
        return posixpath.join(self._root, normal)

    def reverse_map_path(self, path: bytes) -> bytes:
        if path == self._root:
            return b"/"
        if not path.startswith(self._root + b"/"):
            raise asyncssh.SFTPNoSuchFile("File not found")
        inside = path[len(self._root) + 1 :]
        drive, _unused, rest = inside.partition(b"/")
        return b"/" + drive + b":/" + rest
