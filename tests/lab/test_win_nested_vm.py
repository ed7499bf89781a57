"""win_nested_vm against the simulated fleet, through ansible-playbook and real WinRM."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import yaml
from hvsim.pytest_plugin import hvsim

if t.TYPE_CHECKING:
    from hvsim.pytest_plugin import Lab, PlaybookRun

GB = 1024**3
ENABLE = {"name": ["LAB-HV1", "LAB-HV2"], "power": "shutdown", "mac_address_spoofing": "on", "startup_memory": "8GB"}


class VmRun:
    """One ansible-playbook run of a single win_nested_vm task, and what the host saw."""

    def __init__(self, run: PlaybookRun, host: str, commands: list[dict[str, t.Any]]) -> None:
        self.run = run
        self.commands = commands
        self.result: dict[str, t.Any] = {}
        try:
            tasks = json.loads(run.stdout)["plays"][0]["tasks"]
            self.result = tasks[0]["hosts"][host]
        except (ValueError, KeyError, IndexError):
            pytest.fail(f"no task result in ansible-playbook output:\nstdout={run.stdout[-3000:]}\nstderr={run.stderr[-3000:]}")

    @property
    def scripts(self) -> list[str]:
        return [json.loads(entry["stdin"])["script_name"] for entry in self.commands]


def run_vm(lab: Lab, tmp_path: Path, args: dict[str, t.Any], *extra: str, host: str = "hv01") -> VmRun:
    playbook = tmp_path / f"vm-{len(list(tmp_path.glob('vm-*.yml')))}.yml"
    play = [{"hosts": host, "gather_facts": False, "tasks": [{"name": "nested VM settings", "hyperv.nested.win_nested_vm": args}]}]
    playbook.write_text(json.dumps(play), encoding="utf-8")
    seen = len(lab.transcript(host))
    run = lab.playbook(playbook, *extra)
    return VmRun(run, host, lab.transcript(host)[seen:])


def first_l0(lab: Lab) -> str:
    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    return str(next(iter(inventory["all"]["children"]["hyperv_hosts"]["hosts"])))


def vms_of(lab: Lab, host: str = "hv01") -> dict[str, dict[str, t.Any]]:
    return {vm["name"]: vm for vm in lab.show(host)["vms"]["vms"]}


def assert_nested(vm: dict[str, t.Any], state: str = "Running") -> None:
    assert vm["expose_virtualization_extensions"] is True
    assert vm["dynamic_memory_enabled"] is False
    assert vm["state"] == state


def test_enable_then_converged(healthy_lab: Lab, tmp_path: Path) -> None:
    first = run_vm(healthy_lab, tmp_path, ENABLE)
    assert first.run.rc == 0, first.result.get("msg")
    assert first.result["changed"] is True
    assert first.scripts == ["probe", "execute"]
    vms = vms_of(healthy_lab)
    for name in ("LAB-HV1", "LAB-HV2"):
        assert_nested(vms[name])
        assert vms[name]["startup_memory_bytes"] == 8 * GB
        assert [adapter["mac_address_spoofing"] for adapter in vms[name]["adapters"]] == ["On"]

    second = run_vm(healthy_lab, tmp_path, ENABLE)
    assert second.run.rc == 0
    assert second.result["changed"] is False
    assert second.run.total("changed") == 0
    assert second.scripts == ["probe"]
    assert second.result["commands"] == []


def test_check_mode_changes_nothing_and_reports_the_change(healthy_lab: Lab, tmp_path: Path) -> None:
    before = healthy_lab.show("hv01")["vms"]
    checked = run_vm(healthy_lab, tmp_path, ENABLE, "--check", "--diff")
    assert checked.run.rc == 0
    assert checked.result["changed"] is True
    assert checked.scripts == ["probe"]
    assert healthy_lab.show("hv01")["vms"] == before
    after = checked.result["diff"]["after"]["LAB-HV1"]
    assert after["expose_virtualization_extensions"] is True and after["startup_memory_bytes"] == 8 * GB
    assert checked.result["vms"][0]["actions"][0].startswith("shut down through the guest")

    # What check mode predicted is what a real run then does.
    real = run_vm(healthy_lab, tmp_path, ENABLE, "--diff")
    assert real.result["diff"] == checked.result["diff"]
    assert real.result["commands"] == checked.result["commands"]


def test_diff_shows_every_managed_setting_and_power(healthy_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": "turn_off", "processor_count": 4}, "--diff")
    assert done.run.rc == 0
    diff = done.result["diff"]
    before, after = diff["before"]["LAB-HV1"], diff["after"]["LAB-HV1"]
    assert (
        set(before)
        == set(after)
        == {
            "power_state",
            "version",
            "expose_virtualization_extensions",
            "dynamic_memory_enabled",
            "startup_memory_bytes",
            "processor_count",
            "adapters",
        }
    )
    assert (before["processor_count"], after["processor_count"]) == (2, 4)
    assert (before["power_state"], after["power_state"]) == ("Running", "Running")
    assert diff["after_header"] == "LAB-HV1 stopped and started"
    assert done.result["vms"][0]["actions"] == [
        "turn off (unsaved guest data is lost)",
        "turn dynamic memory off",
        "expose virtualization extensions; set processor count 2 -> 4",
        "start",
    ]


def test_twenty_vms_in_one_task(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab_file = tmp_path / "fleet.yml"
    hvsim("generate", "--hosts", "1", "--vms", "20", "--out", str(lab_file))
    # lab_factory joins the name onto the shipped labs directory; an absolute path replaces it.
    lab = lab_factory(str(lab_file.with_suffix("")))
    host = first_l0(lab)
    names = sorted(vms_of(lab, host))
    assert len(names) == 20
    args = {"name": names, "power": "turn_off", "mac_address_spoofing": "on"}
    first = run_vm(lab, tmp_path, args, host=host)
    assert first.run.rc == 0, first.result.get("msg")
    assert first.scripts == ["probe", "execute"]
    assert sum(entry["changed"] for entry in first.result["vms"]) == 20
    for vm in vms_of(lab, host).values():
        assert_nested(vm, state="Running")
        assert {adapter["mac_address_spoofing"] for adapter in vm["adapters"]} == {"On"}
    second = run_vm(lab, tmp_path, args, host=host)
    assert second.result["changed"] is False and second.scripts == ["probe"]


def test_power_fail_is_the_default_and_names_the_option(healthy_lab: Lab, tmp_path: Path) -> None:
    before = healthy_lab.show("hv01")["vms"]
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"]})
    assert done.run.rc != 0
    assert done.result["failed"] is True and done.result["changed"] is False
    assert "is running and these changes need it off" in done.result["msg"]
    assert "power=shutdown" in done.result["msg"] and "power=turn_off" in done.result["msg"]
    assert done.scripts == ["probe"]
    assert healthy_lab.show("hv01")["vms"] == before


@pytest.mark.parametrize("power", ["shutdown", "turn_off"])
def test_power_policies_restore_a_running_vm(healthy_lab: Lab, tmp_path: Path, power: str) -> None:
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": power})
    assert done.run.rc == 0, done.result.get("msg")
    sent = json.loads(done.commands[1]["stdin"])["parameters"]
    timeout = {"timeout_seconds": 300} if power == "shutdown" else {}
    assert sent["operations"][0] == {"kind": "stop_vm", "vm": "LAB-HV1", "mode": power, **timeout, "mark_for_restart": True}
    assert sent["on_failure"] == [{"kind": "ensure_running", "vm": "LAB-HV1", "timeout_seconds": 300}]
    assert_nested(vms_of(healthy_lab)["LAB-HV1"], state="Running")
    assert vms_of(healthy_lab)["LAB-HV1"]["restart_mark"] is None, "the start did not remove the restart mark of the stop"


def test_power_after_off_leaves_the_vm_off_and_running_starts_it(healthy_lab: Lab, tmp_path: Path) -> None:
    left_off = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": "shutdown", "power_after": "off"})
    assert left_off.run.rc == 0, left_off.result.get("msg")
    assert_nested(vms_of(healthy_lab)["LAB-HV1"], state="Off")
    assert vms_of(healthy_lab)["LAB-HV1"]["restart_mark"] is None, "power_after=off asked for the VM to stay off: no restart mark"
    assert left_off.result["vms"][0]["after"]["power_state"] == "Off"

    # Settings are converged; power_after=running is now the only difference.
    started = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power_after": "running"})
    assert started.run.rc == 0, started.result.get("msg")
    assert started.result["changed"] is True
    assert started.result["vms"][0]["actions"] == ["start"]
    assert vms_of(healthy_lab)["LAB-HV1"]["state"] == "Running"

    again = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power_after": "running"})
    assert again.result["changed"] is False


def test_vm_ignoring_graceful_shutdown_fails_after_timeout_still_running(healthy_lab: Lab, tmp_path: Path) -> None:
    healthy_lab.fault("ignore_shutdown", host="hv01", vm="LAB-HV1", value=True)
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": "shutdown", "shutdown_timeout": 2})
    assert done.run.rc != 0
    assert done.result["failed"] is True
    assert done.result["changed"] is False
    msg = done.result["msg"]
    assert msg.startswith("VM 'LAB-HV1': 'shut down through the guest (up to 2s)' failed:")
    assert "Applied: nothing." in msg
    vm = vms_of(healthy_lab)["LAB-HV1"]
    assert vm["state"] == "Running"
    # The shutdown it asked for has not ended and may still power the VM off: the mark stays, so
    # that a later run starts the VM again if it does (issue 18 item 1).
    assert vm["restart_mark"] is not None, "a stop still under way must keep the restart mark"
    [recovery] = done.result["on_failure"]
    assert recovery["status"] == "failed" and "restart mark is kept" in recovery["message"]
    assert vm["expose_virtualization_extensions"] is False


def test_two_vms_are_stopped_and_started_together(healthy_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1", "LAB-HV2"], "power": "shutdown"})
    assert done.run.rc == 0, done.result.get("msg")
    sent = json.loads(done.commands[1]["stdin"])["parameters"]["operations"]
    assert [(op["kind"], op["vm"], op.get("wait")) for op in sent[:2]] == [("stop_vm", "LAB-HV1", False), ("stop_vm", "LAB-HV2", False)]
    assert [(op["kind"], op["vm"], op["state"]) for op in sent[-2:]] == [("wait_vm", "LAB-HV1", "Running"), ("wait_vm", "LAB-HV2", "Running")]
    assert [entry["status"] for entry in done.result["operations"]] == ["ok"] * len(sent)
    for name in ("LAB-HV1", "LAB-HV2"):
        vm = vms_of(healthy_lab)[name]
        assert_nested(vm, state="Running")
        assert vm["restart_mark"] is None
    again = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1", "LAB-HV2"], "power": "shutdown"})
    assert again.result["changed"] is False and again.scripts == ["probe"]


def test_a_failure_while_the_other_vm_shuts_down_leaves_both_running(healthy_lab: Lab, tmp_path: Path) -> None:
    # LAB-HV1's memory change fails while LAB-HV2, whose stop was issued with it, is shutting
    # down or just off: on_failure must start both again, the second after its shutdown ended.
    healthy_lab.fault("fail_cmdlet_once", host="hv01", cmdlet="Set-VMMemory", message="Simulated memory failure.")
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1", "LAB-HV2"], "power": "shutdown"})
    assert done.run.rc != 0
    assert done.result["msg"].startswith("VM 'LAB-HV1': 'turn dynamic memory off' failed: Simulated memory failure.")
    assert "Running again as before: LAB-HV1, LAB-HV2." in done.result["msg"]
    vms = vms_of(healthy_lab)
    assert {name: (vms[name]["state"], vms[name]["restart_mark"]) for name in ("LAB-HV1", "LAB-HV2")} == {
        "LAB-HV1": ("Running", None),
        "LAB-HV2": ("Running", None),
    }
    rerun = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1", "LAB-HV2"], "power": "shutdown"})
    assert rerun.run.rc == 0, rerun.result.get("msg")
    for name in ("LAB-HV1", "LAB-HV2"):
        assert_nested(vms_of(healthy_lab)[name], state="Running")


def test_a_restart_mark_that_cannot_be_written_stops_nothing(healthy_lab: Lab, tmp_path: Path) -> None:
    healthy_lab.fault("deny_restart_marks", host="hv01")
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": "shutdown"})
    assert done.run.rc != 0
    assert done.result["changed"] is False
    assert done.result["msg"].startswith("VM 'LAB-HV1': 'shut down through the guest (up to 300s)' failed: Access to the path")
    assert "Applied: nothing." in done.result["msg"]
    vm = vms_of(healthy_lab)["LAB-HV1"]
    assert (vm["state"], vm["expose_virtualization_extensions"], vm["restart_mark"]) == ("Running", False, None)

    healthy_lab.fault("deny_restart_marks", host="hv01", value=False)
    rerun = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": "shutdown"})
    assert rerun.run.rc == 0, rerun.result.get("msg")
    assert_nested(vms_of(healthy_lab)["LAB-HV1"], state="Running")


def test_failure_part_way_reports_progress_and_restarts_the_vm(healthy_lab: Lab, tmp_path: Path) -> None:
    healthy_lab.fault("fail_cmdlet_once", host="hv01", cmdlet="Set-VMProcessor", message="Simulated processor failure.")
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": "turn_off"})
    assert done.run.rc != 0
    assert done.result["changed"] is True
    msg = done.result["msg"]
    assert "'expose virtualization extensions' failed: Simulated processor failure." in msg
    assert "Applied: LAB-HV1: turn off (unsaved guest data is lost); turn dynamic memory off." in msg
    assert "Not applied: LAB-HV1: expose virtualization extensions; start." in msg
    assert "Running again as before: LAB-HV1." in msg
    vm = vms_of(healthy_lab)["LAB-HV1"]
    assert vm["state"] == "Running"
    assert vm["expose_virtualization_extensions"] is False and vm["dynamic_memory_enabled"] is False

    # The next run finishes the job.
    rerun = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "power": "turn_off"})
    assert rerun.run.rc == 0
    assert rerun.result["vms"][0]["actions"] == ["turn off (unsaved guest data is lost)", "expose virtualization extensions", "start"]


def test_missing_vm_suggests_close_names(healthy_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV9"]})
    assert done.run.rc != 0
    assert done.result["msg"].startswith("No VM named 'LAB-HV9' on")
    assert "Did you mean" in done.result["msg"] and "'LAB-HV1'" in done.result["msg"]


def test_bad_input_names_the_option_and_sends_nothing(healthy_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(healthy_lab, tmp_path, {"name": ["LAB-HV1"], "startup_memory": "8 gigs", "power": "turn_off"})
    assert done.run.rc != 0
    assert done.result["msg"].startswith("startup_memory must be a size such as '8GB'")
    assert done.commands == []


def test_ws2025_host_running_vbs_nests_a_running_vm_with_a_checkpoint_in_one_task(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("ws2025-vbs")
    host = first_l0(lab)
    assert host == "hv-2025" and lab.show(host)["host"]["vbs"]["running"] is True
    done = run_vm(lab, tmp_path, {"name": ["LAB-2025"], "power": "shutdown"}, host=host)
    assert done.run.rc == 0, done.result.get("msg")
    assert done.scripts == ["probe", "execute"]                       # one task, one change round trip
    assert done.result["vms"][0]["actions"][0].startswith("shut down through the guest")
    assert done.result["vms"][0]["actions"][-1] == "start"
    assert "warnings" not in done.result
    assert any("1 checkpoint(s)" in note and "work with nested virtualization" in note for note in done.result["notes"])
    vm = vms_of(lab, host)["LAB-2025"]
    assert_nested(vm, state="Running")                                 # the VM runs again
    assert [checkpoint["name"] for checkpoint in vm["checkpoints"]] == ["before-nesting"]

    info = run_info(lab, tmp_path, host, {"name": ["LAB-2025"]})
    assert info["ready"] is True
    assert info["verdict"]["host"]["blockers"] == [] and info["verdict"]["vms"]["LAB-2025"]["blockers"] == []
    converged = run_vm(lab, tmp_path, {"name": ["LAB-2025"], "power": "shutdown"}, host=host)
    assert converged.result["changed"] is False and converged.scripts == ["probe"]


def run_info(lab: Lab, tmp_path: Path, host: str, args: dict[str, t.Any]) -> dict[str, t.Any]:
    playbook = tmp_path / f"info-{len(list(tmp_path.glob('info-*.yml')))}.yml"
    play = [{"hosts": host, "gather_facts": False, "tasks": [{"name": "info", "hyperv.nested.win_nested_info": args}]}]
    playbook.write_text(json.dumps(play), encoding="utf-8")
    return t.cast(dict[str, t.Any], json.loads(lab.playbook(playbook).stdout)["plays"][0]["tasks"][0]["hosts"][host])


def test_amd_old_version_needs_upgrade_version(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> None:
    lab = lab_factory("amd-new")
    host = first_l0(lab)
    refused = run_vm(lab, tmp_path, {"name": ["LAB-AMD-OLD"], "power": "shutdown"}, host=host)
    assert refused.run.rc != 0
    assert "configuration version 9.0; nested virtualization on this AMD host needs 9.3 or higher" in refused.result["msg"]
    assert "upgrade_version=true" in refused.result["msg"]

    upgraded = run_vm(lab, tmp_path, {"name": ["LAB-AMD-OLD"], "power": "shutdown", "upgrade_version": True}, host=host)
    assert upgraded.run.rc == 0, upgraded.result.get("msg")
    vm = vms_of(lab, host)["LAB-AMD-OLD"]
    assert tuple(int(part) for part in vm["version"].split(".")) >= (9, 3)
    assert_nested(vm)


EDGE_LAB = {
    "name": "vm-edge",
    "timing": {"shutdown_seconds": 0.3, "boot_seconds": 0.3, "reboot_seconds": 1.0},
    "hosts": [
        {
            "name": "hv01",
            "address": "127.0.9.1",
            "port": 0,
            "username": "Administrator",
            "password": "Passw0rd!",
            "os": {"caption": "Microsoft Windows Server 2022 Datacenter", "product_type": "server", "edition": "ServerDatacenter", "build": 20348},
            "processor": {"manufacturer": "GenuineIntel", "name": "Intel Xeon", "vmx": True, "ept": True, "virtualization_firmware_enabled": True},
            "logical_processors": 8,
            "memory_gb": 32,
            "hyperv_feature": "Enabled",
            "hypervisor_present": True,
            "vbs": {"configured": False, "running": False},
            "bcd_offer_nested_virt_disabled": False,
            "switches": [{"name": "External", "switch_type": "External", "net_adapter": "Ethernet"}],
            "vms": [
                {"name": "SAVED", "version": "10.0", "state": "Saved", "memory": {"startup_gb": 4, "dynamic": True}, "adapters": [{"switch": "External"}]},
                {"name": "STATIC", "version": "10.0", "state": "Running", "memory": {"startup_gb": 4, "dynamic": False}},
                {"name": "lab[1]", "version": "10.0", "state": "Off", "memory": {"startup_gb": 4, "dynamic": True}},
                {"name": "lab1", "version": "10.0", "state": "Off", "memory": {"startup_gb": 4, "dynamic": True}},
                {
                    "name": "NOSHUT",
                    "version": "10.0",
                    "state": "Running",
                    "memory": {"startup_gb": 4, "dynamic": True},
                    "integration_services": {"Shutdown": False},
                },
                {
                    "name": "TWONICS",
                    "version": "10.0",
                    "state": "Running",
                    "memory": {"startup_gb": 4, "dynamic": False},
                    "expose_virtualization_extensions": True,
                    "adapters": [{"name": "NIC", "switch": "External"}, {"name": "NIC", "switch": "External"}, {"name": "Mgmt", "switch": "External"}],
                },
                {"name": "CKPT", "version": "10.0", "state": "Off", "memory": {"startup_gb": 4, "dynamic": True}, "checkpoints": ["before-nesting"]},
                {"name": "CLUSTERED", "version": "10.0", "state": "Running", "memory": {"startup_gb": 2, "dynamic": False}, "is_clustered": True},
            ],
        }
    ],
}


@pytest.fixture
def edge_lab(lab_factory: t.Callable[[str], Lab], tmp_path: Path) -> Lab:
    lab_file = tmp_path / "vm-edge.yml"
    lab_file.write_text(yaml.safe_dump(EDGE_LAB), encoding="utf-8")
    return lab_factory(str(lab_file.with_suffix("")))


def test_wildcard_characters_select_only_the_exact_vm(edge_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(edge_lab, tmp_path, {"name": ["lab[1]"]})
    assert done.run.rc == 0, done.result.get("msg")
    vms = vms_of(edge_lab)
    assert_nested(vms["lab[1]"], state="Off")
    assert vms["lab1"]["expose_virtualization_extensions"] is False
    assert all("Where-Object Name -eq 'lab[1]'" in line for line in done.result["commands"])


def test_adapters_sharing_a_name_are_all_changed_by_id(edge_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(edge_lab, tmp_path, {"name": ["TWONICS"], "mac_address_spoofing": "on", "adapters": ["NIC"]})
    assert done.run.rc == 0, done.result.get("msg")
    assert len(done.result["commands"]) == 2
    assert [(a["name"], a["mac_address_spoofing"]) for a in vms_of(edge_lab)["TWONICS"]["adapters"]] == [("NIC", "On"), ("NIC", "On"), ("Mgmt", "Off")]
    assert vms_of(edge_lab)["TWONICS"]["state"] == "Running"


def test_static_memory_resizes_live_without_a_power_cycle(edge_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(edge_lab, tmp_path, {"name": ["STATIC"], "state": "disabled", "startup_memory": "6GB"})
    assert done.run.rc == 0, done.result.get("msg")
    assert done.result["vms"][0]["actions"] == ["set startup memory 4GB -> 6GB"]
    vm = vms_of(edge_lab)["STATIC"]
    assert vm["startup_memory_bytes"] == 6 * GB and vm["state"] == "Running"


def test_saved_vm_fails_by_default_and_discard_then_runs(edge_lab: Lab, tmp_path: Path) -> None:
    refused = run_vm(edge_lab, tmp_path, {"name": ["SAVED"], "state": "disabled", "mac_address_spoofing": "on"})
    assert refused.run.rc != 0
    assert "saved state" in refused.result["msg"] and "saved_state=discard" in refused.result["msg"]
    assert refused.scripts == ["probe"]

    done = run_vm(edge_lab, tmp_path, {"name": ["SAVED"], "saved_state": "discard", "power_after": "running"})
    assert done.run.rc == 0, done.result.get("msg")
    assert done.result["vms"][0]["actions"][0] == "discard saved state"
    assert_nested(vms_of(edge_lab)["SAVED"], state="Running")


def test_graceful_shutdown_needs_the_shutdown_service(edge_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(edge_lab, tmp_path, {"name": ["NOSHUT"], "power": "shutdown"})
    assert done.run.rc != 0
    assert "Shutdown integration service is disabled" in done.result["msg"] and "power=turn_off" in done.result["msg"]
    assert done.scripts == ["probe"]


def test_checkpoints_are_a_note_by_default_and_fail_when_asked(edge_lab: Lab, tmp_path: Path) -> None:
    refused = run_vm(edge_lab, tmp_path, {"name": ["CKPT"], "checkpoints": "fail"})
    assert refused.run.rc != 0 and "1 checkpoint(s)" in refused.result["msg"]
    done = run_vm(edge_lab, tmp_path, {"name": ["CKPT"]})
    assert done.run.rc == 0
    assert "warnings" not in done.result
    assert any("1 checkpoint(s)" in note for note in done.result["notes"])
    assert [checkpoint["name"] for checkpoint in vms_of(edge_lab)["CKPT"]["checkpoints"]] == ["before-nesting"]


def test_dynamic_memory_left_on_is_a_warning_and_the_nested_vm_starts(edge_lab: Lab, tmp_path: Path) -> None:
    done = run_vm(edge_lab, tmp_path, {"name": ["lab1"], "dynamic_memory": "unchanged", "power_after": "running"})
    assert done.run.rc == 0, done.result.get("msg")
    (warning,) = done.result["warnings"]
    assert "dynamic memory stays on" in warning and "keeps the 4GB" in warning
    vm = vms_of(edge_lab)["lab1"]
    assert (vm["expose_virtualization_extensions"], vm["dynamic_memory_enabled"], vm["state"]) == (True, True, "Running")
    info = run_info(edge_lab, tmp_path, "hv01", {"name": ["lab1"]})
    entry = info["verdict"]["vms"]["lab1"]
    assert entry["ready"] is True and entry["why_not_starting"] == []
    assert [w["code"] for w in entry["warnings"]] == ["vm.dynamic_memory_enabled"]
    assert "keeps the 4 GB it has now" in entry["warnings"][0]["msg"]


def test_a_clustered_vm_is_not_power_cycled_unless_allowed(edge_lab: Lab, tmp_path: Path) -> None:
    before = vms_of(edge_lab)["CLUSTERED"]
    refused = run_vm(edge_lab, tmp_path, {"name": ["CLUSTERED"], "power": "shutdown"})
    assert refused.run.rc != 0
    assert "clustered role of a failover cluster" in refused.result["msg"] and "clustered=allow" in refused.result["msg"]
    assert refused.scripts == ["probe"]
    assert vms_of(edge_lab)["CLUSTERED"] == before
    allowed = run_vm(edge_lab, tmp_path, {"name": ["CLUSTERED"], "power": "shutdown", "clustered": "allow"})
    assert allowed.run.rc == 0, allowed.result.get("msg")
    assert any("clustered role" in warning for warning in allowed.result["warnings"])
    assert_nested(vms_of(edge_lab)["CLUSTERED"], state="Running")
