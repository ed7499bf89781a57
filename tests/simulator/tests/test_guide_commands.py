"""Microsoft's nested virtualization guide, run verbatim on a fresh simulated lab the way an operator
runs it (ansible.builtin.raw on the physical hosts, ansible.windows.win_shell in the L1 hosts,
ansible.windows.win_powershell with PowerShell Direct for the L2 guests), converges the lab to the
state the collection's modules then report as converged (check mode, changed=false).

The commands come from guide/nested-virtualization.md (copied with their typographic dashes and
quotes, sources there); only the placeholders are filled in. What the guide leaves to the operator
(turning the VM off first and on again, connecting the guests to the NAT switch and starting them,
waiting for a restart, the PowerShell Direct wrapper around the guest's own commands) is marked
"glue" below and is plain PowerShell too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hvsim.powershell.ansible_modules import parse_payload
from hvsim.testing import RunningLab

GUIDE = Path(__file__).parent / "guide" / "nested-virtualization.md"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
DNS = "1.1.1.1"
GUEST_USER, GUEST_PASSWORD = "Administrator", "GuestPassw0rd!"
# healthy-intel: the L0 host of each L1 VM, its networking mode, and the L2 guests of the NAT ones.
L1 = {"lab-hv1": ("hv01", "LAB-HV1", "nat"), "lab-hv2": ("hv01", "LAB-HV2", "mac_spoofing"),
      "lab-hv3": ("hv02", "LAB-HV3", "nat")}
GUESTS = {"lab-hv1": [("LAB-VM1", "192.168.100.2"), ("LAB-VM2", "192.168.100.3")],
          "lab-hv3": [("LAB-VM4", "192.168.100.2")]}


def guide_steps() -> dict[str, str]:
    """The blocks of the guide file, with the quotes' \\uXXXX escapes decoded to the characters."""
    text = GUIDE.read_text(encoding="utf-8")
    return {m.group(1): re.sub(r"\\u([0-9a-f]{4})", lambda e: chr(int(e.group(1), 16)), m.group(2).strip("\n"))
            for m in re.finditer(r"^## step: ([\w-]+)[^\n]*\n\n```powershell\n(.*?)```", text, re.S | re.M)}


def fill(block: str, **values: str) -> str:
    for placeholder, value in values.items():
        block = block.replace(f"<{placeholder}>", value)
    assert "<" not in block.replace("<#", ""), f"a placeholder is left: {block}"
    return block


def test_the_guide_file_keeps_the_typographic_characters_it_was_copied_with() -> None:
    steps = guide_steps()
    assert set(steps) >= {"expose", "dynamic-memory", "mac-spoofing", "install-hyperv", "nat-switch",
                          "nat-gateway", "guest-address", "current-guest-address"}
    assert "New-NetNat \u2013Name LocalNAT \u2013InternalIPInterfaceAddressPrefix \u201c192.168.100.0/24\u201d" \
        in steps["nat-switch"]
    assert "dnsserver \u201cEthernet\u201d address=<my DNS server>" in steps["guest-address"]


