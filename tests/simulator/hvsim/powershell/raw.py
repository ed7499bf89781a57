"""Raw commands: the fixed ones other tools send (ansible.windows.win_reboot's boot-time query,
shutdown and test command, plugins/plugin_utils/_reboot.py; a few one-liners), and every other
script through the plain-PowerShell interpreter (interpreter.py)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..model import lifecycle
from .errors import clixml_streams
from .formatting import out_default
from .interpreter import Context, Interpreter, RunResult
from .session import Session

_BOOT_TIME = re.compile(r"^\(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime\)"
                        r"\.LastBootUpTime\.ToFileTime\(\)$", re.IGNORECASE)
_SHUTDOWN = re.compile(r"C:\\Windows\\System32\\shutdown\.exe\s+/r\s+/t\s+(\d+)", re.IGNORECASE)
_ABORT = re.compile(r"^(?:C:\\Windows\\System32\\)?shutdown(?:\.exe)?\s+/a$", re.IGNORECASE)
_TEST = re.compile(r"^Get-Item -LiteralPath '[^']*AutoLogonChecked' -ErrorAction Stop; '([^']*)'$", re.IGNORECASE)
_LITERAL = re.compile(r"^'([^']*)'$|^\"([^\"$`]*)\"$")


@dataclass(frozen=True)
class RawResult:
    rc: int
    stdout: str
    stderr: str = ""


def run_raw(session: Session, script: str) -> RawResult | None:
    """The result of a known raw script, or None when the script is not one we know."""
    with session.lock:
        session.refresh()
        now = session.clock()
        host = session.host
        if _BOOT_TIME.match(script):
            return RawResult(0, f"{host.os_state.boot_filetime}\r\n")
        if _SHUTDOWN.search(script):
            if not session.rights.administrator:
                # "Shut down the system" is granted to Administrators (and Backup Operators) on servers (RULES #36).
                return RawResult(0, json.dumps({"stdout": "", "stderr": "Access is denied.(5)", "rc": 5},
                                               separators=(",", ":")) + "\r\n")
            if host.rebooting_until is not None:
                return RawResult(0, json.dumps({"stdout": "", "stderr": "A system shutdown has already been "
                                               "scheduled.(1190)", "rc": 1190}) + "\r\n")
            lifecycle.begin_reboot(session.world, host, now)
            session.changed()
            return RawResult(0, json.dumps({"stdout": "", "stderr": "", "rc": 0}, separators=(",", ":")) + "\r\n")
        if _ABORT.match(script):
            if not session.rights.administrator:
                return RawResult(5, "", "Access is denied.(5)\r\n")
            return RawResult(1116, "", "Unable to abort the system shutdown because no shutdown was in "
                                       "progress.(1116)\r\n")
        match = _TEST.match(script)
        if match:
            return RawResult(0, "\r\n\r\n    Hive: HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
                                f"\\Winlogon\r\n\r\n\r\nName                           Property\r\n"
                                f"----                           --------\r\nAutoLogonChecked\r\n{match.group(1)}\r\n")
        match = _LITERAL.match(script)
        if match:
            return RawResult(0, (match.group(1) if match.group(1) is not None else match.group(2)) + "\r\n")
        if script.strip().lower() in ("hostname", "hostname.exe"):
            return RawResult(0, (host.vm_name or host.name).upper() + "\r\n")
    return None


@dataclass(frozen=True)
class ScriptOutcome:
    """A script run as powershell.exe runs it: exit code, console text, CLIXML stderr."""

    rc: int
    stdout: str
    stderr: bytes
    result: RunResult | None = None


def run_script(session: Session, script: str) -> ScriptOutcome:
    """A known raw command, or the script through the interpreter."""
    known = run_raw(session, script)
    if known is not None:
        from .errors import clixml_error
        return ScriptOutcome(known.rc, known.stdout, clixml_error(known.stderr.splitlines()) if known.stderr else b"")
    result = Interpreter(Context(session)).run(script)
    error_lines = [line for record in result.errors for line in record.lines()]
    return ScriptOutcome(result.rc, out_default(result.console, session.host.os_state.culture), clixml_streams(error_lines, result.warnings), result)


def run_cmd(session: Session, command_line: str) -> RawResult | None:
    """A cmd.exe command line naming a native program the simulator runs (netsh, hostname)."""
    import shlex

    from . import native
    try:
        words = shlex.split(command_line.replace("\\", "\\\\"), posix=True)
    except ValueError:
        return None
    if not words or not native.is_native(words[0]):
        return None
    with session.lock:
        session.refresh()
        done = native.run(words[0], words[1:], session.host.os_state, session.rights, session.computer_name)
        session.changed()
    return RawResult(done.rc, done.stdout, done.stderr)
