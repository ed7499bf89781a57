"""The provisioning planner: what it creates, what it refuses, what it never touches."""

from __future__ import annotations

import base64
import copy
import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _provision_planner as planner
from ansible_collections.hyperv.nested.plugins.plugin_utils._planned import PlanningError
from ansible_collections.hyperv.nested.plugins.plugin_utils._provision_answers import nocloud_seed, unattend_xml

SECRET = "Adm1n-S3cret!'<&>"
IMAGE = "D:\\Golden\\ws2022.vhdx"
DISK = "D:\\Lab\\LAB-HV1\\Virtual Hard Disks\\LAB-HV1.vhdx"


def vm_args(**overrides: t.Any) -> dict[str, t.Any]:
    base = {"name": "LAB-HV1", "image": IMAGE, "os_family": "windows", "disk_mode": "differencing", "generation": 2,
            "version": None, "processor_count": 4, "memory_bytes": 8 * 1024**3, "expose_virtualization_extensions": True,
            "network_mode": "nat", "adapters": [{"switch": "External", "mac_address_spoofing": None}],
            "secure_boot": True, "secure_boot_template": "MicrosoftWindows", "computer_name": "LAB-HV1",
            "time_zone": "UTC", "linux_user": "labadmin", "ssh_authorized_keys": [], "start": True}
    base.update(overrides)
    return base


def args(*vms: dict[str, t.Any], state: str = "present") -> dict[str, t.Any]:
    return {"vms": list(vms) or [vm_args()], "state": state, "path": "D:\\Lab", "admin_password": SECRET,
            "start_timeout": 60}


def inspected(vms: list[dict[str, t.Any]] | None = None, files: list[dict[str, t.Any]] | None = None,
              switches: list[str] | None = None) -> dict[str, t.Any]:
    return {"hyperv_module": True, "vms": vms or [], "missing": [], "duplicates": [],
            "switches": ["External"] if switches is None else switches, "supported_versions": ["9.0", "10.0"],
            "default_version": "10.0",
            "files": files if files is not None else [{"path": IMAGE, "exists": True, "parent_path": None},
                                                      {"path": DISK, "exists": False, "parent_path": None}]}


def existing(**overrides: t.Any) -> dict[str, t.Any]:
    base = {"name": "LAB-HV1", "id": "a1", "state": "Running", "generation": 2, "processor_count": 4,
            "startup_memory_bytes": 8 * 1024**3, "dynamic_memory_enabled": False,
            "expose_virtualization_extensions": True, "notes": planner.MARK,
            "adapters": [{"name": "Network Adapter", "switch_name": "External", "mac_address_spoofing": "Off"}],
            "hard_drives": [DISK], "secure_boot": "On", "secure_boot_template": "MicrosoftWindows"}
    base.update(overrides)
    return base


def kinds(plan: planner.ProvisionPlan) -> list[str]:
    return [step["kind"] for step in plan.operations]


def test_a_missing_vm_is_created_with_nested_settings_before_its_first_start() -> None:
    plan = planner.plan(args(), inspected())
    assert plan.changed and [vm["status"] for vm in plan.values["vms"]] == ["create"]
    assert kinds(plan) == ["new_disk", "write_unattend", "new_vm", "cmdlet", "cmdlet", "add_disk", "adapter",
                           "cmdlet", "start"]
    processor = next(s for s in plan.operations if s.get("cmdlet") == "Set-VMProcessor")
    assert processor["parameters"] == {"Count": 4, "ExposeVirtualizationExtensions": True}
    assert kinds(plan).index("cmdlet") < kinds(plan).index("start")
    new_vm = next(s for s in plan.operations if s["kind"] == "new_vm")
    assert new_vm["notes"] == planner.MARK and new_vm["generation"] == 2 and new_vm["switch_name"] == "External"
    assert plan.operations[0] == {"kind": "new_disk", "vm": "LAB-HV1", "path": DISK, "parent_path": IMAGE,
                                  "mode": "differencing"}


def test_the_answer_file_carries_the_password_encoded_and_no_command_shows_it() -> None:
    plan = planner.plan(args(), inspected())
    answer = next(s for s in plan.operations if s["kind"] == "write_unattend")
    assert SECRET not in answer["content"]
    encoded = base64.b64encode((SECRET + "AdministratorPassword").encode("utf-16-le")).decode()
    assert encoded in answer["content"]
    rendered = "\n".join(planner.render_step(step) for step in plan.operations)
    assert SECRET not in rendered and encoded not in rendered


def test_a_converged_vm_plans_nothing() -> None:
    plan = planner.plan(args(), inspected([existing()]))
    assert not plan.changed and plan.values["vms"][0]["status"] == "present" and plan.warnings == []


def test_a_vm_without_the_mark_is_reported_and_never_touched() -> None:
    plan = planner.plan(args(), inspected([existing(notes="built by hand", processor_count=2)]))
    assert not plan.changed and plan.values["vms"][0]["status"] == "unmanaged"
    assert "not created by win_nested_vm_provision" in plan.warnings[0]
    assert plan.values["vms"][0]["differences"] == ["processor_count: 2 (inventory: 4)"]


def test_a_marked_vm_with_other_hardware_is_reported_not_replaced() -> None:
    plan = planner.plan(args(), inspected([existing(startup_memory_bytes=4 * 1024**3)]))
    assert not plan.changed and plan.values["vms"][0]["status"] == "differs"
    assert "reported, not replaced" in plan.warnings[0]


