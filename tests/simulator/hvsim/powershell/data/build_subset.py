"""Rebuild cmdlets.json: the simulator's subset of the shared reference plus cmdlets
transcribed by hand (through the search tool) from the same documentation repository.

Run: python build_subset.py /work/shared/reference/cmdlets.json
Descriptions are dropped to keep the file small; everything else is kept as extracted.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DOCS = "MicrosoftDocs/windows-powershell-docs"
PS_DOCS = "MicrosoftDocs/PowerShell-Docs"     # Windows PowerShell 5.1 built-ins (reference/5.1/...)

# (name, type, required_in_sets or "all"/None, position, aliases, accepted values, pipeline)
# Compact transcription of SYNTAX + PARAMETERS yaml of each page listed in PROVENANCE.md.
Spec = tuple[str, str, "bool | None", "int | None", list[str], "list[str] | None"]
CIM: list[Spec] = [
    ("CimSession", "CimSession[]", None, None, ["Session"], None),
    ("ThrottleLimit", "Int32", None, None, [], None),
    ("AsJob", "SwitchParameter", None, None, [], None),
]
HV_REMOTE: list[Spec] = [
    ("CimSession", "CimSession[]", None, None, [], None),
    ("ComputerName", "String[]", None, None, [], None),
    ("Credential", "PSCredential[]", None, None, [], None),
]
RISK: list[Spec] = [
    ("WhatIf", "SwitchParameter", None, None, ["wi"], None),
    ("Confirm", "SwitchParameter", None, None, ["cf"], None),
]
PROTOCOLS = ["Other", "Local", "NetMgmt", "Icmp", "Egp", "Ggp", "Hello", "Rip", "IsIs", "EsIs",
             "Igrp", "Bbn", "Ospf", "Bgp", "Idpr", "Eigrp", "Dvmrp", "Rpl", "Dhcp"]
CONSOLE_COLORS = ["Black", "DarkBlue", "DarkGreen", "DarkCyan", "DarkRed", "DarkMagenta", "DarkYellow", "Gray",
                  "DarkGray", "Blue", "Green", "Cyan", "Red", "Magenta", "Yellow", "White"]
# Where-Object's comparison-statement sets (one per operator switch, each required in its set).
WHERE_COMPARISON: list[Spec] = [
    ("InputObject", "PSObject", False, None, [], None),
    ("Property", "String", True, 0, [], None),
    ("Value", "Object", False, 1, [], None),
]
WHERE_OPERATOR_SETS = {
    "MatchSet": "Match", "CaseSensitiveEqualSet": "CEQ", "NotEqualSet": "NE", "CaseSensitiveNotEqualSet": "CNE",
    "GreaterThanSet": "GT", "CaseSensitiveGreaterThanSet": "CGT", "LessThanSet": "LT",
    "CaseSensitiveLessThanSet": "CLT", "GreaterOrEqualSet": "GE", "CaseSensitiveGreaterOrEqualSet": "CGE",
    "LessOrEqualSet": "LE", "CaseSensitiveLessOrEqualSet": "CLE", "LikeSet": "Like", "CaseSensitiveLikeSet": "CLike",
    "NotLikeSet": "NotLike", "CaseSensitiveNotLikeSet": "CNotLike", "CaseSensitiveMatchSet": "CMatch",
    "NotMatchSet": "NotMatch", "CaseSensitiveNotMatchSet": "CNotMatch", "ContainsSet": "Contains",
    "CaseSensitiveContainsSet": "CContains", "NotContainsSet": "NotContains",
    "CaseSensitiveNotContainsSet": "CNotContains", "InSet": "In", "CaseSensitiveInSet": "CIn", "NotInSet": "NotIn",
    "CaseSensitiveNotInSet": "CNotIn", "IsSet": "Is", "IsNotSet": "IsNot",
}
ROUTE_FILTER: list[Spec] = [
    ("DestinationPrefix", "String[]", False, 0, [], None),
    ("InterfaceIndex", "UInt32[]", False, None, ["ifIndex"], None),
    ("InterfaceAlias", "String[]", False, None, ["ifAlias"], None),
    ("NextHop", "String[]", False, None, [], None),
    ("AddressFamily", "AddressFamily[]", False, None, [], ["IPv4", "IPv6"]),
    ("Publish", "Publish[]", False, None, [], ["No", "Age", "Yes"]),
    ("RouteMetric", "UInt16[]", False, None, [], None),
    ("Protocol", "Protocol[]", False, None, [], PROTOCOLS),
    ("CompartmentId", "UInt32[]", False, None, [], None),
    ("ValidLifetime", "TimeSpan[]", False, None, [], None),
    ("PreferredLifetime", "TimeSpan[]", False, None, [], None),
    ("AssociatedIPInterface", "CimInstance", False, None, [], None),
    ("PolicyStore", "String", False, None, [], None),
    ("IncludeAllCompartments", "SwitchParameter", False, None, [], None),
]


# NetSecurity (New-/Remove-NetFirewallRule): the enumerations as the pages list their accepted values.
FW_ACTION = ["NotConfigured", "Allow", "Block"]
FW_DIRECTION = ["Inbound", "Outbound"]
FW_EDGE = ["Block", "Allow", "DeferToUser", "DeferToApp"]
FW_ENABLED = ["True", "False"]
FW_STORE: list[Spec] = [
    ("PolicyStore", "String", False, None, [], None),
    ("GPOSession", "String", False, None, [], None),
    ("TracePolicyStore", "SwitchParameter", False, None, [], None),
]
FW_TAIL: list[Spec] = CIM + [("PassThru", "SwitchParameter", False, None, [], None)] + RISK
FW_FILTERS = ["Address", "Application", "Interface", "InterfaceType", "Port", "Security", "Service"]


# Provisioning cmdlets' shared parameter groups (each page's SYNTAX and PARAMETERS blocks).
HV_ALL_REMOTE: list[Spec] = [
    ("CimSession", "CimSession[]", None, None, [], None),
    ("ComputerName", "String[]", None, None, [], None),
    ("Credential", "PSCredential[]", None, None, [], None),
]
VHD_SIZING: list[Spec] = [
    ("BlockSizeBytes", "UInt32", False, None, [], None),
    ("LogicalSectorSizeBytes", "UInt32", False, None, [], ["512", "4096"]),
    ("PhysicalSectorSizeBytes", "UInt32", False, None, [], ["512", "4096"]),
]
VHD_TAIL: list[Spec] = [("AsJob", "SwitchParameter", False, None, [], None)] + HV_ALL_REMOTE + RISK
DRIVE_CONTROLLER: list[Spec] = [
    ("ControllerType", "ControllerType", False, 1, [], ["IDE", "SCSI"]),
    ("ControllerNumber", "Int32", False, 2, [], None),
]
DRIVE_TAIL: list[Spec] = [
    ("ControllerLocation", "Int32", False, 3, [], None),
    ("Path", "String", False, 4, [], None),
    ("DiskNumber", "UInt32", False, None, ["Number"], None),
    ("ResourcePoolName", "String", False, None, [], None),
    ("SupportPersistentReservations", "SwitchParameter", False, None, ["ShareVirtualDisk"], None),
    ("AllowUnverifiedPaths", "SwitchParameter", False, None, [], None),
    ("MaximumIOPS", "UInt64", False, None, [], None),
    ("MinimumIOPS", "UInt64", False, None, [], None),
    ("QoSPolicyID", "String", False, None, [], None),
    ("QoSPolicy", "CimInstance", False, None, [], None),
    ("Passthru", "SwitchParameter", False, None, [], None),
    ("OverrideCacheAttributes", "CacheAttributes", False, None, [],
     ["Default", "WriteCacheEnabled", "WriteCacheAndFUAEnabled", "WriteCacheDisabled"]),
] + RISK
NIC_COMMON: list[Spec] = [
    ("SwitchName", "String", False, None, [], None),
    ("Name", "String", False, None, ["VMNetworkAdapterName"], None),
    ("DynamicMacAddress", "SwitchParameter", False, None, [], None),
    ("StaticMacAddress", "String", False, None, [], None),
    ("Passthru", "SwitchParameter", False, None, [], None),
    ("DeviceNaming", "OnOffState", False, None, [], ["On", "Off"]),
]
SET_VM: list[Spec] = [
    ("GuestControlledCacheTypes", "Boolean", False, None, [], None),
    ("LowMemoryMappedIoSpace", "UInt32", False, None, [], None),
    ("HighMemoryMappedIoSpace", "UInt64", False, None, [], None),
    ("ProcessorCount", "Int64", False, None, [], None),
    ("DynamicMemory", "SwitchParameter", False, None, [], None),
    ("StaticMemory", "SwitchParameter", False, None, [], None),
    ("MemoryMinimumBytes", "Int64", False, None, [], None),
    ("MemoryMaximumBytes", "Int64", False, None, [], None),
    ("MemoryStartupBytes", "Int64", False, None, [], None),
    ("AutomaticStartAction", "StartAction", False, None, [], ["Nothing", "StartIfRunning", "Start"]),
    ("AutomaticStopAction", "StopAction", False, None, [], ["TurnOff", "Save", "ShutDown"]),
    ("AutomaticStartDelay", "Int32", False, None, [], None),
    ("AutomaticCriticalErrorAction", "CriticalErrorAction", False, None, [], ["None", "Pause"]),
    ("AutomaticCriticalErrorActionTimeout", "Int32", False, None, [], None),
    ("AutomaticCheckpointsEnabled", "Boolean", False, None, [], None),
    ("LockOnDisconnect", "OnOffState", False, None, [], ["On", "Off"]),
    ("Notes", "String", False, None, [], None),
    ("NewVMName", "String", False, None, [], None),
    ("SnapshotFileLocation", "String", False, None, [], None),
    ("SmartPagingFilePath", "String", False, None, [], None),
    ("CheckpointType", "CheckpointType", False, None, [], ["Disabled", "Production", "ProductionOnly", "Standard"]),
    ("Passthru", "SwitchParameter", False, None, [], None),
    ("AllowUnverifiedPaths", "SwitchParameter", False, None, [], None),
]


# Set-DhcpServerv4OptionValue: what both of its parameter sets begin with.
DHCP_OPTION_COMMON: list[Spec] = [
    ("PolicyName", "String", False, None, [], None), ("PassThru", "SwitchParameter", False, None, [], None),
    ("Force", "SwitchParameter", False, None, [], None), ("ReservedIP", "IPAddress", False, None, ["IPAddress"], None),
    ("ScopeId", "IPAddress", False, 3, [], None),
]


def _p(spec: Spec) -> dict[str, Any]:
    name, typ, required, position, aliases, accepted = spec
    return {"name": name, "type": typ, "required": bool(required), "position": position,
            "pipeline": False, "pipeline_by": [], "accepted_values": accepted,
            "aliases": aliases, "wildcards": False, "default_value": None,
            "switch": typ == "SwitchParameter", "sources": ["syntax", "yaml"]}


TRANSCRIBED: dict[str, dict[str, Any]] = {
    "Remove-VMSavedState": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/Hyper-V/Remove-VMSavedState.md",
        "commit": "c3cbce67d85ce363f2d0eff4974c64cd8efa499c", "should_process": True,
        "sets": {
            "VMName": HV_REMOTE + [("VMName", "String[]", True, 0, [], None)] + RISK,
            "VMObject": [("VM", "VirtualMachine[]", True, 0, [], None)] + RISK,
            "VMSnapshot": [("VMSnapshot", "VMSnapshot", True, 0, ["VMCheckpoint"], None)] + RISK,
        }, "default": "VMName"},
    "Get-VMSecurity": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/Hyper-V/Get-VMSecurity.md",
        "commit": "490974e7ab24f60b5111c4e5de3be657259a86f0", "should_process": False,
        "sets": {
            "VMName": HV_REMOTE + [("VMName", "String[]", True, 0, [], None)],
            "VMObject": [("VM", "VirtualMachine[]", True, 0, [], None)],
        }, "default": "VMName"},
    "Set-VMSecurity": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/Hyper-V/Set-VMSecurity.md",
        "commit": "2b240753c43cb94f7b7087cfdbef8f504f507cc5", "should_process": True,
        "sets": {
            "VMName": HV_REMOTE + [("VMName", "String[]", True, 0, [], None),
                                   ("Passthru", "SwitchParameter", False, None, [], None),
                                   ("EncryptStateAndVmMigrationTraffic", "Boolean", False, None, [], None),
                                   ("VirtualizationBasedSecurityOptOut", "Boolean", False, None, [], None)] + RISK,
            "VMObject": [("VM", "VirtualMachine[]", True, 0, [], None),
                         ("Passthru", "SwitchParameter", False, None, [], None),
                         ("EncryptStateAndVmMigrationTraffic", "Boolean", False, None, [], None),
                         ("VirtualizationBasedSecurityOptOut", "Boolean", False, None, [], None)] + RISK,
        }, "default": "VMName"},
    "Add-NetNatStaticMapping": {
        "module": "NetNat", "path": "docset/winserver2022-ps/NetNat/Add-NetNatStaticMapping.md",
        "commit": "c3cbce67d85ce363f2d0eff4974c64cd8efa499c", "should_process": True,
        "sets": {"__AllParameterSets": [
            ("NatName", "String", True, 0, [], None),
            ("Protocol", "Protocol", True, None, [], ["TCP", "UDP"]),
            ("RemoteExternalIPAddressPrefix", "String", False, None, [], None),
            ("ExternalIPAddress", "String", True, None, [], None),
            ("ExternalPort", "UInt16", True, None, [], None),
            ("InternalIPAddress", "String", True, None, [], None),
            ("InternalPort", "UInt16", False, None, [], None),
            ("InternalRoutingDomainId", "String", False, None, [], None),
        ] + CIM + RISK}, "default": "__AllParameterSets"},
    "Get-NetNatStaticMapping": {
        "module": "NetNat", "path": "docset/winserver2022-ps/NetNat/Get-NetNatStaticMapping.md",
        "commit": "490974e7ab24f60b5111c4e5de3be657259a86f0", "should_process": False,
        "sets": {"__AllParameterSets": [("NatName", "String[]", False, 0, [], None)] + CIM},
        "default": "__AllParameterSets"},
    "Remove-NetNatStaticMapping": {
        "module": "NetNat", "path": "docset/winserver2022-ps/NetNat/Remove-NetNatStaticMapping.md",
        "commit": "0ef3f225d29e26d1cf3119f37dfff70bb6165746", "should_process": True,
        "sets": {
            "Query (cdxml)": (
                [("StaticMappingID", "UInt32[]", False, None, [], None), ("NatName", "String[]", False, 0, [], None)]
                + CIM + [("PassThru", "SwitchParameter", False, None, [], None)] + RISK
            ),
            "InputObject (cdxml)": (
                [("InputObject", "CimInstance[]", True, None, [], None)]
                + CIM + [("PassThru", "SwitchParameter", False, None, [], None)] + RISK
            ),
        }, "default": "Query (cdxml)"},
    "Get-NetRoute": {
        "module": "NetTCPIP", "path": "docset/winserver2022-ps/NetTCPIP/Get-NetRoute.md",
        "commit": "490974e7ab24f60b5111c4e5de3be657259a86f0", "should_process": False,
        "sets": {"__AllParameterSets": ROUTE_FILTER + CIM}, "default": "__AllParameterSets"},
    "New-NetFirewallRule": {
        "module": "NetSecurity", "path": "docset/winserver2022-ps/NetSecurity/New-NetFirewallRule.md",
        "commit": "ba37af80bd5cc4eed6b0f26cb1b48f3fbc48053c", "should_process": True,
        "sets": {"__AllParameterSets": [
            ("PolicyStore", "String", False, None, [], None),
            ("GPOSession", "String", False, None, [], None),
            ("Name", "String", False, None, ["ID"], None),
            ("DisplayName", "String", True, None, [], None),
            ("Description", "String", False, None, [], None),
            ("Group", "String", False, None, [], None),
            ("Enabled", "Enabled", False, None, [], FW_ENABLED),
            ("Profile", "Profile", False, None, [], ["Any", "Domain", "Private", "Public", "NotApplicable"]),
            ("Platform", "String[]", False, None, [], None),
            ("Direction", "Direction", False, None, [], FW_DIRECTION),
            ("Action", "Action", False, None, [], FW_ACTION),
            ("EdgeTraversalPolicy", "EdgeTraversal", False, None, [], FW_EDGE),
            ("LooseSourceMapping", "Boolean", False, None, ["LSM"], None),
            ("LocalOnlyMapping", "Boolean", False, None, [], None),
            ("Owner", "String", False, None, [], None),
            ("LocalAddress", "String[]", False, None, [], None),
            ("RemoteAddress", "String[]", False, None, [], None),
            ("Protocol", "String", False, None, [], None),
            ("LocalPort", "String[]", False, None, [], None),
            ("RemotePort", "String[]", False, None, [], None),
            ("IcmpType", "String[]", False, None, [], None),
            ("DynamicTarget", "DynamicTransport", False, None, ["DynamicTransport"],
             ["Any", "ProximityApps", "ProximitySharing", "WifiDirectPrinting", "WifiDirectDisplay", "WifiDirectDevices"]),
            ("Program", "String", False, None, [], None),
            ("Package", "String", False, None, [], None),
            ("Service", "String", False, None, [], None),
            ("InterfaceAlias", "WildcardPattern[]", False, None, [], None),
            ("InterfaceType", "InterfaceType", False, None, [], ["Any", "Wired", "Wireless", "RemoteAccess"]),
            ("LocalUser", "String", False, None, [], None),
            ("RemoteUser", "String", False, None, [], None),
            ("RemoteMachine", "String", False, None, [], None),
            ("Authentication", "Authentication", False, None, [], ["NotRequired", "Required", "NoEncap"]),
            ("Encryption", "Encryption", False, None, [], ["NotRequired", "Required", "Dynamic"]),
            ("OverrideBlockRules", "Boolean", False, None, [], None),
            ("RemoteDynamicKeywordAddresses", "String[]", False, None, [], None),
        ] + CIM + RISK}, "default": "__AllParameterSets"},
    "Remove-NetFirewallRule": {
        "module": "NetSecurity", "path": "docset/winserver2022-ps/NetSecurity/Remove-NetFirewallRule.md",
        "commit": "c3cbce67d85ce363f2d0eff4974c64cd8efa499c", "should_process": True,
        "sets": {
            "GetAll": [("All", "SwitchParameter", False, None, [], None)] + FW_STORE + FW_TAIL,
            "ByName": [("Name", "String[]", True, 0, ["ID"], None)] + FW_STORE + FW_TAIL,
            "ByDisplayName": [("DisplayName", "String[]", True, None, [], None)] + FW_STORE + FW_TAIL,
            "ByQuery": [
                ("Description", "String[]", False, None, [], None),
                ("DisplayGroup", "String[]", False, None, [], None),
                ("Group", "String[]", False, None, [], None),
                ("Enabled", "Enabled[]", False, None, [], FW_ENABLED),
                ("Direction", "Direction[]", False, None, [], FW_DIRECTION),
                ("Action", "Action[]", False, None, [], FW_ACTION),
                ("EdgeTraversalPolicy", "EdgeTraversal[]", False, None, [], FW_EDGE),
                ("LooseSourceMapping", "Boolean[]", False, None, ["LSM"], None),
                ("LocalOnlyMapping", "Boolean[]", False, None, [], None),
                ("Owner", "String[]", False, None, [], None),
                ("PrimaryStatus", "PrimaryStatus[]", False, None, [], ["Unknown", "OK", "Inactive", "Error"]),
                ("Status", "String[]", False, None, [], None),
                ("PolicyStoreSource", "String[]", False, None, [], None),
                ("PolicyStoreSourceType", "PolicyStoreType[]", False, None, [],
                 ["None", "Local", "GroupPolicy", "Dynamic", "Generated", "Hardcoded"]),
            ] + FW_STORE + FW_TAIL,
            **{f"ByAssociatedNetFirewall{kind}Filter": [(f"AssociatedNetFirewall{kind}Filter", "CimInstance", True, None, [], None)]
               + FW_STORE + FW_TAIL for kind in FW_FILTERS},
            "ByAssociatedNetFirewallProfile": [("AssociatedNetFirewallProfile", "CimInstance", True, None, [], None)] + FW_STORE + FW_TAIL,
            "InputObject (cdxml)": [("InputObject", "CimInstance[]", True, None, [], None)] + FW_TAIL,
        }, "default": "GetAll"},
    "Remove-NetRoute": {
        "module": "NetTCPIP", "path": "docset/winserver2022-ps/NetTCPIP/Remove-NetRoute.md",
        "commit": "a82f13f3dd50379d0cf0e0b3dbe19b5b8c5a345d", "should_process": True,
        "sets": {
            "ByName": ROUTE_FILTER + CIM + [("PassThru", "SwitchParameter", False, None, [], None)] + RISK,
            "InputObject (cdxml)": [("InputObject", "CimInstance[]", True, None, [], None)] + CIM
                                   + [("PassThru", "SwitchParameter", False, None, [], None)] + RISK,
        }, "default": "ByName"},
    # Provisioning (win_nested_vm_provision's own script, plugins/plugin_utils/powershell/provision.ps1).
    "New-VHD": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/hyper-v/New-VHD.md",
        "commit": "24c52e572438b84acd00d33f2444078605e86f11", "should_process": True,
        "sets": {
            "DynamicWithoutSource": [("Path", "String[]", True, 0, [], None), ("SizeBytes", "UInt64", True, 1, [], None),
                                     ("Dynamic", "SwitchParameter", False, None, [], None)] + VHD_SIZING + VHD_TAIL,
            "Differencing": [("Path", "String[]", True, 0, [], None), ("ParentPath", "String", True, 1, [], None),
                             ("SizeBytes", "UInt64", False, 1, [], None),
                             ("Differencing", "SwitchParameter", False, None, [], None),
                             ("BlockSizeBytes", "UInt32", False, None, [], None),
                             ("PhysicalSectorSizeBytes", "UInt32", False, None, [], ["512", "4096"])] + VHD_TAIL,
            "FixedWithoutSource": [("Path", "String[]", True, 0, [], None), ("SizeBytes", "UInt64", True, 1, [], None),
                                   ("Fixed", "SwitchParameter", True, None, [], None)] + VHD_SIZING + VHD_TAIL,
            "FixedWithSource": [("Path", "String[]", True, 0, [], None), ("SourceDisk", "UInt32", True, None, ["Number"], None),
                                ("Fixed", "SwitchParameter", True, None, [], None),
                                ("BlockSizeBytes", "UInt32", False, None, [], None)] + VHD_TAIL,
            "DynamicWithSource": [("Path", "String[]", True, 0, [], None),
                                  ("SourceDisk", "UInt32", True, None, ["Number"], None),
                                  ("Dynamic", "SwitchParameter", True, None, [], None),
                                  ("BlockSizeBytes", "UInt32", False, None, [], None)] + VHD_TAIL,
        }, "default": "DynamicWithoutSource"},
    "Mount-VHD": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/hyper-v/Mount-VHD.md",
        "commit": "4d29a49b123cfa8262749a165c730f99e9712e77", "should_process": True,
        "sets": {"__AllParameterSets": [
            ("Path", "String[]", True, 0, ["FullName"], None), ("NoDriveLetter", "SwitchParameter", False, None, [], None),
            ("ReadOnly", "SwitchParameter", False, None, [], None), ("SnapshotId", "Guid", False, None, [], None),
            ("PassThru", "SwitchParameter", False, None, [], None)] + HV_ALL_REMOTE + RISK},
        "default": "__AllParameterSets"},
    "Dismount-VHD": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/hyper-v/Dismount-VHD.md",
        "commit": "4d29a49b123cfa8262749a165c730f99e9712e77", "should_process": True,
        "sets": {
            "Path": [("Path", "String[]", True, 0, ["FullName"], None), ("SnapshotId", "Guid", False, None, [], None),
                     ("PassThru", "SwitchParameter", False, None, [], None)] + HV_ALL_REMOTE + RISK,
            "Disk": [("DiskNumber", "UInt32", True, 0, ["Number"], None),
                     ("PassThru", "SwitchParameter", False, None, [], None)] + HV_ALL_REMOTE + RISK,
        }, "default": "Path"},
    "Add-VMHardDiskDrive": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/hyper-v/Add-VMHardDiskDrive.md",
        "commit": "270c58a30ff59814b2a641e823d0b629c2a20c77", "should_process": True,
        "sets": {
            "VMName": HV_REMOTE + [("VMName", "String[]", True, 0, [], None)] + DRIVE_CONTROLLER + DRIVE_TAIL,
            "VMObject": [("VM", "VirtualMachine[]", True, 0, [], None)] + DRIVE_CONTROLLER + DRIVE_TAIL,
            "VMDriveController": [("VMDriveController", "VMDriveController", True, 0, [], None)] + DRIVE_TAIL,
        }, "default": "VMName"},
    "Add-VMNetworkAdapter": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/hyper-v/Add-VMNetworkAdapter.md",
        "commit": "1e2660c10052bbf8da4b08d1987ed53ae6d581fd", "should_process": True,
        "sets": {
            "VMName": HV_REMOTE + [("VMName", "String[]", True, 0, [], None), ("IsLegacy", "Boolean", False, None, [], None),
                                   ("ResourcePoolName", "String", False, None, [], None)] + NIC_COMMON + RISK,
            "ManagementOS": HV_REMOTE + [("ManagementOS", "SwitchParameter", False, None, [], None)] + NIC_COMMON + RISK,
            "VMObject": [("VM", "VirtualMachine[]", True, 0, [], None), ("IsLegacy", "Boolean", False, None, [], None),
                         ("ResourcePoolName", "String", False, None, [], None)] + NIC_COMMON + RISK,
        }, "default": "VMName"},
    "Set-VM": {
        "module": "Hyper-V", "path": "docset/winserver2022-ps/hyper-v/Set-VM.md",
        "commit": "071b3ece17c983ca7b9b9a0c101591ae1d44db8e", "should_process": True,
        "sets": {
            "Name": HV_REMOTE + [("Name", "String[]", True, 0, ["VMName"], None)] + SET_VM + RISK,
            "VMObject": [("VM", "VirtualMachine[]", True, 0, [], None)] + SET_VM + RISK,
        }, "default": "Name"},
    # DHCP inside an L1 host (win_nested_dhcp's script, plugins/plugin_utils/powershell/dhcp.ps1).
    "Add-DhcpServerv4Scope": {
        "module": "DhcpServer", "path": "docset/winserver2022-ps/dhcpserver/Add-DhcpServerv4Scope.md",
        "commit": "974e9d52fc9e77e474b89db361606d17d607a29b", "should_process": True,
        "sets": {"__AllParameterSets": [
            ("ComputerName", "String", False, None, ["Cn"], None),
            ("StartRange", "IPAddress", True, 1, [], None), ("EndRange", "IPAddress", True, 2, [], None),
            ("Name", "String", True, 4, [], None), ("Description", "String", False, None, [], None),
            ("State", "String", False, None, [], ["Active", "InActive"]),
            ("SuperscopeName", "String", False, None, [], None), ("MaxBootpClients", "UInt32", False, None, [], None),
            ("ActivatePolicies", "Boolean", False, None, [], None), ("PassThru", "SwitchParameter", False, None, [], None),
            ("NapEnable", "SwitchParameter", False, None, [], None), ("NapProfile", "String", False, None, [], None),
            ("Delay", "UInt16", False, None, [], None), ("LeaseDuration", "TimeSpan", False, None, [], None),
            ("SubnetMask", "IPAddress", True, 3, [], None), ("Type", "String", False, None, [], ["Dhcp", "Bootp", "Both"]),
        ] + CIM + RISK}, "default": "__AllParameterSets"},
    "Add-DhcpServerv4Reservation": {
        "module": "DhcpServer", "path": "docset/winserver2022-ps/dhcpserver/Add-DhcpServerv4Reservation.md",
        "commit": "974e9d52fc9e77e474b89db361606d17d607a29b", "should_process": True,
        "sets": {"__AllParameterSets": [
            ("ComputerName", "String", False, None, ["Cn", "ReservationServer"], None),
            ("ScopeId", "IPAddress", True, 1, ["ReservationScopeID"], None),
            ("IPAddress", "IPAddress", True, 2, ["ReservedIP"], None),
            ("ClientId", "String", True, 3, [], None),
            ("Name", "String", False, None, ["HostName", "ReservationName"], None),
            ("Description", "String", False, None, ["ReservationDescription"], None),
            ("Type", "String", False, None, ["ReservationType"], ["Dhcp", "Bootp", "Both"]),
            ("PassThru", "SwitchParameter", False, None, [], None),
        ] + CIM + RISK}, "default": "__AllParameterSets"},
    "Set-DhcpServerv4OptionValue": {
        "module": "DhcpServer", "path": "docset/winserver2022-ps/dhcpserver/Set-DhcpServerv4OptionValue.md",
        "commit": "5ad383a7b255f2f473d4d5d2bf68198b38dae6cd", "should_process": True,
        "sets": {
            "OptionIds": DHCP_OPTION_COMMON + [
                ("UserClass", "String", False, None, [], None), ("ComputerName", "String", False, None, ["Cn"], None),
                ("VendorClass", "String", False, None, [], None), ("Value", "String[]", True, 2, [], None),
                ("OptionId", "UInt32", True, 1, [], None)] + CIM + RISK,
            "CommonOptions": DHCP_OPTION_COMMON + [
                ("DnsDomain", "String", False, None, [], None), ("DnsServer", "IPAddress[]", False, None, [], None),
                ("Router", "IPAddress[]", False, None, [], None), ("UserClass", "String", False, None, [], None),
                ("WinsServer", "IPAddress[]", False, None, [], None), ("Wpad", "String", False, None, [], None),
                ("ComputerName", "String", False, None, ["Cn"], None)] + CIM + RISK,
        }, "default": "OptionIds"},
    # Windows PowerShell 5.1 built-ins that plain scripts use around the Hyper-V cmdlets (credentials for
    # PowerShell Direct, discarding or writing output). Switches listed with a position on a page
    # (ConvertTo-SecureString -AsPlainText/-Force) are transcribed as named: a switch never binds positionally.
    "ConvertTo-SecureString": {
        "module": "Microsoft.PowerShell.Security", "repo": PS_DOCS, "docset": "reference/5.1",
        "path": "reference/5.1/Microsoft.PowerShell.Security/ConvertTo-SecureString.md",
        "commit": "0267c6786cf1153a4000ca34999a10319db9b36f", "should_process": False,
        "pipeline": {"String": ["ByValue"]},
        "sets": {
            "Secure": [("String", "String", True, 0, [], None), ("SecureKey", "SecureString", False, 1, [], None)],
            "PlainText": [("String", "String", True, 0, [], None), ("AsPlainText", "SwitchParameter", False, None, [], None),
                          ("Force", "SwitchParameter", False, None, [], None)],
            "Open": [("String", "String", True, 0, [], None), ("Key", "Byte[]", False, None, [], None)],
        }, "default": "Secure"},
    "New-Object": {
        "module": "Microsoft.PowerShell.Utility", "repo": PS_DOCS, "docset": "reference/5.1",
        "path": "reference/5.1/Microsoft.PowerShell.Utility/New-Object.md",
        "commit": "0267c6786cf1153a4000ca34999a10319db9b36f", "should_process": False,
        "sets": {
            "Net": [("TypeName", "String", True, 0, [], None), ("ArgumentList", "Object[]", False, 1, ["Args"], None),
                    ("Property", "IDictionary", False, None, [], None)],
            "Com": [("ComObject", "String", True, 0, [], None), ("Strict", "SwitchParameter", False, None, [], None),
                    ("Property", "IDictionary", False, None, [], None)],
        }, "default": "Net"},
    "Out-Null": {
        "module": "Microsoft.PowerShell.Core", "repo": PS_DOCS, "docset": "reference/5.1",
        "path": "reference/5.1/Microsoft.PowerShell.Core/Out-Null.md",
        "commit": "01b93df7996ef4e64705d517e7515378da27034a", "should_process": False,
        "pipeline": {"InputObject": ["ByValue"]},
        "sets": {"__AllParameterSets": [("InputObject", "PSObject", False, None, [], None)]},
        "default": "__AllParameterSets"},
    "Write-Output": {
        "module": "Microsoft.PowerShell.Utility", "repo": PS_DOCS, "docset": "reference/5.1",
        "path": "reference/5.1/Microsoft.PowerShell.Utility/Write-Output.md",
        "commit": "0e1f201638e2c246529b8ec56416c6c6d1ed8233", "should_process": False,
        "pipeline": {"InputObject": ["ByValue"]},
        "sets": {"__AllParameterSets": [("InputObject", "PSObject[]", True, 0, [], None),
                                        ("NoEnumerate", "SwitchParameter", False, None, [], None)]},
        "default": "__AllParameterSets"},
    "Where-Object": {
        "module": "Microsoft.PowerShell.Core", "repo": PS_DOCS, "docset": "reference/5.1",
        "path": "reference/5.1/Microsoft.PowerShell.Core/Where-Object.md",
        "commit": "02ad0605d210694c886693d707e8ad1be6a0217e", "should_process": False,
        "pipeline": {"InputObject": ["ByValue"]},
        "sets": {
            "EqualSet": WHERE_COMPARISON + [("EQ", "SwitchParameter", False, None, [], None)],
            "ScriptBlockSet": [("InputObject", "PSObject", False, None, [], None),
                               ("FilterScript", "ScriptBlock", True, 0, [], None)],
            **{name: WHERE_COMPARISON + [(switch, "SwitchParameter", True, None, [], None)]
               for name, switch in WHERE_OPERATOR_SETS.items()},
        }, "default": "EqualSet"},
    "ForEach-Object": {
        "module": "Microsoft.PowerShell.Core", "repo": PS_DOCS, "docset": "reference/5.1",
        "path": "reference/5.1/Microsoft.PowerShell.Core/ForEach-Object.md",
        "commit": "afc83348479efec3a1f2c9a73ae1c9d9887944a5", "should_process": True,
        "pipeline": {"InputObject": ["ByValue"]},
        "sets": {
            "ScriptBlockSet": [("InputObject", "PSObject", False, None, [], None),
                               ("Begin", "ScriptBlock", False, None, [], None),
                               ("Process", "ScriptBlock[]", True, 0, [], None),
                               ("End", "ScriptBlock", False, None, [], None),
                               ("RemainingScripts", "ScriptBlock[]", False, None, [], None)] + RISK,
            "PropertyAndMethodSet": [("InputObject", "PSObject", False, None, [], None),
                                     ("MemberName", "String", True, 0, [], None),
                                     ("ArgumentList", "Object[]", False, None, ["Args"], None)] + RISK,
        }, "default": "ScriptBlockSet"},
    "Write-Host": {
        "module": "Microsoft.PowerShell.Utility", "repo": PS_DOCS, "docset": "reference/5.1",
        "path": "reference/5.1/Microsoft.PowerShell.Utility/Write-Host.md",
        "commit": "046007b58c3888c0248fdaec0b94bc660f361655", "should_process": False,
        "pipeline": {"Object": ["ByValue"]},
        "sets": {"__AllParameterSets": [
            ("Object", "Object", False, 0, [], None), ("NoNewline", "SwitchParameter", False, None, [], None),
            ("Separator", "Object", False, None, [], None),
            ("ForegroundColor", "ConsoleColor", False, None, [], CONSOLE_COLORS),
            ("BackgroundColor", "ConsoleColor", False, None, [], CONSOLE_COLORS)]},
        "default": "__AllParameterSets"},
}

DROP_KEYS = {"description", "synopsis", "notes", "docset_differences", "discrepancies"}


def _trim(entry: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in entry.items() if k not in DROP_KEYS}
    out["all_parameters"] = {n: {k: v for k, v in p.items() if k != "description"}
                             for n, p in entry.get("all_parameters", {}).items()}
    return out


def _transcribed(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    pipeline: dict[str, list[str]] = spec.get("pipeline", {})

    def param(x: Spec) -> dict[str, Any]:
        found = _p(x)
        if x[0] in pipeline:
            found["pipeline"], found["pipeline_by"] = True, pipeline[x[0]]
        return found

    sets = [{"name": s, "is_default": s == spec["default"], "parameters": [param(x) for x in params]}
            for s, params in spec["sets"].items()]
    return {"module": spec["module"], "cmdlet_aliases": [], "default_parameter_set": spec["default"],
            "parameter_sets": sets, "common_parameters": True,
            "supports_should_process": spec["should_process"], "source": spec["path"],
            "source_repo": spec.get("repo", DOCS), "source_commit": spec["commit"],
            "docset": spec.get("docset", "winserver2022-ps"), "transcribed_via_search": True}


def main(reference: str) -> None:
    ref = json.loads(Path(reference).read_text(encoding="utf-8"))
    cmdlets = {name: _trim(entry) for name, entry in ref["cmdlets"].items()}
    for name, spec in TRANSCRIBED.items():
        cmdlets[name] = _transcribed(name, spec)
    # Pages extracted from the documentation repositories by extract_pages.py (see PROVENANCE.md).
    pages = Path(__file__).with_name("pages.json")
    if pages.exists():
        for name, entry in json.loads(pages.read_text(encoding="utf-8")).items():
            cmdlets.setdefault(name, entry)
    out = {"_meta": {"built_by": "build_subset.py", "reference_meta": ref["_meta"].get("sources")},
           "common_parameters_reference": ref["common_parameters_reference"],
           "aliases": ref["aliases"], "cmdlets": dict(sorted(cmdlets.items()))}
    # One cmdlet per line: small, and diffs stay per cmdlet.
    lines = [f" {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in out.items()
             if k != "cmdlets"]
    lines.append(' "cmdlets": {\n' + ",\n".join(
        f"  {json.dumps(n)}: {json.dumps(c, separators=(',', ':'))}" for n, c in out["cmdlets"].items())
        + "\n }")
    Path(__file__).with_name("cmdlets.json").write_text("{\n" + ",\n".join(lines) + "\n}\n",
                                                        encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/cmdlets.json")
