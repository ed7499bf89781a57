"""Command lines and payloads reach the right handler; errors come back as PowerShell's."""
from __future__ import annotations

import base64
import json

from ansible.plugins.shell.powershell import _parse_clixml
from ansible_payloads import encoded_command_line, module_invocation
from hvsim.powershell import commandline
from lab_dicts import COMMAND_LINE, STUB, basic_lab, call, cmdlet, execute, fleet_of, send


def test_encoded_command_is_decoded_from_utf16le() -> None:
    invocation = commandline.parse(COMMAND_LINE)
    assert invocation.shell == "powershell" and invocation.script == STUB
    assert commandline.parse("powershell.exe -enc " + base64.b64encode("Get-Date".encode("utf-16-le")).decode()
                             ).script == "Get-Date"
    assert commandline.parse('powershell -NoProfile -Command "hostname"').script == "hostname"
    assert commandline.parse("PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -Command -"
                             ).read_stdin_as_script
    assert commandline.parse("shutdown /a").shell == "cmd"


def test_probe_round_trip_through_an_encoded_command_line() -> None:
    fleet = fleet_of(basic_lab())
    result = call(fleet, "hv01", "probe", {"sections": ["host", "vms", "network"], "vm_names": ["lab-hv1", "NOPE"]})
    assert set(result) == {"host", "vms", "network"}
    host = result["host"]
    assert host["os"]["build"] == 20348 and host["hypervisor_present"] is True
    assert host["supported_versions"][-1] == "10.0" and host["default_version"] == "10.0"
    vms = result["vms"]
    assert vms["missing"] == ["NOPE"] and vms["all_names"] == ["LAB-HV1", "PLAIN"]
    assert [v["name"] for v in vms["vms"]] == ["LAB-HV1"]
    entry = vms["vms"][0]
    assert entry["state"] == "Running" and entry["dynamic_memory_enabled"] is True
    assert entry["adapters"][0]["id"].startswith("Microsoft:" + entry["id"] + "\\")
    assert {"name": "Shutdown", "id": "9F8233AC-BE49-4C79-8EE3-E7E1985B2077", "display_name": "Shutdown", "enabled": True,
            "primary_status": "Ok"} in entry["integration_services"]
    vnic = next(a["interface_index"] for a in result["network"]["adapters"] if a["name"] == "vEthernet (External)")
    assert result["network"]["switches"] == [{"name": "External", "switch_type": "External",
                                              "net_adapter_interface_description": "Physical Ethernet Adapter",
                                              "host_interface_index": vnic}]


def test_hosts_without_hyperv_report_no_module() -> None:
    fleet = fleet_of(basic_lab())
    result = call(fleet, "lab-hv1", "probe", {"sections": ["host", "vms", "network"]})
    assert result["host"]["supported_versions"] == [] and result["host"]["default_version"] is None
    assert result["host"]["is_virtual_machine"] is True and result["host"]["hypervisor_present"] is False
    assert result["vms"]["hyperv_module"] is False and result["network"]["hyperv_module"] is False
    # ...and Hyper-V cmdlets are simply not there.
    message = execute(fleet, "lab-hv1", cmdlet("New-VMSwitch", Name="VmNAT", SwitchType="Internal"))
    assert "The term 'New-VMSwitch' is not recognized" in message["operations"][0]["message"]


def test_executor_rejects_cmdlets_outside_the_allow_list() -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", cmdlet("Remove-VM", "PLAIN", Force=True))
    assert result["operations"][0]["message"] == "Cmdlet 'Remove-VM' is not in the executor's allow-list."


def test_executor_validates_parameters_and_stops_at_the_first_failure() -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", cmdlet("Set-VMProcessor", "PLAIN", ExposeVirtualizationExtensions="true"),
                     cmdlet("Set-VMProcessor", "PLAIN", Count=4))
    assert result["failed_index"] == 0
    assert "Boolean parameters accept only Boolean values" in result["operations"][0]["message"]
    assert result["operations"][1]["status"] == "not_run"


def test_ops_naming_a_vm_must_not_carry_name_parameters() -> None:
    fleet = fleet_of(basic_lab())
    result = execute(fleet, "hv01", cmdlet("Set-VMProcessor", "PLAIN", VMName="PLAIN", Count=4))
    assert "must not carry VMName" in result["operations"][0]["message"]


