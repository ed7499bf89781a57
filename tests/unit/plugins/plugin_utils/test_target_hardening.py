"""Issue 18: the target scripts hold up on Windows PowerShell 5.1 as Windows really is. The checks
select code by parsing it (tree-sitter-powershell), and hold every cmdlet call to cmdlets.json."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _target_scripts
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._vm_planner import Options, plan

from ...probe_fixtures import integration_service, probe_host, probe_vm, vms_section
from .powershell_syntax import commands, function_text, qualified_command_names, syntax_errors

ROOT = Path(__file__).resolve().parents[4]
POWERSHELL = ROOT / "plugins" / "plugin_utils" / "powershell"
SIGNATURES = json.loads((ROOT / "tests" / "simulator" / "hvsim" / "powershell" / "data" / "cmdlets.json").read_text(encoding="utf-8"))["cmdlets"]
SHIPPED = sorted(POWERSHELL.glob("*.ps1"))
SENT = {"probe": _target_scripts.PROBE, "execute": _target_scripts.EXECUTE}
# The modules whose commands another vendor's module may shadow (VMware PowerCLI: Get-VM, Start-VM, Stop-VM...).
QUALIFIED_MODULES = {"Hyper-V", "NetNat", "NetTCPIP", "NetAdapter", "NetSecurity", "DnsClient"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_shipped_script_parses(path: Path) -> None:
    assert syntax_errors(path.read_text(encoding="utf-8")) == []


def test_the_shared_part_is_sent_once_in_each_named_script_after_its_param_block() -> None:
    common = (POWERSHELL / "common.ps1").read_text(encoding="utf-8")
    for name, script in SENT.items():
        code = [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert code[0] == "param($Parameters)", name
        assert script.count(common) == 1, name
    for function in ("Get-ExactVM", "Get-RestartMarkPath", "Get-IntegrationServiceKey"):
        assert all(function_text(script, function) for script in SENT.values())
        assert f"function {function}" not in (POWERSHELL / "probe.ps1").read_text() + (POWERSHELL / "execute.ps1").read_text()


@pytest.mark.parametrize("name", sorted(SENT))
def test_commands_of_shadowable_modules_are_module_qualified(name: str) -> None:
    """Item 6: `Hyper-V\\Get-VM`, never a bare Get-VM that PowerCLI may answer."""
    bare = sorted(
        command
        for command in qualified_command_names(SENT[name])
        if "\\" not in command and command in SIGNATURES and SIGNATURES[command]["module"] in QUALIFIED_MODULES
    )
    assert bare == []
    for command in qualified_command_names(SENT[name]):
        if "\\" in command:
            module, cmdlet = command.split("\\", 1)
            assert module in QUALIFIED_MODULES, command
            if cmdlet in SIGNATURES:
                assert SIGNATURES[cmdlet]["module"] == module, command


def test_allowed_cmdlets_are_invoked_through_their_module() -> None:
    for table in ("$hostCmdlets", "$guestCmdlets"):
        body = _target_scripts.EXECUTE.split(f"{table} = @{{", 1)[1].split("}", 1)[0]
        pairs = [item.split("=") for line in body.splitlines() for item in line.split(";") if "=" in item]
        assert pairs
        for cmdlet, module in ((a.strip().strip("'"), b.strip().strip("'")) for a, b in pairs):
            assert SIGNATURES[cmdlet]["module"] == module, cmdlet
    assert "$null = & ('{0}\\{1}' -f $Allowed[$cmdlet], $cmdlet) @splat -ErrorAction Stop" in function_text(
        _target_scripts.EXECUTE, "Invoke-CmdletOperation"
    )


def test_no_secret_is_passed_as_a_command_parameter() -> None:
    """Item 7: module logging (event 4103) records parameter bindings: no ConvertTo-SecureString
    -String, the credential built character by character."""
    for name, script in SENT.items():
        assert "ConvertTo-SecureString" not in qualified_command_names(script), name
        assert "$secure.AppendChar($character)" in script and "$secure.MakeReadOnly()" in script, name
        # The password is read from the request only inside the character loop.
        for line in script.splitlines():
            if ".password" in line:
                assert "ToCharArray()" in line, line


def test_every_allowed_cmdlet_that_can_ask_for_confirmation_runs_with_confirm_false() -> None:
    """Item 8: under -NonInteractive a confirmation prompt is an error."""
    script = _target_scripts.EXECUTE
    listed = set(_quoted_list(script, "$confirmingCmdlets"))
    allowed = set(_quoted_keys(script, "$hostCmdlets")) | set(_quoted_keys(script, "$guestCmdlets"))
    assert listed == {cmdlet for cmdlet in allowed if SIGNATURES[cmdlet]["supports_should_process"]}
    for command, parameters in commands(script):
        cmdlet = command.rsplit("\\", 1)[-1]
        if cmdlet in SIGNATURES and SIGNATURES[cmdlet]["supports_should_process"] and command.startswith("Hyper-V\\"):
            assert "Confirm" in parameters, command


def _quoted_list(script: str, name: str) -> list[str]:
    body = script.split(f"{name} = @(", 1)[1].split(")", 1)[0]
    return [item.strip().strip("'") for item in body.replace("\n", ",").split(",") if item.strip()]


def _quoted_keys(script: str, name: str) -> list[str]:
    body = script.split(f"{name} = @{{", 1)[1].split("}", 1)[0]
    return [item.split("=")[0].strip().strip("'") for line in body.splitlines() for item in line.split(";") if "=" in item]


def test_integration_services_are_found_by_guid_never_by_their_localised_name() -> None:
    for name, script in SENT.items():
        script = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
        assert "-Name 'Heartbeat'" not in script and "$_.Name -eq 'Heartbeat'" not in script, name
        assert "PrimaryStatusDescription" not in script, name
    assert "$heartbeat = Get-IntegrationService $vm 'Heartbeat'" in function_text(_target_scripts.EXECUTE, "Wait-VMState")
    facts = function_text(_target_scripts.PROBE, "Get-VMFacts")
    assert "name = Get-IntegrationServiceName $_" in facts and "primary_status = [string]$_.PrimaryOperationalStatus" in facts


def test_the_l1_signal_for_a_running_hypervisor_is_the_root_partition_counters() -> None:
    """Item 3: HypervisorPresent is true in every Hyper-V guest."""
    section = function_text(_target_scripts.PROBE, "Get-HostSection")
    assert "Get-CimInstance -ClassName Win32_PerfRawData_HvStats_HyperVHypervisorRootPartition -ErrorAction Stop" in section
    assert "if ($isVirtualMachine -or $null -ne $rootPartition) { $hypervisorRuns = [bool]$rootPartition }" in section
    assert "hypervisor_present = $hypervisorRuns" in section


def test_the_host_processor_count_comes_from_get_vmhost() -> None:
    """Item 11: minroot gives the root partition fewer processors than the host has."""
    section = function_text(_target_scripts.PROBE, "Get-HostSection")
    assert "$vmHost = Invoke-Quietly { Hyper-V\\Get-VMHost } $null" in section
    assert "$logicalProcessors = [int]$vmHost.LogicalProcessorCount" in section


def test_a_vm_that_cannot_be_read_does_not_fail_the_probe() -> None:
    """Item 5."""
    entry = function_text(_target_scripts.PROBE, "Get-VMEntry")
    assert "try { Get-VMFacts $VM }" in entry and "error = $_.Exception.Message" in entry
    assert "vms = @($selected | ForEach-Object { Get-VMEntry $_ })" in function_text(_target_scripts.PROBE, "Get-VMsSection")


def test_a_module_without_a_running_service_is_reported() -> None:
    """Item 4."""
    section = function_text(_target_scripts.PROBE, "Get-VMsSection")
    assert "$vmms = Get-VmmsState" in section and "service_unavailable = $reason" in section
    assert "Get-Service -Name 'vmms' -ErrorAction Stop" in function_text(_target_scripts.PROBE, "Get-VmmsState")


def test_constrained_language_mode_is_detected_first_with_the_simulators_sentence() -> None:
    """Item 12: the stub's first statement, before anything that needs FullLanguage."""

    from hvsim.powershell.dispatch import LANGUAGE_MODE_MESSAGE

    stub = _target_scripts.STUB
    assert stub.startswith("$mode = [string]$ExecutionContext.SessionState.LanguageMode\nif ($mode -ne 'FullLanguage') {")
    head, tail = LANGUAGE_MODE_MESSAGE.split("{mode}")
    assert f"'{{\"ok\":false,\"error\":{{\"message\":\"{head}' + $mode + '{tail}\"" in stub
    assert stub.index("exit 0") < stub.index("DeserializeObject")


