"""Command lines and stdin built by ansible-core's own code, as its winrm connection sends them."""
from __future__ import annotations

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
