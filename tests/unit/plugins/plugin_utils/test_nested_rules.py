"""The verdict rules, case by case, with Microsoft's guidance as the expected answers."""

from __future__ import annotations

import copy
import re
import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _nested_rules as rules
from ansible_collections.hyperv.nested.plugins.plugin_utils._nested_rules import evaluate, host_verdict, summarize, vm_verdict

from ...probe_fixtures import GB, NESTED, probe_host, probe_vm, vm_adapter, vms_section

REPO = Path(__file__).resolve().parents[4]


def merge(base: dict[str, t.Any], changes: dict[str, t.Any]) -> dict[str, t.Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


INTEL_2022 = probe_host(supported_versions=["8.0", "9.0", "9.3", "10.0"])
AMD = {"processor": {"manufacturer": "AuthenticAMD", "name": "AMD EPYC 7763 64-Core Processor"}}
WS2019 = {"os": {"caption": "Microsoft Windows Server 2019 Datacenter", "build": 17763}, "supported_versions": ["8.0", "9.0"], "default_version": "9.0"}
WIN10 = {"os": {"caption": "Microsoft Windows 10 Pro", "product_type": "client", "build": 19045}}
WIN11 = {"os": {"caption": "Microsoft Windows 11 Pro", "product_type": "client", "build": 22000}}
WS2025 = {
    "os": {"caption": "Microsoft Windows Server 2025 Datacenter", "build": 26100},
    "supported_versions": ["8.0", "9.0", "10.0", "11.0", "12.0"],
    "default_version": "12.0",
}

# A VM that already is everything a nested Hyper-V host should be.
READY_VM = probe_vm(
    "LAB-HV1",
    id="6f1b3c0e-0000-4000-8000-000000000001",
    processor_count=4,
    startup_memory_bytes=8 * GB,
    minimum_memory_bytes=8 * GB,
    maximum_memory_bytes=8 * GB,
    adapters=[vm_adapter("LAB-HV1", mac_address_spoofing="On")],
    **NESTED,
)


def host_codes(changes: dict[str, t.Any], **kwargs: t.Any) -> tuple[list[str], list[str]]:
    verdict = host_verdict(merge(INTEL_2022, changes), **kwargs)
    return [f.code for f in verdict.blockers], [f.code for f in verdict.warnings]


def host_notes(changes: dict[str, t.Any]) -> list[str]:
    return [f.code for f in host_verdict(merge(INTEL_2022, changes)).notes]


def test_healthy_intel_host_is_ready_without_remarks() -> None:
    verdict = host_verdict(INTEL_2022)
    assert verdict.ready
    assert verdict.as_dict() == {"ready": True, "blockers": [], "warnings": [], "notes": []}


@pytest.mark.parametrize(
    ("changes", "blockers", "warnings"),
    [
        pytest.param(merge(AMD, WS2019), ["host.processor_unsupported"], [], id="amd-on-2019-17763"),
        pytest.param(AMD, [], [], id="amd-on-2022-20348"),
        pytest.param(merge(AMD, WIN10), ["host.processor_unsupported"], [], id="amd-on-windows-10"),
        pytest.param(merge(AMD, WIN11), [], [], id="amd-on-windows-11-22000"),
        pytest.param(WS2019, [], [], id="intel-on-2019"),
        pytest.param({"os": {"build": 9600}}, ["host.build_too_old"], [], id="intel-on-2012r2"),
        # Builds 10565-14392 had only the preview of nested virtualization; 14393 (Windows Server
        # 2016 / Windows 10 1607) is the first generally available one, with configuration version 8.0.
        pytest.param({"os": {"build": 10565}}, ["host.build_too_old"], [], id="intel-on-first-preview-build"),
        pytest.param({"os": {"build": 14392}}, ["host.build_too_old"], [], id="intel-on-last-preview-build"),
        pytest.param({"os": {"build": 14393}}, [], [], id="intel-on-ga-build-14393"),
        pytest.param({"processor": {"manufacturer": "CentaurHauls"}}, ["host.processor_unsupported"], [], id="other-vendor"),
        pytest.param({"hypervisor_present": False}, ["host.hypervisor_not_running"], [], id="hypervisor-off"),
        pytest.param(
            {"hypervisor_present": False, "processor": {"virtualization_firmware_enabled": False}},
            ["host.hypervisor_not_running", "host.virtualization_disabled_in_firmware"],
            [],
            id="firmware-off",
        ),
        pytest.param(
            {"hypervisor_present": False, "processor": {"vm_monitor_mode_extensions": False}},
            ["host.hypervisor_not_running", "host.processor_unsupported"],
            [],
            id="no-vtx",
        ),
        pytest.param(
            {"hypervisor_present": False, "processor": {"second_level_address_translation": False}},
            ["host.hypervisor_not_running", "host.slat_missing"],
            [],
            id="no-ept",
        ),
        pytest.param(
            # With the hypervisor running, Win32_Processor hides these flags: not evidence of anything.
            {"processor": {"virtualization_firmware_enabled": False, "vm_monitor_mode_extensions": False, "second_level_address_translation": False}},
            [],
            [],
            id="flags-hidden-by-running-hypervisor",
        ),
        pytest.param({"hyperv_feature": "Disabled", "hypervisor_present": False}, ["host.hyperv_not_installed"], [], id="no-hyperv"),
        pytest.param({"hyperv_feature": "EnablePending", "hypervisor_present": False}, ["host.hyperv_not_installed"], [], id="hyperv-pending"),
        # Virtualization-based security (Credential Guard is on by default on Windows Server 2025)
        # is no obstacle: Microsoft's current guide sets no such restriction.
        pytest.param({"vbs": {"configured": True, "running": True, "status": 2}}, [], [], id="vbs-running"),
        pytest.param({"vbs": {"configured": True, "running": False, "status": 1}}, [], [], id="vbs-next-boot"),
        pytest.param(merge(WS2025, {"vbs": {"configured": True, "running": True, "status": 2}}), [], [], id="ws2025-with-credential-guard"),
        pytest.param({"bcd_offer_nested_virt_disabled": True}, ["host.bcd_nested_disabled"], [], id="offernestedvirt-false"),
        pytest.param({"bcd_offer_nested_virt_disabled": None}, [], ["host.bcd_unreadable"], id="bcd-unreadable"),
        pytest.param({"is_virtual_machine": True}, [], [], id="host-is-an-l1"),
        pytest.param(
            {
                "is_virtual_machine": True,
                "hypervisor_present": False,
                "hyperv_feature": "Disabled",
                "processor": {"vm_monitor_mode_extensions": False, "second_level_address_translation": False},
            },
            ["host.hyperv_not_installed", "host.processor_unsupported"],
            [],
            id="l1-whose-parent-exposes-nothing",
        ),
        pytest.param(
            {"is_virtual_machine": True, "hypervisor_present": False, "hyperv_feature": "Disabled"},
            ["host.hyperv_not_installed"],
            [],
            id="l1-with-extensions-before-hyperv",
        ),
        pytest.param({"is_administrator": False, "is_hyperv_administrator": False}, ["host.not_hyperv_admin"], [], id="not-hyperv-admin"),
        pytest.param({"is_administrator": False, "is_hyperv_administrator": True}, [], [], id="hyperv-admin-suffices"),
    ],
)
def test_host_rules(changes: dict[str, t.Any], blockers: list[str], warnings: list[str]) -> None:
    assert host_codes(changes) == (blockers, warnings)


def test_amd_on_2019_names_the_build_it_needs() -> None:
    verdict = host_verdict(merge(INTEL_2022, merge(AMD, WS2019)))
    (finding,) = verdict.blockers
    assert "build 20348" in finding.msg and "17763" in finding.msg
    assert "Windows Server 2022" in finding.fix


def test_amd_on_windows_10_names_windows_11() -> None:
    (finding,) = host_verdict(merge(INTEL_2022, merge(AMD, WIN10))).blockers
    assert "Windows 11 (build 22000)" in finding.msg


def test_missing_hyperv_powershell_is_its_own_blocker() -> None:
    assert host_codes({}, hyperv_module=False) == (["host.hyperv_powershell_missing"], [])
    # Without the role the module is missing too: one reason, not two.
    assert host_codes({"hyperv_feature": "Disabled"}, hyperv_module=False) == (["host.hyperv_not_installed"], [])


def test_pending_install_asks_for_a_restart() -> None:
    (finding,) = host_verdict(merge(INTEL_2022, {"hyperv_feature": "EnablePending", "hypervisor_present": False})).blockers
    assert finding.fix == "Restart the host."


def test_absent_bcd_field_means_not_checked_not_unreadable() -> None:
    host = {k: v for k, v in INTEL_2022.items() if k != "bcd_offer_nested_virt_disabled"}
    assert host_verdict(host).warnings == []


def vm_codes(vm_changes: dict[str, t.Any], host_changes: dict[str, t.Any] | None = None) -> tuple[list[str], list[str], list[str]]:
    verdict = vm_verdict(merge(INTEL_2022, host_changes or {}), merge(READY_VM, vm_changes))
    return ([f.code for f in verdict.blockers], [f.code for f in verdict.warnings], [f.code for f in verdict.why_not_starting])


def test_ready_vm_has_no_remarks() -> None:
    verdict = vm_verdict(INTEL_2022, READY_VM)
    assert verdict.as_dict(with_start=True) == {"ready": True, "blockers": [], "warnings": [], "notes": [], "why_not_starting": []}


@pytest.mark.parametrize(
    ("vm_changes", "host_changes", "expected"),
    [
        pytest.param({"version": "7.1"}, {}, (["vm.version_too_low"], [], ["vm.version_too_low"]), id="intel-7.1"),
        pytest.param({"version": "8.0"}, {}, ([], [], []), id="intel-8.0"),
        pytest.param({"version": "9.0"}, AMD, (["vm.version_too_low"], [], ["vm.version_too_low"]), id="amd-9.0"),
        pytest.param({"version": "9.3"}, AMD, ([], [], []), id="amd-9.3"),
        pytest.param({"version": "12.0"}, {}, (["vm.version_unsupported_by_host"], [], ["vm.version_unsupported_by_host"]), id="too-new-for-host"),
        pytest.param(
            {"version": "12.0", "expose_virtualization_extensions": False},
            {},
            (["vm.version_unsupported_by_host", "vm.extensions_not_exposed"], [], ["vm.version_unsupported_by_host"]),
            id="too-new-starts-nowhere-here",
        ),
        pytest.param({"expose_virtualization_extensions": False}, {}, (["vm.extensions_not_exposed"], [], []), id="not-exposed"),
        pytest.param(
            {"expose_virtualization_extensions": False, "dynamic_memory_enabled": True},
            {},
            (["vm.extensions_not_exposed"], ["vm.dynamic_memory_enabled"], []),
            id="plain-vm-starts-fine",
        ),
        # Dynamic memory does not stop a nested VM from starting: it keeps its memory while Hyper-V runs inside.
        pytest.param({"dynamic_memory_enabled": True}, {}, ([], ["vm.dynamic_memory_enabled"], []), id="exposed-with-dynamic-memory"),
        pytest.param({}, {"vbs": {"configured": True, "running": True}}, ([], [], []), id="exposed-on-vbs-host"),
        pytest.param({}, merge(WS2025, {"vbs": {"configured": True, "running": True}}), ([], [], []), id="exposed-on-ws2025-vbs-host"),
        pytest.param({"expose_virtualization_extensions": False}, {"vbs": {"running": True}}, (["vm.extensions_not_exposed"], [], []), id="vbs-host-plain-vm"),
        pytest.param({"state": "Saved"}, {}, ([], ["vm.saved_state"], []), id="saved-nothing-to-change"),
        pytest.param(
            {"state": "Saved", "dynamic_memory_enabled": True}, {}, ([], ["vm.dynamic_memory_enabled", "vm.saved_state"], []), id="saved-dynamic-memory"
        ),
        pytest.param(
            {"state": "Saved", "expose_virtualization_extensions": False},
            {},
            (["vm.extensions_not_exposed", "vm.saved_state"], [], []),
            id="saved-needs-changes",
        ),
        pytest.param(
            {"state": "Saved"},
            {"bcd_offer_nested_virt_disabled": True},
            ([], ["vm.saved_state"], ["host.bcd_nested_disabled", "vm.saved_state"]),
            id="saved-on-bad-host",
        ),
        # Checkpoints work with nested virtualization: a note (see test_checkpoints_are_a_note), no warning.
        pytest.param({"checkpoints": [{"name": "before", "id": "x"}]}, {}, ([], [], []), id="checkpoints"),
        pytest.param({"is_clustered": True}, {}, ([], ["vm.clustered"], []), id="clustered-role"),
        pytest.param({"startup_memory_bytes": 2 * GB}, {}, ([], ["vm.memory_below_recommended"], []), id="2gb"),
        pytest.param({"startup_memory_bytes": 4 * GB}, {}, ([], [], []), id="4gb"),
        pytest.param({"processor_count": 1}, {}, ([], ["vm.processor_count_below_recommended"], []), id="1-vcpu"),
        pytest.param({"processor_count": 2}, {}, ([], [], []), id="2-vcpu"),
        pytest.param(
            {"processor_count": 240, "guest_os": "Windows Server 2019 Datacenter"},
            {},
            (["vm.processor_count_above_2019_limit"], [], ["vm.processor_count_above_2019_limit"]),
            id="240-vcpu-2019-guest",
        ),
        pytest.param({"processor_count": 225, "guest_os": "Windows Server 2016 Standard"}, {}, ([], [], []), id="225-vcpu-2016-guest"),
        pytest.param({"processor_count": 240, "guest_os": "Windows Server 2022 Datacenter"}, {}, ([], [], []), id="240-vcpu-2022-guest"),
        pytest.param({"processor_count": 240, "guest_os": None}, {}, ([], ["vm.processor_count_above_2019_limit"], []), id="240-vcpu-unknown-guest"),
        pytest.param(
            {"adapters": [{"name": "Network Adapter", "switch_name": "External", "mac_address_spoofing": "Off"}]},
            {},
            ([], ["vm.mac_spoofing_off"], []),
            id="spoofing-off",
        ),
        pytest.param({"adapters": [{"name": "Loose", "switch_name": None, "mac_address_spoofing": "Off"}]}, {}, ([], [], []), id="unconnected-adapter"),
        pytest.param(
            {
                "integration_services": [
                    {"name": "Shutdown", "enabled": False, "primary_status": "OK"},
                    {"name": "Heartbeat", "enabled": True, "primary_status": "OK"},
                ]
            },
            {},
            ([], ["vm.shutdown_service_missing"], []),
            id="shutdown-off",
        ),
        pytest.param({"integration_services": []}, {}, ([], ["vm.shutdown_service_missing", "vm.heartbeat_missing"], []), id="no-services"),
        pytest.param(
            {
                "integration_services": [
                    {"name": "Shutdown", "enabled": True, "primary_status": "OK"},
                    {"name": "Heartbeat", "enabled": True, "primary_status": "No Contact"},
                ]
            },
            {},
            ([], ["vm.heartbeat_not_ok"], []),
            id="heartbeat-no-contact",
        ),
        pytest.param(
            {
                "state": "Off",
                "integration_services": [
                    {"name": "Shutdown", "enabled": True, "primary_status": ""},
                    {"name": "Heartbeat", "enabled": True, "primary_status": ""},
                ],
            },
            {},
            ([], [], []),
            id="off-vm-has-no-heartbeat",
        ),
    ],
)
def test_vm_rules(vm_changes: dict[str, t.Any], host_changes: dict[str, t.Any], expected: tuple[list[str], list[str], list[str]]) -> None:
    assert vm_codes(vm_changes, host_changes) == expected


def test_intel_version_7_1_names_8_0_and_the_fixes() -> None:
    (finding,) = vm_verdict(INTEL_2022, merge(READY_VM, {"version": "7.1"})).blockers
    assert "7.1 is below 8.0" in finding.msg and "Intel" in finding.msg
    assert "Update-VMVersion -VMName 'LAB-HV1'" in finding.fix
    assert "default version, 10.0" in finding.fix
    assert "upgrade_version: true" in finding.fix


def test_amd_2022_version_9_0_names_9_3() -> None:
    (finding,) = vm_verdict(merge(INTEL_2022, AMD), merge(READY_VM, {"version": "9.0"})).blockers
    assert "9.0 is below 9.3" in finding.msg and "AMD" in finding.msg


def test_versions_compare_as_numbers_not_strings() -> None:
    # As strings "10.0" < "8.0"; Get-NestedVirtStatus compared builds that way.
    assert vm_codes({"version": "10.0"}) == ([], [], [])
    assert rules.version_key("10.0") > rules.version_key("9.3") > rules.version_key("9.0")
    assert rules.version_key("garbage") == (0, 0)


def test_fix_texts_select_wildcard_names_exactly() -> None:
    verdict = vm_verdict(INTEL_2022, merge(READY_VM, {"name": "lab[1]", "expose_virtualization_extensions": False}))
    assert "Set-VMProcessor -VM (Get-VM | Where-Object Name -eq 'lab[1]')" in verdict.blockers[0].fix
    quoted = vm_verdict(INTEL_2022, merge(READY_VM, {"name": "it's", "expose_virtualization_extensions": False}))
    assert "-VMName 'it''s'" in quoted.blockers[0].fix


def test_memory_warning_names_the_size() -> None:
    (finding,) = vm_verdict(INTEL_2022, merge(READY_VM, {"startup_memory_bytes": 2 * GB})).warnings
    assert "2 GB" in finding.msg
    (finding,) = vm_verdict(INTEL_2022, merge(READY_VM, {"startup_memory_bytes": 512 * 1024**2})).warnings
    assert "512 MB" in finding.msg


def test_spoofing_warning_names_the_adapters() -> None:
    adapters = [
        {"name": "LAN", "switch_name": "External", "mac_address_spoofing": "Off"},
        {"name": "Lab", "switch_name": "Internal", "mac_address_spoofing": "On"},
    ]
    (finding,) = vm_verdict(INTEL_2022, merge(READY_VM, {"adapters": adapters})).warnings
    assert "off on LAN:" in finding.msg


def probe_vms(*vms: dict[str, t.Any], all_names: list[str] | None = None, hyperv_module: bool = True) -> dict[str, t.Any]:
    return vms_section(*vms, all_names=all_names, hyperv_module=hyperv_module)


def test_evaluate_reports_missing_names_with_close_matches() -> None:
    report = evaluate(INTEL_2022, probe_vms(READY_VM, all_names=["LAB-HV1", "LAB-HV2", "Other"]), ["LAB-HV1", "lab-hv3"])
    assert report.missing == ["lab-hv3"]
    assert not report.ready
    (finding,) = report.vms["lab-hv3"].blockers
    assert finding.code == "vm.not_found"
    assert "Did you mean 'LAB-HV2', 'LAB-HV1'?" in finding.msg
    assert report.vms["LAB-HV1"].ready


def test_evaluate_matches_requested_names_case_insensitively() -> None:
    report = evaluate(INTEL_2022, probe_vms(READY_VM), ["lab-hv1"])
    assert report.missing == [] and report.ready


def test_evaluate_flags_duplicate_names() -> None:
    twin = merge(READY_VM, {"id": "6f1b3c0e-0000-4000-8000-000000000002", "name": "lab-hv1"})
    report = evaluate(INTEL_2022, probe_vms(READY_VM, twin), ["LAB-HV1"])
    (finding,) = report.vms["LAB-HV1"].blockers
    assert finding.code == "vm.duplicate_name"
    assert "000000000001" in finding.msg and "000000000002" in finding.msg
    assert report.missing == []


def test_evaluate_without_hyperv_module_blames_the_host_not_the_names() -> None:
    report = evaluate(INTEL_2022, probe_vms(all_names=[], hyperv_module=False), ["LAB-HV1"])
    assert report.missing == [] and report.vms == {}
    assert [f.code for f in report.host.blockers] == ["host.hyperv_powershell_missing"]
    assert not report.ready


def test_evaluate_hints_at_rights_when_nothing_is_visible() -> None:
    host = merge(INTEL_2022, {"is_administrator": False, "is_hyperv_administrator": False})
    report = evaluate(host, probe_vms(all_names=[]), ["LAB-HV1"])
    assert "host.not_hyperv_admin" in report.vms["LAB-HV1"].blockers[0].msg


def test_evaluate_all_vms_when_none_requested() -> None:
    plain = merge(READY_VM, {"name": "LAB-HV2", "expose_virtualization_extensions": False})
    report = evaluate(INTEL_2022, probe_vms(READY_VM, plain), None)
    assert list(report.vms) == ["LAB-HV1", "LAB-HV2"]
    assert report.as_dict()["ready"] is False
    assert report.as_dict()["vms"]["LAB-HV2"]["blockers"][0]["code"] == "vm.extensions_not_exposed"
    assert report.as_dict()["vms"]["LAB-HV1"]["why_not_starting"] == []


def test_host_blockers_make_the_report_not_ready_even_with_ready_vms() -> None:
    report = evaluate(merge(INTEL_2022, {"bcd_offer_nested_virt_disabled": True}), probe_vms(READY_VM), None)
    assert report.vms["LAB-HV1"].ready is True
    assert report.ready is False


def test_summary_is_one_paragraph_naming_host_vms_and_reasons() -> None:
    plain = merge(READY_VM, {"name": "LAB-HV2", "expose_virtualization_extensions": False, "processor_count": 1})
    report = evaluate(INTEL_2022, probe_vms(READY_VM, plain), ["LAB-HV1", "LAB-HV2", "NOPE"])
    text = summarize(INTEL_2022, report)
    assert "\n" not in text
    assert text.startswith("HV01 (Microsoft Windows Server 2022 Datacenter, build 20348, GenuineIntel) can run nested virtualization.")
    assert "1 of 2 VM(s) ready to run Hyper-V (LAB-HV1)." in text
    assert "LAB-HV2 is not: vm.extensions_not_exposed." in text
    assert "Not found: NOPE." in text
    assert "1 warning(s)" in text


def test_summary_of_a_refused_host_says_why() -> None:
    host = merge(INTEL_2022, merge(AMD, WS2019))
    text = summarize(host, evaluate(host, probe_vms(), None))
    assert "cannot run nested virtualization: Nested virtualization on AMD processors needs Windows Server 2022 (build 20348)" in text


def test_every_emitted_code_is_registered_and_documented() -> None:
    # The rules are a package (issue 19): every module of it.
    source = "\n".join(path.read_text(encoding="utf-8") for path in sorted(Path(rules.__file__).parent.glob("*.py")))
    emitted = set(re.findall(r'"((?:host|vm)\.[a-z0-9_]+)"', source))
    assert emitted == set(rules.CODES)
    guide = (REPO / "docs" / "reason-codes.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## `((?:host|vm)\.[a-z0-9_]+)`", guide, flags=re.MULTILINE))
    assert documented == set(rules.CODES)


