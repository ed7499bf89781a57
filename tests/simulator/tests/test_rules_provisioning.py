"""Provisioning in the model (RULES #50-#57): disk files and their parents, new VMs, first boots,
removal; driven through the `provision` request as the collection sends it."""

from __future__ import annotations

import base64
import json
import time
import typing as t
from pathlib import Path

import pytest
from hvsim.fleet import Fleet
from hvsim.labfile import load_lab, machines
from hvsim.model import provisioning

LAB = Path(__file__).resolve().parents[1] / "labs" / "bare-hosts.yml"
IMAGE = "C:\\Golden\\ws2022.vhdx"
LINUX = "C:\\Golden\\ubuntu-24.04.vhdx"
FOLDER = "C:\\VMs"
PASSWORD = "L1-Passw0rd!"
STUB = "Write-Output 'stub'"
COMMAND = ("PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
           + base64.b64encode(STUB.encode("utf-16-le")).decode())


def unattend(password: str = PASSWORD, https: bool = True) -> str:
    encoded = base64.b64encode((password + "AdministratorPassword").encode("utf-16-le")).decode()
    listener = "<Path>New-Item -Path WSMan:\\localhost\\Listener -Transport HTTPS</Path>" if https else ""
    return ('<unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="specialize"><component>'
            f"<ComputerName>LAB-HV1</ComputerName>{listener}</component></settings><settings pass=\"oobeSystem\">"
            f"<component><UserAccounts><AdministratorPassword><Value>{encoded}</Value><PlainText>false</PlainText>"
            "</AdministratorPassword></UserAccounts></component></settings></unattend>")


@pytest.fixture
def fleet() -> Fleet:
    return Fleet.from_lab(load_lab(LAB))


def call(fleet: Fleet, parameters: dict[str, t.Any], host: str = "hv01") -> dict[str, t.Any]:
    request = {"hyperv_nested_request": 1, "script_name": "provision", "script": STUB, "parameters": parameters}
    done = fleet.run_command(host, COMMAND, json.dumps(request).encode())
    answer = json.loads(done.stdout)
    assert answer["ok"], answer
    return t.cast(dict[str, t.Any], answer["result"])


def apply(fleet: Fleet, *steps: dict[str, t.Any]) -> dict[str, t.Any]:
    return call(fleet, {"action": "apply", "steps": list(steps)})


def disk(name: str = "LAB-HV1") -> str:
    return f"{FOLDER}\\{name}\\Virtual Hard Disks\\{name}.vhdx"


def create_steps(name: str = "LAB-HV1", answer: str | None = None, image: str = IMAGE) -> list[dict[str, t.Any]]:
    steps: list[dict[str, t.Any]] = [{"kind": "new_disk", "vm": name, "path": disk(name), "parent_path": image,
                                      "mode": "differencing"}]
    if answer is not None:
        steps.append({"kind": "write_unattend", "vm": name, "disk_path": disk(name),
                      "file": "Windows\\Panther\\unattend.xml", "content": answer})
    steps += [
        {"kind": "new_vm", "vm": name, "generation": 2, "path": FOLDER, "memory_startup_bytes": 4 * 1024**3,
         "notes": "hyperv.nested: created by win_nested_vm_provision", "switch_name": "External"},
        {"kind": "cmdlet", "vm": name, "cmdlet": "Set-VMProcessor",
         "parameters": {"Count": 2, "ExposeVirtualizationExtensions": True}},
        {"kind": "add_disk", "vm": name, "path": disk(name), "first_boot_device": True},
    ]
    return steps


def start(name: str = "LAB-HV1") -> dict[str, t.Any]:
    return {"kind": "start", "vm": name, "timeout_seconds": 2}


def statuses(result: dict[str, t.Any]) -> list[str]:
    return [step["status"] for step in result["steps"]]


def test_a_first_boot_with_an_answer_file_makes_the_planned_host_with_the_answered_password(fleet: Fleet) -> None:
    assert fleet.reachable("lab-hv1") is False and "lab-hv1" not in fleet.host_names()
    result = apply(fleet, *create_steps(answer=unattend()), start())
    assert set(statuses(result)) == {"ok"}
    time.sleep(0.6)
    assert fleet.reachable("lab-hv1") is True
    assert fleet.credentials("lab-hv1") == ("Administrator", PASSWORD)
    state = fleet.host_state("lab-hv1")
    assert state["parent"] == "hv01" and state["host"]["processor"]["manufacturer"] == "GenuineIntel"


def test_without_an_answer_file_the_image_waits_at_oobe_and_nobody_answers(fleet: Fleet) -> None:
    result = apply(fleet, *create_steps(answer=None), start())
    assert statuses(result)[-1] == "failed" and "heartbeat" in result["steps"][-1]["message"]
    assert fleet.reachable("lab-hv1") is False


def test_an_answer_file_without_the_https_listener_gives_a_guest_but_no_endpoint(fleet: Fleet) -> None:
    apply(fleet, *create_steps(answer=unattend(https=False)), start())
    time.sleep(0.6)
    assert fleet.reachable("lab-hv1") is False


def test_a_differencing_disk_whose_parent_changed_or_vanished_does_not_start(fleet: Fleet) -> None:
    apply(fleet, *create_steps(answer=unattend()))
    host = next(h for h in fleet._world.roots if h.name == "hv01")
    provisioning.replace_golden(host, IMAGE)
    result = apply(fleet, start())
    assert result["steps"][0]["status"] == "failed"
    assert "chain of virtual hard disks is corrupted" in result["steps"][0]["message"]
    del host.storage["files"][IMAGE.lower()]
    result = apply(fleet, start())
    assert "cannot locate the parent" in result["steps"][0]["message"]


