# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the acceptance targets (tests/integration/targets/) with ansible-test windows-integration.

    tools/acceptance.py --inventory inventory.winrm [TARGET...]   your own Hyper-V host(s)
    tools/acceptance.py --simulated [TARGET...]                     the simulated hosts (make test)

The inventory is ansible-test's: INI, the hosts in a group named `windows`, with their
connection variables (docs/validate-on-your-host.md). The targets create their own throwaway
VMs and switch (names starting with `hvnested-acc-`) and remove them; they never touch anything
else. The output is also written to tests/output/acceptance-report.txt with every password of the
inventory replaced by ********, ready to be sent back.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import run_tests  # this script's folder, tools/, is sys.path[0] (the sanity copy ansible-test needs: build/ansible_collections/hyperv/nested)

REPO = Path(__file__).resolve().parents[1]

TARGETS = ("win_nested_info", "win_nested_vm", "win_nested_nat", "win_nested_switch")
SIMULATED_LAB = REPO / "tests" / "integration" / "labs" / "acceptance.yml"
REPORT = REPO / "tests" / "output" / "acceptance-report.txt"
SECRET_KEYS = re.compile(r"(password|pass|secret|token)$", re.IGNORECASE)


def secrets_of(inventory: Path) -> list[str]:
    """Every value of a password-like variable in an INI inventory (host lines and [*:vars])."""
    found: list[str] = []
    for line in inventory.read_text(encoding="utf-8").splitlines():
        for key, value in re.findall(r"(\w+)\s*=\s*(\"[^\"]*\"|'[^']*'|\S+)", line):
            if SECRET_KEYS.search(key):
                found.append(value.strip("'\""))
    return [value for value in found if value]


def masked(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


def run_targets(inventory: Path, targets: list[str], verbose: bool) -> int:
    run_tests.sync_sanity_tree()
    env = run_tests.base_env()
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)  # ansible-test sets its own from the tree's path
    command = [run_tests.tool("ansible-test"), "windows-integration", "--inventory", str(inventory.resolve()), "--local",
               "--color", "no", *(["-v"] if verbose else []), *targets]
    secrets = secrets_of(inventory)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    with REPORT.open("w", encoding="utf-8") as report:
        report.write(f"$ ansible-test windows-integration {' '.join(targets)}\n")
        proc = subprocess.Popen(command, cwd=run_tests.SANITY_ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            shown = masked(line, secrets)
            sys.stdout.write(shown)
            report.write(shown)
        rc = proc.wait()
        report.write(f"exit status {rc}\n")
    print(f"report (passwords masked): {REPORT}", flush=True)
    return rc


def simulated_inventory(inventory_yml: Path, target: Path) -> Path:
    """ansible-test's INI inventory for the simulated Hyper-V hosts of a running lab."""
    import yaml

    data = yaml.safe_load(inventory_yml.read_text(encoding="utf-8"))
    hosts = data["all"]["children"]["hyperv_hosts"]["hosts"]
    lines = ["[windows]"]
    for name, variables in hosts.items():
        settings = " ".join(f"{key}={value}" for key, value in variables.items() if key.startswith("ansible_"))
        lines.append(f"{name} {settings}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def host_contents(hvsim: list[str], state: Path) -> dict[str, object]:
    """What the targets could leave behind or damage on each simulated host."""
    import json

    import yaml

    inventory = yaml.safe_load((state / "inventory.yml").read_text(encoding="utf-8"))
    contents: dict[str, object] = {}
    for host in inventory["all"]["children"]["hyperv_hosts"]["hosts"]:
        shown = json.loads(subprocess.run([*hvsim, "show", host, "--state", str(state)], capture_output=True, text=True, check=True).stdout)
        network = shown.get("network") or {}
        contents[host] = {
            "vms": sorted((vm["name"], vm["state"], vm["expose_virtualization_extensions"]) for vm in shown["vms"]["vms"]),
            "switches": sorted((sw["name"], sw["switch_type"]) for sw in network.get("switches") or []),
            "nats": network.get("nats"),
            "static_mappings": network.get("static_mappings"),
            "ip_addresses": sorted((a["interface_alias"], a["ip_address"]) for a in network.get("ip_addresses") or []),
            "firewall_rules": network.get("firewall_rules"),
        }
    return contents


def run_simulated(targets: list[str], verbose: bool) -> int:
    hvsim = [sys.executable, str(REPO / "tests" / "simulator" / "hvsim")]
    with tempfile.TemporaryDirectory(prefix="hvnested-acceptance-") as workdir:
        state = Path(workdir) / "lab"
        up = subprocess.run([*hvsim, "up", str(SIMULATED_LAB), "--state", str(state)], capture_output=True, text=True, check=False)
        if up.returncode != 0:
            print(up.stdout + up.stderr, file=sys.stderr)
            return up.returncode
        try:
            inventory = simulated_inventory(Path(up.stdout.strip().splitlines()[-1]), Path(workdir) / "inventory.winrm")
            before = host_contents(hvsim, state)
            rc = run_targets(inventory, targets, verbose)
            after = host_contents(hvsim, state)
            if after != before:
                # The targets must remove exactly what they created and touch nothing else.
                print(f"the hosts are not as before the targets ran:\nbefore: {before}\nafter:  {after}", file=sys.stderr)
                return rc or 1
            print("the hosts are exactly as before the targets ran (VMs, switches, NATs, addresses, firewall rules)")
            return rc
        finally:
            subprocess.run([*hvsim, "down", "--state", str(state)], capture_output=True, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--inventory", type=Path, help="ansible-test INI inventory with a [windows] group")
    where.add_argument("--simulated", action="store_true", help="start the simulated acceptance hosts and use them")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every task result")
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help=f"default: {' '.join(TARGETS)}")
    args = parser.parse_args()
    os.chdir(REPO)
    if args.simulated:
        return run_simulated(args.targets, args.verbose)
    if not args.inventory.is_file():
        parser.error(f"no inventory at {args.inventory}")
    return run_targets(args.inventory, args.targets, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
