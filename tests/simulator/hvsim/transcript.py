"""Per-host transcripts: every command a host ran, one JSON object per line.

Nothing is masked: tests read these files to prove that secrets never reach a command line.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# PowerShell accepts any unambiguous prefix of -EncodedCommand; these are the ones in use.
_ENCODED_FLAGS = {"-encodedcommand", "-enc", "-ec", "-e", "-en", "-enco", "-encod", "-encode",
                  "-encoded", "-encodedc", "-encodedco", "-encodedcom", "-encodedcomm",
                  "-encodedcomma", "-encodedcomman"}


def decode_encoded_command(command_line: str) -> str | None:
    """The script carried by `-EncodedCommand <base64 UTF-16-LE>`, or None when there is none."""
    tokens = command_line.split()
    for index, token in enumerate(tokens[:-1]):
        if token.lower() in _ENCODED_FLAGS:
            try:
                return base64.b64decode(tokens[index + 1], validate=True).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class TranscriptWriter:
    """Appends to STATE_DIR/transcripts/<host>.jsonl; safe to call from many endpoint threads."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._directory.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, host: str) -> Path:
        return self._directory / f"{host}.jsonl"

    def record(self, host: str, command_line: str, stdin: bytes, rc: int, stdout: bytes,
               stderr: bytes, duration_s: float, user: str | None = None) -> None:
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "host": host,
            "user": user,                     # the account WinRM authenticated (None: not known)
            "command_line": command_line,
            "script": decode_encoded_command(command_line),
            "stdin": _text(stdin),
            "rc": rc,
            "stdout": _text(stdout),
            "stderr": _text(stderr),
            "duration_s": round(duration_s, 6),
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock_for(host):
            with open(self.path(host), "a", encoding="utf-8") as handle:
                handle.write(line)

    def _lock_for(self, host: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(host, threading.Lock())


def read_transcript(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
