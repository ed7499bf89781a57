"""win_nested_vm_provision's action plugin with a scripted target: one inspect when converged,
check mode sends nothing, bad input names its option before anything reaches the host."""

from __future__ import annotations

import json
import typing as t

import pytest
import yaml

from ansible_collections.hyperv.nested.plugins.action.win_nested_vm_provision import ActionModule
from ansible_collections.hyperv.nested.plugins.modules import win_nested_vm_provision as module_doc
from ansible_collections.hyperv.nested.plugins.plugin_utils._provision_planner import MARK

from .action_harness import ActionHarness

SECRET = "Vault-S3cret-xyzzy"
IMAGE = "C:\\Golden\\ws2022.vhdx"
VM = {"name": "LAB-HV1", "image": IMAGE, "adapters": [{"switch": "External"}], "memory": "8GB", "processor_count": 4}


def inspected(vms: list[dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
    return {"hyperv_module": True, "vms": vms or [], "missing": [], "duplicates": [], "switches": ["External"],
            "supported_versions": ["10.0"], "default_version": "10.0",
            "files": [{"path": IMAGE, "exists": True, "parent_path": None}]}


def harness(check_mode: bool = False, diff: bool = False, **args: t.Any) -> ActionHarness:
    task_args = {"vms": [VM], "admin_password": SECRET, **args}
    return ActionHarness(ActionModule, task_args, check_mode=check_mode, diff=diff)


def test_check_mode_plans_and_sends_nothing_else() -> None:
    run = harness(check_mode=True, diff=True).respond(inspected())
    result = run.run()
    assert result["changed"] is True and run.scripts_called == ["provision"]
    assert run.calls[0][1]["action"] == "inspect"
    assert result["diff"]["before"] == {"LAB-HV1": None}
    assert result["diff"]["after"]["LAB-HV1"]["expose_virtualization_extensions"] is True
    assert SECRET not in json.dumps(result)


def test_apply_reports_each_step_and_never_returns_the_password() -> None:
    applied = {"steps": [{"index": i, "status": "ok", "message": None} for i in range(9)], "failed_index": None,
               "vms": {"LAB-HV1": {"state": "Running", "adapters": [{"ip_addresses": ["10.0.0.5"]}]}}}
    run = harness().respond(inspected(), applied)
    result = run.run()
    assert result["changed"] is True and run.scripts_called == ["provision", "provision"]
    assert run.calls[1][1]["action"] == "apply"
    assert result["vms"][0]["ip_addresses"] == ["10.0.0.5"] and result["vms"][0]["state"] == "Running"
    assert SECRET not in json.dumps(result)


def test_a_failed_step_names_the_vm_and_says_a_rerun_finishes() -> None:
    steps = [{"index": 0, "status": "ok", "message": None}, {"index": 1, "status": "failed", "message": "disk busy"}]
    run = harness().respond(inspected(), {"steps": steps, "failed_index": 1, "vms": {}})
    result = run.run()
    assert result["failed"] is True and result["changed"] is True
    assert "LAB-HV1" in result["msg"] and "disk busy" in result["msg"] and "again" in result["msg"]


def test_converged_is_one_inspect_and_unchanged() -> None:
    found = {"name": "LAB-HV1", "id": "x", "state": "Running", "generation": 2, "processor_count": 4,
             "startup_memory_bytes": 8 * 1024**3, "dynamic_memory_enabled": False,
             "expose_virtualization_extensions": True, "notes": MARK,
             "adapters": [{"switch_name": "External", "mac_address_spoofing": "Off"}], "hard_drives": [],
             "secure_boot": "On", "secure_boot_template": "MicrosoftWindows"}
    run = harness().respond(inspected([found]))
    result = run.run()
    assert result["changed"] is False and run.scripts_called == ["provision"]


BAD_INPUT = [
    ({"vms": [{**VM, "name": "a/b"}]}, "vms[0].name"),
    ({"vms": [{**VM, "name": "N" * 101}]}, "vms[0].name"),
    ({"vms": [{**VM, "computer_name": "this-name-is-far-too-long"}]}, "vms[0].computer_name"),
    ({"vms": [{**VM, "name": "A-VERY-LONG-VM-NAME"}]}, "vms[0].computer_name"),
    ({"vms": [{**VM, "memory": "lots"}]}, "vms[0].memory"),
    ({"vms": [{**VM, "memory": "100MB"}]}, "vms[0].memory"),
    ({"vms": [{**VM, "processor_count": 0}]}, "vms[0].processor_count"),
    ({"vms": [{**VM, "image": None}]}, "vms[0].image"),
    ({"vms": [{**VM, "image": "C:\\Golden\\ws2022.iso"}]}, "vms[0].image"),
    ({"vms": [{**VM, "adapters": []}]}, "vms[0].adapters"),
    ({"vms": [{**VM, "time_zone": "Mars/Olympus<"}]}, "vms[0].time_zone"),
    ({"vms": [{**VM, "generation": 1, "secure_boot_template": "MicrosoftWindows"}]}, "vms[0].secure_boot_template"),
    ({"vms": [{**VM, "version": "ten"}]}, "vms[0].version"),
    ({"vms": [{**VM, "os_family": "linux", "linux_user": "Root User"}]}, "vms[0].linux_user"),
    ({"vms": [VM, {**VM, "name": "lab-hv1"}]}, "vms[1].name"),
    ({"vms": []}, "vms"),
    ({"path": "relative\\folder"}, "path"),
    ({"start_timeout": 0}, "start_timeout"),
]


@pytest.mark.parametrize(("args", "option"), BAD_INPUT, ids=[option + str(i) for i, (_a, option) in enumerate(BAD_INPUT)])
def test_bad_input_names_the_option_and_reaches_no_host(args: dict[str, t.Any], option: str) -> None:
    run = harness(**args)
    result = run.run()
    assert result["failed"] is True and f"'{option}" in result["msg"], result["msg"]
    assert run.calls == []


def test_unknown_suboption_is_refused_by_the_argument_spec() -> None:
    result = harness(vms=[{**VM, "cpus": 4}]).run()
    assert result["failed"] is True and "cpus" in result["msg"]


def test_documentation_parses_and_lists_every_option_of_the_argument_spec() -> None:
    documented = yaml.safe_load(module_doc.DOCUMENTATION)["options"]
    assert set(documented) == set(ActionModule.argument_spec)
    assert set(documented["vms"]["suboptions"]) == set(ActionModule.argument_spec["vms"]["options"])
    assert documented["admin_password"]["type"] == "str" and ActionModule.argument_spec["admin_password"]["no_log"]
    yaml.safe_load(module_doc.EXAMPLES)
    yaml.safe_load(module_doc.RETURN)
