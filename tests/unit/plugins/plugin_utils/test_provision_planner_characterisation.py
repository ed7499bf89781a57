"""The provisioning planner's exact answers, pinned before `_plan_present` was split into named phases (issue 19).

Each scenario runs `plan` on one set of options and one `inspect` answer of provision.ps1 and compares
everything it returns (the steps in order, before/after, warnings and values, or the PlanningError's
sentence) and each step's rendered command line with `provision_planner_golden.json`, recorded
from the planner as it was before the split. After an intended change, record again with
`HVN_RECORD_GOLDEN=1` and review the diff of the JSON file.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _provision_planner as planner

from ...golden import load_golden, planner_answer
from .test_provision_planner import DISK, IMAGE, args, existing, inspected, vm_args

GOLDEN = Path(__file__).with_name("provision_planner_golden.json")
SEED = "D:\\Lab\\LAB-LNX1\\Virtual Hard Disks\\LAB-LNX1-cidata.vhdx"
LNX_DISK = "D:\\Lab\\LAB-LNX1\\Virtual Hard Disks\\LAB-LNX1.vhdx"
IMAGE_FILE = {"path": IMAGE, "exists": True, "parent_path": None}
LEFT_DISK = {"path": DISK, "exists": True, "parent_path": IMAGE}
LINUX = {"name": "LAB-LNX1", "os_family": "linux", "computer_name": "lab-lnx1", "secure_boot_template": "MicrosoftUEFICertificateAuthority",
         "ssh_authorized_keys": ["ssh-ed25519 AAA k"]}
TWO_ADAPTERS = [{"switch": "External", "mac_address_spoofing": None}, {"switch": None, "mac_address_spoofing": True}]


def options(*vms: dict[str, t.Any], state: str = "present", **changes: t.Any) -> dict[str, t.Any]:
    return {**args(*vms, state=state), **changes}


def linux_existing(**overrides: t.Any) -> dict[str, t.Any]:
    return existing(**{"name": "LAB-LNX1", "hard_drives": [LNX_DISK, SEED], "secure_boot_template": "MicrosoftUEFICertificateAuthority",
                       **overrides})


# name -> (options, inspect answer).
SCENARIOS: dict[str, tuple[dict[str, t.Any], dict[str, t.Any]]] = {
    "create-windows": (options(), inspected()),
    "create-linux": (options(vm_args(**LINUX)), inspected()),
    "create-linux-no-password": (options(vm_args(**LINUX), admin_password=None), inspected()),
    "create-generation-1": (options(vm_args(generation=1, secure_boot=False)), inspected()),
    "create-secure-boot-off": (options(vm_args(secure_boot=False)), inspected()),
    "create-with-version": (options(vm_args(version="9.0")), inspected()),
    "create-version-no-supported-list": (options(vm_args(version="12.0")), {**inspected(), "supported_versions": []}),
    "create-version-unsupported": (options(vm_args(version="12.0")), inspected()),
    "create-copy": (options(vm_args(disk_mode="copy")), inspected()),
    "create-not-started": (options(vm_args(start=False)), inspected()),
    "create-no-adapters": (options(vm_args(adapters=[])), inspected()),
    "create-two-adapters-spoofing": (options(vm_args(adapters=TWO_ADAPTERS, network_mode="mac_spoofing")), inspected()),
    "create-switch-other-case": (options(), inspected(switches=["EXTERNAL"])),
    "create-no-password": (options(admin_password=None), inspected()),
    "image-missing": (options(), inspected(files=[])),
    "switch-missing": (options(), inspected(switches=["Internal", "NAT"])),
    "switch-missing-none": (options(), inspected(switches=[])),
    "disk-left-differencing": (options(), inspected(files=[IMAGE_FILE, LEFT_DISK])),
    "disk-left-other-parent": (options(), inspected(files=[IMAGE_FILE, {**LEFT_DISK, "parent_path": "D:\\Other.vhdx"}])),
    "disk-left-copy-mode": (options(vm_args(disk_mode="copy")), inspected(files=[IMAGE_FILE, LEFT_DISK])),
    "seed-left": (options(vm_args(**LINUX)), inspected(files=[IMAGE_FILE, {"path": SEED, "exists": True}])),
    "converged": (options(), inspected([existing()])),
    "converged-other-case": (options(), inspected([existing(name="lab-hv1")])),
    "unmanaged": (options(), inspected([existing(notes="built by hand\nhyperv.nested: created by win_nested_vm_provision")])),
    "unmanaged-no-notes": (options(), inspected([existing(notes=None, processor_count=2)])),
    "differs-memory": (options(), inspected([existing(startup_memory_bytes=4 * 1024**3, dynamic_memory_enabled=True)])),
    "differs-adapter-count": (options(vm_args(adapters=TWO_ADAPTERS)), inspected([existing()])),
    "differs-adapter-spoofing": (options(vm_args(network_mode="mac_spoofing")), inspected([existing()])),
    "adapter-without-switch-matches-any": (options(vm_args(adapters=[{"switch": None, "mac_address_spoofing": None}])),
                                           inspected([existing()])),
    "differs-secure-boot": (options(), inspected([existing(secure_boot="Off")])),
    "marked-off-with-disk": (options(), inspected([existing(state="Off")])),
    "resume-disk-left": (options(), inspected([existing(state="Off", hard_drives=[])], files=[IMAGE_FILE, LEFT_DISK])),
    "resume-disk-missing": (options(), inspected([existing(state="Off", hard_drives=[])])),
    "resume-disk-other-parent": (options(), inspected([existing(state="Off", hard_drives=[])],
                                                      files=[IMAGE_FILE, {**LEFT_DISK, "parent_path": "D:\\Other.vhdx"}])),
    "resume-copy-disk-left": (options(vm_args(disk_mode="copy")),
                              inspected([existing(state="Off", hard_drives=[])], files=[IMAGE_FILE, LEFT_DISK])),
    "resume-seed-left": (options(vm_args(**LINUX)), inspected([linux_existing(state="Off", hard_drives=[])],
                                                              files=[IMAGE_FILE, {"path": SEED, "exists": True}])),
    "resume-linux": (options(vm_args(**LINUX)), inspected([linux_existing(state="Off", hard_drives=[])])),
    "resume-two-adapters-one-there": (options(vm_args(adapters=TWO_ADAPTERS)),
                                      inspected([existing(state="Off", hard_drives=[])], files=[IMAGE_FILE, LEFT_DISK])),
    "resume-three-adapters-two-there": (
        options(vm_args(adapters=[*TWO_ADAPTERS, {"switch": "External", "mac_address_spoofing": None}])),
        inspected([existing(state="Off", hard_drives=[], adapters=[{"switch_name": "External"}, {"switch_name": None}])],
                  files=[IMAGE_FILE, LEFT_DISK])),
    "resume-no-image": (options(vm_args(image=None)), inspected([existing(state="Off", hard_drives=[])], files=[])),
    "resume-unmanaged-not-resumed": (options(), inspected([existing(state="Off", hard_drives=[], notes="")])),
    "absent-missing": (options(state="absent"), inspected()),
    "absent-running": (options(state="absent"), inspected([existing(hard_drives=[DISK, "E:\\keep.vhdx"])])),
    "absent-off-no-drives": (options(state="absent"), inspected([existing(state="Off", hard_drives=[])])),
    "absent-linux": (options(vm_args(**LINUX), state="absent"), inspected([linux_existing(state="Off")])),
    "absent-unmanaged": (options(state="absent"), inspected([existing(notes="")])),
    "no-hyperv-module": (options(), {"hyperv_module": False}),
    "duplicates": (options(), {**inspected(), "duplicates": ["LAB-HV1", "X"]}),
    "two-vms-mixed": (options(vm_args(), vm_args(**LINUX)), inspected([existing()])),
    "two-vms-absent": (options(vm_args(), vm_args(**LINUX), state="absent"), inspected([existing(), linux_existing()])),
}


def run(name: str) -> dict[str, t.Any]:
    return planner_answer(planner, *SCENARIOS[name])


def recorded() -> dict[str, t.Any]:
    return {"scenarios": {name: run(name) for name in SCENARIOS}}


@pytest.fixture(scope="module")
def golden() -> dict[str, t.Any]:
    return load_golden(GOLDEN, recorded)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_answers_exactly_as_recorded(golden: dict[str, t.Any], name: str) -> None:
    assert run(name) == golden["scenarios"][name]


def test_the_scenarios_reach_every_status_and_step_kind(golden: dict[str, t.Any]) -> None:
    answers = golden["scenarios"].values()
    statuses = {vm["status"] for answer in answers for vm in answer.get("planned", {}).get("values", {}).get("vms", [])}
    assert statuses == {"create", "resume", "present", "differs", "unmanaged", "remove", "absent"}
    kinds = {step["kind"] for answer in answers for step in answer.get("planned", {}).get("operations", [])}
    assert kinds == {"new_disk", "write_unattend", "new_seed_disk", "new_vm", "cmdlet", "add_disk", "adapter", "start", "turn_off", "remove_vm"}
    assert sum("problem" in answer for answer in answers) >= 12
