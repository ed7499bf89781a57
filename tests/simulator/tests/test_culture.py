"""Hosts in another language (RULES #47): what Windows localises is localised in the simulator,
and what the collection relies on (GUIDs, enum names, feature names) is not."""
from __future__ import annotations

from typing import Any

import pytest
from ansible.plugins.shell.powershell import _parse_clixml
from ansible_payloads import encoded_command_line
from hvsim.fleet import Fleet
from lab_dicts import call, execute, fleet_of, l0, lab, vm, vm_info, windows_guest

HEARTBEAT_ID = "84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47"


def localised(culture: str, **host: Any) -> Fleet:
    spec = lab(l0(culture=culture, vms=[vm("VM-A", state="Running", guest=windows_guest())], **host))
    spec["timing"].update({"shutdown_seconds": 0.1, "boot_seconds": 0.1})
    return fleet_of(spec)


def run(fleet: Fleet, script: str) -> tuple[int, str, str]:
    done = fleet.run_command("hv01", encoded_command_line(script), b"")
    stderr = _parse_clixml(done.stderr).decode("utf-8") if done.stderr.startswith(b"#< CLIXML") else done.stderr.decode("utf-8")
    return done.rc, done.stdout.decode("utf-8"), stderr


@pytest.mark.parametrize(("culture", "heartbeat"), [("en-US", "Heartbeat"), ("de-DE", "Takt"), ("fr-FR", "Pulsation")])
def test_integration_service_names_are_localised_and_their_ids_are_not(culture: str, heartbeat: str) -> None:
    fleet = localised(culture)
    rc, out, _err = run(fleet, f"(Get-VMIntegrationService -VMName VM-A | Where-Object {{ $_.Id -like '*\\{HEARTBEAT_ID}' }}).Name")
    assert rc == 0 and out.strip() == heartbeat
    # Selecting by the English name finds nothing on a localised host.
    rc, out, _err = run(fleet, "@(Get-VMIntegrationService -VMName VM-A -Name Heartbeat).Count")
    assert out.strip() == ("1" if culture == "en-US" else "0")


def test_the_probe_reports_the_english_name_from_the_guid_and_the_local_one_beside_it() -> None:
    services = {s["name"]: s for s in vm_info(localised("de-DE"), "hv01", "VM-A")["integration_services"]}
    assert services["Heartbeat"] == {"name": "Heartbeat", "id": HEARTBEAT_ID, "display_name": "Takt", "enabled": True,
                                     "primary_status": "Ok"}
    assert services["Shutdown"]["display_name"] == "Herunterfahren des Betriebssystems"


@pytest.mark.parametrize(("culture", "expected"), [("en-US", "Hyper-V Module for Windows PowerShell"),
                                                   ("de-DE", "Hyper-V-Modul für Windows PowerShell"),
                                                   ("fr-FR", "Module Hyper-V pour Windows PowerShell")])
def test_feature_display_names_are_localised_and_feature_names_are_not(culture: str, expected: str) -> None:
    rc, out, _err = run(localised(culture), "Get-WindowsFeature -Name Hyper-V-PowerShell")
    assert rc == 0 and expected in out and "Hyper-V-PowerShell" in out


@pytest.mark.parametrize(("culture", "shown"), [("en-US", "1.5"), ("de-DE", "1,5"), ("fr-FR", "1,5")])
def test_formatted_numbers_use_the_hosts_decimal_separator_and_string_expansion_does_not(culture: str, shown: str) -> None:
    rc, out, _err = run(localised(culture), "$x = 3 / 2\n$x\n\"$x\"")
    assert rc == 0
    assert out.split() == [shown, "1.5"]


def test_error_texts_are_localised() -> None:
    fleet = localised("de-DE")
    result = execute(fleet, "hv01", {"kind": "start_vm", "vm": "VM-A", "timeout_seconds": 5})
    message = result["operations"][0]["message"]
    assert "konnte den Status nicht ändern" in message


def test_a_localised_host_converges_the_executors_power_cycle() -> None:
    """The executor's heartbeat wait finds Heartbeat by GUID on a German host."""
    fleet = localised("de-DE")
    result = execute(fleet, "hv01", {"kind": "stop_vm", "vm": "VM-A", "mode": "shutdown", "timeout_seconds": 5},
                     {"kind": "start_vm", "vm": "VM-A", "timeout_seconds": 5})
    assert result["failed_index"] is None, result
    assert call(fleet, "hv01", "probe", {"sections": ["vms"]})["vms"]["vms"][0]["state"] == "Running"