def playbook(path: Path, plays: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump(plays, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def run_playbook(lab: RunningLab, path: Path, *flags: str) -> dict[str, Any]:
    env = {**os.environ, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_HOST_KEY_CHECKING": "False",
           "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(lab.inventory), str(path), *flags],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    try:
        document: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise AssertionError(f"rc={done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}") from None
    stats = document.get("stats", {})
    failed = {h: s for h, s in stats.items() if s.get("failures") or s.get("unreachable")}
    assert done.returncode == 0 and not failed, \
        f"rc={done.returncode} failed={failed}\n{json.dumps(_failures(document), indent=1)[:6000]}\n{done.stderr[-2000:]}"
    return document


def _failures(document: dict[str, Any]) -> list[Any]:
    found = []
    for play in document.get("plays", []):
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") or result.get("unreachable"):
                    found.append({"task": task["task"]["name"], "host": host, "result": result})
    return found


def operator_plays(steps: dict[str, str]) -> list[dict[str, Any]]:
    l0_tasks: dict[str, list[dict[str, Any]]] = {"hv01": [], "hv02": []}
    for _l1, (parent, vm, mode) in L1.items():
        tasks = l0_tasks[parent]
        tasks.append({"name": f"glue: turn {vm} off (the guide starts from a VM that is off)",
                      "ansible.builtin.raw": f"Stop-VM -Name {vm}"})
        tasks.append({"name": f"guide: expose virtualization extensions to {vm}",
                      "ansible.builtin.raw": fill(steps["expose"], VMName=vm)})
        tasks.append({"name": f"guide (preview): dynamic memory off on {vm}",
                      "ansible.builtin.raw": fill(steps["dynamic-memory"], VMName=vm)})
        if mode == "mac_spoofing":
            tasks.append({"name": f"guide: MAC address spoofing on {vm}",
                          "ansible.builtin.raw": fill(steps["mac-spoofing"], VMName=vm)})
        tasks.append({"name": f"glue: start {vm} (the guide: \"Start the virtual machine\")",
                      "ansible.builtin.raw": f"Start-VM -Name {vm}"})
    plays: list[dict[str, Any]] = [{"name": f"Guide on {host}", "hosts": host, "gather_facts": False, "tasks": tasks}
                                   for host, tasks in l0_tasks.items()]
    plays.append({"name": "Guide inside the L1 hosts", "hosts": ",".join(L1), "gather_facts": False, "tasks": [
        {"name": "glue: wait for the L1 host", "ansible.builtin.wait_for_connection": {"timeout": 60}},
        {"name": "install page: Hyper-V with its management tools, restarting", "ansible.windows.win_shell":
            fill(steps["install-hyperv"])},
        {"name": "glue: wait for the restart", "ansible.builtin.wait_for_connection": {"delay": 5, "timeout": 120}},
    ]})
    for l1, guests in GUESTS.items():
        tasks = [
            {"name": "guide: NAT switch and NetNat", "ansible.windows.win_shell": fill(steps["nat-switch"])},
            {"name": "guide: gateway address on the NAT adapter", "ansible.windows.win_shell": fill(steps["nat-gateway"])},
        ]
        for vm, address in guests:
            tasks.append({"name": f"glue: connect {vm} to the NAT switch and start it",
                          "ansible.windows.win_shell": f"Connect-VMNetworkAdapter -VMName {vm} -SwitchName VmNAT\n"
                                                       f"Start-VM -Name {vm}"})
            guest_block = fill(steps["guest-address"], **{"my DNS server": DNS}).replace("192.168.100.2", address)
            tasks.append({
                "name": f"guide (preview): address, gateway and DNS inside {vm} (glue: PowerShell Direct)",
                "ansible.windows.win_powershell": {
                    "script": f"param($Credential)\nInvoke-Command -VMName {vm} -Credential $Credential -ScriptBlock {{\n"
                              f"{guest_block}\n}}",
                    "error_action": "stop",
                    "sensitive_parameters": [{"name": "Credential", "username": GUEST_USER, "password": GUEST_PASSWORD}],
                },
                "register": "guest_address", "retries": 20, "delay": 1, "until": "guest_address is succeeded",
            })
        plays.append({"name": f"Guide's NAT option inside {l1}", "hosts": l1, "gather_facts": False, "tasks": tasks})
    return plays


def module_plays() -> list[dict[str, Any]]:
    plays: list[dict[str, Any]] = []
    for parent in ("hv01", "hv02"):
        for _l1, (host, vm, mode) in L1.items():
            if host != parent:
                continue
            args: dict[str, Any] = {"name": [vm], "state": "enabled"}
            if mode == "mac_spoofing":
                args["mac_address_spoofing"] = "on"
            plays.append({"name": f"win_nested_vm on {parent}", "hosts": parent, "gather_facts": False,
                          "tasks": [{"name": f"{vm} as the guide left it", "hyperv.nested.win_nested_vm": args}]})
    plays.append({"name": "Hyper-V in the L1 hosts", "hosts": ",".join(L1), "gather_facts": False, "tasks": [
        {"name": "Hyper-V installed", "ansible.windows.win_feature": {
            "name": "Hyper-V", "include_management_tools": True, "state": "present"}}]})
    for l1, guests in GUESTS.items():
        plays.append({"name": f"win_nested_nat on {l1}", "hosts": l1, "gather_facts": False, "tasks": [
            {"name": "NAT as the guide left it", "hyperv.nested.win_nested_nat": {
                "switch_name": "VmNAT", "nat_name": "LocalNAT", "prefix": "192.168.100.0/24", "guest_dns": [DNS],
                "guests": [{"vm": vm, "ip": address} for vm, address in guests],
                "guest_username": GUEST_USER, "guest_password": GUEST_PASSWORD}}]})
    return plays


def test_the_guides_commands_converge_a_fresh_lab_to_what_the_modules_report_as_converged(
        running_lab: RunningLab, tmp_path: Path) -> None:
    steps = guide_steps()
    for guest in ("lab-vm1", "lab-vm2", "lab-vm4"):
        assert running_lab.connectivity(guest)["connected"] is False
    run_playbook(running_lab, playbook(tmp_path / "guide.yml", operator_plays(steps)))

    checked = run_playbook(running_lab, playbook(tmp_path / "modules.yml", module_plays()), "--check")
    results = [(task["task"]["name"], host, result) for play in checked["plays"] for task in play["tasks"]
               for host, result in task["hosts"].items()]
    assert len(results) == 3 + 3 + 2        # win_nested_vm x3 VMs, win_feature x3 L1 hosts, win_nested_nat x2
    changed = [(name, host, result) for name, host, result in results if result.get("changed")]
    assert changed == [], json.dumps(changed, indent=1)[:4000]
    for guest in ("lab-vm1", "lab-vm2", "lab-vm4"):
        assert running_lab.connectivity(guest)["connected"] is True, running_lab.connectivity(guest)
    # The guide's text reached the L1 host as it is written, typographic characters and all.
    sent = [parse_payload((entry.get("stdin") or "").encode("utf-8")) for entry in running_lab.transcript("lab-hv1")]
    shells = [call.args.get("_raw_params", "") for call in sent if call is not None and call.name.endswith("win_shell")]
    assert steps["nat-switch"] in shells
