"""nested_inventory_problems' exact answers, pinned before it was split into checks per level (issue 19).

Each scenario changes the example model (test_nested_inventory.model) and compares every sentence
the filter returns, in order and word for word, with `nested_inventory_golden.json`, recorded from
the filter as it was before the split. The scenarios cover every branch of the module (`coverage
run --branch`), so a refactoring that reorders problems, drops a check or changes a sentence fails
here. After an intended change, record again with `HVN_RECORD_GOLDEN=1` and review the diff.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.filter.nested_inventory import nested_inventory_problems

from ...golden import load_golden
from .test_nested_inventory import Unreadable, model

GOLDEN = Path(__file__).with_name("nested_inventory_golden.json")
U = Unreadable()
NO_CREDENTIALS = {"nested_guest_username": None, "nested_guest_password": None}
PARENT_CREDENTIALS = {"nested_networking_guest_username": "Administrator", "nested_networking_guest_password": ""}

# name -> (host changes as in model(), filter options, group replacements). Every branch of the filter,
# and combinations that exercise the order of the problems.
SCENARIOS: dict[str, tuple[dict[str, t.Any], dict[str, t.Any], dict[str, t.Any]]] = {
    "example": ({}, {}, {}),
    "hostvars-not-a-mapping": ({}, {"hostvars": ["hv01"]}, {}),
    "groups-not-a-mapping": ({}, {"groups": "all"}, {}),
    "groups-missing": ({}, {}, {"nested_hosts": None, "nested_guests": "lab-vm1", "all": None}),
    "custom-group-names": ({}, {"l0_group": "physical", "l1_group": "l1", "l2_group": "l2"}, {}),
    "host-in-l0-and-l1": ({}, {}, {"hyperv_hosts": ["hv01", "hv02", "lab-hv1"]}),
    "hosts-in-l2-and-l0-or-l1": ({}, {}, {"nested_guests": ["lab-vm1", "lab-vm2", "lab-vm3", "hv02", "lab-hv2"]}),
    "l0-with-parent": ({"hv01": {"nested_parent": "hv02"}, "hv02": {"nested_parent": 7}}, {}, {}),
    "l0-with-empty-parent": ({"hv01": {"nested_parent": ""}}, {}, {}),
    "l0-host-without-hostvars": ({"hv02": None}, {}, {"hyperv_hosts": ["hv01", "hv02"]}),
    "l1-parent-unreadable": ({"lab_hv1": {"nested_parent": U}}, {}, {}),
    "l1-parent-missing": ({"lab_hv1": {"nested_parent": None}}, {}, {}),
    "l1-parent-empty": ({"lab_hv1": {"nested_parent": ""}}, {}, {}),
    "l1-parent-not-text": ({"lab_hv1": {"nested_parent": ["hv01"]}}, {}, {}),
    "l1-parent-blank-text": ({"lab_hv1": {"nested_parent": "  "}}, {}, {}),
    "l1-parent-itself": ({"lab_hv1": {"nested_parent": "lab-hv1"}}, {}, {}),
    "l1-parent-unknown-twice": ({"lab_hv1": {"nested_parent": "hv09"}, "lab_hv2": {"nested_parent": "hv08"}}, {}, {}),
    "l1-parent-known-only-in-hostvars": ({"lab_hv1": {"nested_parent": "stray"}, "stray": {"ansible_host": "192.0.2.9"}}, {}, {"all": []}),
    "l1-parent-in-all-only": ({"lab_hv1": {"nested_parent": "other"}}, {}, {"all": ["other"]}),
    "l1-parent-is-l1": ({"lab_hv1": {"nested_parent": "lab-hv2"}}, {}, {}),
    "l1-parent-is-l2": ({"lab_hv1": {"nested_parent": "lab-vm1"}}, {}, {}),
    "l2-parent-is-l0": ({"lab_vm1": {"nested_parent": "hv01"}}, {}, {}),
    "l2-parent-is-l2": ({"lab_vm1": {"nested_parent": "lab-vm2"}}, {}, {}),
    "l2-parent-unknown-many": ({"lab_vm1": {"nested_parent": "nope"}}, {},
                               {"nested_hosts": ["lab-hv1", "lab-hv2"] + [f"x{i}" for i in range(9)]}),
    "l2-parent-unknown-none-in-group": ({"lab_hv1": None, "lab_hv2": None}, {}, {}),
    "vm-name-unreadable": ({"lab_hv1": {"nested_vm_name": U}, "lab_vm1": {"nested_vm_name": U}}, {}, {}),
    "vm-name-missing": ({"lab_hv2": {"nested_vm_name": None}, "lab_vm3": {"nested_vm_name": ""}}, {}, {}),
    "vm-name-not-text": ({"lab_hv2": {"nested_vm_name": 5}, "lab_vm3": {"nested_vm_name": " "}}, {}, {}),
    "l1-duplicate-vm-names": ({"lab_hv2": {"nested_vm_name": "lab-HV1"}}, {}, {}),
    "l1-same-vm-name-other-parents": ({"lab_hv2": {"nested_vm_name": "LAB-HV1", "nested_parent": "hv02"}}, {}, {}),
    "l2-duplicate-vm-names": ({"lab_vm2": {"nested_vm_name": "lab-vm1"}, "lab_vm3": {"nested_vm_name": "LAB-VM1"}}, {}, {}),
    "duplicates-skip-bad-parents": ({"lab_hv2": {"nested_vm_name": "LAB-HV1", "nested_parent": None},
                                     "lab_vm2": {"nested_vm_name": "LAB-VM1", "nested_parent": None}}, {}, {}),
    "mode-unreadable": ({"lab_hv1": {"nested_network_mode": U}}, {}, {}),
    "mode-missing": ({"lab_hv1": {"nested_network_mode": None}, "lab_hv2": {"nested_network_mode": ""}}, {}, {}),
    "mode-missing-not-required": ({"lab_hv1": {"nested_network_mode": None}}, {"network_mode_required": False}, {}),
    "mode-invalid": ({"lab_hv1": {"nested_network_mode": "bridge"}, "lab_hv2": {"nested_network_mode": 1}}, {}, {}),
    "ip-unreadable": ({"lab_vm1": {"nested_ip": U}}, {}, {}),
    "ip-empty": ({"lab_vm1": {"nested_ip": ""}}, {}, {}),
    "ip-not-ipv4": ({"lab_vm1": {"nested_ip": "192.168.100.300"}, "lab_vm2": {"nested_ip": 3232261131}}, {}, {}),
    "ip-with-spaces": ({"lab_vm1": {"nested_ip": " 192.168.100.11 "}}, {}, {}),
    "ip-on-mac-spoofing": ({"lab_vm3": {"nested_ip": "192.168.100.13"}}, {}, {}),
    "ip-without-parent": ({"lab_vm1": {"nested_parent": None}}, {}, {}),
    "ip-parent-mode-unknown": ({"lab_hv1": {"nested_network_mode": None}, "lab_vm2": {"nested_ip": "10.0.0.1"}},
                               {"network_mode_required": False}, {}),
    "ip-outside-nat": ({"lab_vm1": {"nested_ip": "10.0.0.5"}}, {}, {}),
    "ip-network-address": ({"lab_vm1": {"nested_ip": "192.168.100.0"}}, {}, {}),
    "ip-broadcast-address": ({"lab_vm1": {"nested_ip": "192.168.100.255"}}, {}, {}),
    "ip-default-gateway": ({"lab_vm1": {"nested_ip": "192.168.100.1"}}, {}, {}),
    "ip-custom-prefix-and-gateway": ({"lab_hv1": {"nested_networking_nat_prefix": "10.10.0.0/16",
                                                  "nested_networking_nat_gateway": "10.10.0.254"},
                                      "lab_vm1": {"nested_ip": "10.10.0.254"}, "lab_vm2": {"nested_ip": "10.10.0.1"}}, {}, {}),
    "ip-bad-gateway-variable": ({"lab_hv1": {"nested_networking_nat_gateway": "gw"}}, {}, {}),
    "ip-empty-prefix-variable": ({"lab_hv1": {"nested_networking_nat_prefix": ""}}, {"nat_prefix": "192.168.100.0/25"}, {}),
    "ip-option-prefix": ({}, {"nat_prefix": "10.0.0.0/8"}, {}),
    "ip-bad-prefix": ({"lab_hv1": {"nested_networking_nat_prefix": "192.168.100.0/33"}}, {}, {}),
    "ip-duplicate": ({"lab_vm2": {"nested_ip": "192.168.100.11"}}, {}, {}),
    "ip-same-on-two-l1": ({"lab_hv2": {"nested_network_mode": "nat"}, "lab_vm3": {"nested_ip": "192.168.100.11"}}, {}, {}),
    "dns-unreadable": ({"lab_vm1": {"nested_dns": U}}, {}, {}),
    "dns-text": ({"lab_vm1": {"nested_dns": "1.1.1.1"}}, {}, {}),
    "dns-not-iterable": ({"lab_vm1": {"nested_dns": 1}}, {}, {}),
    "dns-bad-server": ({"lab_vm1": {"nested_dns": ["1.1.1.1", "dns"]}}, {}, {}),
    "dns-tuple-bad": ({"lab_vm1": {"nested_dns": ("1.1.1.1", 8)}}, {}, {}),
    "dns-good": ({"lab_vm1": {"nested_dns": ["1.1.1.1", "8.8.8.8"]}, "lab_vm2": {"nested_dns": []}}, {}, {}),
    "addressing-invalid": ({"lab_vm1": {"nested_addressing": "auto"}, "lab_vm2": {"nested_addressing": 1}}, {}, {}),
    "addressing-dhcp-needs-no-credentials": ({"lab_vm1": {"nested_addressing": "dhcp", **NO_CREDENTIALS}}, {}, {}),
    "addressing-static-needs-credentials": ({"lab_vm1": {"nested_addressing": "static", **NO_CREDENTIALS}}, {}, {}),
    "credentials-missing": ({"lab_vm1": NO_CREDENTIALS, "lab_vm2": {"nested_guest_password": ""}}, {}, {}),
    "credentials-unreadable": ({"lab_vm1": {"nested_guest_username": U, "nested_guest_password": U}}, {}, {}),
    "credentials-not-required": ({"lab_vm1": NO_CREDENTIALS}, {"guest_credentials_required": False}, {}),
    "credentials-from-options": ({"lab_vm1": NO_CREDENTIALS, "lab_vm2": NO_CREDENTIALS},
                                 {"guest_username": "Administrator", "guest_password": ""}, {}),
    "credentials-from-parent": ({"lab_vm1": NO_CREDENTIALS, "lab_hv1": PARENT_CREDENTIALS}, {}, {}),
    "credentials-mac-spoofing-not-needed": ({"lab_vm3": NO_CREDENTIALS}, {}, {}),
    "credentials-no-parent": ({"lab_vm1": {"nested_parent": "hv09", **NO_CREDENTIALS}}, {}, {}),
    "everything-wrong": ({"hv01": {"nested_parent": "x"}, "lab_hv1": {"nested_vm_name": None, "nested_network_mode": "x"},
                          "lab_hv2": {"nested_parent": None},
                          "lab_vm1": {"nested_ip": "10.0.0.1", "nested_dns": "x", "nested_addressing": "x", **NO_CREDENTIALS},
                          "lab_vm2": {"nested_parent": "hv09", "nested_vm_name": 1}},
                         {}, {"nested_guests": ["lab-vm1", "lab-vm2", "lab-vm3", "lab-hv2"]}),
}


def run(name: str) -> dict[str, t.Any]:
    changes, options, group_changes = SCENARIOS[name]
    hostvars: t.Any
    hostvars, groups = model(**changes)
    groups_arg: t.Any = groups
    options = dict(options)
    for group, members in group_changes.items():
        if members is None:
            groups.pop(group, None)
        else:
            groups[group] = members
    for option in ("l0_group", "l1_group", "l2_group"):
        if option in options:
            default = {"l0_group": "hyperv_hosts", "l1_group": "nested_hosts", "l2_group": "nested_guests"}[option]
            groups[options[option]] = groups.pop(default)
    hostvars = options.pop("hostvars", hostvars)
    groups_arg = options.pop("groups", groups_arg)
    try:
        return {"problems": nested_inventory_problems(hostvars, groups_arg, **options)}
    except AnsibleFilterError as error:
        return {"error": str(error)}


def recorded() -> dict[str, t.Any]:
    return {"scenarios": {name: run(name) for name in SCENARIOS}}


@pytest.fixture(scope="module")
def golden() -> dict[str, t.Any]:
    return load_golden(GOLDEN, recorded)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_answers_exactly_as_recorded(golden: dict[str, t.Any], name: str) -> None:
    assert run(name) == golden["scenarios"][name]