def test_mac_spoofing_follows_the_network_mode_unless_the_adapter_says_otherwise() -> None:
    spoofed = planner.plan(args(vm_args(network_mode="mac_spoofing")), inspected())
    assert next(s for s in spoofed.operations if s["kind"] == "adapter")["mac_address_spoofing"] == "On"
    explicit = planner.plan(args(vm_args(network_mode="mac_spoofing", adapters=[
        {"switch": "External", "mac_address_spoofing": False}])), inspected())
    assert next(s for s in explicit.operations if s["kind"] == "adapter")["mac_address_spoofing"] == "Off"


def test_a_missing_image_or_switch_fails_before_anything_changes() -> None:
    with pytest.raises(PlanningError, match=r"golden image .* 'vms\[\]\.image'"):
        planner.plan(args(), inspected(files=[{"path": IMAGE, "exists": False, "parent_path": None}]))
    with pytest.raises(PlanningError, match=r"no virtual switch named 'External'.*it has: Internal"):
        planner.plan(args(), inspected(switches=["Internal"]))


def test_an_unsupported_configuration_version_names_the_option() -> None:
    with pytest.raises(PlanningError, match=r"'vms\[\]\.version'"):
        planner.plan(args(vm_args(version="12.0")), inspected())


def test_a_differencing_disk_of_the_same_image_left_by_an_earlier_run_is_reused() -> None:
    files = [{"path": IMAGE, "exists": True, "parent_path": None}, {"path": DISK, "exists": True, "parent_path": IMAGE}]
    plan = planner.plan(args(), inspected(files=files))
    assert kinds(plan)[0] == "write_unattend"


def test_any_other_file_at_the_disk_path_is_refused() -> None:
    files = [{"path": IMAGE, "exists": True, "parent_path": None},
             {"path": DISK, "exists": True, "parent_path": "D:\\Other.vhdx"}]
    with pytest.raises(PlanningError, match="exists and is not a differencing disk"):
        planner.plan(args(), inspected(files=files))


def test_a_marked_vm_left_off_without_its_disk_is_finished() -> None:
    files = [{"path": IMAGE, "exists": True, "parent_path": None}, {"path": DISK, "exists": True, "parent_path": IMAGE}]
    plan = planner.plan(args(), inspected([existing(state="Off", hard_drives=[])], files=files))
    assert plan.values["vms"][0]["status"] == "resume"
    assert "new_vm" not in kinds(plan) and "new_disk" not in kinds(plan)
    assert kinds(plan)[-1] == "start" and "add_disk" in kinds(plan)


def test_finishing_a_vm_whose_disk_is_gone_without_an_image_names_the_option_instead_of_sending_no_parent() -> None:
    # Before ProvisionStep typed the steps, this planned New-VHD with -ParentPath null.
    files = [{"path": DISK, "exists": False, "parent_path": None}]
    with pytest.raises(PlanningError, match=r"Option 'vms\[\]\.image' is required to create VM 'LAB-HV1'"):
        planner.plan(args(vm_args(image=None)), inspected([existing(state="Off", hard_drives=[])], files=files))


def test_absent_removes_only_the_marked_vm_and_the_disks_at_its_own_paths() -> None:
    found = existing(hard_drives=[DISK, "E:\\Data\\keep.vhdx"])
    plan = planner.plan(args(state="absent"), inspected([found]))
    assert kinds(plan) == ["turn_off", "remove_vm"]
    assert plan.operations[1]["files"] == [DISK] and plan.operations[1]["vm_id"] == "a1"
    assert "E:\\Data\\keep.vhdx" in plan.warnings[0]
    assert plan.after == {"LAB-HV1": None}


def test_absent_refuses_a_vm_it_did_not_create() -> None:
    with pytest.raises(PlanningError, match="not created by win_nested_vm_provision"):
        planner.plan(args(state="absent"), inspected([existing(notes="")]))


def test_absent_for_a_missing_vm_changes_nothing() -> None:
    plan = planner.plan(args(state="absent"), inspected())
    assert not plan.changed and plan.values["vms"][0]["status"] == "absent"


def test_a_linux_vm_gets_a_seed_disk_and_the_uefi_ca_template() -> None:
    linux = vm_args(name="LAB-LNX1", os_family="linux", computer_name="lab-lnx1",
                    secure_boot_template="MicrosoftUEFICertificateAuthority", ssh_authorized_keys=["ssh-ed25519 AAA k"])
    plan = planner.plan(args(linux), inspected(files=[{"path": IMAGE, "exists": True, "parent_path": None}]))
    seed = next(s for s in plan.operations if s["kind"] == "new_seed_disk")
    assert seed["label"] == "cidata" and seed["path"].endswith("LAB-LNX1-cidata.vhdx")
    assert [s["path"] for s in plan.operations if s["kind"] == "add_disk"][1] == seed["path"]
    assert "ssh-ed25519 AAA k" in seed["files"]["user-data"]


def test_a_windows_vm_needs_the_admin_password() -> None:
    request = args()
    request["admin_password"] = None
    with pytest.raises(PlanningError, match="'admin_password' is required"):
        planner.plan(request, inspected())


def test_check_is_pure() -> None:
    request, answer = args(), inspected()
    frozen = copy.deepcopy((request, answer))
    planner.plan(request, answer)
    assert (request, answer) == frozen


def test_answer_texts_escape_what_they_hold() -> None:
    xml = unattend_xml("LAB-HV1", SECRET, "W. Europe Standard Time")
    assert "<TimeZone>W. Europe Standard Time</TimeZone>" in xml and "&" not in xml.split("<Value>")[1].split("<")[0]
    seed = nocloud_seed("id", "host", "user", 'pa"ss\nword', [])
    assert '"pa\\"ss\\nword"' in seed["user-data"]
