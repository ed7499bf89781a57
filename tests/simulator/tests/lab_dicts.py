"""Small lab dictionaries and a real-wire client for the model/powershell/fleet tests."""
from __future__ import annotations

import base64
import copy
import json
from typing import Any

from hvsim.fleet import Fleet
from hvsim.winrm.backend import CommandResult

WS2022 = {"caption": "Microsoft Windows Server 2022 Datacenter", "product_type": "server",
          "edition": "ServerDatacenter", "build": 20348}
INTEL = {"manufacturer": "GenuineIntel", "name": "Intel Xeon", "vmx": True, "ept": True,
         "virtualization_firmware_enabled": True}
STUB = ("$r = $input | Out-String | ConvertFrom-Json\n"
        "$sb = [scriptblock]::Create($r.script)\n"
        "& $sb $r.parameters | ConvertTo-Json -Depth 20 -Compress")
ENCODED = base64.b64encode(STUB.encode("utf-16-le")).decode()
COMMAND_LINE = f"PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {ENCODED}"


def vm(name: str, **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name, "generation": 2, "version": "9.0", "state": "Off", "processor_count": 2,
        "memory": {"startup_gb": 4, "dynamic": False, "minimum_gb": 1, "maximum_gb": 16},
        "expose_virtualization_extensions": False,
        "adapters": [{"name": "Network Adapter", "switch": "External", "mac_address_spoofing": "Off"}],
        "checkpoints": [], "ignores_shutdown": False,
    }
    spec.update(overrides)
    return spec


def windows_guest(nested: dict[str, Any] | None = None) -> dict[str, Any]:
    guest: dict[str, Any] = {"os": dict(WS2022), "username": "Administrator", "password": "Passw0rd!"}
    if nested is not None:
        guest["nested_host"] = nested
    return guest


def l0(name: str = "hv01", vms: list[dict[str, Any]] | None = None, **overrides: Any) -> dict[str, Any]:
    host: dict[str, Any] = {
        "name": name, "address": "127.0.0.1", "port": 0, "username": "Administrator", "password": "Passw0rd!",
        "os": dict(WS2022), "processor": dict(INTEL), "logical_processors": 16, "memory_gb": 64,
        "hyperv_feature": "Enabled", "hypervisor_present": True, "vbs": {"configured": False, "running": False},
        "bcd_offer_nested_virt_disabled": False,
        "switches": [{"name": "External", "switch_type": "External", "net_adapter": "Ethernet"}],
        "vms": vms or [],
    }
    host.update(overrides)
    return host


def lab(*hosts: dict[str, Any]) -> dict[str, Any]:
    return {"name": "unit", "timing": {"shutdown_seconds": 0.05, "boot_seconds": 0.05, "reboot_seconds": 0.1},
            "hosts": list(hosts)}


def nested_ready_lab(l2_state: str = "Off", l1_switches: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """hv01 runs LAB-HV1 as a working Hyper-V host (extensions exposed, static memory, Hyper-V on)
    with one L2 guest LAB-VM1 connected to the L1 switch 'VmNAT' (Internal) unless told otherwise."""
    l2 = vm("LAB-VM1", state=l2_state, version="10.0",
            adapters=[{"name": "Network Adapter", "switch": "VmNAT", "mac_address_spoofing": "Off"}],
            guest=windows_guest())
    switches = [{"name": "VmNAT", "switch_type": "Internal"}] if l1_switches is None else l1_switches
    l1 = vm("LAB-HV1", state="Running", version="10.0", expose_virtualization_extensions=True,
            guest=windows_guest({"address": "127.0.0.2", "port": 0, "hyperv_feature": "Enabled",
                                 "switches": switches, "vms": [l2]}))
    return lab(l0(vms=[l1]))


def basic_lab() -> dict[str, Any]:
    """hv01 with LAB-HV1 (a Windows VM, Running, not nested yet) and PLAIN (no guest login, Off)."""
    l1 = vm("LAB-HV1", state="Running", memory={"startup_gb": 4, "dynamic": True, "minimum_gb": 1, "maximum_gb": 16},
            guest=windows_guest({"address": "127.0.0.2", "port": 0, "hyperv_feature": "Disabled",
                                 "switches": [], "vms": []}))
    return lab(l0(vms=[l1, vm("PLAIN")]))


def fleet_of(spec: dict[str, Any]) -> Fleet:
    return Fleet.from_lab(copy.deepcopy(spec))


def send(fleet: Fleet, host: str, script_name: str, parameters: dict[str, Any]) -> CommandResult:
    request = {"hyperv_nested_request": 1, "script_name": script_name, "script": "param($p) $p",
               "parameters": parameters}
    return fleet.run_command(host, COMMAND_LINE, json.dumps(request).encode("utf-8"))


def call(fleet: Fleet, host: str, script_name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    result = send(fleet, host, script_name, parameters)
    assert result.rc == 0, result.stderr
    assert result.stdout.endswith(b"\r\n")
    document = json.loads(result.stdout.decode("utf-8"))
    assert document["ok"], document
    return document["result"]


def execute(fleet: Fleet, host: str, *ops: dict[str, Any], on_failure: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    return call(fleet, host, "execute", {"operations": list(ops), "on_failure": on_failure or []})


def cmdlet(name: str, vm_name: str | None = None, **parameters: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"kind": "cmdlet", "cmdlet": name, "parameters": parameters}
    if vm_name is not None:
        op["vm"] = vm_name
    return op


def vm_info(fleet: Fleet, host: str, name: str) -> dict[str, Any]:
    vms = call(fleet, host, "probe", {"sections": ["vms"], "vm_names": [name]})["vms"]["vms"]
    assert len(vms) == 1
    return vms[0]


def only_failure(result: dict[str, Any]) -> str:
    assert result["failed_index"] is not None, result
    return str(result["operations"][result["failed_index"]]["message"])