@pytest.mark.parametrize(
    ("build", "blockers"),
    [("20348", []), ("9600", ["host.build_too_old"]), ("not a number", ["host.build_too_old"]), (None, ["host.build_too_old"])],
)
def test_build_is_read_as_a_number(build: t.Any, blockers: list[str]) -> None:
    assert host_codes({"os": {"build": build}}) == (blockers, [])


def test_unknown_processor_sets_no_version_minimum() -> None:
    other = {"processor": {"manufacturer": "CentaurHauls"}}
    assert vm_codes({"version": "5.0"}, other)[0] == []


@pytest.mark.parametrize(
    ("guest_os", "warnings"),
    [("Windows 10 Enterprise", []), ("Ubuntu 22.04", ["vm.processor_count_above_2019_limit"])],
)
def test_vcpu_limit_applies_only_to_server_2019_and_earlier(guest_os: str, warnings: list[str]) -> None:
    assert vm_codes({"processor_count": 240, "guest_os": guest_os}) == ([], warnings, [])


def test_l1_without_exposed_extensions_blames_the_parent() -> None:
    l1 = merge(INTEL_2022, {"is_virtual_machine": True, "hypervisor_present": False, "processor": {"vm_monitor_mode_extensions": False}})
    (finding,) = [f for f in host_verdict(l1).blockers if f.code == "host.processor_unsupported"]
    assert "its parent host does not expose virtualization extensions" in finding.msg
    assert "-ExposeVirtualizationExtensions $true" in finding.fix


