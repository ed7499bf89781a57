"""Plain PowerShell on a simulated host (hvsim/powershell/interpreter.py), sent the way ansible-core
sends a raw command (PowerShell -EncodedCommand) and read back the way its winrm plugin reads it."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from ansible.plugins.shell.powershell import _parse_clixml
from ansible_payloads import encoded_command_line, module_invocation
from hvsim.fleet import Fleet
from hvsim.powershell import interpreter
from lab_dicts import basic_lab, fleet_of, l0, lab, nested_ready_lab, vm, windows_guest


class Shell:
    def __init__(self, fleet: Fleet, host: str = "hv01") -> None:
        self.fleet, self.host = fleet, host

    def __call__(self, script: str, user: str | None = None) -> tuple[int, str, str]:
        done = self.fleet.run_command(self.host, encoded_command_line(script), b"", user=user)
        stderr = _parse_clixml(done.stderr).decode("utf-8") if done.stderr.startswith(b"#< CLIXML") \
            else done.stderr.decode("utf-8")
        return done.rc, done.stdout.decode("utf-8"), stderr

    def state(self, name: str) -> dict[str, Any]:
        host = self.fleet.host_state(self.host)
        return next(v for v in host["vms"]["vms"] if v["name"] == name)


def two_vm_fleet() -> Fleet:
    return fleet_of(lab(l0(vms=[vm("LAB-HV1", state="Running", guest=windows_guest()),
                                vm("LAB-HV2", state="Running", guest=windows_guest()),
                                vm("OTHER", state="Running", guest=windows_guest())])))


def test_statements_split_by_newlines_and_semicolons_run_in_order() -> None:
    ps = Shell(two_vm_fleet())
    rc, _out, err = ps("Stop-VM -Name LAB-HV1 -TurnOff; Stop-VM -Name LAB-HV2 -TurnOff\nStart-VM -Name LAB-HV1")
    assert (rc, err) == (0, "")
    assert [ps.state(n)["state"] for n in ("LAB-HV1", "LAB-HV2", "OTHER")] == ["Running", "Off", "Running"]


def test_a_pipeline_binds_objects_by_value_to_the_documented_parameter() -> None:
    ps = Shell(two_vm_fleet())
    rc, _out, err = ps("Get-VMNetworkAdapter -VMName LAB-HV1 | Set-VMNetworkAdapter -MacAddressSpoofing On")
    assert (rc, err) == (0, "")
    assert ps.state("LAB-HV1")["adapters"][0]["mac_address_spoofing"] == "On"
    assert ps.state("LAB-HV2")["adapters"][0]["mac_address_spoofing"] == "Off"
    # Get-VM writes VirtualMachine objects: Stop-VM binds them to -VM, by value.
    assert ps("Get-VM LAB-HV2 | Stop-VM -TurnOff")[0] == 0
    assert ps.state("LAB-HV2")["state"] == "Off"


def test_a_pipeline_binds_by_property_name_where_nothing_binds_by_value() -> None:
    ps = Shell(fleet_of(nested_ready_lab()), "lab-hv1")
    rc, out, err = ps('Get-NetAdapter "vEthernet (VmNAT)" | New-NetIPAddress -IPAddress 192.168.100.1 '
                      "-AddressFamily IPv4 -PrefixLength 24")
    assert (rc, err) == (0, "")
    # New-NetIPAddress writes the address twice, from the active and from the persistent store.
    assert out.count("IPAddress         : 192.168.100.1") == 2 and "PolicyStore       : PersistentStore" in out
    addresses = ps.fleet.host_state("lab-hv1")["network"]["ip_addresses"]
    assert [(a["interface_alias"], a["ip_address"]) for a in addresses if a["address_family"] == "IPv4"] == [("vEthernet (VmNAT)", "192.168.100.1")]


def test_positional_arguments_go_to_the_documented_positions() -> None:
    ps = Shell(two_vm_fleet())
    assert ps("Stop-VM LAB-HV1 -TurnOff")[0] == 0                 # -Name is position 0
    assert ps.state("LAB-HV1")["state"] == "Off"
    rc, _out, err = ps("Stop-VM LAB-HV2 OTHER -TurnOff")
    assert rc == 1 and "A positional parameter cannot be found that accepts argument 'OTHER'." in err
    assert ps.state("LAB-HV2")["state"] == "Running"


def test_parameter_names_are_case_insensitive_and_unique_prefixes_bind() -> None:
    ps = Shell(two_vm_fleet())
    assert ps("stop-vm -na LAB-HV1 -turnoff")[0] == 0
    rc, _out, err = ps("SET-VMPROCESSOR -vmn LAB-HV1 -expose $TRUE")
    assert (rc, err) == (0, "")
    assert ps.state("LAB-HV1")["expose_virtualization_extensions"] is True
    rc, _out, err = ps("Set-VMMemory -VMName LAB-HV1 -Ma 8GB")
    assert rc == 1 and "the parameter name 'Ma' is ambiguous. Possible matches include: -MaximumBytes " \
                       "-MaximumAmountPerNumaNodeBytes." in err


def test_booleans_numbers_with_multipliers_strings_and_arrays() -> None:
    ps = Shell(two_vm_fleet())
    assert ps("Stop-VM -Name LAB-HV1,LAB-HV2 -TurnOff")[0] == 0
    assert ps.state("LAB-HV1")["state"] == ps.state("LAB-HV2")["state"] == "Off"
    rc, _out, err = ps("Set-VMMemory -VMName 'LAB-HV1' -DynamicMemoryEnabled $false -StartupBytes 8GB")
    assert (rc, err) == (0, "")
    assert ps.state("LAB-HV1")["startup_memory_bytes"] == 8 * 1024 ** 3
    rc, _out, err = ps('Set-VMProcessor -VMName "LAB-HV2" -ExposeVirtualizationExtensions "yes"')
    assert rc == 1 and "Boolean parameters accept only Boolean values and numbers" in err


def test_typographic_dashes_and_quotes_read_as_powershell_reads_them() -> None:
    ps = Shell(fleet_of(nested_ready_lab()), "lab-hv1")
    rc, out, err = ps("New-NetNat \u2013Name LocalNAT \u2013InternalIPInterfaceAddressPrefix \u201c192.168.100.0/24\u201d")
    assert (rc, err) == (0, "")
    assert "InternalIPInterfaceAddressPrefix : 192.168.100.0/24" in out
    assert ps.fleet.host_state("lab-hv1")["network"]["nats"] == [
        {"name": "LocalNAT", "internal_ip_interface_address_prefix": "192.168.100.0/24"}]
    # Inside a word the dash is a character of the name, as in PowerShell.
    rc, _out, err = ps("Get-VM LAB\u2013VM1")
    assert rc == 1 and 'unable to find a virtual machine with name "LAB\u2013VM1"' in err


def test_vm_names_are_wildcards_as_on_windows() -> None:
    ps = Shell(two_vm_fleet())
    rc, out, _err = ps("Get-VM -Name lab-*")
    assert rc == 0 and "LAB-HV1" in out and "LAB-HV2" in out and "OTHER" not in out
    assert ps("Stop-VM -Name LAB-HV[2] -TurnOff")[0] == 0
    assert [ps.state(n)["state"] for n in ("LAB-HV1", "LAB-HV2")] == ["Running", "Off"]
    rc, out, err = ps("Get-VM -Name NONE*")
    assert (rc, out, err) == (0, "", "")            # a wildcard matching nothing is no error


def test_an_error_is_a_record_where_it_happened_and_the_script_goes_on() -> None:
    ps = Shell(two_vm_fleet())
    rc, _out, err = ps("Stop-VM -Name LAB-HV1 -TurnOff\nGet-VM -Name NOPE\nStop-VM -Name LAB-HV2 -TurnOff")
    assert rc == 0                                  # powershell.exe: the last statement succeeded
    assert ps.state("LAB-HV2")["state"] == "Off"
    assert err.splitlines()[:4] == [
        'Get-VM : Hyper-V was unable to find a virtual machine with name "NOPE".', "At line:2 char:1",
        "+ Get-VM -Name NOPE", "+ ~~~~~~~~~~~~~~~~~"]
    assert "FullyQualifiedErrorId : InvalidParameter,Get-VM" in err
    rc, _out, _err = ps("Get-VM -Name NOPE")
    assert rc == 1                                  # ... and failed when the last one failed


def test_error_action_stop_ends_the_script_and_silently_continue_hides_the_record() -> None:
    ps = Shell(two_vm_fleet())
    rc, _out, err = ps("Get-VM -Name NOPE -ErrorAction Stop; Stop-VM -Name LAB-HV1 -TurnOff")
    assert rc == 1 and "NOPE" in err
    assert ps.state("LAB-HV1")["state"] == "Running"
    rc, out, err = ps("$ErrorActionPreference = 'Stop'\ntry { Get-VM -Name NOPE } catch { 'caught: ' + $_.Exception.Message }")
    assert (rc, err) == (0, "") and 'caught: Hyper-V was unable to find a virtual machine with name "NOPE".' in out
    rc, out, err = ps("if (-not (Get-VMSwitch -Name Missing -ErrorAction SilentlyContinue)) { 'no switch' }")
    assert (rc, out.strip(), err) == (0, "no switch", "")


def test_unknown_commands_are_not_recognized_and_unsupported_ones_say_so() -> None:
    ps = Shell(two_vm_fleet())
    rc, _out, err = ps("Get-Frobnicator -All")
    assert rc == 1 and err.startswith("Get-Frobnicator : The term 'Get-Frobnicator' is not recognized as the name")
    # A real Windows command outside the simulated subset: the script stops and says why, and no
    # part of the pipeline runs (PowerShell finds every command of a pipeline first).
    rc, _out, err = ps("Get-VM LAB-HV1 | Stop-VM -TurnOff | Select-Object -ExpandProperty Name\nStop-VM -Name LAB-HV2 -TurnOff")
    assert rc == 1 and "hvsim does not interpret the command 'Select-Object' (line 1)" in err
    assert [ps.state(n)["state"] for n in ("LAB-HV1", "LAB-HV2")] == ["Running", "Running"]
    rc, _out, err = ps("Set-VMFirmware -VMName LAB-HV1 -EnableSecureBoot Off")
    assert rc == 1 and "hvsim does not interpret the cmdlet Set-VMFirmware" in err
    rc, _out, err = ps("while ($true) { Stop-VM -Name LAB-HV1 -TurnOff }")
    assert rc == 1 and "hvsim does not interpret the while statement" in err
    assert ps.state("LAB-HV1")["state"] == "Running"


def test_hyperv_cmdlets_do_not_exist_before_the_feature_is_installed() -> None:
    ps = Shell(fleet_of(basic_lab()), "lab-hv1")
    rc, _out, err = ps("Get-VM")
    assert rc == 1 and "The term 'Get-VM' is not recognized" in err


def test_install_windows_feature_installs_hyperv_and_restarts_after_replying(monkeypatch: pytest.MonkeyPatch) -> None:
    # Wide windows (a 3 s grace, a 3 s restart) so that a loaded machine cannot skip past one.
    monkeypatch.setattr(interpreter, "RESTART_GRACE_SECONDS", 3.0)
    spec = basic_lab()
    spec["timing"]["reboot_seconds"] = 3.0
    spec["hosts"][0]["vms"][0]["expose_virtualization_extensions"] = True
    spec["hosts"][0]["vms"][0]["memory"] = {"startup_gb": 4, "dynamic": False}
    fleet = fleet_of(spec)
    ps = Shell(fleet, "lab-hv1")
    rc, out, err = ps("Install-WindowsFeature -Name Hyper-V -IncludeManagementTools -Restart")
    assert (rc, err) == (0, "")
    assert "True    Yes            SuccessRestartRequired" in out
    assert fleet.reachable("lab-hv1")               # the reply got out before the restart
    deadline = time.monotonic() + 60
    while fleet.reachable("lab-hv1") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not fleet.reachable("lab-hv1")
    while not fleet.reachable("lab-hv1") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fleet.host_state("lab-hv1")["host"]["hyperv_feature"] == "Enabled"


def test_install_windows_feature_is_refused_without_virtualization_extensions() -> None:
    ps = Shell(fleet_of(basic_lab()), "lab-hv1")
    rc, _out, err = ps("Install-WindowsFeature -Name Hyper-V -IncludeManagementTools")
    assert rc == 1 and "A prerequisite check for the Hyper-V feature failed." in err
    assert "The processor does not have required virtualization capabilities." in err
    assert ps.fleet.host_state("lab-hv1")["host"]["hyperv_feature"] == "Disabled"


GUEST_BLOCK = (
    "$password = ConvertTo-SecureString 'Passw0rd!' -AsPlainText -Force\n"
    "$credential = New-Object System.Management.Automation.PSCredential ('Administrator', $password)\n"
    "Invoke-Command -VMName LAB-VM1 -Credential $credential -ScriptBlock {\n"
    "get-netadapter \"Ethernet\" | New-NetIPAddress -IPAddress 192.168.100.2 -DefaultGateway 192.168.100.1 "
    "-AddressFamily IPv4 -PrefixLength 24\n"
    "Netsh interface ip add dnsserver \u201cEthernet\u201d address=1.1.1.1\n}")


def _guest(fleet: Fleet) -> dict[str, Any]:
    return fleet.host_state("lab-hv1")["vms"]["vms"][0]


def test_powershell_direct_runs_the_script_block_inside_the_guest() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    ps = Shell(fleet, "lab-hv1")
    rc, _out, err = ps("New-NetNat -Name LocalNAT -InternalIPInterfaceAddressPrefix 192.168.100.0/24\n"
                       "New-NetIPAddress -InterfaceAlias 'vEthernet (VmNAT)' -IPAddress 192.168.100.1 -PrefixLength 24")
    assert (rc, err) == (0, "")
    rc, out, err = ps(GUEST_BLOCK)
    assert (rc, err) == (0, ""), err
    assert "InterfaceAlias    : Ethernet" in out
    assert fleet.connectivity("lab-vm1")["connected"] is True
    # The same block again: the address exists, netsh says the server is there already.
    rc, _out, err = ps(GUEST_BLOCK)
    assert rc == 1 and "Instance MSFT_NetIPAddress already exists" in err
    rc, _out, err = ps(GUEST_BLOCK.replace("'Passw0rd!'", "'wrong'"))
    assert rc == 1 and "The credential is invalid." in err


def test_the_current_guides_guest_block_fails_inside_a_guest_as_on_windows() -> None:
    # The 2025 guide gives the guest's own address on "vEthernet (VmNat)", the L1 host's NAT adapter.
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    ps = Shell(fleet, "lab-hv1")
    block = GUEST_BLOCK.replace('get-netadapter "Ethernet"', 'Get-NetAdapter "vEthernet (VmNat)"') \
        .replace("\u201cEthernet\u201d", "\u201cvEthernet (VmNat)\u201d")
    rc, _out, err = ps(block)
    assert rc == 1
    assert "No MSFT_NetAdapter objects found with property 'Name' equal to 'vEthernet (VmNat)'." in err
    assert "PSComputerName        : LAB-VM1" in err
    assert fleet.connectivity("lab-vm1")["connected"] is False


def test_netsh_adds_a_dns_server_and_answers_as_windows() -> None:
    fleet = fleet_of(nested_ready_lab())
    ps = Shell(fleet, "lab-hv1")
    rc, out, err = ps('netsh interface ip add dnsserver "vEthernet (VmNAT)" address=9.9.9.9')
    assert (rc, out, err) == (0, "", "")
    adapters = {a["name"]: a for a in fleet.host_state("lab-hv1")["network"]["adapters"]}
    assert "vEthernet (VmNAT)" in adapters
    rc, out, _err = ps('netsh interface ip add dnsserver "vEthernet (VmNAT)" address=9.9.9.9')
    assert rc == 1 and "The object already exists." in out
    rc, out, _err = ps('netsh interface ipv4 add dnsservers name="NoSuch" address=9.9.9.9')
    assert rc == 1 and "The filename, directory name, or volume label syntax is incorrect." in out
    rc, out, _err = ps("netsh advfirewall show allprofiles")
    assert rc == 1 and "hvsim does not interpret the netsh command" in out
    # cmd.exe runs netsh too (ssh's default shell).
    done = fleet.run_command("lab-hv1", 'netsh interface ip add dnsserver "vEthernet (VmNAT)" address=8.8.8.8', b"")
    assert done.rc == 0


def test_output_comes_back_formatted_as_windows_formats_these_objects() -> None:
    ps = Shell(two_vm_fleet())
    rc, out, _err = ps("Get-VM LAB-HV1")
    lines = out.splitlines()
    assert rc == 0 and lines[0] == ""
    assert lines[1].split() == ["Name", "State", "CPUUsage(%)", "MemoryAssigned(M)", "Uptime", "Status", "Version"]
    assert lines[3].startswith("LAB-HV1 Running")
    rc, out, _err = ps("(Get-VM LAB-HV1).State; $vm = Get-VM LAB-HV2; $vm.Name + ' is ' + $vm.State")
    assert out.splitlines() == ["Running", "LAB-HV2 is Running"]


def _module(fleet: Fleet, host: str, name: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    command_line, stdin = module_invocation(name, args)
    done = fleet.run_command(host, command_line, stdin)
    return done.rc, json.loads(done.stdout)


def test_win_shell_returns_the_child_powershells_output_and_fails_on_its_exit_code() -> None:
    fleet = two_vm_fleet()
    rc, result = _module(fleet, "hv01", "win_shell", {"_raw_params": "Stop-VM -Name LAB-HV1 -TurnOff; 'done'"})
    assert rc == 0 and result["changed"] is True and result["rc"] == 0 and result["stdout"] == "done\r\n"
    rc, result = _module(fleet, "hv01", "win_shell", {"_raw_params": "Get-VM -Name NOPE"})
    assert rc == 1 and result["failed"] is True and result["msg"] == "non-zero return code" and result["rc"] == 1
    assert result["stderr"].startswith('Get-VM : Hyper-V was unable to find a virtual machine with name "NOPE".')
    rc, result = _module(fleet, "hv01", "win_shell", {"_raw_params": "Stop-VM -Name LAB-HV2 -TurnOff",
                                                      "_ansible_check_mode": True})
    assert result == {"skipped": True, "changed": False, "msg": "remote module does not support check mode"}
    assert Shell(fleet).state("LAB-HV2")["state"] == "Running"


def test_win_powershell_returns_objects_errors_and_what_the_script_set_on_ansible() -> None:
    fleet = two_vm_fleet()
    script = ("param($Name)\n$vm = Get-VM -Name $Name\nif ($vm.State -eq 'Running') { $Ansible.Changed = $false }\n"
              "$vm\nWrite-Host 'checked'\nGet-VMSwitch -Name Missing")
    rc, result = _module(fleet, "hv01", "win_powershell", {"script": script, "parameters": {"Name": "LAB-HV1"}})
    assert rc == 0 and result["changed"] is False and result["failed"] is False
    assert result["output"][0]["Name"] == "LAB-HV1"
    assert result["output"][0]["State"] == {"Type": "Microsoft.HyperV.PowerShell.VMState", "String": "Running",
                                            "Value": 2}
    assert result["host_out"] == "checked\r\n"
    assert [e["fully_qualified_error_id"] for e in result["error"]] == ["InvalidParameter,Get-VMSwitch"]
    rc, result = _module(fleet, "hv01", "win_powershell", {"script": "Get-VM -Name NOPE; 'after'",
                                                           "error_action": "stop"})
    assert result["failed"] is True and result["output"] == []
    rc, result = _module(fleet, "hv01", "win_powershell", {"script": "Stop-VM -Name LAB-HV1 -TurnOff",
                                                           "_ansible_check_mode": True})
    assert result["changed"] is True and result["msg"] == "skipped, running in check mode"
    assert Shell(fleet).state("LAB-HV1")["state"] == "Running"


def test_win_powershell_sensitive_parameters_make_a_credential_for_powershell_direct() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    script = "param($Credential)\nInvoke-Command -VMName LAB-VM1 -Credential $Credential -ScriptBlock { hostname }"
    _rc, result = _module(fleet, "lab-hv1", "win_powershell", {
        "script": script, "sensitive_parameters": [{"name": "Credential", "username": "Administrator",
                                                    "password": "Passw0rd!"}]})
    assert result["failed"] is False and result["output"] == ["LAB-VM1"], result


def test_network_cmdlets_refuse_a_non_administrator_as_windows() -> None:
    spec = copy.deepcopy(nested_ready_lab())
    guest = spec["hosts"][0]["vms"][0]["guest"]
    guest["accounts"] = [{"username": "hvop", "password": "Hv0p!", "groups": ["hyperv_administrators",
                                                                              "remote_management_users"]}]
    ps = Shell(fleet_of(spec), "lab-hv1")
    rc, _out, err = ps("New-NetNat -Name LocalNAT -InternalIPInterfaceAddressPrefix 192.168.100.0/24", user="hvop")
    assert rc == 1 and err.startswith("New-NetNat : Access is denied.")
    assert "Windows System Error 5,New-NetNat" in err


def test_where_object_and_foreach_object_filter_and_map_the_pipeline() -> None:
    ps = Shell(two_vm_fleet())
    assert ps("Stop-VM -Name LAB-HV2 -TurnOff")[0] == 0
    rc, out, err = ps("Get-VM | Where-Object { $_.State -eq 'Running' } | ForEach-Object { $_.Name }")
    assert (rc, err) == (0, "") and out.splitlines() == ["LAB-HV1", "OTHER"]
    rc, out, _err = ps("Get-VM | Where-Object State -EQ Off | ForEach-Object Name")
    assert out.splitlines() == ["LAB-HV2"]
    rc, out, _err = ps("Get-VM | where Name -Like 'lab-*' | % { $_.Name.ToLower() }")
    assert out.splitlines() == ["lab-hv1", "lab-hv2"]
    # Filtered objects still bind downstream: only the running LAB VM is stopped.
    assert ps("Get-VM LAB-* | Where-Object { $_.State -ne 'Off' } | Stop-VM -TurnOff")[0] == 0
    assert [ps.state(n)["state"] for n in ("LAB-HV1", "LAB-HV2", "OTHER")] == ["Off", "Off", "Running"]
    rc, out, _err = ps("1, 2, 3 | ForEach-Object { 'begin' } { $_ * 2 } { 'end' }")
    assert out.splitlines() == ["begin", "2", "4", "6", "end"]


def test_the_call_operator_runs_script_blocks_and_named_commands() -> None:
    ps = Shell(two_vm_fleet())
    rc, out, err = ps("& { param($n) \"hi $n\" } world\n$b = { Get-VM LAB-HV1 }\n(& $b).Name\n& 'hostname'")
    assert (rc, err) == (0, "") and out.splitlines() == ["hi world", "LAB-HV1", "HV01"]


def test_an_array_expression_stays_an_array_when_assigned_or_put_in_a_hashtable() -> None:
    # PowerShell keeps the value of an expression as it is: `$a = @('x')` is an object[] of one
    # element and `@()` an empty object[] (about_Arrays, "Array subexpression operator"); only a
    # command pipeline's output is unrolled to one object or $null (about_Assignment_Operators).
    # win_powershell's Convert-OutputObject writes an IList as a JSON array.
    fleet = two_vm_fleet()
    script = ("$one = @(Get-VM -Name LAB-HV1 | ForEach-Object { $_.Name })\n"
              "[ordered]@{ One = $one; None = @(Get-VM -Name NOPE* | ForEach-Object { $_.Name }); Count = $one.Count;"
              " Piped = (Get-VM -Name LAB-HV1 | ForEach-Object { $_.Name }) }")
    _rc, result = _module(fleet, "hv01", "win_powershell", {"script": script})
    assert result["output"] == [{"One": ["LAB-HV1"], "None": [], "Count": 1, "Piped": "LAB-HV1"}], result


def test_join_joins_an_array_and_replace_acts_on_each_element() -> None:
    # about_Join: `$array -join ','` is one string; about_Comparison_Operators: with an array on the
    # left, -replace returns each element replaced while -eq, -like... filter the elements.
    fleet = two_vm_fleet()
    script = ("param($Dns)\n$Dns -join ','\n@('a1', 'b1') -replace '1', '2'\n(@('x', 'y') -eq 'y').Count\n"
              "Invoke-Command -ArgumentList 1, $Dns -ScriptBlock { param($a, $d) $d.Count }")
    _rc, result = _module(fleet, "hv01", "win_powershell", {"script": script, "parameters": {"Dns": ["1.1.1.1", "8.8.8.8"]}})
    assert result["output"] == ["1.1.1.1,8.8.8.8", "a2", "b2", 1, 2], result
