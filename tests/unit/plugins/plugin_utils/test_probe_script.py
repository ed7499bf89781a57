"""The probe is PowerShell we cannot run here: check its syntax and hold it to the wire contract."""

from __future__ import annotations

import json
import re
import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import PROBE, SCRIPTS

from .powershell_syntax import command_names, function_text, syntax_errors

CONTRACT = (Path(__file__).resolve().parents[4] / "docs" / "internals" / "wire-protocol.md").read_text(encoding="utf-8")
CODE = "\n".join(line for line in PROBE.splitlines() if not line.strip().startswith("#"))


def _contract_example(heading: str) -> t.Any:
    """The JSON example under a '### `section`' heading of the contract, comments removed."""
    section = CONTRACT.split(f"### `{heading}`", 1)[1]
    block = section.split("```json", 1)[1].split("```", 1)[0]
    return json.loads(re.sub(r"//[^\n]*", "", block))


def _keys(value: t.Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def test_probe_parses_without_errors() -> None:
    assert syntax_errors(PROBE) == []


def test_probe_is_the_script_sent_for_probe_requests() -> None:
    assert SCRIPTS["probe"] is PROBE


@pytest.mark.parametrize("section", ["host", "vms", "network", "guests", "platform"])
def test_every_section_of_the_contract_is_dispatched(section: str) -> None:
    assert f"'{section}' {{ $result['{section}'] = " in CODE


@pytest.mark.parametrize("section", ["host", "vms", "network", "guests", "platform"])
def test_every_contract_key_is_built_explicitly(section: str) -> None:
    keys = _keys(_contract_example(section))
    assert keys, "the contract example could not be read"
    missing = sorted(key for key in keys if not re.search(rf"\b{re.escape(key)} = ", CODE))
    assert missing == []


def test_output_is_built_from_ordered_dictionaries_and_answers_ok() -> None:
    assert "[ordered]@{ ok = $true; result = $result }" in CODE
    # PSCustomObject/Select-Object would let PowerShell's serialiser decide the shape.
    assert "[pscustomobject]" not in CODE.lower()
    assert "Select-Object" not in CODE


@pytest.mark.parametrize(
    "assignment",
    [
        "state = [string]$VM.State",
        "mac_address_spoofing = [string]$_.MacAddressSpoofing",
        "switch_type = [string]$_.SwitchType",
        "address_family = [string]$_.AddressFamily",
        "prefix_origin = [string]$_.PrefixOrigin",
        "protocol = [string]$_.Protocol",
        "status = [string]$_.Status",
    ],
)
def test_enums_are_cast_to_their_names(assignment: str) -> None:
    # Windows PowerShell 5.1 serialises enums as numbers unless cast.
    assert assignment in CODE


def test_vms_are_selected_by_exact_name_never_by_wildcard() -> None:
    assert "-VMName" not in CODE
    assert not re.search(r"Get-VM\s+-Name", CODE)
    assert "Where-Object { $_.Name -eq $Name }" in CODE
    assert "$Requested -contains $_.Name" in CODE
    assert "-like" not in CODE and "-match $" not in CODE


def test_user_data_is_read_only_from_known_parameters() -> None:
    used = set(re.findall(r"\$Parameters\.(\w+)", CODE))
    assert used == {"sections", "vm_names", "guests"}
    # Nothing from the request is evaluated as code.
    for forbidden in ("Invoke-Expression", "iex ", "[ScriptBlock]::Create", "Add-Type"):
        assert forbidden not in CODE


def test_probe_reads_what_the_rules_need() -> None:
    names = command_names(PROBE)
    assert {
        "Get-VMHostSupportedVersion",
        "Get-CimInstance",
        "Get-VM",
        "Get-VMProcessor",
        "Get-VMMemory",
        "Get-VMSnapshot",
        "Get-VMNetworkAdapter",
        "Get-VMIntegrationService",
        "Get-VMSecurity",
        "bcdedit.exe",
        "Invoke-Command",
    } <= names
    for cim_class in ("Win32_OperatingSystem", "Win32_ComputerSystem", "Win32_Processor", "Win32_DeviceGuard"):
        assert f"-ClassName {cim_class}" in CODE
    assert "root\\Microsoft\\Windows\\DeviceGuard" in CODE
    assert "EnableVirtualizationBasedSecurity" in CODE
    assert "OFFERNESTEDVIRT" in CODE
    assert "S-1-5-32-578" in CODE


def test_probe_is_read_only() -> None:
    changing = {name for name in command_names(PROBE) if re.match(r"(Set|New|Remove|Start|Stop|Enable|Disable|Update|Add|Rename)-", name)}
    changing.discard("New-Object")  # builds .NET objects (principal, credential), changes nothing
    assert changing == set()
    assert "bcdedit.exe /enum" in CODE and "/set" not in CODE


def test_guests_use_powershell_direct_by_vm_id_with_a_credential_from_data() -> None:
    assert "Invoke-Command -VMId $found[0].Id -Credential $credential" in CODE
    # Never a parameter of a command (module logging records parameter bindings, event 4103).
    assert "ConvertTo-SecureString" not in CODE
    assert "foreach ($character in ([string]$Guest.password).ToCharArray()) { $secure.AppendChar($character) }" in CODE
    # The password is never put into the result.
    assert "password =" not in CODE


def test_missing_hyperv_module_is_reported_not_thrown() -> None:
    assert "Get-Module -ListAvailable -Name 'Hyper-V'" in CODE
    assert "hyperv_module = $false" in CODE
    assert "hyperv_module = $hypervModule" in CODE


def test_nothing_is_written_to_the_host_or_waits_for_input() -> None:
    for forbidden in ("Write-Host", "Read-Host", "pause", "$Host.UI"):
        assert forbidden.lower() not in CODE.lower()


def test_stderr_of_bcdedit_cannot_abort_the_probe() -> None:
    # Under ErrorActionPreference 'Stop', Windows PowerShell 5.1 turns native stderr into an error.
    function = CODE.split("function Get-BcdNestedDisabled", 1)[1].split("function ", 1)[0]
    assert "$ErrorActionPreference = 'Continue'" in function
    assert "2>$null" in function


def _function(name: str) -> str:
    return function_text(CODE, name)


def test_restart_mark_is_read_from_the_file_the_executor_writes() -> None:
    from ansible_collections.hyperv.nested.plugins.plugin_utils._target_scripts import EXECUTE

    mark = _function("Get-RestartMark")
    # One path for both scripts: common.ps1's, placed in each.
    assert "$path = Get-RestartMarkPath $VM" in mark
    path = function_text(CODE, "Get-RestartMarkPath") + function_text(CODE, "Get-RestartMarkFolder")
    for text in ("Join-Path $env:ProgramData 'hyperv.nested\\restart-marks'", "('{0}.json' -f ([string]$VM.Id).ToLowerInvariant())"):
        assert text in path
    assert function_text(EXECUTE, "Get-RestartMarkPath") == function_text(PROBE, "Get-RestartMarkPath")
    assert "restart_mark = Get-RestartMark $VM" in _function("Get-VMFacts")


def test_restart_mark_has_three_outcomes_and_never_throws() -> None:
    mark = _function("Get-RestartMark")
    # No file: null. Unreadable or unparsable: stopped_at null. Otherwise the time as a string.
    assert "if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { return $null }" in mark
    assert mark.count("try {") == 2 and "catch { return $null }" in mark and "catch { $stoppedAt = $null }" in mark
    assert "[ordered]@{ stopped_at = $stoppedAt }" in mark
    assert mark.index("$stoppedAt = $null") < mark.index("ConvertFrom-Json")  # the default before parsing
    # Windows PowerShell 5.1 writes UTF-8 with a byte order mark: read it as UTF-8 so it is skipped.
    assert "Get-Content -LiteralPath $path -Raw -Encoding UTF8 -ErrorAction Stop" in mark
    assert "throw" not in mark


def test_restart_mark_time_stays_a_string() -> None:
    mark = _function("Get-RestartMark")
    # PowerShell 6+ parses ISO-8601 strings into dates: turn them back into the contract's form.
    assert "if ($value -is [datetime]) {" in mark
    assert "ToUniversalTime().ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\", [Globalization.CultureInfo]::InvariantCulture)" in mark
    assert "elseif ($value -is [string] -and $value.Length -gt 0) {" in mark


def test_probe_passes_paths_literally() -> None:
    for cmdlet in ("Test-Path", "Get-Content"):
        uses = re.findall(rf"{cmdlet}\b([^\n]*)", CODE)
        assert uses
        assert all(use.lstrip().startswith("-LiteralPath") for use in uses)


def test_platform_reads_the_firmware_strings_and_the_azure_asset_tag() -> None:
    platform = _function("Get-PlatformFacts")
    assert "Get-CimInstance -ClassName Win32_ComputerSystem" in platform
    assert "Get-CimInstance -ClassName Win32_SystemEnclosure" in platform
    assert "[string]$enclosure.SMBIOSAssetTag" in platform
    assert "manufacturer = ([string]$system.Manufacturer).Trim()" in platform
    assert "model = ([string]$system.Model).Trim()" in platform
    assert "platform = Get-PlatformFacts" in _function("Get-HostSection")


def test_host_section_lists_the_nat_networks_without_failing_when_refused() -> None:
    assert "nats = @(Get-NatList)" in _function("Get-HostSection")
    assert "Invoke-Quietly { NetNat\\Get-NetNat -ErrorAction SilentlyContinue } @()" in _function("Get-NatList")


def test_vm_facts_read_clustering_and_the_memory_it_has_now() -> None:
    facts = _function("Get-VMFacts")
    assert "is_clustered = [bool]$VM.IsClustered" in facts
    assert "memory_assigned_bytes = [int64]$VM.MemoryAssigned" in facts


def test_firewall_rules_are_read_from_the_modules_own_group_only() -> None:
    rules = _function("Get-MappingFirewallRules")
    assert "Get-NetFirewallRule -Group 'hyperv.nested NAT port mappings' -ErrorAction SilentlyContinue" in rules
    assert "Get-NetFirewallPortFilter -AssociatedNetFirewallRule $rule" in rules
    assert "Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $rule" in rules
    # Enums cast to their names (5.1 serialises enums as numbers).
    for assignment in ("direction = [string]$rule.Direction", "action = [string]$rule.Action", "enabled = [string]$rule.Enabled -eq 'True'"):
        assert assignment in rules
    assert "firewall_rules = @(Get-MappingFirewallRules)" in _function("Get-NetworkSection")


def test_the_group_name_is_the_one_the_nat_planner_uses() -> None:
    from ansible_collections.hyperv.nested.plugins.plugin_utils._nat_planner import FIREWALL_GROUP

    assert f"-Group '{FIREWALL_GROUP}'" in CODE
