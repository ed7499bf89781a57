"""Fleet state on disk: atomic writes, so an acknowledged change survives kill -9."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol


class Exportable(Protocol):
    def export_state(self) -> dict[str, Any]: ...
    def generation(self) -> int: ...


def atomic_write_json(path: Path, data: Any) -> None:
    """Write data to path so that a reader (or a crash) sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # The rename itself is only durable once the directory entry is synced.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class StatePersister:
    """Saves the fleet whenever its generation moved since the last save.

    One file for the whole fleet rather than one per host: an L0's VM record and the L1 host
    living in that VM change together, and separate files could disagree after a crash.
    """

    def __init__(self, fleet: Exportable, path: Path) -> None:
        self._fleet = fleet
        self._path = path
        self._lock = threading.Lock()
        self._saved_generation: int | None = None

    @property
    def saved_generation(self) -> int | None:
        return self._saved_generation

    def save_if_changed(self) -> bool:
        with self._lock:
            generation = self._fleet.generation()
            if generation == self._saved_generation:
                return False
            # Export after reading the generation: a change racing with us bumps it again and
            # the next call saves once more, so the file never lags behind an acknowledged change.
            atomic_write_json(self._path, self._fleet.export_state())
            self._saved_generation = generation
            return True

    def save(self) -> None:
        with self._lock:
            self._saved_generation = None
        self.save_if_changed()


class PeriodicSaver:
    """Catches changes that happen without a command (boot timers, injected reboots)."""

    def __init__(self, persister: StatePersister, interval_s: float = 0.1) -> None:
        self._persister = persister
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hvsim-persist", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._persister.save_if_changed()