def test_a_disk_file_that_exists_is_never_overwritten(fleet: Fleet) -> None:
    apply(fleet, create_steps()[0])
    result = apply(fleet, create_steps()[0])
    assert result["steps"][0]["status"] == "failed" and "already exists" in result["steps"][0]["message"]


def test_new_vm_signature_is_checked_against_the_documented_one(fleet: Fleet) -> None:
    step = {**create_steps()[1], "generation": 3}
    result = apply(fleet, step)
    assert result["steps"][0]["status"] == "failed" and "does not belong to the set" in result["steps"][0]["message"]


def test_a_vm_without_the_mark_is_refused_by_every_changing_step(fleet: Fleet) -> None:
    steps = create_steps()
    steps[1] = {**steps[1], "notes": "someone else's"}
    result = apply(fleet, *steps)
    assert statuses(result)[:3] == ["ok", "ok", "failed"]
    assert "not created by win_nested_vm_provision" in result["steps"][2]["message"]
    vm_id = call(fleet, {"action": "inspect", "vm_names": ["LAB-HV1"], "paths": []})["vms"][0]["id"]
    removal = apply(fleet, {"kind": "remove_vm", "vm": "LAB-HV1", "vm_id": vm_id, "files": [disk()]})
    assert removal["steps"][0]["status"] == "failed"


def test_removal_deletes_the_vm_and_only_the_listed_files_never_the_golden_image(fleet: Fleet) -> None:
    apply(fleet, *create_steps(answer=unattend()), start())
    inspected = call(fleet, {"action": "inspect", "vm_names": ["LAB-HV1"], "paths": [IMAGE, disk()]})
    vm = inspected["vms"][0]
    assert vm["hard_drives"] == [disk()] and vm["state"] == "Running"
    busy = apply(fleet, {"kind": "remove_vm", "vm": "LAB-HV1", "vm_id": vm["id"], "files": [disk()]})
    assert "current state" in busy["steps"][0]["message"]
    done = apply(fleet, {"kind": "turn_off", "vm": "LAB-HV1"},
                 {"kind": "remove_vm", "vm": "LAB-HV1", "vm_id": vm["id"], "files": [disk()]})
    assert set(statuses(done)) == {"ok"}
    after = call(fleet, {"action": "inspect", "vm_names": ["LAB-HV1"], "paths": [IMAGE, disk()]})
    assert after["missing"] == ["LAB-HV1"]
    assert [f["exists"] for f in after["files"]] == [True, False]
    assert fleet.reachable("lab-hv1") is False


def test_a_linux_image_reads_its_cloud_init_seed(fleet: Fleet) -> None:
    seed = f"{FOLDER}\\LAB-LNX1\\Virtual Hard Disks\\LAB-LNX1-cidata.vhdx"
    user_data = ('#cloud-config\nhostname: "lab-lnx1"\nusers:\n  - name: "labadmin"\n'
                 'chpasswd:\n  users:\n    - {name: "labadmin", password: "pw-123", type: text}\n')
    steps = create_steps("LAB-LNX1", image=LINUX)
    steps.insert(1, {"kind": "new_seed_disk", "vm": "LAB-LNX1", "path": seed, "label": "cidata",
                     "files": {"meta-data": 'instance-id: "x"\nlocal-hostname: "lab-lnx1"\n', "user-data": user_data}})
    steps.append({"kind": "add_disk", "vm": "LAB-LNX1", "path": seed, "first_boot_device": False})
    steps.append({"kind": "cmdlet", "vm": "LAB-LNX1", "cmdlet": "Set-VMFirmware",
                  "parameters": {"EnableSecureBoot": "On", "SecureBootTemplate": "MicrosoftUEFICertificateAuthority"}})
    result = apply(fleet, *steps, start("LAB-LNX1"))
    assert set(statuses(result)) == {"ok"}, result
    host = fleet._world.roots[0]
    guest = next(vm for vm in host.vms if vm.name == "LAB-LNX1").guest
    assert guest is not None and (guest.username, guest.password) == ("labadmin", "pw-123")


def test_secure_boot_with_the_windows_template_stops_a_linux_loader(fleet: Fleet) -> None:
    result = apply(fleet, *create_steps("LAB-LNX1", image=LINUX), start("LAB-LNX1"))
    assert statuses(result)[-1] == "failed"


def test_storage_and_planned_machines_survive_a_restart(fleet: Fleet) -> None:
    apply(fleet, *create_steps(answer=unattend()))
    again = Fleet.from_state(json.loads(json.dumps(fleet.export_state())))
    assert again.planned_names() == ["lab-hv1", "lab-hv2"]
    result = call(again, {"action": "inspect", "vm_names": ["LAB-HV1"], "paths": [disk()]})
    assert result["files"][0] == {"path": disk(), "exists": True, "parent_path": IMAGE}
    assert result["vms"][0]["hard_drives"] == [disk()]


def test_the_inventory_lists_planned_machines_with_their_endpoint_and_variables() -> None:
    found = {m.name: m for m in machines(load_lab(LAB))}
    planned = found["lab-hv1"]
    assert planned.level == 1 and planned.has_endpoint and planned.parent == "hv01" and planned.vm_name == "LAB-HV1"
    assert planned.extra_vars["nested_provision"]["image"] == IMAGE
