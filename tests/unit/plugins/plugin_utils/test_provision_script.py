"""provision.ps1 (win_nested_vm_provision's script): parses, selects VMs exactly, keeps secrets out of cmdlet parameters."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ansible_collections.hyperv.nested.plugins.plugin_utils import _target_scripts

from .powershell_syntax import function_text, qualified_command_names, syntax_errors

SIGNATURES = json.loads((Path(__file__).resolve().parents[4] / "tests" / "simulator" / "hvsim" / "powershell" / "data" / "cmdlets.json")
                        .read_text(encoding="utf-8"))["cmdlets"]
CODE = "\n".join(line for line in _target_scripts.PROVISION.splitlines() if not line.strip().startswith("#"))


def test_the_script_parses_and_is_registered() -> None:
    assert syntax_errors(_target_scripts.PROVISION) == []
    assert _target_scripts.SCRIPTS["provision"] is _target_scripts.PROVISION


def test_hyperv_and_storage_cmdlets_are_module_qualified() -> None:
    names = qualified_command_names(_target_scripts.PROVISION)
    for bare in ("Get-VM", "New-VM", "Remove-VM", "New-VHD", "Mount-VHD", "Dismount-VHD", "Start-VM", "Stop-VM",
                 "Get-Partition", "Format-Volume", "Copy-Item"):
        assert bare not in names, bare
    assert {"Hyper-V\\New-VM", "Hyper-V\\Set-VM", "Hyper-V\\Remove-VM", "Hyper-V\\New-VHD", "Storage\\Format-Volume",
            "Microsoft.PowerShell.Management\\Copy-Item"} <= names


def test_every_hyperv_and_storage_command_names_its_own_module() -> None:
    names = qualified_command_names(_target_scripts.PROVISION)
    for command in names:
        cmdlet = command.rsplit("\\", 1)[-1]
        if cmdlet in SIGNATURES and SIGNATURES[cmdlet]["module"] in {"Hyper-V", "Storage"}:
            assert command == f"{SIGNATURES[cmdlet]['module']}\\{cmdlet}", command
        if "\\" in command:
            assert SIGNATURES[cmdlet]["module"] == command.split("\\", 1)[0], command


def test_the_shared_part_is_composed_in_and_finds_the_heartbeat_by_guid() -> None:
    common = _target_scripts.load_script("common.ps1")
    assert _target_scripts.PROVISION.count(common) == 1
    assert "function Get-ExactVM" not in _target_scripts.load_script("provision.ps1")
    assert "@(Get-ExactVM $Name)" in function_text(_target_scripts.PROVISION, "Resolve-ExactVM")
    report = function_text(_target_scripts.PROVISION, "Get-VMReport")
    assert "$heartbeat = Get-IntegrationService $VM 'Heartbeat'" in report
    assert "[string]$heartbeat.PrimaryOperationalStatus" in report
    assert "PrimaryStatusDescription" not in CODE and "84EAAE65" not in _target_scripts.load_script("provision.ps1")


def test_vms_are_never_selected_by_wildcard_names() -> None:
    assert "-VMName" not in CODE
    assert not re.search(r"Get-VM\s+-Name", CODE)


def test_answer_file_content_reaches_no_cmdlet_parameter() -> None:
    # Module logging records every cmdlet's parameter bindings: the content goes through .NET only.
    assert "Set-Content" not in CODE and "Out-File" not in CODE and "Add-Content" not in CODE
    assert "[System.IO.File]::WriteAllText($Path, $Content" in CODE
    uses = [line for line in CODE.splitlines() if ".content" in line.lower()]
    assert all("Write-TextFile" in line for line in uses), uses


def test_every_changing_step_checks_the_mark_first() -> None:
    assert "Test-OurVM $vm" in CODE.split("function Invoke-Step", 1)[1]
    assert CODE.count("was not created by win_nested_vm_provision") >= 3