# ---- Microsoft's current guidance (issue 16): no preview-era blockers, and what it does name ----

AZURE_TAG = "7783-7084-3265-9085-8269-3286-77"
HYPERV_VM = {
    "is_virtual_machine": True,
    "platform": {"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": "1234-5678-9012"},
}
AZURE_VM = {"is_virtual_machine": True, "platform": {"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": AZURE_TAG}}


def all_findings(verdict: rules.Verdict) -> list[rules.Finding]:
    return [*verdict.blockers, *verdict.warnings, *verdict.notes, *verdict.why_not_starting]


def test_ws2025_host_with_credential_guard_and_a_running_vm_with_a_checkpoint_is_ready() -> None:
    host = merge(INTEL_2022, merge(WS2025, {"vbs": {"configured": True, "running": True, "status": 2}}))
    vm = merge(READY_VM, {"version": "12.0", "checkpoints": [{"name": "before", "id": "c1"}]})
    report = evaluate(host, probe_vms(vm), ["LAB-HV1"])
    assert report.ready
    assert report.as_dict()["host"] == {"ready": True, "blockers": [], "warnings": [], "notes": []}
    assert [f.code for f in report.vms["LAB-HV1"].notes] == ["vm.checkpoints_present"]


def test_no_finding_ever_advises_turning_security_off() -> None:
    host = merge(INTEL_2022, {"vbs": {"configured": True, "running": True, "status": 2}, "hypervisor_present": False})
    vm = merge(READY_VM, {"dynamic_memory_enabled": True, "checkpoints": [{"name": "c", "id": "c"}], "expose_virtualization_extensions": False})
    texts = " ".join(f"{f.msg} {f.fix}" for f in all_findings(host_verdict(host)) + all_findings(vm_verdict(host, vm)))
    for forbidden in ("VBS", "irtualization-based security", "Device Guard", "Credential Guard", "DeviceGuard", "not supported"):
        assert forbidden not in texts