# ---- item 10: a Shutdown service that is enabled but not answered ---------------------------------


def _plan(vm: dict[str, t.Any]) -> list[str]:
    options = Options(names=["LAB-HV1"], state="enabled", power="shutdown")
    try:
        plan(probe_host(), vms_section(vm), options)
    except PlanningError as error:
        return error.problems
    return []


def test_shutdown_through_a_service_the_guest_does_not_answer_is_refused() -> None:
    silent = [integration_service("Shutdown", primary_status="NoContact"), integration_service("Heartbeat", primary_status="NoContact")]
    text = " ".join(_plan(probe_vm(integration_services=silent)))
    assert "Shutdown integration service is enabled but the guest does not answer it (NoContact)" in text
    assert "power=turn_off" in text


def test_shutdown_through_an_answered_service_is_planned() -> None:
    answered = [integration_service("Shutdown", primary_status="Ok"), integration_service("Heartbeat", primary_status="Ok")]
    assert _plan(probe_vm(integration_services=answered)) == []


# ---- localisation: no comparison with text Windows translates -------------------------------------

# Every literal the scripts compare anything with, and why it is the same on every host language.
LANGUAGE_NEUTRAL = {
    "Off": "VMState enum name (Get-VM State)",
    "Running": "VMState / ServiceControllerStatus enum name",
    "Completed": "JobState enum name",
    "Failed": "JobState enum name",
    "Stopped": "JobState enum name",
    "Ok*": "VMHeartbeatStatus enum names (OkApplicationsHealthy, OkApplicationsUnknown)",
    "Enabled": "NetIPInterface Dhcp enum name",
    "True": "NetFirewallRule Enabled (GpoBoolean enum name)",
    "FullLanguage": "PSLanguageMode enum name",
    "Virtual Machine": "the SMBIOS model string of Hyper-V's virtual firmware (data, not a label)",
    "OFFERNESTEDVIRT\\s*=\\s*FALSE": "the value of the hypervisorloadoptions element (data, not a label)",
    "turn_off": "the wire protocol's own value",
    "guest": "the wire protocol's own value",
    "apply": "the wire protocol's own value (provision.ps1 and dhcp.ps1 request action)",
    "copy": "the wire protocol's own value (provision.ps1 new_disk mode)",
    "remove_vm": "the wire protocol's own value (provision.ps1 step kind)",
    "*.vhd*": "a file name extension (.vhd, .vhdx): data, not a label",
}


