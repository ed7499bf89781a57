"""What Windows charges a host for the work a command does: the lab's timing model.

`timing_model: realistic` in a lab file makes every simulated host spend, per command, what a
Windows host spends on it: creating and deleting the WinRM shell, starting powershell.exe,
importing modules, the Ansible exec wrapper's payload handling, CIM queries, each cmdlet, and
guest shutdown, boot, feature installation and reboot (FIGURES, one row each in TIMING.md with its
source or marked as an assumption). The default (`fast`) charges nothing and keeps the short
lifecycle timers tests rely on.

Work that needs a processor (`cpu`) runs on one of the host's logical processors: each host keeps,
per logical processor, the time it is busy until, and a charge takes the one free first (first
come, first served, no preemption). Two commands on a one-processor host therefore run one after
the other, and the second one's caller waits for both. Work that does not (`cpu` False: the
servicing stack installing a feature, a PowerShell Direct session whose work runs in the guest's
own processors) just takes its time. Every charge is recorded in the host's ledger, which is
what tests assert on (never wall-clock time); `charge` then sleeps until the charge's end, so the
client sees the wait for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

PROFILES = ("fast", "realistic")
LEDGER_LIMIT = 20_000           # charges kept per host (the oldest go first)


@dataclass(frozen=True)
class Figure:
    key: str
    seconds: float
    cpu: bool           # occupies one logical processor of the host while it runs
    what: str           # what the time is spent on
    source: str         # the published measurement, or "Assumption: <why this number>"


# The realistic profile. TIMING.md lists the same rows (a test keeps them equal).
FIGURES: tuple[Figure, ...] = (
    Figure("winrm:shell_create", 0.10, True, "WinRM creates a WinRS shell (one per Ansible task)",
           "Assumption: one WS-Management round trip plus the shell host process; ansible/ansible#47707 "
           "(jborean93) lists Create Shell among the fixed messages of every winrm task, without a figure."),
    Figure("winrm:shell_delete", 0.02, True, "WinRM deletes the shell at the end of the task",
           "Assumption: one WS-Management round trip, no process start."),
    Figure("process:powershell", 0.20, True, "powershell.exe starts (-NoProfile, native images present)",
           "GoogleCloudPlatform/compute-image-windows#174: a PowerShell session over WinRM takes about 6 s to "
           "begin without native images of its assemblies and \"on the order of 200ms\" with them; Ansible's "
           "Windows performance guide (docs/docsite/rst/user_guide/windows_performance.rst) cites the same 10x."),
    Figure("process:native", 0.10, True, "a native program starts and runs (netsh, bcdedit, shutdown.exe, hostname)",
           "Assumption: a small console program's start and run."),
    Figure("exec_wrapper:module", 1.00, True,
           "Ansible's bootstrap and exec wrapper read a PowerShell module's payload, load its module utils and "
           "compile the C# ones (Ansible.Basic) with Add-Type",
           "Assumption bracketed by: ansible/ansible#58259 (tasks dropped \"to low hundreds-of-milliseconds\" "
           "once PowerShell was native-imaged), deadlydog/PowerShell.tiPS ADR 006 (Add-Type of two small C# "
           "classes from source: about 1 s, 1250 ms vs 270 ms precompiled), ansible.windows#657 (every module "
           "run compiles its C# into %TEMP%)."),
    Figure("import:Hyper-V", 0.80, True, "the Hyper-V PowerShell module loads (binary module)",
           "Assumption: duplicati/duplicati#7126 measured the Hyper-V module's auto-load as the slow part of the "
           "first Hyper-V cmdlet of a session (figure not quoted here); microsoft/devhome#2958 calls its load time "
           "\"not deterministic\"."),
    Figure("import:cdxml", 0.30, True, "a CDXML module loads (NetNat, NetTCPIP, NetAdapter, DnsClient)",
           "Assumption: CIM-based modules generate their cmdlets from XML at import."),
    Figure("import:ServerManager", 0.50, True, "the ServerManager module loads",
           "Assumption."),
    Figure("cim:query", 0.03, True, "one CIM/WMI query (Get-CimInstance of a Win32_ class)",
           "deploywindows.info (2016), \"Using Group Policy WMI filters\": a WQL query of Win32_OperatingSystem "
           "averaged 26.6 ms over 100 runs."),
    Figure("dism:query", 1.00, True, "Get-WindowsOptionalFeature -Online (DISM opens the servicing stack)",
           "Assumption: DISM loads the online image's servicing stack for every query."),
    Figure("servermanager:query", 0.50, True, "Get-WindowsFeature / win_feature's feature lookup",
           "Assumption."),
    Figure("cmdlet:hyperv_read", 0.10, True, "a Hyper-V Get- cmdlet (a query of root\\virtualization\\v2)",
           "Assumption: a few CIM queries of the Hyper-V WMI provider (cf. cim:query)."),
    Figure("cmdlet:hyperv_change", 0.50, True,
           "a Hyper-V cmdlet that changes something (Set-VM*, Start-VM, Stop-VM, New-VMSwitch...)",
           "Assumption: a Msvm_VirtualSystemManagementService method and its WMI job."),
    Figure("cmdlet:cim_read", 0.05, True, "a NetNat / NetTCPIP / NetAdapter / DnsClient Get- cmdlet",
           "Assumption: one CIM query of root/StandardCimv2 (cf. cim:query)."),
    Figure("cmdlet:cim_change", 0.20, True, "a NetNat / NetTCPIP / DnsClient cmdlet that changes something",
           "Assumption: a CIM method call and the network stack's update."),
    Figure("cmdlet:builtin", 0.00, False, "a cmdlet of PowerShell itself (Write-Output, Out-Null, New-Object...)",
           "Assumption: negligible next to the rows above."),
    Figure("powershell_direct:session", 1.50, False,
           "a PowerShell Direct session into a VM (Invoke-Command -VMName/-VMId), including its work inside "
           "the guest", "Assumption: a remote runspace over hvsocket; its work runs on the guest's processors."),
    Figure("feature:install", 120.0, False, "Windows installs the Hyper-V role (before the restart)",
           "actions/runner-images#8028: Install-WindowsFeature -Name Hyper-V-PowerShell took about 2 minutes "
           "on a hosted runner (22:49:11 to 22:51:20 in the quoted log)."),
)
# Lifecycle timers of the model (World.timing), realistic values in seconds.
LIFECYCLE: tuple[Figure, ...] = (
    Figure("shutdown_seconds", 15.0, False, "a guest shuts down after Stop-VM (Shutdown integration service)",
           "Assumption: Stop-VM's documentation gives the guest up to five minutes (-Force); an idle Windows "
           "Server guest takes seconds."),
    Figure("boot_seconds", 45.0, False, "a guest boots until its heartbeat reports OK",
           "Assumption: Windows Server VM on SSD storage."),
    Figure("reboot_seconds", 120.0, False, "a host restarts (Install-WindowsFeature -Restart, win_reboot) until "
           "WinRM answers again", "Assumption: shutdown, the Hyper-V feature's configuration at restart and a boot."),
)
FAST_LIFECYCLE = {"shutdown_seconds": 0.5, "boot_seconds": 0.5, "reboot_seconds": 1.0}


@dataclass
class Charge:
    """One charge on a host: what was charged, when it could start, when it ran, on which processor."""

    host: str
    label: str
    items: list[tuple[str, int, float]]     # (key, count, seconds charged for them)
    cpu_seconds: float
    wait_seconds: float
    requested_at: float
    started_at: float                       # when a processor was free (== requested_at without cpu work)
    finished_at: float                      # started_at + cpu_seconds + wait_seconds
    core: int | None

    @property
    def queued_seconds(self) -> float:
        return self.started_at - self.requested_at

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "queued_seconds": self.queued_seconds}


@dataclass
class _HostCores:
    busy_until: list[float]
    ledger: list[Charge] = field(default_factory=list)


class TimingModel:
    """The charges of one fleet. Thread-safe; `charge` sleeps without holding any lock."""

    def __init__(self, profile: str = "fast", scale: float = 1.0, overrides: dict[str, float] | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if profile not in PROFILES:
            raise ValueError(f"timing_model profile must be one of {', '.join(PROFILES)}, not {profile!r}")
        if scale <= 0:
            raise ValueError(f"timing_model scale must be a positive number, not {scale!r}")
        known = {f.key for f in FIGURES} | {f.key for f in LIFECYCLE}
        unknown = sorted(set(overrides or {}) - known)
        if unknown:
            raise ValueError(f"timing_model figures: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        self.profile = profile
        self.scale = float(scale)
        self.overrides = {k: float(v) for k, v in (overrides or {}).items()}
        self._figures = {f.key: f for f in FIGURES}
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostCores] = {}

    @classmethod
    def from_config(cls, config: dict[str, Any] | None, **kwargs: Any) -> TimingModel:
        config = config or {}
        return cls(str(config.get("profile", "fast")), float(config.get("scale", 1.0)),
                   dict(config.get("figures") or {}), **kwargs)

    def config(self) -> dict[str, Any]:
        return {"profile": self.profile, "scale": self.scale, "figures": dict(self.overrides)}

    @property
    def enabled(self) -> bool:
        return self.profile != "fast"

    def seconds(self, key: str) -> float:
        """What one `key` costs, scaled (0 in the fast profile)."""
        if not self.enabled:
            return 0.0
        base = self.overrides.get(key, self._figures[key].seconds if key in self._figures else 0.0)
        return base * self.scale

    def lifecycle_timing(self) -> dict[str, float]:
        """World.timing for this profile (the fast profile's defaults unless realistic)."""
        if not self.enabled:
            return dict(FAST_LIFECYCLE)
        return {f.key: self.overrides.get(f.key, f.seconds) * self.scale for f in LIFECYCLE}

    def charge(self, host: str, cores: int, label: str, items: Iterable[tuple[str, int]]) -> Charge | None:
        """Charge `host` for `items` ([(key, count)]), wait until the work is done, and return the record.
        Keys not in FIGURES cost nothing (and are still recorded). None in the fast profile."""
        if not self.enabled:
            return None
        charged: list[tuple[str, int, float]] = []
        cpu = wait = 0.0
        for key, count in items:
            if count <= 0:
                continue
            seconds = self.seconds(key) * count
            charged.append((key, count, seconds))
            figure = self._figures.get(key)
            if figure is not None and figure.cpu:
                cpu += seconds
            else:
                wait += seconds
        if not charged:
            return None
        with self._lock:
            now = self._clock()
            state = self._hosts.setdefault(host, _HostCores([now] * max(1, int(cores))))
            if len(state.busy_until) != max(1, int(cores)):
                # The host's processor count changed (an L1 VM resized and booted again).
                state.busy_until = (state.busy_until + [now] * max(1, int(cores)))[:max(1, int(cores))]
            core: int | None = None
            started = now
            if cpu > 0:
                core = min(range(len(state.busy_until)), key=lambda i: state.busy_until[i])
                started = max(now, state.busy_until[core])
                state.busy_until[core] = started + cpu
            record = Charge(host, label, charged, cpu, wait, now, started, started + cpu + wait, core)
            state.ledger.append(record)
            del state.ledger[:-LEDGER_LIMIT]
        remaining = record.finished_at - self._clock()
        if remaining > 0:
            self._sleep(remaining)
        return record

    def ledger(self, host: str) -> list[Charge]:
        with self._lock:
            state = self._hosts.get(host)
            return list(state.ledger) if state is not None else []

    def totals(self, host: str) -> dict[str, float]:
        """Seconds charged per key on a host, over its whole ledger."""
        found: dict[str, float] = {}
        for record in self.ledger(host):
            for key, _count, seconds in record.items:
                found[key] = found.get(key, 0.0) + seconds
        return found
