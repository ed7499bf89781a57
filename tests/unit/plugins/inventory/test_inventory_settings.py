"""The options of the hyperv.nested.hyperv inventory source: what is accepted, and errors that name the option."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.hyperv.nested.plugins.plugin_utils._inventory_settings import (
    AddressChoice,
    HostEntry,
    Naming,
    OptionError,
    VMFilters,
    settings_from_options,
)

# The options as Ansible's config system hands them over (documented defaults filled in).
DEFAULTS: dict[str, t.Any] = {
    "hosts": ["hv01.lab.example.com"],
    "connection": "winrm",
    "user": "ansible",
    "password": "S3cret!",
    "port": None,
    "scheme": "https",
    "transport": None,
    "cert_validation": "validate",
    "ca_cert": None,
    "message_encryption": "auto",
    "connection_timeout": 30,
    "probe_timeout": 300,
    "max_concurrency": 8,
    "vm_filters": None,
    "hostname_source": "vm_name",
    "hostname_prefix": "",
    "hostname_suffix": "",
    "hostname_lowercase": False,
    "vm_ansible_host": False,
    "vm_address_networks": [],
}


def settings(**options: t.Any) -> t.Any:
    values = {**DEFAULTS, **options}
    return settings_from_options(values.__getitem__)


def option_error(**options: t.Any) -> OptionError:
    with pytest.raises(OptionError) as raised:
        settings(**options)
    return raised.value


def test_plain_names_are_inventory_names_and_addresses_with_the_scheme_port() -> None:
    built = settings(hosts=["hv01", "10.0.0.12"])
    assert built.hosts == (HostEntry("hv01", "hv01"), HostEntry("10.0.0.12", "10.0.0.12"))
    assert [built.connection.endpoint(entry) for entry in built.hosts] == ["https://hv01:5986/wsman", "https://10.0.0.12:5986/wsman"]
    assert settings(scheme="http").connection.port_of(HostEntry("a", "a")) == 5985


def test_a_mapping_entry_has_its_own_address_and_port_before_the_common_port() -> None:
    built = settings(hosts=[{"name": "hv02", "address": "fe80::1", "port": 40001}, {"name": "hv03"}], port=5999)
    first, second = built.hosts
    assert built.connection.endpoint(first) == "https://[fe80::1]:40001/wsman"
    assert second == HostEntry("hv03", "hv03") and built.connection.port_of(second) == 5999


@pytest.mark.parametrize(
    ("hosts", "option", "words"),
    [
        ([], "hosts", "at least one"),
        ("hv01", "hosts", "must be a list"),
        ([""], "hosts[0]", "empty"),
        ([{"address": "10.0.0.1"}], "hosts[0].name", "required"),
        ([{"name": "hv01", "adress": "10.0.0.1"}], "hosts[0]", "unknown key(s) adress"),
        (["hv01", {"name": "hv02", "port": 70000}], "hosts[1].port", "1 to 65535"),
        (["hv01", "hv01"], "hosts", "hv01 listed more than once"),
        ([42], "hosts[0]", "not int"),
    ],
)
def test_bad_host_entries_name_the_entry(hosts: t.Any, option: str, words: str) -> None:
    error = option_error(hosts=hosts)
    assert error.option == option and words in str(error)
    assert str(error).startswith(f"option '{option}': ")


def test_transport_defaults_per_connection_and_negotiate_is_psrp_only() -> None:
    assert settings().connection.transport == "ntlm"
    assert settings(connection="psrp").connection.transport == "negotiate"
    error = option_error(transport="negotiate")
    assert error.option == "transport" and "not available with connection winrm" in str(error)


def test_user_and_password_are_required_except_for_kerberos() -> None:
    assert option_error(password=None).option == "password"
    assert option_error(user="").option == "user"
    kerberos = settings(transport="kerberos", user=None, password=None).connection
    assert kerberos.user is None and kerberos.password is None


def test_basic_over_http_is_refused() -> None:
    error = option_error(transport="basic", scheme="http")
    assert error.option == "transport" and "readable" in str(error)
    assert settings(transport="basic").connection.transport == "basic"


@pytest.mark.parametrize("name", ["max_concurrency", "connection_timeout", "probe_timeout"])
@pytest.mark.parametrize("value", [0, -3])
def test_counts_must_be_positive(name: str, value: int) -> None:
    assert option_error(**{name: value}).option == name


def test_the_password_is_not_in_the_settings_repr() -> None:
    assert "S3cret!" not in repr(settings())


def test_winrm_host_vars_mirror_the_connection_without_the_password() -> None:
    built = settings(hosts=[{"name": "hv01", "address": "10.0.0.11"}], ca_cert="/etc/ca.pem", transport="kerberos")
    variables = built.connection.host_vars(built.hosts[0])
    assert variables == {
        "ansible_host": "10.0.0.11",
        "ansible_port": 5986,
        "ansible_connection": "winrm",
        "ansible_user": "ansible",
        "ansible_winrm_scheme": "https",
        "ansible_winrm_transport": "kerberos",
        "ansible_winrm_server_cert_validation": "validate",
        "ansible_winrm_message_encryption": "auto",
        "ansible_winrm_ca_trust_path": "/etc/ca.pem",
    }


def test_psrp_host_vars_use_the_psrp_names() -> None:
    built = settings(connection="psrp", scheme="http", cert_validation="ignore")
    variables = built.connection.host_vars(built.hosts[0])
    assert variables["ansible_connection"] == "psrp" and variables["ansible_port"] == 5985
    assert {k: v for k, v in variables.items() if k.startswith("ansible_psrp_")} == {
        "ansible_psrp_protocol": "http",
        "ansible_psrp_auth": "negotiate",
        "ansible_psrp_cert_validation": "ignore",
        "ansible_psrp_message_encryption": "auto",
    }
    assert "S3cret!" not in repr(variables)


def test_vm_filters_match_wildcards_case_insensitively_and_states() -> None:
    filters = settings(vm_filters={"names": ["lab-*", "DC?"], "exclude_names": ["LAB-OLD*"], "states": ["running"]}).filters
    assert filters == VMFilters(names=("lab-*", "DC?"), exclude_names=("LAB-OLD*",), states=("Running",))
    assert filters.selects({"name": "LAB-HV1", "state": "Running"})
    assert filters.selects({"name": "dc1", "state": "Running"})
    assert not filters.selects({"name": "LAB-OLD1", "state": "Running"})
    assert not filters.selects({"name": "LAB-HV2", "state": "Off"})
    assert not filters.selects({"name": "WEB1", "state": "Running"})
    # Brackets are a character class, as in Hyper-V's own -Name patterns.
    assert VMFilters(names=("lab[12]",)).selects({"name": "LAB2"}) and not VMFilters(names=("lab[12]",)).selects({"name": "LAB3"})


@pytest.mark.parametrize(
    ("filters", "option", "words"),
    [
        ({"states": ["Runing"]}, "vm_filters.states", "'Runing' is not a VM state"),
        ({"name": ["LAB-*"]}, "vm_filters", "unknown key(s) name"),
        ({"names": [1]}, "vm_filters.names", "list of VM names"),
        (["LAB-*"], "vm_filters", "must be a mapping"),
    ],
)
def test_bad_vm_filters_name_the_option(filters: t.Any, option: str, words: str) -> None:
    error = option_error(vm_filters=filters)
    assert error.option == option and words in str(error)


def test_naming_prefix_suffix_lowercase_and_dns_name_when_known() -> None:
    vm = {"name": "LAB-HV1", "guest_dns_name": "lab-hv1.corp.example"}
    assert Naming().name_of(vm) == "LAB-HV1"
    assert Naming(prefix="hv01_", suffix=".vm", lowercase=True).name_of(vm) == "hv01_lab-hv1.vm"
    assert Naming(source="guest_dns_name").name_of(vm) == "lab-hv1.corp.example"
    assert Naming(source="guest_dns_name").name_of({"name": "OFF-VM", "guest_dns_name": None}) == "OFF-VM"


def test_address_choice_prefers_ipv4_skips_link_local_and_honours_networks() -> None:
    choice = AddressChoice(enabled=True)
    assert choice.pick(["fe80::1%4", "2001:db8::5", "169.254.10.1", "10.0.0.21"]) == "10.0.0.21"
    assert choice.pick(["fe80::1", "2001:db8::5"]) == "2001:db8::5"
    assert choice.pick(["fe80::1", "not an address"]) is None
    within = settings(vm_address_networks=["192.168.0.0/16"]).addresses
    assert within.pick(["10.0.0.21", "192.168.5.7"]) == "192.168.5.7"
    assert within.pick(["10.0.0.21"]) is None


def test_bad_network_names_the_option() -> None:
    error = option_error(vm_address_networks=["10.0.0.0/33"])
    assert error.option == "vm_address_networks" and "CIDR" in str(error)
