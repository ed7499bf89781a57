"""Ansible PowerShell module payloads (bootstrap_wrapper.ps1 input): recognise and emulate a few.

The payload is ansible-core's: a JSON manifest for exec_wrapper, a line of four NUL characters,
then JSON whose `actions` end with module_wrapper.ps1 naming the module script and carrying its
arguments as the `complex_args` variable.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..model import dhcp
from .features import HYPERV_FEATURES, HYPERV_OPTIONAL, TOOLS, enable_hyperv
from .script_modules import win_powershell, win_shell
from .session import Session

SCRIPT_MODULES = {"win_shell": win_shell, "win_powershell": win_powershell}


@dataclass(frozen=True)
class ModuleCall:
    name: str                    # e.g. "ansible.windows.win_feature"
    args: dict[str, Any]


def parse_payload(stdin: bytes) -> ModuleCall | None:
    text = stdin.decode("utf-8", errors="replace")
    if "\0\0\0\0" not in text:
        return None
    head, _unused, rest = text.partition("\0\0\0\0")
    try:
        bootstrap = json.loads(head.strip())
        manifest = json.loads(rest.strip())
    except ValueError:
        return None
    if not isinstance(bootstrap, dict) or bootstrap.get("name") != "exec_wrapper":
        return None
    for action in manifest.get("actions") or []:
        if action.get("name") == "module_wrapper.ps1":
            params = action.get("params") or {}
            script = str(params.get("Script", ""))
            name = script[:-4] if script.lower().endswith(".ps1") else script
            args: dict[str, Any] = {}
            for variable in params.get("Variables") or []:
                if variable.get("Name") == "complex_args":
                    args = variable.get("Value") or {}
            return ModuleCall(name, args)
    return None


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value or []]


def win_feature(session: Session, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if session.host.os_state.os.get("product_type") == "client":
        # Client editions have no ServerManager module, so the module finds neither cmdlet.
        return 1, {"failed": True, "changed": False,
                   "msg": "This version of Windows does not support the cmdlets Install-WindowsFeature or "
                          "Add-WindowsFeature"}
    if str(args.get("state", "present")).lower() != "present":
        return 1, {"failed": True, "changed": False, "msg": "hvsim simulates only state=present for win_feature."}
    if not session.rights.administrator:
        # Install-WindowsFeature (run even when nothing is missing) needs an elevated administrator (RULES #36).
        return 1, {"failed": True, "changed": False,
                   "msg": "Failed to install Windows Feature: The requested operation requires elevation."}
    check_mode = bool(args.get("_ansible_check_mode"))
    changed = restart = False
    results: list[dict[str, Any]] = []
    for name in _names(args.get("name")):
        lowered = name.lower()
        if lowered in HYPERV_FEATURES:
            did, needs, error = enable_hyperv(session, check_mode)
            if error:
                return 1, {"failed": True, "changed": False, "success": False, "exitcode": "Failed",
                           "reboot_required": False, "feature_result": [],
                           "msg": "Failed to install Windows Feature: Installation of one or more roles, role "
                                  f"services, or features failed. {error}"}
            changed, restart = changed or did, restart or needs
            if did:
                results.append({"display_name": "Hyper-V", "id": 20, "message": [], "reboot_required": needs,
                                "skip_reason": "NotSkipped", "success": True})
        elif lowered == "dhcp":
            # The DHCP Server role (model/dhcp.py): no restart needed.
            did = dhcp.install(session.host) if not check_mode else not dhcp.installed(session.host)
            changed = changed or did
            if did:
                session.changed()
                results.append({"display_name": "DHCP Server", "id": 67, "message": [], "reboot_required": False,
                                "skip_reason": "NotSkipped", "success": True})
        elif lowered not in TOOLS:
            return 1, {"failed": True, "changed": False,
                       "msg": f"Failed to install Windows Feature: ArgumentNotValid: The role, role service, or "
                              f"feature name is not valid: '{name}'. The name was not found."}
    return 0, {"changed": changed, "failed": False, "success": True,
               "exitcode": "Success" if changed else "NoChangeNeeded", "reboot_required": restart,
               "feature_result": results}


def win_optional_feature(session: Session, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if str(args.get("state", "present")).lower() != "present":
        return 1, {"failed": True, "changed": False,
                   "msg": "hvsim simulates only state=present for win_optional_feature."}
    names = _names(args.get("name"))
    if not session.rights.administrator and names:
        # Get-WindowsOptionalFeature throws a COMException ("The requested operation requires
        # elevation."), which the module catches as "no such feature" (RULES #36).
        return 1, {"failed": True, "changed": False, "msg": f"Failed to find feature '{names[0]}'"}
    check_mode = bool(args.get("_ansible_check_mode"))
    changed = restart = False
    for name in _names(args.get("name")):
        lowered = name.lower()
        if lowered in HYPERV_OPTIONAL:
            # DISM reports "EnablePending", which the module's -notlike "Enabled*" test does not
            # match: it enables the feature again and reports a change (the module's behaviour).
            pending = session.host.os_state.hyperv_feature == "EnablePending"
            did, needs, error = enable_hyperv(session, check_mode)
            if error:
                return 1, {"failed": True, "changed": False, "msg": error}
            changed = changed or did or pending
            restart = restart or ((needs or pending) and not check_mode)
        elif lowered not in TOOLS:
            return 1, {"failed": True, "changed": False,
                       "msg": f"Failed to find feature '{name}'"}
    return 0, {"changed": changed, "reboot_required": restart}


def setup_facts(session: Session) -> tuple[int, dict[str, Any]]:
    """A minimal ansible.windows.setup: the facts playbooks commonly read, nothing more."""
    host = session.host
    os_info = host.os_state.os
    build = int(os_info.get("build", 0))
    version = f"10.0.{build}.0"
    name = (host.vm_name or host.name).upper()[:15]
    facts: dict[str, Any] = {
        "ansible_hostname": name, "ansible_nodename": name, "ansible_fqdn": name.lower(),
        "ansible_os_family": "Windows", "ansible_system": "Win32NT",
        "ansible_distribution": os_info.get("caption", ""), "ansible_os_name": os_info.get("caption", ""),
        "ansible_distribution_version": version, "ansible_distribution_major_version": "10",
        "ansible_kernel": version,
        "ansible_os_product_type": "workstation" if os_info.get("product_type") == "client" else "server",
        "ansible_architecture": "64-bit", "ansible_processor_vcpus": host.logical_processors,
        "ansible_memtotal_mb": host.memory_bytes // (1024 * 1024),
        "ansible_virtualization_role": "guest" if host.is_virtual_machine else "host",
        "ansible_virtualization_type": "Hyper-V" if host.is_virtual_machine else "NA",
        "ansible_powershell_version": 5, "module_setup": True, "gather_subset": ["all"],
    }
    return 0, {"changed": False, "ansible_facts": facts}


def run_module(session: Session, call: ModuleCall) -> tuple[int, dict[str, Any]]:
    short = _short(call.name)
    if short in SCRIPT_MODULES:
        # The script takes the lock command by command (waits happen without it).
        return SCRIPT_MODULES[short](session, call.args)
    with session.lock:
        session.refresh()
        if short == "win_ping":
            data = call.args.get("data", "pong")
            if data == "crash":
                return 1, {"failed": True, "msg": "boom"}
            return 0, {"changed": False, "ping": data}
        if short == "win_feature":
            return win_feature(session, call.args)
        if short == "win_optional_feature":
            return win_optional_feature(session, call.args)
        if short == "setup":
            return setup_facts(session)
    return 1, {"failed": True, "changed": False,
               "msg": f"hvsim does not emulate the module {call.name}."}
