"""The binder behaves like PowerShell's: names, prefixes, aliases, sets, types, accepted values."""
from __future__ import annotations

import pytest
from hvsim.powershell.errors import PSError
from hvsim.powershell.signatures import ObjectRef, bind, known_cmdlets


def error_of(cmdlet: str, parameters: dict) -> PSError:
    with pytest.raises(PSError) as caught:
        bind(cmdlet, parameters)
    return caught.value


def test_string_for_boolean_is_rejected_like_powershell() -> None:
    error = error_of("Set-VMProcessor", {"VMName": "LAB-HV1", "ExposeVirtualizationExtensions": "true"})
    assert error.message == (
        "Cannot process argument transformation on parameter 'ExposeVirtualizationExtensions'. Cannot convert "
        "value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and "
        "numbers, such as $True, $False, 1 or 0.")
    assert error.error_id == "ParameterArgumentTransformationError"


@pytest.mark.parametrize("value,expected", [(True, True), (False, False), (1, True), (0, False)])
def test_boolean_accepts_booleans_and_numbers(value: object, expected: bool) -> None:
    bound = bind("Set-VMMemory", {"VMName": "x", "DynamicMemoryEnabled": value})
    assert bound.get("DynamicMemoryEnabled") is expected


def test_unknown_parameter() -> None:
    error = error_of("Set-VMProcessor", {"VMName": "x", "ExposeVirtualisationExtensions": True})
    assert error.message == "A parameter cannot be found that matches parameter name 'ExposeVirtualisationExtensions'."
    assert error.fully_qualified_id() == "NamedParameterNotFound,Set-VMProcessor"


def test_unique_prefix_and_alias_resolve_to_the_canonical_name() -> None:
    bound = bind("Set-VMProcessor", {"VMN": "x", "ExposeVirt": True, "ea": "stop"})
    assert bound.values == {"VMName": ["x"], "ExposeVirtualizationExtensions": True}
    assert bound.common == {"ErrorAction": "Stop"}
    assert bind("Remove-NetRoute", {"ifAlias": "Ethernet"}).values == {"InterfaceAlias": ["Ethernet"]}


def test_ambiguous_prefix_lists_the_matches() -> None:
    error = error_of("Set-VMProcessor", {"V": "x"})
    assert error.message.startswith("Parameter cannot be processed because the parameter name 'V' is ambiguous. "
                                    "Possible matches include: -VMName -VM")


def test_accepted_values_are_case_insensitive_and_canonicalised() -> None:
    bound = bind("Set-VMNetworkAdapter", {"VMName": "x", "MacAddressSpoofing": "on"})
    assert bound.get("MacAddressSpoofing") == "On"


def test_value_outside_the_accepted_values_lists_them() -> None:
    error = error_of("Set-VMNetworkAdapter", {"VMName": "x", "MacAddressSpoofing": True})
    assert "On, Off" in error.message
    error = error_of("New-VMSwitch", {"Name": "x", "SwitchType": "External"})
    assert "Internal, Private" in error.message


def test_missing_mandatory_parameter_fails_non_interactively() -> None:
    error = error_of("Set-VMProcessor", {"Count": 2})
    assert error.message == "Cannot process command because of one or more missing mandatory parameters: VMName."


def test_parameters_from_different_sets_cannot_be_combined() -> None:
    error = error_of("New-VMSwitch", {"Name": "x", "SwitchType": "Internal", "NetAdapterName": "Ethernet"})
    assert error.error_id == "AmbiguousParameterSet"


def test_unknown_cmdlet() -> None:
    error = error_of("Set-VMProcesor", {})
    assert error.message.startswith("The term 'Set-VMProcesor' is not recognized as the name of a cmdlet, "
                                    "function, script file, or operable program.")
    assert error.error_id == "CommandNotFoundException"


def test_integers_accept_numeric_strings_and_check_ranges() -> None:
    assert bind("Set-VMMemory", {"VMName": "x", "StartupBytes": "4294967296"}).get("StartupBytes") == 2**32
    error = error_of("New-NetIPAddress", {"InterfaceAlias": "e", "IPAddress": "10.0.0.2", "PrefixLength": 300})
    assert "System.Byte" in error.message
    error = error_of("Set-VMProcessor", {"VMName": "x", "Count": "four"})
    assert "Input string was not in a correct format." in error.message


def test_arrays_accept_scalars_and_scalars_reject_objects() -> None:
    assert bind("Set-DnsClientServerAddress", {"InterfaceAlias": "Ethernet", "ServerAddresses": "1.1.1.1"}
                ).get("ServerAddresses") == ["1.1.1.1"]
    error = error_of("Set-VMProcessor", {"VM": "LAB-HV1", "Count": 2})
    assert "Cannot convert the \"LAB-HV1\" value of type \"System.String\" to type \"VirtualMachine\"" in error.message


def test_object_references_bind_to_their_type_and_base_types() -> None:
    adapter = ObjectRef("VMNetworkAdapter", object(), bases=("VMNetworkAdapterBase",))
    assert bind("Set-VMNetworkAdapter", {"VMNetworkAdapter": adapter, "MacAddressSpoofing": "On"}
                ).parameter_set == "ResourceObject"
    assert bind("Connect-VMNetworkAdapter", {"VMNetworkAdapter": adapter, "SwitchName": "s"}
                ).parameter_set == "Object_SwitchName"


def test_null_and_empty_mandatory_values_are_rejected() -> None:
    assert "because it is null" in error_of("New-NetNat", {"Name": None}).message
    assert "because it is an empty string" in error_of("New-NetNat", {"Name": ""}).message


def test_switch_parameter_takes_booleans_only() -> None:
    assert bind("Stop-VM", {"Name": "x", "TurnOff": True}).get("TurnOff") is True
    assert error_of("Stop-VM", {"Name": "x", "TurnOff": "yes"}).error_id == "CannotConvertArgumentNoMessage"


def test_progress_action_is_not_a_windows_powershell_5_1_parameter() -> None:
    assert error_of("Start-VM", {"Name": "x", "ProgressAction": "SilentlyContinue"}).error_id == "NamedParameterNotFound"


def test_transcribed_cmdlets_and_checkpoint_alias_are_known() -> None:
    for name in ("Remove-VMSavedState", "Add-NetNatStaticMapping", "Get-NetNatStaticMapping",
                 "Remove-NetNatStaticMapping", "Get-VMSecurity", "Set-VMSecurity", "Get-NetRoute", "Remove-NetRoute"):
        assert name in known_cmdlets()
    assert bind("Get-VMCheckpoint", {"VMName": "x"}).cmdlet == "Get-VMSnapshot"
    bound = bind("Add-NetNatStaticMapping", {"NatName": "n", "Protocol": "tcp", "ExternalIPAddress": "0.0.0.0",
                                             "ExternalPort": 50022, "InternalIPAddress": "192.168.100.2",
                                             "InternalPort": 22})
    assert bound.get("Protocol") == "TCP"
    assert "UInt16" in error_of("Add-NetNatStaticMapping", {"NatName": "n", "Protocol": "TCP",
                                                            "ExternalIPAddress": "0.0.0.0", "ExternalPort": 70000,
                                                            "InternalIPAddress": "1.2.3.4"}).message