def test_dynamic_memory_is_a_warning_that_says_what_happens_and_names_the_amount() -> None:
    running = merge(READY_VM, {"dynamic_memory_enabled": True, "memory_assigned_bytes": 6 * GB, "startup_memory_bytes": 4 * GB})
    verdict = vm_verdict(INTEL_2022, running)
    (finding,) = verdict.warnings
    assert finding.code == "vm.dynamic_memory_enabled"
    assert verdict.ready and verdict.why_not_starting == []
    assert "keeps the 6 GB it has now" in finding.msg
    assert "neither grows nor shrinks" in finding.msg
    off = merge(running, {"state": "Off", "memory_assigned_bytes": 0})
    (finding,) = vm_verdict(INTEL_2022, off).warnings
    assert "starts with its startup memory of 4 GB and keeps that amount" in finding.msg


def test_dynamic_memory_on_a_vm_not_nested_yet_says_when_it_matters() -> None:
    vm = merge(READY_VM, {"dynamic_memory_enabled": True, "expose_virtualization_extensions": False})
    (finding,) = vm_verdict(INTEL_2022, vm).warnings
    assert "once Hyper-V runs inside it" in finding.msg


def test_checkpoints_are_a_note_not_a_restriction() -> None:
    vm = merge(READY_VM, {"checkpoints": [{"name": "a", "id": "1"}, {"name": "b", "id": "2"}]})
    verdict = vm_verdict(INTEL_2022, vm)
    (finding,) = verdict.notes
    assert finding.code == "vm.checkpoints_present"
    assert "2 checkpoint(s)" in finding.msg and "work with nested virtualization" in finding.msg
    assert verdict.warnings == [] and verdict.ready


