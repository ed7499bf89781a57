"""What a PSRP pipeline is to the simulated host: its script as a PowerShell command line, its
input objects as the text `$input` yields, and the command's result as output and error records.

The backend (the Fleet's PowerShell front door) takes a command line and stdin; a pipeline's
script is handed over as the equivalent `PowerShell ... -EncodedCommand` line, which the front
door decodes exactly as it decodes the ones winrm and ssh send. Input objects become text the
way PowerShell turns them into strings: a byte array (what pypsrp sends for `bytes` input) reads
as its numbers separated by spaces, so a script expecting JSON text fails as it does on Windows.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from typing import Any

ENCODED_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
_CLIXML_STRING = re.compile(r'<S S="(\w+)">(.*?)</S>', re.DOTALL)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def command_line(commands: Iterable[tuple[str, bool]]) -> str:
    """The pipeline's commands (scripts or command names) as one encoded PowerShell command line."""
    text = " | ".join(command if is_script else f"& '{command}'" for command, is_script in commands)
    return ENCODED_PREFIX + base64.b64encode(text.encode("utf-16-le")).decode("ascii")


def as_text(value: Any) -> str:
    """PowerShell's string conversion of an input object (the part of it the simulator meets)."""
    if isinstance(value, (bytes, bytearray)):
        return " ".join(str(b) for b in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def input_text(objects: Iterable[Any]) -> bytes:
    """The pipeline input as the stdin text a script's `@($input) -join "`n"` sees (UTF-8)."""
    return "\n".join(as_text(obj) for obj in objects).encode("utf-8")


def output_lines(stdout: bytes) -> list[str]:
    """One output string per line the script wrote (a runspace has no console: no trailing CRLF)."""
    text = stdout.decode("utf-8", errors="replace")
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def error_messages(stderr: bytes) -> list[str]:
    """The error texts of a CLIXML error stream (or plain stderr), one message per error."""
    text = stderr.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    if not text.startswith("#< CLIXML"):
        return [text]
    parts = [_unescape(value) for stream, value in _CLIXML_STRING.findall(text) if stream == "Error"]
    message = "".join(parts).strip()
    return [message] if message else []


def _unescape(value: str) -> str:
    return _CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), html.unescape(value))
