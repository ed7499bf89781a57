"""WinRS shells and their commands: stdin collection, execution on the backend, output hand-out.

A command runs once its stdin is complete: when a Send carries End="true", or when the client
asks for output (Receive) without ever having sent stdin (pywinrm's run_cmd, ansible without
in_data). The backend call runs in its own thread; Receive waits for it up to OperationTimeout.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from . import errors
from .backend import CommandBackend, CommandObserver, CommandResult
from .faults import ConnectionDropped

log = logging.getLogger(__name__)

UTF8_CODEPAGE = 65001


@dataclass(frozen=True)
class Output:
    stdout: bytes
    stderr: bytes
    exit_code: int | None  # None while the command is still running


@dataclass
class Command:
    id: str
    command_line: str
    user: str | None = None   # the shell's owner: the account the command runs as
    drop_reply: bool = False  # the "after" connection-drop fault is armed on this command
    stdin: bytearray = field(default_factory=bytearray)
    stdin_sent: bool = False
    started: bool = False
    finished: threading.Event = field(default_factory=threading.Event)
    result: CommandResult | None = None
    stdout_pos: int = 0
    stderr_pos: int = 0


@dataclass
class Shell:
    id: str
    owner: str
    codepage: int
    commands: dict[str, Command] = field(default_factory=dict)


class ShellRegistry:
    """All shells of one endpoint. Thread-safe; never holds its lock while a command runs."""

    def __init__(self, host: str, backend: CommandBackend, observer: CommandObserver | None = None) -> None:
        self._host = host
        self._backend = backend
        self._observer = observer
        self._lock = threading.Lock()
        self._shells: dict[str, Shell] = {}

    def create_shell(self, owner: str, codepage: int) -> Shell:
        if codepage != UTF8_CODEPAGE:
            _check_codepage(codepage)
        shell = Shell(id=_new_id(), owner=owner, codepage=codepage)
        with self._lock:
            self._shells[shell.id] = shell
        self._shell_event("shell_create")
        return shell

    def delete_shell(self, shell_id: str, owner: str | None = None) -> None:
        with self._lock:
            self._shell(shell_id, owner)
            del self._shells[shell_id.upper()]
        self._shell_event("shell_delete")

    def _shell_event(self, event: str) -> None:
        # A backend with a timing model (Fleet.shell_event) charges the host for it; the reply waits.
        hook = getattr(self._backend, "shell_event", None)
        if hook is not None:
            hook(self._host, event)

    def shell(self, shell_id: str, owner: str | None = None) -> Shell:
        with self._lock:
            return self._shell(shell_id, owner)

    def create_command(self, shell_id: str, command_line: str, drop_reply: bool = False,
                       owner: str | None = None) -> Command:
        with self._lock:
            shell = self._shell(shell_id, owner)
            command = Command(id=_new_id(), command_line=command_line, user=shell.owner, drop_reply=drop_reply)
            shell.commands[command.id] = command
        return command

    def send_input(self, shell_id: str, command_id: str, data: bytes, end: bool, owner: str | None = None) -> None:
        with self._lock:
            command = self._command(shell_id, command_id, owner)
            if command.started:
                raise errors.invalid_parameter("The stdin stream of this command was already closed; no more input can be sent.")
            command.stdin += data
            command.stdin_sent = True
            if end:
                command.started = True
        if end:
            self._start(command)

    def receive(self, shell_id: str, command_id: str, timeout_s: float, max_bytes: int,
                owner: str | None = None) -> Output:
        """The next output of a command, at most max_bytes of stream data (stdout first).

        Raises the OperationTimeout fault when the command has not finished within timeout_s, and
        ConnectionDropped (once, consuming nothing) when the command carries the "after" drop fault.
        """
        with self._lock:
            command = self._command(shell_id, command_id, owner)
            codepage = self._shell(shell_id).codepage
            start_now = not command.started and not command.stdin_sent
            if start_now:
                command.started = True
        if start_now:
            self._start(command)
        if not command.finished.wait(timeout_s):
            raise errors.operation_timed_out()
        with self._lock:
            if command.drop_reply:
                command.drop_reply = False
                raise ConnectionDropped(f"reply to Receive for command {command.id} dropped")
            assert command.result is not None
            stdout = _transcode(command.result.stdout, codepage)
            stderr = _transcode(command.result.stderr, codepage)
            out = stdout[command.stdout_pos : command.stdout_pos + max_bytes]
            command.stdout_pos += len(out)
            err = stderr[command.stderr_pos : command.stderr_pos + max_bytes - len(out)]
            command.stderr_pos += len(err)
            complete = command.stdout_pos >= len(stdout) and command.stderr_pos >= len(stderr)
            return Output(out, err, command.result.rc if complete else None)

    def signal(self, shell_id: str, command_id: str, code: str, owner: str | None = None) -> None:
        """terminate forgets the command; ctrl_c keeps it, and a command not started never runs."""
        with self._lock:
            command = self._command(shell_id, command_id, owner)
            if code == "terminate":
                del self._shells[shell_id.upper()].commands[command.id]
            if not command.started:
                command.started = True
                command.result = CommandResult(rc=-1073741510, stdout=b"", stderr=b"")  # STATUS_CONTROL_C_EXIT
                command.finished.set()

    def _start(self, command: Command) -> None:
        threading.Thread(target=self._execute, args=(command,), name=f"winrs-{self._host}-{command.id[:8]}", daemon=True).start()

    def _execute(self, command: Command) -> None:
        stdin = bytes(command.stdin)
        began = time.monotonic()
        try:
            result = self._backend.run_command(self._host, command.command_line, stdin, user=command.user)
        except Exception as exc:  # a crashing backend must not hang the client; it sees rc 1
            log.exception("backend failed on %s: %s", self._host, command.command_line)
            result = CommandResult(rc=1, stdout=b"", stderr=f"simulator backend error: {exc!r}\r\n".encode())
        duration = time.monotonic() - began
        with self._lock:
            command.result = CommandResult(result.rc, result.stdout, result.stderr)
        command.finished.set()
        if self._observer is not None:
            try:
                self._observer(self._host, command.command_line, stdin, result.rc, result.stdout, result.stderr, duration)
            except Exception:
                log.exception("command observer failed on %s", self._host)

    def _shell(self, shell_id: str, owner: str | None = None) -> Shell:
        shell = self._shells.get(shell_id.upper())
        # A shell belongs to the account that created it: to any other it does not exist.
        if shell is None or (owner is not None and shell.owner.casefold() != owner.casefold()):
            raise errors.shell_not_found(shell_id)
        return shell

    def _command(self, shell_id: str, command_id: str, owner: str | None = None) -> Command:
        command = self._shell(shell_id, owner).commands.get(command_id.upper())
        if command is None:
            raise errors.command_not_found()
        return command


def _new_id() -> str:
    return str(uuid.uuid4()).upper()


def _check_codepage(codepage: int) -> None:
    try:
        "".encode(f"cp{codepage}")
    except LookupError as exc:
        raise errors.invalid_parameter(f"The WINRS_CODEPAGE value {codepage} is not a valid code page.") from exc


def _transcode(data: bytes, codepage: int) -> bytes:
    """Backends produce UTF-8; a shell opened with another code page gets its output in that one."""
    if codepage == UTF8_CODEPAGE:
        return data
    return data.decode("utf-8", errors="replace").encode(f"cp{codepage}", errors="replace")