def test_vm_name_parameters_are_wildcards_like_hyperv() -> None:
    from lab_dicts import l0, lab, vm
    fleet = fleet_of(lab(l0(vms=[vm("lab1"), vm("lab[1]")])))
    # -VMName 'lab[1]' is a wildcard that matches "lab1", not the VM called "lab[1]".
    execute(fleet, "hv01", cmdlet("Set-VMProcessor", VMName="lab[1]", Count=4))
    vms = {v["name"]: v for v in call(fleet, "hv01", "probe", {"sections": ["vms"]})["vms"]["vms"]}
    assert vms["lab1"]["processor_count"] == 4 and vms["lab[1]"]["processor_count"] == 2
    execute(fleet, "hv01", cmdlet("Set-VMProcessor", "lab[1]", Count=3))    # exact resolution by the executor
    vms = {v["name"]: v for v in call(fleet, "hv01", "probe", {"sections": ["vms"]})["vms"]["vms"]}
    assert vms["lab[1]"]["processor_count"] == 3


def test_unknown_scripts_fail_with_clixml_that_ansible_decodes() -> None:
    fleet = fleet_of(basic_lab())
    result = fleet.run_command("hv01", encoded_command_line("Get-Frobnicator -Now"), b"")
    assert result.rc == 1
    assert result.stderr.startswith(b"#< CLIXML\r\n<Objs Version=\"1.1.0.1\"")
    decoded = _parse_clixml(result.stderr).decode()
    assert decoded.startswith("Get-Frobnicator : The term 'Get-Frobnicator' is not recognized as the name of a cmdlet")
    assert "CommandNotFoundException" in decoded


def test_unknown_cmd_commands_fail_like_cmd() -> None:
    result = fleet_of(basic_lab()).run_command("hv01", "frob.exe /x", b"")
    assert result.rc == 1 and b"'frob.exe' is not recognized as an internal or external command" in result.stderr


def test_request_without_script_is_a_transport_failure() -> None:
    fleet = fleet_of(basic_lab())
    request = {"hyperv_nested_request": 1, "script_name": "probe", "parameters": {"sections": ["host"]}}
    result = fleet.run_command("hv01", COMMAND_LINE, json.dumps(request).encode())
    assert result.rc == 1 and result.stderr.startswith(b"#< CLIXML")


def test_win_ping_payload_built_by_ansible_is_recognised() -> None:
    fleet = fleet_of(basic_lab())
    line, payload = module_invocation("win_ping", {"data": "hello"})
    result = fleet.run_command("hv01", line, payload)
    assert result.rc == 0
    assert json.loads(result.stdout) == {"changed": False, "ping": "hello"}


def test_unemulated_module_fails_clearly() -> None:
    fleet = fleet_of(basic_lab())
    line, payload = module_invocation("win_file", {"path": "C:\\x", "state": "absent"})
    result = fleet.run_command("hv01", line, payload)
    assert result.rc == 1 and "does not emulate the module" in json.loads(result.stdout)["msg"]


def test_unknown_probe_section_is_reported_as_an_error_document() -> None:
    result = send(fleet_of(basic_lab()), "hv01", "probe", {"sections": ["bogus"]})
    document = json.loads(result.stdout)
    assert result.rc == 0 and document["ok"] is False and "bogus" in document["error"]["message"]


def test_win32_processor_flags_are_hidden_by_a_running_hypervisor_and_by_a_parent_that_does_not_expose() -> None:
    from lab_dicts import nested_ready_lab
    fleet = fleet_of(basic_lab())
    hidden = {"virtualization_firmware_enabled": False, "vm_monitor_mode_extensions": False,
              "second_level_address_translation": False}
    l0_cpu = call(fleet, "hv01", "probe", {"sections": ["host"]})["host"]["processor"]
    assert {k: l0_cpu[k] for k in hidden} == hidden           # Hyper-V runs on hv01
    l1_cpu = call(fleet, "lab-hv1", "probe", {"sections": ["host"]})["host"]["processor"]
    assert {k: l1_cpu[k] for k in hidden} == hidden           # not exposed to LAB-HV1
    spec = nested_ready_lab()
    spec["hosts"][0]["vms"][0]["guest"]["nested_host"]["hyperv_feature"] = "Disabled"
    l1_cpu = call(fleet_of(spec), "lab-hv1", "probe", {"sections": ["host"]})["host"]["processor"]
    assert all(l1_cpu[k] for k in hidden)                     # exposed, no hypervisor inside yet


def test_setup_module_returns_minimal_windows_facts() -> None:
    fleet = fleet_of(basic_lab())
    line, payload = module_invocation("setup", {})
    result = fleet.run_command("lab-hv1", line, payload)
    facts = json.loads(result.stdout)["ansible_facts"]
    assert result.rc == 0 and facts["ansible_os_family"] == "Windows"
    assert facts["ansible_distribution_version"] == "10.0.20348.0" and facts["ansible_virtualization_role"] == "guest"
