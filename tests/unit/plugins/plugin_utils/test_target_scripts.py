from __future__ import annotations

import re

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _target_scripts

from .powershell_syntax import command_names, function_text, switch_clause_body, syntax_errors


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
    assert set(_target_scripts.SCRIPTS) == {"probe", "execute", "provision", "dhcp"}
    assert all(script.strip() for script in _target_scripts.SCRIPTS.values())


# Restart marks (docs/internals/wire-protocol.md, section 3.1).
EXECUTE_CODE = "\n".join(line for line in _target_scripts.EXECUTE.splitlines() if not line.strip().startswith("#"))


def _branch(kind: str) -> str:
    """The text of one operation kind's branch in Invoke-Operation (found by parsing)."""
    return switch_clause_body(function_text(EXECUTE_CODE, "Invoke-Operation"), kind)


def _function(name: str) -> str:
    return function_text(EXECUTE_CODE, name)


def _blocks(text: str, opening: str) -> list[str]:
    """The body of every block that starts with `opening` (ending in "{"), braces matched."""
    assert opening.endswith("{")
    bodies = []
    for match in re.finditer(re.escape(opening), text):
        depth, position = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[position], 0)
            position += 1
        bodies.append(text[match.end() : position - 1])
    return bodies


def _without_blocks(text: str, opening: str) -> str:
    for body in _blocks(text, opening):
        text = text.replace(opening + body + "}", "", 1)
    return text


def test_every_documented_operation_kind_is_dispatched() -> None:
    from pathlib import Path

    contract = (Path(__file__).resolve().parents[4] / "docs" / "internals" / "wire-protocol.md").read_text(encoding="utf-8")
    kinds = set(re.findall(r'\{"kind": "([a-z_]+)"', contract))
    assert {"clear_restart_mark", "wait_vm"} <= kinds
    for kind in kinds:
        assert f"        '{kind}' {{" in EXECUTE_CODE, kind


def test_restart_mark_lives_under_program_data_named_by_the_vm_id() -> None:
    assert "Join-Path $env:ProgramData 'hyperv.nested\\restart-marks'" in _function("Get-RestartMarkFolder")
    path = _function("Get-RestartMarkPath")
    assert "('{0}.json' -f ([string]$VM.Id).ToLowerInvariant())" in path
    # Named after the Id, never after the VM's name, so that a rename keeps the mark.
    assert "Name" not in path and "$Operation" not in path


def test_restart_mark_is_written_as_the_contract_says() -> None:
    write = _function("Write-RestartMark")
    for key in ("vm_id", "vm_name", "stopped_at", "stopped_by"):
        assert re.search(rf"\b{key} = ", write), key
    assert "stopped_by = 'hyperv.nested.win_nested_vm'" in write
    # UTC ISO-8601 with a Z, whatever the host's culture.
    assert "[DateTime]::UtcNow.ToString(\"yyyy-MM-dd'T'HH:mm:ss'Z'\", [Globalization.CultureInfo]::InvariantCulture)" in write
    # The folder is created once, letting every Hyper-V Administrators member remove any mark.
    assert "[System.IO.Directory]::CreateDirectory($folder, $security)" in write
    assert "SecurityIdentifier('S-1-5-32-578')" in write
    assert "FileSystemAccessRule($members, 'Modify', $inherit, 'None', 'Allow')" in write
    assert "Set-Content -LiteralPath $path" in write
    assert "-Encoding UTF8 -ErrorAction Stop" in write
    assert "SilentlyContinue" not in write


def test_stop_vm_writes_the_mark_before_it_stops_a_running_vm() -> None:
    stop = _branch("stop_vm")
    assert "$Operation.mark_for_restart" in stop
    assert "if ($markForRestart -and [string]$vm.State -eq 'Running') {" in stop
    write = stop.index("Write-RestartMark $vm")
    assert write < stop.index("Stop-VM -VM $vm -TurnOff -Force")
    assert write < stop.index("Stop-VM -VM $vm -Force -AsJob")
    # Nothing in the branch swallows a failed write.
    assert "try" not in stop and "SilentlyContinue" not in stop


def test_start_and_ensure_running_remove_the_mark_once_the_vm_runs() -> None:
    start = _branch("start_vm")
    assert start.index("Wait-VMState $Operation.vm 'Running'") < start.index("Remove-RestartMark $vm")
    ensure = _branch("ensure_running")
    # After the if: also when the VM was already running.
    assert ensure.endswith("            }\n            Remove-RestartMark $vm\n        }")


def test_clear_restart_mark_resolves_the_vm_exactly_and_only_removes_its_mark() -> None:
    clear = _branch("clear_restart_mark")
    assert "$vm = Resolve-ExactVM $Operation.vm" in clear
    assert "Remove-RestartMark $vm" in clear
    assert command_names(clear) <= {"Resolve-ExactVM", "Remove-RestartMark", "Test-Path", "Get-RestartMarkPath"}


