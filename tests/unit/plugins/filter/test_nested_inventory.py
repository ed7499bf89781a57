"""nested_inventory_problems: every mistake of the inventory model, named by host and variable, all at once."""

from __future__ import annotations

import typing as t

import pytest
from ansible.errors import AnsibleFilterError
from jinja2 import StrictUndefined

from ansible_collections.hyperv.nested.plugins.filter.nested_inventory import FilterModule, nested_inventory_problems


class Unreadable:
    """A value templated from an undefined variable (a vault variable the host does not see)."""


class HostVariables(dict):  # type: ignore[type-arg]
    """hostvars[host] of ansible-core 2.19: an undefined value comes back as a marker that fails when used."""

    def __getitem__(self, key: str) -> t.Any:
        value = super().__getitem__(key)
        if isinstance(value, Unreadable):
            return StrictUndefined(name="vault_nested_guest_password")
        return value


def model(**changes: dict[str, t.Any] | None) -> tuple[dict[str, HostVariables], dict[str, list[str]]]:
    """The example's shape (hv01: lab-hv1 nat, lab-hv2 mac_spoofing; lab-vm1/2 in lab-hv1, lab-vm3 in lab-hv2), changed per host."""
    hosts: dict[str, dict[str, t.Any]] = {
        "hv01": {},
        "hv02": {},
        "lab-hv1": {"nested_parent": "hv01", "nested_vm_name": "LAB-HV1", "nested_network_mode": "nat"},
        "lab-hv2": {"nested_parent": "hv01", "nested_vm_name": "LAB-HV2", "nested_network_mode": "mac_spoofing"},
        "lab-vm1": {"nested_parent": "lab-hv1", "nested_vm_name": "LAB-VM1", "nested_ip": "192.168.100.11"},
        "lab-vm2": {"nested_parent": "lab-hv1", "nested_vm_name": "LAB-VM2"},
        "lab-vm3": {"nested_parent": "lab-hv2", "nested_vm_name": "LAB-VM3"},
    }
    for name in ("lab-vm1", "lab-vm2", "lab-vm3"):
        hosts[name].update(nested_guest_username="Administrator", nested_guest_password="secret")
    for host, change in changes.items():
        host = host.replace("_", "-")
        if change is None:
            hosts.pop(host)
            continue
        for key, value in change.items():
            if value is None:
                hosts.setdefault(host, {}).pop(key, None)
            else:
                hosts.setdefault(host, {})[key] = value
    groups = {
        "all": sorted(hosts),
        "hyperv_hosts": [h for h in ("hv01", "hv02") if h in hosts],
        "nested_hosts": [h for h in ("lab-hv1", "lab-hv2") if h in hosts],
        "nested_guests": [h for h in ("lab-vm1", "lab-vm2", "lab-vm3") if h in hosts],
    }
    return {name: HostVariables(variables) for name, variables in hosts.items()}, groups


def problems(**changes: t.Any) -> list[str]:
    hostvars, groups = model(**{key: value for key, value in changes.items() if not key.startswith("opt_")})
    options = {key[4:]: value for key, value in changes.items() if key.startswith("opt_")}
    return nested_inventory_problems(hostvars, groups, **options)


