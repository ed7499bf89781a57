"""The Fleet API the daemon relies on: names, credentials, state round trip, faults, concurrency."""
from __future__ import annotations

import base64
import json
import re
import threading
import time

from ansible_payloads import reboot_commands
from hvsim.fleet import Fleet
from lab_dicts import basic_lab, call, cmdlet, execute, fleet_of, nested_ready_lab, vm_info


def test_host_names_and_credentials() -> None:
    fleet = fleet_of(nested_ready_lab())
    assert fleet.host_names() == ["hv01", "lab-hv1"]
    assert fleet.credentials("lab-hv1") == ("Administrator", "Passw0rd!")


def test_lab_inventory_names_name_the_nested_hosts() -> None:
    spec = basic_lab()
    spec["hosts"][0]["vms"][0]["inventory"] = {"name": "custom-l1", "nested_network_mode": "nat"}
    assert fleet_of(spec).host_names() == ["hv01", "custom-l1"]


def test_export_and_restore_round_trip_keeps_behaviour() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    execute(fleet, "lab-hv1", cmdlet("New-NetNat", Name="LocalNAT", InternalIPInterfaceAddressPrefix="192.168.100.0/24"))
    execute(fleet, "hv01", cmdlet("Set-VMNetworkAdapter", VMName="LAB-HV1", MacAddressSpoofing="On"))
    fleet.inject({"kind": "fail_cmdlet_once", "host": "hv01", "cmdlet": "Set-VMMemory"})
    state = fleet.export_state()
    restored = Fleet.from_state(json.loads(json.dumps(state)))
    assert restored.export_state() == state
    assert restored.host_names() == fleet.host_names()
    assert restored.reachable("lab-hv1")
    sections = {"sections": ["host", "vms", "network"]}
    assert call(restored, "lab-hv1", "probe", sections) == call(fleet, "lab-hv1", "probe", sections)
    assert restored.connectivity("lab-vm1") == fleet.connectivity("lab-vm1")
    # The armed fault travelled too.
    result = execute(restored, "hv01", cmdlet("Set-VMMemory", "LAB-HV1", Buffer=20))
    assert result["operations"][0]["message"] == "Injected failure of Set-VMMemory."


def test_generation_moves_on_every_change_only() -> None:
    fleet = fleet_of(basic_lab())
    start = fleet.generation()
    call(fleet, "hv01", "probe", {"sections": ["host", "vms"]})
    assert fleet.generation() == start
    execute(fleet, "hv01", cmdlet("Set-VMProcessor", "PLAIN", Count=4))
    assert fleet.generation() > start


def test_fail_cmdlet_once_fails_exactly_once() -> None:
    fleet = fleet_of(basic_lab())
    fleet.inject({"kind": "fail_cmdlet_once", "host": "hv01", "cmdlet": "Set-VMProcessor", "message": "boom"})
    assert execute(fleet, "hv01", cmdlet("Set-VMProcessor", "PLAIN", Count=4))["operations"][0]["message"] == "boom"
    assert execute(fleet, "hv01", cmdlet("Set-VMProcessor", "PLAIN", Count=4))["failed_index"] is None


def test_reboot_host_fault_makes_the_host_unreachable_for_a_while() -> None:
    fleet = fleet_of(basic_lab())
    commands = reboot_commands()
    before = fleet.run_command("hv01", commands["boot_time"], b"").stdout
    fleet.inject({"kind": "reboot_host", "host": "hv01"})
    assert not fleet.reachable("hv01")
    assert fleet.host_state("hv01")["rebooting"] is True
    time.sleep(0.15)
    assert fleet.reachable("hv01")
    after = fleet.run_command("hv01", commands["boot_time"], b"").stdout
    assert int(after) > int(before)


def test_win_reboot_raw_commands() -> None:
    fleet = fleet_of(basic_lab())
    commands = reboot_commands()
    result = fleet.run_command("lab-hv1", commands["shutdown"], b"")
    assert result.rc == 0 and json.loads(result.stdout) == {"stdout": "", "stderr": "", "rc": 0}
    assert not fleet.reachable("lab-hv1")
    time.sleep(0.15)
    assert fleet.reachable("lab-hv1")
    test = fleet.run_command("lab-hv1", commands["test"], b"")
    script = base64.b64decode(commands["test"].split()[-1]).decode("utf-16-le")
    expected = re.search(r"'(success-[0-9a-f-]+)'", script).group(1)    # type: ignore[union-attr]
    assert test.rc == 0 and test.stdout.endswith(f"{expected}\r\n".encode())
    abort = fleet.run_command("lab-hv1", commands["abort"], b"")
    assert abort.rc == 1116


def test_a_waiting_shutdown_does_not_block_other_commands() -> None:
    spec = basic_lab()
    spec["timing"]["shutdown_seconds"] = 0.5
    fleet = fleet_of(spec)
    done = threading.Event()

    def shut_down() -> None:
        execute(fleet, "hv01", {"kind": "stop_vm", "vm": "LAB-HV1", "mode": "shutdown", "timeout_seconds": 5})
        done.set()

    worker = threading.Thread(target=shut_down)
    worker.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert vm_info(fleet, "hv01", "PLAIN")["state"] == "Off"
    assert time.monotonic() - started < 0.2 and not done.is_set()
    worker.join(5)
    assert done.is_set() and vm_info(fleet, "hv01", "LAB-HV1")["state"] == "Off"


def test_host_state_and_connectivity_are_json_able() -> None:
    fleet = fleet_of(nested_ready_lab(l2_state="Running"))
    state = fleet.host_state("lab-hv1")
    assert state["parent"] == "hv01" and state["reachable"] is True
    json.dumps(state)
    json.dumps(fleet.connectivity("lab-vm1"))
