"""Protocol-level faults an endpoint can be told to inject at runtime."""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Literal


class ConnectionDropped(Exception):
    """Raised where a drop fault fires: the HTTP layer closes the connection without replying."""


class DropWhen(enum.Enum):
    BEFORE = "before"  # close the connection instead of starting the command
    AFTER = "after"  # run the command, close the connection instead of returning its output


@dataclass
class _PendingDrop:
    remaining: int  # Command requests still to see; the drop fires when this reaches 0
    when: DropWhen


class ProtocolFaults:
    """Thread-safe fault settings for one endpoint.

    `latency_seconds` is added before every HTTP reply. `drop_connection(n, when)` is one-shot and
    counts Command requests from the moment it is set: n=1 means the next Command.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency = 0.0
        self._drops: list[_PendingDrop] = []
        self._commands_seen = 0

    @property
    def latency_seconds(self) -> float:
        with self._lock:
            return self._latency

    @latency_seconds.setter
    def latency_seconds(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0, got {seconds}")
        with self._lock:
            self._latency = float(seconds)

    @property
    def commands_seen(self) -> int:
        """Command requests received by this endpoint since it started."""
        with self._lock:
            return self._commands_seen

    def drop_connection(self, at_command: int, when: Literal["before", "after"] | DropWhen) -> None:
        if at_command < 1:
            raise ValueError(f"at_command counts from 1, got {at_command}")
        with self._lock:
            self._drops.append(_PendingDrop(at_command, DropWhen(when)))

    def clear(self) -> None:
        with self._lock:
            self._latency = 0.0
            self._drops.clear()

    def on_command(self) -> DropWhen | None:
        """Count one Command request; the drop due on it, if any."""
        with self._lock:
            self._commands_seen += 1
            for drop in self._drops:
                drop.remaining -= 1
            due = {d.when for d in self._drops if d.remaining == 0}
            self._drops = [d for d in self._drops if d.remaining > 0]
        if DropWhen.BEFORE in due:
            return DropWhen.BEFORE
        return DropWhen.AFTER if due else None