def test_saved_vm_keeps_its_handling() -> None:
    (finding,) = vm_verdict(INTEL_2022, merge(READY_VM, {"state": "Saved"})).warnings
    assert finding.code == "vm.saved_state"
    blocked = vm_verdict(INTEL_2022, merge(READY_VM, {"state": "Saved", "version": "7.1"}))
    assert [f.code for f in blocked.blockers] == ["vm.version_too_low", "vm.saved_state"]


def test_a_host_that_is_a_hyperv_vm_is_a_note_not_a_warning() -> None:
    verdict = host_verdict(merge(INTEL_2022, HYPERV_VM))
    assert verdict.warnings == []
    (note,) = verdict.notes
    assert note.code == "host.is_virtual_machine"
    assert "one level of nesting" in note.msg


@pytest.mark.parametrize(
    ("manufacturer", "model", "hypervisor"),
    [
        ("VMware, Inc.", "VMware Virtual Platform", "VMware"),
        ("VMware, Inc.", "VMware7,1", "VMware"),
        ("QEMU", "Standard PC (Q35 + ICH9, 2009)", "KVM/QEMU"),
        ("Red Hat", "KVM", "KVM/QEMU"),
        ("Xen", "HVM domU", "Xen"),
        ("innotek GmbH", "VirtualBox", "VirtualBox"),
        ("Parallels Software International Inc.", "Parallels Virtual Platform", "Parallels"),
        ("Amazon EC2", "m5.xlarge", "AWS Nitro (KVM)"),
        ("Google", "Google Compute Engine", "Google Compute Engine (KVM)"),
    ],
)
def test_a_parent_that_is_not_hyperv_is_named_and_unsupported(manufacturer: str, model: str, hypervisor: str) -> None:
    host = merge(INTEL_2022, {"platform": {"manufacturer": manufacturer, "model": model, "smbios_asset_tag": ""}})
    assert rules.platform_of(host).hypervisor == hypervisor
    verdict = host_verdict(host)
    (warning,) = verdict.warnings
    assert warning.code == "host.parent_not_hyperv"
    assert hypervisor in warning.msg and "isn't supported" in warning.msg
    assert "Set-VMProcessor" not in warning.fix