def test_removing_a_missing_mark_is_not_an_error() -> None:
    remove = _function("Remove-RestartMark")
    assert "if (Test-Path -LiteralPath $path -PathType Leaf) {" in remove
    assert "Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue" in remove


def test_file_cmdlets_take_literal_paths_only() -> None:
    # -Path is a wildcard pattern: a path is always passed with -LiteralPath.
    for cmdlet in ("Test-Path", "Remove-Item", "Set-Content", "Get-Content", "Out-File", "New-Item", "Add-Content"):
        for match in re.finditer(rf"{cmdlet}\b([^\n]*)", EXECUTE_CODE):
            assert match.group(1).lstrip().startswith("-LiteralPath"), match.group(0)


def test_executor_reads_user_data_only_from_known_fields_and_never_runs_it() -> None:
    fields = set(re.findall(r"\$Operation\.(\w+)", EXECUTE_CODE))
    assert fields == {
        "kind",
        "cmdlet",
        "parameters",
        "vm",
        "adapter_id",
        "switch_adapter",
        "mode",
        "timeout_seconds",
        "mark_for_restart",
        "wait",
        "state",
        "username",
        "password",
        "operations",
    }
    assert set(re.findall(r"\$Parameters\.(\w+)", EXECUTE_CODE)) == {"operations", "on_failure"}
    for forbidden in ("Invoke-Expression", "iex ", "[ScriptBlock]::Create", "Add-Type"):
        assert forbidden not in EXECUTE_CODE


# "wait": false, wait_vm and ensure_running after a pending stop (docs/internals/wire-protocol.md, section 3).
def test_wait_defaults_to_true_and_must_be_a_boolean() -> None:
    option = _function("Get-WaitOption")
    assert "if ($null -eq $Operation.wait) { return $true }" in option
    assert "if ($Operation.wait -isnot [bool]) { throw 'wait must be true or false.' }" in option
    assert option.rstrip().endswith("$Operation.wait\n}")
    for kind, first_action in (("stop_vm", "Write-RestartMark $vm"), ("start_vm", "Start-VM -VM $vm")):
        branch = _branch(kind)
        # Read (and refused) before anything is resolved, marked, stopped or started.
        assert branch.lstrip().startswith("$wait = Get-WaitOption $Operation\n"), kind
        assert branch.index("$wait = Get-WaitOption $Operation") < branch.index(first_action), kind


@pytest.mark.parametrize(("kind", "opening"), [("stop_vm", "if ($wait -and $null -ne $job) {"), ("start_vm", "if ($wait) {")])
def test_wait_false_issues_the_power_change_without_waiting(kind: str, opening: str) -> None:
    branch = _branch(kind)
    waited = _blocks(branch, opening)
    assert len(waited) == 1 and "Wait-VMState $Operation.vm " in waited[0]
    assert "Wait-VMState" not in _without_blocks(branch, opening)


def test_every_stop_is_recorded_before_any_wait() -> None:
    """Issue 18 item 1: a stop that outlives its timeout is still this call's stop."""
    stop = _branch("stop_vm")
    assert "$job = Hyper-V\\Stop-VM -VM $vm -Force -AsJob -Confirm:$false" in stop
    # A turn-off is done when Stop-VM returns: no job to wait for.
    assert stop.index("$job = $null") < stop.index("Hyper-V\\Stop-VM -VM $vm -TurnOff -Force -Confirm:$false")
    record = "$script:stops[[string]$vm.Name] = [ordered]@{ job = $job; deadline = (Get-Date).AddSeconds([int]$Operation.timeout_seconds) }"
    assert record in stop
    [waited] = _blocks(stop, "if ($wait -and $null -ne $job) {")
    assert waited.strip() == "Wait-VMState $Operation.vm 'Off' $Operation.timeout_seconds $job"
    assert stop.index(record) < stop.index("if ($wait -and $null -ne $job) {")


def test_stops_belong_to_one_executor_call() -> None:
    assert "\n$script:stops = @{}\n" in EXECUTE_CODE
    # Always the one script-scope table, never a function's local copy; entries are never removed.
    assert re.findall(r"\$(?:\w+:)?stops\b", EXECUTE_CODE) == ["$script:stops"] * len(re.findall(r"\$(?:\w+:)?stops\b", EXECUTE_CODE))
    assert EXECUTE_CODE.count("$script:stops = ") == 1
    assert ".Remove(" not in EXECUTE_CODE


