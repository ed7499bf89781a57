"""Command lines and stdin built by ansible-core's own code, as its winrm connection sends them."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import ansible
import ansible_collections.ansible.windows as ansible_windows
from ansible.executor.powershell.module_manifest import _create_powershell_wrapper
from ansible.plugins.shell.powershell import ShellModule

_SHELL = ShellModule()
MODULES = Path(next(iter(ansible_windows.__path__))) / "plugins" / "modules"
EXEC_DIR = Path(ansible.__file__).parent / "executor" / "powershell"


def encoded_command_line(script: str) -> str:
    """What winrm.Connection.exec_command runs for `script` (ShellModule._encode_script)."""
    return str(_SHELL._encode_script(script, as_list=False, strict_mode=False, preserve_rc=False))


def module_invocation(module: str, args: dict[str, Any]) -> tuple[str, bytes]:
    """(command line, stdin) for running ansible.windows.<module> with `args`."""
    path = MODULES / f"{module}.ps1"
    payload = _create_powershell_wrapper(
        name=f"ansible_collections.ansible.windows.plugins.modules.{module}", module_data=path.read_bytes(),
        module_path=str(path), module_args=args, environment={}, async_timeout=0, become_plugin=None,
        substyle="powershell", task_vars={}, profile="legacy")
    bootstrap = (EXEC_DIR / "bootstrap_wrapper.ps1").read_text(encoding="utf-8")
    return encoded_command_line(bootstrap), payload


class FleetConnection:
    """Just enough of a connection plugin for ansible.windows' reboot_host, backed by a Fleet."""

    def __init__(self, fleet: Any, host: str) -> None:
        self.fleet, self.host = fleet, host
        self.commands: list[str] = []

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        from ansible.errors import AnsibleConnectionFailure
        if not self.fleet.reachable(self.host):
            raise AnsibleConnectionFailure(f"{self.host} is not reachable")
        self.commands.append(cmd)
        result = self.fleet.run_command(self.host, cmd, in_data or b"")
        return result.rc, result.stdout, result.stderr

    def get_option(self, name: str) -> Any:
        raise KeyError(name)

    def close(self) -> None:
        pass

    def reset(self) -> None:
        pass


@functools.cache
def reboot_commands() -> dict[str, str]:
    """The command lines ansible.windows' reboot_host really sends, captured from a run against a
    throwaway fleet: boot-time query, shutdown, post-reboot test; plus shutdown.exe /a as
    _perform_reboot words it."""
    import base64
    import time
    from types import SimpleNamespace

    from ansible_collections.ansible.windows.plugins.plugin_utils import _reboot
    from hvsim.fleet import Fleet
    from lab_dicts import l0, lab

    fleet = Fleet.from_lab(lab(l0()))
    connection = FleetConnection(fleet, "hv01")
    original = _reboot.time
    _reboot.time = SimpleNamespace(sleep=lambda seconds: time.sleep(min(seconds, 0.05)))
    try:
        _reboot.reboot_host("win_reboot", connection, pre_reboot_delay=0, reboot_timeout=10)
    finally:
        _reboot.time = original
    found: dict[str, str] = {}
    for line in connection.commands:
        script = base64.b64decode(line.split()[-1]).decode("utf-16-le")
        if "LastBootUpTime" in script:
            found.setdefault("boot_time", line)
        elif "shutdown.exe /r" in script:
            found["shutdown"] = line
        elif "AutoLogonChecked" in script and "Get-Item" in script:
            found["test"] = line
    abort = (r"C:\Windows\System32\shutdown.exe /a; If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction "
             "SilentlyContinue) { exit $LASTEXITCODE } Else { exit 1 } }")
    found["abort"] = ("PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
                      + base64.b64encode(abort.encode("utf-16-le")).decode())
    return found