def test_a_vmware_l1_without_vtx_is_told_to_turn_it_on_in_vmware_not_on_a_hyperv_parent() -> None:
    host = merge(
        INTEL_2022,
        {"hypervisor_present": False, "processor": {"vm_monitor_mode_extensions": False}, "platform": {"manufacturer": "VMware, Inc.", "model": "VMware7,1"}},
    )
    (finding,) = [f for f in host_verdict(host).blockers if f.code == "host.processor_unsupported"]
    assert "VMware" in finding.fix and "Set-VMProcessor" not in finding.fix


def test_physical_hosts_are_not_virtual() -> None:
    host = merge(INTEL_2022, {"platform": {"manufacturer": "Dell Inc.", "model": "PowerEdge R750", "smbios_asset_tag": ""}})
    assert rules.platform_of(host) == rules.Platform(virtual=False, hypervisor=None, cloud=None)
    assert host_verdict(host).notes == [] and host_verdict(host).warnings == []


def test_azure_is_detected_from_its_smbios_asset_tag_and_reported() -> None:
    host = merge(INTEL_2022, AZURE_VM)
    assert rules.platform_of(host) == rules.Platform(virtual=True, hypervisor="Hyper-V", cloud="Azure")
    verdict = host_verdict(host)
    assert verdict.warnings == []
    (note,) = verdict.notes
    assert note.code == "host.azure_vm"
    assert "168.63.129.16" in note.msg


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"hypervisor_present": False, "processor": {"vm_monitor_mode_extensions": False}}, id="no-vtx"),
        pytest.param({"hypervisor_present": False}, id="hypervisor-not-running"),
    ],
)
def test_azure_fix_texts_never_send_the_user_to_a_parent_they_cannot_reach(changes: dict[str, t.Any]) -> None:
    verdict = host_verdict(merge(merge(INTEL_2022, AZURE_VM), changes))
    assert verdict.blockers
    for finding in verdict.blockers:
        assert "Set-VMProcessor" not in finding.fix and "parent host" not in finding.fix
    assert any("security type Standard" in f.fix and "VM size" in f.fix for f in verdict.blockers)


