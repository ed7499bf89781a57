"""dhcp.ps1 (win_nested_dhcp's script): parses, module-qualified, runs only its three DhcpServer cmdlets."""

from __future__ import annotations

from ansible_collections.hyperv.nested.plugins.plugin_utils import _target_scripts

from .powershell_syntax import qualified_command_names, syntax_errors


def test_the_script_parses_and_qualifies_its_cmdlets() -> None:
    assert syntax_errors(_target_scripts.DHCP) == []
    names = qualified_command_names(_target_scripts.DHCP)
    assert {"DhcpServer\\Get-DhcpServerv4Scope", "DhcpServer\\Get-DhcpServerv4Reservation", "Hyper-V\\Get-VM"} <= names
    assert "Get-VM" not in names and "Get-DhcpServerv4Scope" not in names


def test_apply_runs_only_the_three_changing_cmdlets_by_kind() -> None:
    apply = _target_scripts.DHCP.split("function Invoke-Apply", 1)[1]
    for cmdlet in ("Add-DhcpServerv4Scope", "Set-DhcpServerv4OptionValue", "Add-DhcpServerv4Reservation"):
        assert f"'DhcpServer\\{cmdlet}'" in apply
    assert "Remove-Dhcp" not in _target_scripts.DHCP
