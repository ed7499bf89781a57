"""The backend the endpoints talk to: the Fleet, with persistence and transcript around each command."""

from __future__ import annotations

import time
import traceback
from typing import Any, Protocol

from hvsim.persistence import StatePersister
from hvsim.transcript import TranscriptWriter


class CommandRunner(Protocol):
    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> Any: ...
    def reachable(self, host: str) -> bool: ...
    def credentials(self, host: str) -> tuple[str, str]: ...


class RecordingBackend:
    """Saves state before the command's result is returned, so a reply never precedes the save."""

    def __init__(self, fleet: CommandRunner, persister: StatePersister,
                 transcripts: TranscriptWriter) -> None:
        self._fleet = fleet
        self._persister = persister
        self._transcripts = transcripts

    def reachable(self, host: str) -> bool:
        return self._fleet.reachable(host)

    def credentials(self, host: str) -> tuple[str, str]:
        return self._fleet.credentials(host)

    def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> Any:
        started = time.monotonic()
        try:
            result = self._fleet.run_command(host, command_line, stdin, user=user)
        except Exception:
            self._transcripts.record(host, command_line, stdin, -1, b"",
                                     traceback.format_exc().encode(), time.monotonic() - started, user)
            self._persister.save_if_changed()
            raise
        self._persister.save_if_changed()
        self._transcripts.record(host, command_line, stdin, result.rc, result.stdout, result.stderr,
                                 time.monotonic() - started, user)
        return result

    def __getattr__(self, name: str) -> Any:
        # Anything else the endpoint asks of its backend is the Fleet's business.
        return getattr(self._fleet, name)