def test_a_hyperv_l1_fix_still_names_the_parent_setting() -> None:
    host = merge(merge(INTEL_2022, HYPERV_VM), {"hypervisor_present": False, "processor": {"vm_monitor_mode_extensions": False}})
    (finding,) = [f for f in host_verdict(host).blockers if f.code == "host.processor_unsupported"]
    assert "-ExposeVirtualizationExtensions $true" in finding.fix


def test_several_nat_networks_are_a_warning_naming_them() -> None:
    nats = [
        {"name": "LocalNAT", "internal_ip_interface_address_prefix": "192.168.100.0/24"},
        {"name": "DockerNAT", "internal_ip_interface_address_prefix": "172.20.0.0/16"},
    ]
    (finding,) = host_verdict(merge(INTEL_2022, {"nats": nats})).warnings
    assert finding.code == "host.multiple_nats"
    assert "LocalNAT (192.168.100.0/24)" in finding.msg and "DockerNAT (172.20.0.0/16)" in finding.msg
    assert host_verdict(merge(INTEL_2022, {"nats": nats[:1]})).warnings == []


def test_clustered_vm_is_a_warning_that_names_the_guidance() -> None:
    (finding,) = vm_verdict(INTEL_2022, merge(READY_VM, {"is_clustered": True})).warnings
    assert finding.code == "vm.clustered"
    assert "Failover Clustering" in finding.msg and "clustered=allow" in finding.msg


