"""New-VM -NoVHD / Remove-VM / New-VMSwitch -SwitchType Private in plain PowerShell (RULES #49): what
the acceptance targets (tests/integration/targets/) use to make and remove their own VMs."""
from __future__ import annotations

from ansible.plugins.shell.powershell import _parse_clixml
from ansible_payloads import encoded_command_line
from hvsim.fleet import Fleet
from lab_dicts import execute, fleet_of, l0, lab, only_failure, vm_info


def run(fleet: Fleet, script: str) -> tuple[int, str, str]:
    done = fleet.run_command("hv01", encoded_command_line(script), b"")
    stderr = _parse_clixml(done.stderr).decode("utf-8") if done.stderr.startswith(b"#< CLIXML") else done.stderr.decode("utf-8")
    return done.rc, done.stdout.decode("utf-8"), stderr


def test_a_vm_without_a_disk_on_a_private_switch_is_made_and_removed() -> None:
    fleet = fleet_of(lab(l0()))
    rc, _out, err = run(fleet, "$null = New-VMSwitch -Name acc-sw -SwitchType Private")
    assert rc == 0, err
    rc, out, err = run(fleet, "$vm = New-VM -Name acc-vm -NoVHD -MemoryStartupBytes 64MB -Generation 2 -SwitchName acc-sw\n"
                              "$vm.Name\n[string]$vm.State")
    assert rc == 0, err
    assert out.split() == ["acc-vm", "Off"]
    info = vm_info(fleet, "hv01", "acc-vm")
    assert info["generation"] == 2 and info["startup_memory_bytes"] == 64 * 1024 * 1024 and info["processor_count"] == 1
    assert [a["switch_name"] for a in info["adapters"]] == ["acc-sw"]
    rc, _out, err = run(fleet, "Remove-VM -Name acc-vm -Force\nRemove-VMSwitch -Name acc-sw -Force")
    assert rc == 0, err
    assert "acc-vm" not in [v["name"] for v in fleet.host_state("hv01")["vms"]["vms"]]


def test_a_removal_that_would_prompt_fails_in_a_non_interactive_session() -> None:
    fleet = fleet_of(lab(l0()))
    run(fleet, "$null = New-VM -Name acc-vm -NoVHD")
    rc, _out, err = run(fleet, "Remove-VM -Name acc-vm")
    assert rc == 1 and "NonInteractive mode" in err
    assert vm_info(fleet, "hv01", "acc-vm")["state"] == "Off"      # still there


def test_a_running_vm_is_not_removed_and_a_vm_without_an_os_never_answers_its_heartbeat() -> None:
    spec = lab(l0())
    spec["timing"]["boot_seconds"] = 0.05
    fleet = fleet_of(spec)
    run(fleet, "$null = New-VM -Name acc-vm -NoVHD -MemoryStartupBytes 64MB")
    result = execute(fleet, "hv01", {"kind": "start_vm", "vm": "acc-vm", "timeout_seconds": 1})
    assert "did not report Running with a healthy heartbeat" in only_failure(result)
    assert vm_info(fleet, "hv01", "acc-vm")["state"] == "Running"
    rc, _out, err = run(fleet, "Remove-VM -Name acc-vm -Force")
    assert rc == 1 and "current state" in err


def test_new_vm_validates_what_hyper_v_validates() -> None:
    fleet = fleet_of(lab(l0()))
    rc, _out, err = run(fleet, "New-VM -Name bad -NoVHD -MemoryStartupBytes 63MB")
    assert rc == 1 and "multiple of 2 MB" in err
    rc, _out, err = run(fleet, "New-VM -Name bad -NoVHD -Generation 3")
    assert rc == 1 and "ValidateSet" in err
    rc, _out, err = run(fleet, "New-VM -Name bad -NoVHD -SwitchName nowhere")
    assert rc == 1 and 'unable to find a virtual switch with name "nowhere"' in err
