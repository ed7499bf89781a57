from __future__ import annotations

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._commands import literal, quote, render, render_all


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "'plain'"),
        ("it's", "'it''s'"),
        ("smart\u2019quote", "'smart\u2019\u2019quote'"),
        ("low\u201aand\u201bhigh\u2018", "'low\u201a\u201aand\u201b\u201bhigh\u2018\u2018'"),
        ("$(Remove-Item C:\\)", "'$(Remove-Item C:\\)'"),
        ('double "quotes"', "'double \"quotes\"'"),
    ],
)
def test_quote_keeps_every_string_literal(value: str, expected: str) -> None:
    assert quote(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "$true"), (False, "$false"), (4, "4"), (None, "$null"), (["a", "b"], "'a', 'b'"), ([], "@()")],
)
def test_literal(value: object, expected: str) -> None:
    assert literal(value) == expected


def test_cmdlet_with_vm_selector() -> None:
    line = render({"kind": "cmdlet", "cmdlet": "Set-VMMemory", "vm": "LAB-HV1", "parameters": {"DynamicMemoryEnabled": False}})
    assert line == "Set-VMMemory -VM (Get-VM -Name 'LAB-HV1') -DynamicMemoryEnabled $false"


@pytest.mark.parametrize("name", ["lab[1]", "lab*", "lab?", "back`tick"])
def test_wildcard_names_are_selected_exactly(name: str) -> None:
    line = render({"kind": "start_vm", "vm": name})
    assert line == f"Start-VM -VM (Get-VM | Where-Object Name -eq '{name}')"


def test_adapter_selector_uses_the_adapter_id() -> None:
    line = render(
        {"kind": "cmdlet", "cmdlet": "Set-VMNetworkAdapter", "vm": "A", "adapter_id": "x\\y", "parameters": {"MacAddressSpoofing": "On"}}
    )
    assert line == (
        "Set-VMNetworkAdapter -VMNetworkAdapter (Get-VMNetworkAdapter -VM (Get-VM -Name 'A') | "
        "Where-Object Id -eq 'x\\y') -MacAddressSpoofing 'On'"
    )


def test_stop_modes() -> None:
    assert render({"kind": "stop_vm", "vm": "A", "mode": "shutdown"}) == "Stop-VM -VM (Get-VM -Name 'A') -Force"
    assert render({"kind": "stop_vm", "vm": "A", "mode": "turn_off"}) == "Stop-VM -VM (Get-VM -Name 'A') -TurnOff -Force"


def test_guest_operations_never_show_the_password() -> None:
    operation = {
        "kind": "guest",
        "vm": "L2",
        "username": "Administrator",
        "password": "S3cret!pw",
        "operations": [{"kind": "cmdlet", "cmdlet": "Set-DnsClientServerAddress", "parameters": {"InterfaceIndex": 4, "ServerAddresses": ["1.1.1.1"]}}],
    }
    line = render(operation)
    assert "S3cret!pw" not in line
    assert "(Get-Credential 'Administrator')" in line
    assert "Set-DnsClientServerAddress -InterfaceIndex 4 -ServerAddresses '1.1.1.1'" in line


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError):
        render({"kind": "format_disk"})


def test_render_all_keeps_order() -> None:
    ops = [{"kind": "stop_vm", "vm": "A", "mode": "turn_off"}, {"kind": "start_vm", "vm": "A"}]
    assert [line.split()[0] for line in render_all(ops)] == ["Stop-VM", "Start-VM"]