def test_the_example_model_has_no_problem() -> None:
    assert problems() == []
    assert FilterModule().filters()["nested_inventory_problems"] is nested_inventory_problems


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"lab_hv1": {"nested_parent": "hv09"}},
            "lab-hv1's nested_parent 'hv09' is not a host of this inventory (hyperv_hosts has: hv01, hv02).",
            id="parent-not-in-inventory",
        ),
        pytest.param({"lab_hv1": {"nested_parent": None}}, "lab-hv1's nested_parent is not set", id="l1-parent-missing"),
        pytest.param({"lab_hv1": {"nested_parent": "lab-hv2"}}, "lab-hv1's nested_parent 'lab-hv2' is an L1 host (nested_hosts)", id="l1-parent-is-l1"),
        pytest.param(
            {"lab_vm1": {"nested_parent": "hv01"}},
            "lab-vm1's nested_parent 'hv01' is an L0 host (hyperv_hosts); the parent of an L2 guest",
            id="l2-parent-is-l0",
        ),
        pytest.param({"lab_vm1": {"nested_parent": None}}, "lab-vm1's nested_parent is not set", id="l2-parent-missing"),
        pytest.param({"lab_vm1": {"nested_parent": "lab-hv9"}}, "lab-vm1's nested_parent 'lab-hv9' is not a host of this inventory", id="l2-parent-unknown"),
        pytest.param({"lab_hv1": {"nested_network_mode": None}}, "lab-hv1's nested_network_mode is not set: set it to nat or mac_spoofing", id="mode-missing"),
        pytest.param({"lab_hv1": {"nested_network_mode": "bridge"}}, "lab-hv1's nested_network_mode is 'bridge'; use nat or mac_spoofing.", id="mode-unknown"),
        pytest.param({"lab_hv1": {"nested_vm_name": None}}, "lab-hv1's nested_vm_name is not set", id="vm-name-missing"),
        pytest.param({"lab_hv2": {"nested_vm_name": "lab-hv1"}}, "lab-hv2's nested_vm_name 'lab-hv1' duplicates lab-hv1's on hv01", id="vm-name-duplicate"),
        pytest.param({"lab_vm2": {"nested_ip": "192.168.100.11"}}, "lab-vm2's nested_ip 192.168.100.11 duplicates lab-vm1's", id="ip-duplicate"),
        pytest.param(
            {"lab_vm2": {"nested_ip": "192.168.7.5"}},
            "lab-vm2's nested_ip 192.168.7.5 is outside lab-hv1's NAT network 192.168.100.0/24",
            id="ip-outside",
        ),
        pytest.param({"lab_vm2": {"nested_ip": "192.168.100.1"}}, "lab-vm2's nested_ip 192.168.100.1 is the NAT gateway of lab-hv1", id="ip-gateway"),
        pytest.param({"lab_vm2": {"nested_ip": "192.168.100.300"}}, "lab-vm2's nested_ip '192.168.100.300' is not an IPv4 address.", id="ip-invalid"),
        pytest.param(
            {"lab_vm3": {"nested_ip": "192.168.100.30"}},
            "lab-vm3's nested_ip is set, but its L1 host lab-hv2 uses mac_spoofing",
            id="ip-on-spoofing",
        ),
        pytest.param({"lab_vm2": {"nested_dns": "1.1.1.1"}}, "lab-vm2's nested_dns must be a list of IPv4 addresses", id="dns-not-a-list"),
        pytest.param({"lab_vm2": {"nested_guest_username": None}}, "lab-vm2's nested_guest_username is not set: lab-hv1 uses NAT", id="guest-user-missing"),
        pytest.param(
            {"lab_vm2": {"nested_guest_password": Unreadable()}},
            "lab-vm2's nested_guest_password cannot be read: 'vault_nested_guest_password' is undefined. Define it where lab-vm2 sees it",
            id="guest-password-undefined",
        ),
        pytest.param({"hv01": {"nested_parent": "hv02"}}, "hv01 is an L0 host (hyperv_hosts) but has nested_parent 'hv02'", id="l0-with-parent"),
    ],
)
def test_each_mistake_is_named_by_host_and_variable(changes: dict[str, t.Any], expected: str) -> None:
    found = problems(**changes)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(lab_hv1={"nested_parent": "hv09", "nested_network_mode": None}, lab_vm2={"nested_ip": "192.168.100.11"}, lab_vm3={"nested_parent": "hv01"})
    assert len(found) == 4, found
    assert sorted(problem.split("'s ")[0] for problem in found) == ["lab-hv1", "lab-hv1", "lab-vm2", "lab-vm3"]


