"""What a command runs against: the fleet's model, the host it runs on, the lock and the clock."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..model.accounts import Rights, full_rights
from ..model.lifecycle import settle
from ..model.objects import Host
from ..model.world import World


@dataclass
class Faults:
    """Model-level faults armed through Fleet.inject."""

    fail_once: dict[tuple[str, str], str] = field(default_factory=dict)   # (host, cmdlet lower) -> message

    def take(self, host: str, cmdlet: str) -> str | None:
        return self.fail_once.pop((host.lower(), cmdlet.lower()), None)


@dataclass
class Session:
    world: World
    host: Host
    lock: threading.RLock
    faults: Faults
    changed: Callable[[], None]                 # bump the fleet's generation
    clock: Callable[[], float] = time.time
    poll_interval: float = 0.02
    # The account the command runs as (model/accounts.py); the host's main account unless told.
    rights: Rights = field(default_factory=lambda: full_rights("Administrator"))
    # Charge the host for work it does (label, [(cost key, count)]): model/timing.py, applied by the
    # Fleet. Waits for the charged time, so never call it while holding the lock. No-op by default.
    charge: Callable[[str, list[tuple[str, int]]], None] = field(default=lambda label, items: None)

    @property
    def computer_name(self) -> str:
        """The host's NetBIOS name, as Windows puts it in messages."""
        return (self.host.vm_name or self.host.name).upper()[:15]

    def refresh(self) -> None:
        """Apply deadlines that have passed (shutdowns, boots, reboots). Call with the lock held."""
        if settle(self.world, self.clock()):
            self.changed()

    def sleep(self) -> None:
        """Wait a little. Never call while holding the lock."""
        time.sleep(self.poll_interval)
