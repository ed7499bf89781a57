from __future__ import annotations

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _target_scripts

from .powershell_syntax import command_names, syntax_errors


@pytest.mark.parametrize("name", ["STUB", "EXECUTE"])
def test_script_parses_without_errors(name: str) -> None:
    assert syntax_errors(getattr(_target_scripts, name)) == []


def test_syntax_checker_catches_a_broken_script() -> None:
    assert syntax_errors("if ($a { Get-VM }") != []


def test_stub_is_small_enough_for_the_command_line() -> None:
    # WinRS runs the command through cmd.exe (8191 characters); base64 of UTF-16 is 8/3 the size.
    encoded_length = len(_target_scripts.STUB.encode("utf-16-le")) * 4 // 3
    assert encoded_length < 4000


def test_executor_allow_list_matches_the_documented_one() -> None:
    from pathlib import Path

    contract = (Path(__file__).resolve().parents[4] / "docs" / "internals" / "wire-protocol.md").read_text()
    documented_host = contract.split("Allow-list (host):")[1].split("Allow-list (guest):")[0]
    for cmdlet in documented_host.replace("`", " ").replace(".", " ").split():
        assert f"'{cmdlet}'" in _target_scripts.EXECUTE


def test_executor_never_calls_cmdlets_by_wildcard_name() -> None:
    # VM selection must go through exact name comparison, never -Name/-VMName patterns.
    code = "\n".join(line for line in _target_scripts.EXECUTE.splitlines() if not line.strip().startswith("#"))
    assert "Get-VM -Name" not in code
    assert "-VMName" not in code
    assert {"Get-VM", "Stop-VM", "Start-VM", "Invoke-Command"} <= command_names(_target_scripts.EXECUTE)


def test_every_named_script_is_registered() -> None:
    assert set(_target_scripts.SCRIPTS) == {"probe", "execute"}
    assert all(script.strip() for script in _target_scripts.SCRIPTS.values())