def test_a_guest_password_never_appears_in_a_message() -> None:
    found = problems(lab_vm2={"nested_ip": "not-an-ip", "nested_guest_password": "hunter2-secret"}, lab_hv1={"nested_network_mode": "nat"})
    assert found and not any("hunter2-secret" in problem for problem in found)


def test_options_relax_what_a_playbook_does_not_need() -> None:
    assert problems(lab_hv1={"nested_network_mode": None}, opt_network_mode_required=False) == []
    assert problems(lab_vm2={"nested_guest_username": None}, opt_guest_credentials_required=False) == []
    # A role-level user for all guests of an L1 host stands in for the guests' own.
    assert problems(lab_vm2={"nested_guest_username": None}, opt_guest_username="Administrator") == []
    # The NAT network of an L1 host is its nested_networking_nat_prefix.
    assert problems(lab_hv1={"nested_networking_nat_prefix": "10.10.0.0/24"}, lab_vm1={"nested_ip": "10.10.0.5"}) == []


def test_a_host_in_two_levels_is_a_problem() -> None:
    hostvars, groups = model()
    groups["hyperv_hosts"].append("lab-hv1")
    assert any("lab-hv1 is in both hyperv_hosts (L0) and nested_hosts (L1)" in problem for problem in nested_inventory_problems(hostvars, groups))


def test_wrong_input_is_an_error_naming_the_filter() -> None:
    with pytest.raises(AnsibleFilterError, match="hostvars"):
        nested_inventory_problems([], {})  # type: ignore[arg-type]


def awx_slice(hostvars: dict[str, HostVariables], groups: dict[str, list[str]], number: int, count: int
              ) -> tuple[dict[str, HostVariables], dict[str, list[str]]]:
    """The inventory of slice `number` of `count`, by AWX's rule (awx/main/models/inventory.py,
    Inventory.get_script_data): hosts ordered by name, `hosts[number - 1::count]`; every group kept,
    with only that slice's hosts; host variables only for those hosts."""
    chosen = sorted(hostvars)[number - 1::count]
    return ({name: hostvars[name] for name in chosen},
            {group: [host for host in members if host in chosen] for group, members in groups.items()})


def test_a_job_slice_without_a_parent_is_refused_once_with_how_to_slice_safely() -> None:
    hostvars, groups = model()
    refused = 0
    for number in (1, 2):
        found = nested_inventory_problems(*awx_slice(hostvars, groups, number, 2))
        # Slice 1 holds hv01, lab-hv1, lab-vm1, lab-vm3: lab-vm3's parent lab-hv2 is in slice 2.
        # Slice 2 holds hv02, lab-hv2, lab-vm2: lab-hv2's parent hv01 and lab-vm2's lab-hv1 are in slice 1.
        missing = [problem for problem in found if "is not a host of this inventory" in problem]
        assert missing, found
        hints = [problem for problem in found if "job slicing to 1" in problem]
        assert hints == missing[:1], found
        refused += 1
    assert refused == 2
    # One slice of everything is the whole inventory: nothing to refuse.
    assert nested_inventory_problems(*awx_slice(hostvars, groups, 1, 1)) == []


def test_an_unknown_parent_names_the_slicing_hint_only_once() -> None:
    found = problems(lab_hv1={"nested_parent": "hv09"}, lab_hv2={"nested_parent": "hv08"})
    assert sum("job slicing to 1" in problem for problem in found) == 1, found


def test_a_nat_gateway_that_is_no_address_of_the_nat_network_is_a_problem() -> None:
    assert problems(lab_hv1={"nested_networking_nat_gateway": "gw"}) == [
        "lab-hv1's nested_networking_nat_gateway 'gw' is not an IPv4 address (e.g. 192.168.100.1)."]
    assert problems(lab_hv1={"nested_networking_nat_gateway": "10.0.0.1"}) == [
        "lab-hv1's nested_networking_nat_gateway 10.0.0.1 is outside its NAT network 192.168.100.0/24 (nested_networking_nat_prefix)."]
    assert problems(lab_hv1={"nested_networking_nat_gateway": "192.168.100.254"}) == []