def test_a_stop_job_that_ended_with_the_vm_on_fails_at_once_with_its_errors() -> None:
    """Issue 18 item 2: Hyper-V reports a refused stop as non-terminating errors, so the -AsJob
    job ends Completed with error records, not Failed."""
    wait = _function("Wait-VMState")
    [ended] = _blocks(wait, "if (Test-JobEnded $Job) {")
    assert ended.index("$vm = Resolve-ExactVM $Name") < ended.index("if ([string]$vm.State -eq 'Off') { return }")
    assert "throw \"Stop-VM failed for '$Name': $(Get-JobFailure $Job)\"" in ended
    assert wait.index("if (Test-JobEnded $Job) {") < wait.index("if ((Get-Date) -gt $deadline) {")
    assert "@('Completed', 'Failed', 'Stopped') -contains [string]$Job.State" in _function("Test-JobEnded")
    failure = _function("Get-JobFailure")
    assert "Receive-Job -Job $Job -Keep -ErrorAction SilentlyContinue -ErrorVariable jobErrors" in failure
    assert "$Job.ChildJobs[0].JobStateInfo.Reason" in failure


def test_start_vm_without_waiting_still_removes_the_mark() -> None:
    start = _branch("start_vm")
    assert "Remove-RestartMark $vm" in _without_blocks(start, "if ($wait) {")
    assert start.index("Start-VM -VM $vm") < start.index("Remove-RestartMark $vm")


def test_wait_vm_waits_for_off_with_the_stops_job_or_for_running() -> None:
    wait = _branch("wait_vm")
    assert "$vm = Resolve-ExactVM $Operation.vm" in wait
    [off] = _blocks(wait, "if ($state -is [string] -and $state -ceq 'Off') {")
    assert "if ($script:stops.ContainsKey($name)) { $job = $script:stops[$name].job }" in off
    assert "Wait-VMState $Operation.vm 'Off' $Operation.timeout_seconds $job" in off
    [running] = _blocks(wait, "elseif ($state -is [string] -and $state -ceq 'Running') {")
    assert running.strip() == "Wait-VMState $Operation.vm 'Running' $Operation.timeout_seconds $null"
    # It changes nothing itself: no power cmdlet, no restart mark.
    assert command_names(wait) == {"Resolve-ExactVM", "Wait-VMState"}


def test_wait_vm_refuses_any_other_state() -> None:
    wait = _branch("wait_vm")
    # Exactly two states, compared case-sensitively and only as strings; everything else throws.
    assert re.findall(r"\$state -\w+ '(\w+)'", wait) == ["Off", "Running"]
    assert "$state -ceq" in wait and "$state -eq" not in wait
    [other] = _blocks(wait, "else {")
    assert other.strip().startswith("throw ")
    # The else of the if/elseif pair, and the branch's last statement.
    assert wait.endswith("}\n            else {" + other + "}\n        }")


def test_ensure_running_first_waits_for_a_stop_of_this_call_and_keeps_the_mark_while_it_may_end() -> None:
    ensure = _branch("ensure_running")
    guard = "if ($null -ne $stop -and $null -ne $stop.job -and -not (Test-JobEnded $stop.job)) {"
    assert ensure.index("if ($script:stops.ContainsKey($name)) { $stop = $script:stops[$name] }") < ensure.index(guard)
    [waiting] = _blocks(ensure, guard)
    wait_job = waiting.index("if ($limit -gt 0) { $null = Wait-Job -Job $stop.job -Timeout $limit }")
    # No longer than what is left of the stop's own timeout, nor than ensure_running's.
    assert "$left = [int][Math]::Ceiling(($stop.deadline - (Get-Date)).TotalSeconds)" in waiting
    assert "$limit = [Math]::Min([int]$Operation.timeout_seconds, $left)" in waiting
    # Read again once the stop ended; a stop still under way keeps the mark (issue 18 item 1).
    assert wait_job < waiting.index("$vm = Resolve-ExactVM $Operation.vm")
    [still] = _blocks(waiting, "if ([string]$vm.State -ne 'Off' -and -not (Test-JobEnded $stop.job)) {")
    assert still.strip().splitlines()[-1].strip().startswith("throw \"VM '$name' still runs")
    assert ensure.index(guard) < ensure.index("if ([string]$vm.State -ne 'Running') {")
    assert ensure.index(guard) < ensure.index("Remove-RestartMark $vm")
    assert "Wait-Job" not in _without_blocks(ensure, guard)


def test_wait_timeouts_read_like_the_simulators() -> None:
    """The timeout sentences users see are the same on Windows and in the simulated fleet."""
    script = _target_scripts.EXECUTE
    assert "throw \"VM '$Name' did not shut down within $TimeoutSeconds seconds" in script
    assert "throw \"VM '$Name' did not report Running with a healthy heartbeat within $TimeoutSeconds seconds" in script
