"""The verdict rules' exact answers, pinned before they were split into rule families (issue 19).

Each scenario runs host_verdict, vm_verdict (with its why_not_starting), evaluate and summarize on
one probe answer and compares everything they return, in order and word for word, with
`nested_rules_golden.json`, recorded from the rules as they were before the split. Together the
scenarios produce every reason code of docs/reason-codes.md that the rules emit (a test below
checks it), so a refactoring that reorders findings, drops a branch or changes a sentence fails
here. After an intended change of a rule, record again with `HVN_RECORD_GOLDEN=1` and review the
diff of the JSON file.
"""

from __future__ import annotations

import copy
import re
import typing as t
from pathlib import Path

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils import _nested_rules as rules

from ...golden import codes_in, load_golden
from ...probe_fixtures import GB, NESTED, probe_host, probe_vm, vm_adapter

REPO = Path(__file__).resolve().parents[4]
GOLDEN = Path(__file__).with_name("nested_rules_golden.json")


def merge(base: dict[str, t.Any], changes: dict[str, t.Any]) -> dict[str, t.Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        merged[key] = merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


HOST = probe_host(supported_versions=["8.0", "9.0", "9.3", "10.0"])
VM = probe_vm(
    "LAB-HV1",
    id="6f1b3c0e-0000-4000-8000-000000000001",
    processor_count=4,
    startup_memory_bytes=8 * GB,
    adapters=[vm_adapter("LAB-HV1", mac_address_spoofing="On")],
    **NESTED,
)
AMD = {"processor": {"manufacturer": "AuthenticAMD", "name": "AMD EPYC 7763"}}
WS2019 = {"os": {"caption": "Microsoft Windows Server 2019 Datacenter", "build": 17763}, "supported_versions": ["8.0", "9.0"], "default_version": "9.0"}
WIN10 = {"os": {"caption": "Microsoft Windows 10 Pro", "product_type": "client", "build": 19045}}
NO_HV = {"hypervisor_present": False}
L1 = {"is_virtual_machine": True}
VMWARE = {"platform": {"manufacturer": "VMware, Inc.", "model": "VMware7,1"}}
AZURE = {
    "is_virtual_machine": True,
    "platform": {"manufacturer": "Microsoft Corporation", "model": "Virtual Machine", "smbios_asset_tag": rules.AZURE_ASSET_TAG},
}
SERVICES_NO_CONTACT = [{"name": "Shutdown", "enabled": True, "primary_status": "OK"}, {"name": "Heartbeat", "enabled": True, "primary_status": "No Contact"}]
SPOOF_OFF = [{"name": "Network Adapter", "switch_name": "External", "mac_address_spoofing": "Off"}, {"name": "Loose", "switch_name": None}]

# name -> (host changes, VM changes, keyword arguments). Every branch of the rules, and combinations
# that exercise the order of findings within one verdict.
SCENARIOS: dict[str, tuple[dict[str, t.Any], dict[str, t.Any], dict[str, t.Any]]] = {
    "healthy": ({}, {}, {}),
    "not-admin": ({"is_administrator": False, "is_hyperv_administrator": False}, {}, {}),
    "hyperv-disabled": ({"hyperv_feature": "Disabled", **NO_HV}, {}, {}),
    "hyperv-unknown-state": ({"hyperv_feature": None, **NO_HV}, {}, {}),
    "hyperv-pending": ({"hyperv_feature": "EnablePending", **NO_HV}, {}, {}),
    "tools-only": ({"hyperv_feature": "Disabled", "vmms": "Absent", **NO_HV}, {}, {}),
    "tools-only-without-module": ({"hyperv_feature": "Disabled", "vmms": "Absent", **NO_HV}, {}, {"hyperv_module": False}),
    "module-missing": ({}, {}, {"hyperv_module": False}),
    "hypervisor-off-physical": (NO_HV, {}, {}),
    "hypervisor-off-hyperv-l1": ({**NO_HV, **L1}, {}, {}),
    "hypervisor-off-azure": ({**NO_HV, **AZURE}, {}, {}),
    "hypervisor-off-vmware": ({**NO_HV, **VMWARE}, {}, {}),
    "intel-2012r2": ({"os": {"build": 9600}}, {"version": "7.1"}, {}),
    "intel-preview-build": ({"os": {"build": 10565}}, {}, {}),
    "intel-build-not-a-number": ({"os": {"build": "x"}}, {}, {}),
    "amd-2019": (merge(AMD, WS2019), {"version": "9.0"}, {}),
    "amd-windows-10": (merge(AMD, WIN10), {}, {}),
    "amd-2022-version-9.0": (AMD, {"version": "9.0"}, {}),
    "other-vendor": ({"processor": {"manufacturer": "CentaurHauls"}}, {"version": "5.0"}, {}),
    "no-vendor": ({"processor": {"manufacturer": None}}, {}, {}),
    "intel-no-vtx": ({**NO_HV, "processor": {"vm_monitor_mode_extensions": False}}, {}, {}),
    "amd-no-vtx-l1": (merge(AMD, {**NO_HV, **L1, "processor": {"vm_monitor_mode_extensions": False}}), {}, {}),
    "intel-no-vtx-azure": ({**NO_HV, **AZURE, "processor": {"vm_monitor_mode_extensions": False}}, {}, {}),
    "intel-no-vtx-vmware": ({**NO_HV, **VMWARE, "processor": {"vm_monitor_mode_extensions": False}}, {}, {}),
    "firmware-off": ({**NO_HV, "processor": {"virtualization_firmware_enabled": False}}, {"state": "Saved"}, {}),
    "amd-firmware-off-no-rvi": (
        merge(AMD, {**NO_HV, "processor": {"virtualization_firmware_enabled": False, "second_level_address_translation": False}}),
        {},
        {},
    ),
    "no-ept": ({**NO_HV, "processor": {"second_level_address_translation": False}}, {}, {}),
    "no-ept-on-a-vm": ({**NO_HV, **L1, "processor": {"second_level_address_translation": False}}, {}, {}),
    "flags-hidden": (
        {"processor": {"virtualization_firmware_enabled": False, "vm_monitor_mode_extensions": False, "second_level_address_translation": False}},
        {},
        {},
    ),
    "bcd-disabled": ({"bcd_offer_nested_virt_disabled": True}, {"state": "Saved"}, {}),
    "bcd-unreadable": ({"bcd_offer_nested_virt_disabled": None}, {}, {}),
    "hyperv-l1": (L1, {}, {}),
    "azure": (AZURE, {}, {}),
    "vmware": (VMWARE, {}, {}),
    "kvm-model-only": ({"platform": {"manufacturer": "", "model": "KVM"}}, {}, {}),
    "multiple-nats": (
        {
            "nats": [
                {"name": "A", "internal_ip_interface_address_prefix": "10.0.0.0/24"},
                {"name": "B", "internal_ip_interface_address_prefix": "10.0.1.0/24"},
                "junk",
            ]
        },
        {},
        {},
    ),
    "everything-wrong-on-the-host": (
        {
            "is_hyperv_administrator": False,
            "hyperv_feature": "Disabled",
            **NO_HV,
            "os": {"build": 9600},
            "bcd_offer_nested_virt_disabled": True,
            **VMWARE,
            "nats": [{"name": "A"}, {"name": "B"}],
            "processor": {"virtualization_firmware_enabled": False, "second_level_address_translation": False},
        },
        {"version": "7.1", "expose_virtualization_extensions": False, "state": "Saved"},
        {},
    ),
    "vm-too-new": ({}, {"version": "12.0"}, {}),
    "vm-too-new-not-exposed-saved": ({}, {"version": "12.0", "expose_virtualization_extensions": False, "state": "Saved"}, {}),
    "vm-too-old-no-default": ({"default_version": None}, {"version": "7.1"}, {}),
    "vm-no-version": ({}, {"version": None}, {}),
    "vm-no-supported-versions": ({"supported_versions": []}, {"version": "99.0"}, {}),
    "not-exposed-dynamic-memory": ({}, {"expose_virtualization_extensions": False, "dynamic_memory_enabled": True}, {}),
    "dynamic-memory-running": ({}, {"dynamic_memory_enabled": True, "state": "Running", "memory_assigned_bytes": 6 * GB}, {}),
    "dynamic-memory-off": ({}, {"dynamic_memory_enabled": True, "state": "Off", "startup_memory_bytes": 512 * 1024**2}, {}),
    "saved-dynamic-memory": ({}, {"state": "Saved", "dynamic_memory_enabled": True}, {}),
    "saved-needs-changes": ({}, {"state": "Saved", "expose_virtualization_extensions": False}, {}),
    "saved-version-too-low": ({}, {"state": "Saved", "version": "7.1"}, {}),
    "restart-mark-off": ({}, {"state": "Off", "restart_mark": {"stopped_at": "2026-01-02T03:04:05Z"}}, {}),
    "restart-mark-no-time": ({}, {"state": "Off", "restart_mark": "garbage"}, {}),
    "restart-mark-running": ({}, {"state": "Running", "restart_mark": {"stopped_at": "x"}}, {}),
    "vcpu-240-2019": ({}, {"processor_count": 240, "guest_os": "Windows Server 2019 Datacenter"}, {}),
    "vcpu-240-2022": ({}, {"processor_count": 240, "guest_os": "Windows Server 2022 Datacenter"}, {}),
    "vcpu-240-unknown": ({}, {"processor_count": 240, "guest_os": None}, {}),
    "vcpu-240-linux": ({}, {"processor_count": 240, "guest_os": "Ubuntu 24.04"}, {}),
    "vcpu-240-windows-10": ({}, {"processor_count": 240, "guest_os": "Windows 10 Pro"}, {}),
    "vcpu-1": ({}, {"processor_count": 1}, {}),
    "vcpu-0": ({}, {"processor_count": 0}, {}),
    "memory-2gb": ({}, {"startup_memory_bytes": 2 * GB}, {}),
    "memory-512mb": ({}, {"startup_memory_bytes": 512 * 1024**2}, {}),
    "checkpoints": ({}, {"checkpoints": [{"name": "a", "id": "1"}, {"name": "b", "id": "2"}]}, {}),
    "clustered": ({}, {"is_clustered": True}, {}),
    "spoofing-off": ({}, {"adapters": SPOOF_OFF}, {}),
    "spoofing-off-nat": ({}, {"adapters": SPOOF_OFF}, {"network_mode": "nat"}),
    "spoofing-off-mac-spoofing": ({}, {"adapters": SPOOF_OFF}, {"network_mode": "mac_spoofing"}),
    "no-services": ({}, {"integration_services": []}, {}),
    "heartbeat-no-contact": ({}, {"state": "Running", "integration_services": SERVICES_NO_CONTACT}, {}),
    "heartbeat-no-contact-off": ({}, {"state": "Off", "integration_services": SERVICES_NO_CONTACT}, {}),
    "wildcard-name": ({}, {"name": "LAB[1]*", "expose_virtualization_extensions": False, "processor_count": 1, "startup_memory_bytes": GB}, {}),
    "everything-wrong-on-the-vm": (
        {},
        {
            "version": "7.1",
            "expose_virtualization_extensions": False,
            "dynamic_memory_enabled": True,
            "state": "Saved",
            "processor_count": 1,
            "startup_memory_bytes": GB,
            "checkpoints": [{"name": "a"}],
            "is_clustered": True,
            "adapters": SPOOF_OFF,
            "integration_services": [],
        },
        {},
    ),
}


def run(name: str) -> dict[str, t.Any]:
    """Everything the rules answer for one scenario, as JSON-ready data."""
    host_changes, vm_changes, kwargs = SCENARIOS[name]
    host, vm = merge(HOST, host_changes), merge(VM, vm_changes)
    hyperv_module = kwargs.get("hyperv_module", True)
    network_mode = kwargs.get("network_mode")
    host_result = rules.host_verdict(host, hyperv_module=hyperv_module)
    vms_section = {"hyperv_module": hyperv_module, "vms": [vm], "all_names": [vm["name"], "LAB-HV2"]}
    modes = {str(vm["name"]).lower(): network_mode} if network_mode else None
    report = rules.evaluate(host, vms_section, [str(vm["name"]), "LAB-HV3"], network_modes=modes)
    verdict = rules.vm_verdict(host, vm, host_result, network_mode=network_mode).as_dict(with_start=True)
    shaped = report.as_dict()
    # evaluate wraps the same verdicts: compared here, recorded once.
    assert shaped.pop("host") == host_result.as_dict()
    assert shaped["vms"].pop(str(vm["name"])) == verdict
    if hyperv_module:
        assert rules.vm_verdict(host, vm, network_mode=network_mode).as_dict(with_start=True) == verdict
    return {"host": host_result.as_dict(), "vm": verdict, "report": shaped, "summary": rules.summarize(host, report)}


def evaluate_cases() -> dict[str, t.Any]:
    """evaluate's own codes (duplicates, unreadable VMs, missing names) and their summaries."""
    vm2 = merge(VM, {"name": "lab-hv1", "id": "second"})
    broken = {"name": "BROKEN", "id": "b", "state": "OffCritical", "error": "The configuration cannot be read."}
    cases: dict[str, t.Any] = {}
    for case, host, section, requested in (
        ("duplicate", HOST, {"vms": [VM, vm2, broken], "all_names": ["LAB-HV1", "lab-hv1", "BROKEN"]}, None),
        ("missing-with-suggestion", HOST, {"vms": [], "all_names": ["LAB-HV1"]}, ["LAB-HV"]),
        ("missing-nothing-visible", merge(HOST, {"is_hyperv_administrator": False}), {"vms": [], "all_names": []}, ["LAB-HV1"]),
        ("access-denied", merge(HOST, {"is_hyperv_administrator": False}), {"vms": [], "access_denied": True}, ["LAB-HV1"]),
        ("no-module", HOST, {"hyperv_module": False}, ["LAB-HV1"]),
        ("warnings-and-notes", merge(HOST, AZURE), {"vms": [merge(VM, {"is_clustered": True, "checkpoints": [{}]})]}, None),
    ):
        report = rules.evaluate(host, section, requested)
        cases[case] = {"report": report.as_dict(), "missing": report.missing, "summary": rules.summarize(host, report)}
    return cases


def recorded() -> dict[str, t.Any]:
    return {"scenarios": {name: run(name) for name in SCENARIOS}, "evaluate": evaluate_cases()}


@pytest.fixture(scope="module")
def golden() -> dict[str, t.Any]:
    return load_golden(GOLDEN, recorded)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_answers_exactly_as_recorded(golden: dict[str, t.Any], name: str) -> None:
    assert run(name) == golden["scenarios"][name]


def test_evaluate_answers_exactly_as_recorded(golden: dict[str, t.Any]) -> None:
    assert evaluate_cases() == golden["evaluate"]


DOCUMENTED = re.findall(r"^## `((?:host|vm)\.[a-z0-9_]+)`", (REPO / "docs" / "reason-codes.md").read_text(encoding="utf-8"), flags=re.MULTILINE)


@pytest.mark.parametrize("code", DOCUMENTED)
def test_every_documented_code_is_pinned_by_a_scenario(golden: dict[str, t.Any], code: str) -> None:
    """Each reason code the rules can return occurs in the recorded answers (and so in their order)."""
    assert code in rules.CODES
    assert code in set(codes_in(golden))