@pytest.mark.parametrize(
    ("mode", "warnings", "notes"),
    [(None, ["vm.mac_spoofing_off"], []), ("mac_spoofing", ["vm.mac_spoofing_off"], []), ("nat", [], ["vm.mac_spoofing_off"])],
)
def test_spoofing_off_is_noise_only_for_a_vm_in_nat_mode(mode: str | None, warnings: list[str], notes: list[str]) -> None:
    vm = merge(READY_VM, {"adapters": [vm_adapter("LAB-HV1", mac_address_spoofing="Off")]})
    modes = {} if mode is None else {"lab-hv1": mode}
    report = evaluate(INTEL_2022, probe_vms(vm), ["LAB-HV1"], network_modes=modes)
    verdict = report.vms["LAB-HV1"]
    assert [f.code for f in verdict.warnings] == warnings
    assert [f.code for f in verdict.notes] == notes


def test_retired_codes_are_documented_and_never_emitted() -> None:
    guide = (REPO / "docs" / "reason-codes.md").read_text(encoding="utf-8")
    retired = guide.split("## Retired codes", 1)[1]
    for code in ("host.vbs_running", "host.vbs_configured"):
        assert f"`{code}`" in retired
        assert code not in rules.CODES


def test_no_document_claims_identical_builds() -> None:
    """Parent and child on identical builds was a 2016 preview prerequisite: mentioned only as that history."""
    paths = [REPO / "docs" / "reason-codes.md", REPO / "docs" / "troubleshooting.md", REPO / "tests" / "simulator" / "hvsim" / "model" / "RULES.md"]
    for path in [*paths, *sorted((REPO / "plugins").rglob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"(identical|same)( windows)? builds?", text, flags=re.IGNORECASE):
            around = text[max(0, match.start() - 400) : match.end() + 400].lower()
            assert "preview" in around, f"{path}: {text[max(0, match.start() - 100) : match.end() + 100]}"