def _code(path: Path) -> str:
    return "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_scripts_compare_only_with_language_neutral_values(path: Path) -> None:
    import re

    code = _code(path)
    compared = set(re.findall(r"-(?:c?eq|ne|c?like|notlike|match|notmatch)\s+'([^']*)'", code))
    for listing in re.findall(r"@\(([^()]*)\)\s+-(?:not)?contains", code):
        compared |= set(re.findall(r"'([^']*)'", listing))
    unexplained = sorted(compared - set(LANGUAGE_NEUTRAL))
    assert unexplained == [], f"compare only with enum names, GUIDs or data: {unexplained}"


# ---- every cmdlet and parameter the scripts use is a documented one ---------------------------------

CATALOG = json.loads((ROOT / "tests" / "simulator" / "hvsim" / "powershell" / "data" / "cmdlets.json").read_text(encoding="utf-8"))
NATIVE = {"bcdedit.exe"}


def _parameters_of(cmdlet: str) -> set[str]:
    entry = SIGNATURES[cmdlet]
    names = {p["name"] for parameter_set in entry["parameter_sets"] for p in parameter_set["parameters"]}
    names |= {alias for parameter_set in entry["parameter_sets"] for p in parameter_set["parameters"] for alias in p["aliases"]}
    if entry.get("common_parameters", True):
        common = CATALOG["common_parameters_reference"]["parameters"]
        names |= set(common) | {alias for p in common.values() for alias in p["aliases"]}
    return {name.lower() for name in names}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_cmdlet_and_parameter_the_scripts_use_is_in_cmdlets_json(path: Path) -> None:
    import re

    text = path.read_text(encoding="utf-8")
    functions = {name.lower() for script in SHIPPED for name in re.findall(r"^\s*function ([\w-]+)", script.read_text(encoding="utf-8"), re.MULTILINE)}
    unknown = []
    for command, parameters in commands(text):
        cmdlet = command.rsplit("\\", 1)[-1]
        if cmdlet.lower() in functions or cmdlet.lower() in NATIVE:
            continue
        if cmdlet not in SIGNATURES:
            unknown.append(command)
            continue
        known = _parameters_of(cmdlet)
        unknown += [f"{command} -{parameter}" for parameter in parameters if parameter.lower() not in known]
    assert unknown == []


# ---- every member the scripts read is a documented one ------------------------------------------

MEMBERS_TABLE = ROOT / "docs" / "internals" / "powershell-members.md"


def _documented_members() -> set[str]:
    rows = [line for line in MEMBERS_TABLE.read_text(encoding="utf-8").splitlines() if line.startswith("| ") and not line.startswith("| member")]
    names: set[str] = set()
    for row in rows:
        cell = row.split("|")[1].strip()
        if cell and not cell.startswith("---"):
            assert row.split("|")[3].strip(), f"no source for {cell}"
            names |= {name.strip() for name in cell.split(",")}
    return names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_every_member_the_scripts_read_is_in_the_documented_table(path: Path) -> None:
    import re

    code = _code(path)
    read: set[str] = set()
    for chain in re.findall(r"\$[A-Za-z_]+(?:\[\d+\])?((?:\.[A-Za-z_]+)+)", code):
        read |= {member for member in chain.split(".") if member}
    missing = sorted(read - _documented_members())
    assert missing == [], f"members with no documented source in docs/internals/powershell-members.md: {missing}"
