"""Bad input to every module and role: each case fails, its message names the option, and the
target never receives a state-changing request (no `execute` on any host, `show` unchanged).

All module cases run as tasks of ONE playbook (ignore_errors, one task per case), all role cases
in a second one (block/rescue per case), and the cases known to leak in a third; each playbook
has a lab of its own (labs/hostile-names.yml) and the three run side by side. Each transcript
entry is attributed to the case whose task window it falls in, so a leak names its case.
"""

from __future__ import annotations

import json
import re
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability._support import HOSTILE_LAB, Lab, PlayRun, entries_between, run_play, script_names

L0 = "hvx"
L1 = "hx-l1"
HOSTS = (L0, L1)
LONG = "N" * 101
# Marker carried by every hostile payload: it must never appear in a script or command line.
MARK = "Xpwn"
NONE: tuple[str, ...] = ()
PROBE = ("probe",)


@dataclass(frozen=True)
class Case:
    id: str
    module: str
    args: dict[str, t.Any]
    option: str  # what the message must name
    sent: tuple[str, ...]  # script names the target may receive for this case
    host: str = L0


GUEST = {"guest_username": "Administrator", "guest_password": "Gu3st-S3cret-plugh-77"}
VM = "hyperv.nested.win_nested_vm"
INFO = "hyperv.nested.win_nested_info"
NAT = "hyperv.nested.win_nested_nat"
SWITCH = "hyperv.nested.win_nested_switch"

HOSTILE_UNKNOWN = [
    # Strings that are legal VM names but name no VM here: refused after the read-only probe.
    ("subexpression", f"$(Stop-Computer -Force){MARK}"),
    ("quote-break", f"x'; Stop-VM -Name * -TurnOff; '{MARK}"),
    ("dquote-break", f'x"; Remove-VM -Name * -Force; "{MARK}'),
    ("curly-2018", f"it\u2018s{MARK}"),
    ("curly-2019", f"it\u2019s; Stop-Computer {MARK}"),
    ("low-201a-201b", f"\u201aa\u201b; Stop-Computer {MARK}"),
    ("curly-201c-201d", f"\u201cq\u201d; Stop-Computer {MARK}"),
    ("low-201e", f"\u201eq\u201d + $(whoami) {MARK}"),
    ("backtick", f"a`; Stop-Computer`n{MARK}"),
    ("semicolon", f"a; Stop-Computer {MARK}"),
    ("pipe", f"a | Remove-VM -Force {MARK}"),
    ("ampersand", f"a & calc.exe && whoami {MARK}"),
    ("redirect", f"a > C:\\Windows\\x.txt 2>&1 {MARK}"),
    ("variable", f"$env:USERNAME ${{x}} @(1) {MARK}"),
    ("wildcard-star", "lab*"),
    ("wildcard-question", "lab?"),
    ("wildcard-range", "lab[0-9]"),
    ("curly-instead-of-ascii", "it\u2018s"),  # `it's` exists; the curly form is another name
]

CONTROL = [("newline", "a\nb"), ("carriage-return", "a\rb"), ("nul", "a\u0000b"), ("tab", "a\tb"), ("escape", "a\u001b[31m"), ("del", "a\u007fb")]


def vm_cases() -> list[Case]:
    cases = [
        Case("vm-name-missing", VM, {"power": "turn_off"}, "name", NONE),
        Case("vm-name-empty-list", VM, {"name": []}, "name", NONE),
        Case("vm-name-empty-string", VM, {"name": [""]}, "name", NONE),
        Case("vm-name-blank", VM, {"name": ["   "]}, "name", NONE),
        Case("vm-name-101-chars", VM, {"name": [LONG]}, "name", NONE),
        Case("vm-name-dict", VM, {"name": {"a": 1}}, "name", NONE),
        Case("vm-name-unknown", VM, {"name": ["NOPE-404"], "power": "turn_off"}, "name", PROBE),
        Case("vm-name-one-unknown-of-two", VM, {"name": ["PLAIN-1", "NOPE-404"], "power": "turn_off"}, "name", PROBE),
        Case("vm-state", VM, {"name": ["PLAIN-1"], "state": "on"}, "state", NONE),
        Case("vm-power", VM, {"name": ["PLAIN-1"], "power": "yes"}, "power", NONE),
        Case("vm-power-after", VM, {"name": ["PLAIN-1"], "power_after": "on"}, "power_after", NONE),
        Case("vm-saved-state", VM, {"name": ["PLAIN-1"], "saved_state": "keep"}, "saved_state", NONE),
        Case("vm-checkpoints", VM, {"name": ["PLAIN-1"], "checkpoints": "delete"}, "checkpoints", NONE),
        Case("vm-mac-spoofing-word", VM, {"name": ["PLAIN-1"], "mac_address_spoofing": "enabled"}, "mac_address_spoofing", NONE),
        Case("vm-processor-count-text", VM, {"name": ["PLAIN-1"], "processor_count": "four"}, "processor_count", NONE),
        Case("vm-processor-count-zero", VM, {"name": ["PLAIN-1"], "processor_count": 0}, "processor_count", NONE),
        Case("vm-processor-count-negative", VM, {"name": ["PLAIN-1"], "processor_count": -2}, "processor_count", NONE),
        Case("vm-processor-count-over-host", VM, {"name": ["PLAIN-1"], "processor_count": 1000, "power": "turn_off"}, "processor_count", PROBE),
        Case("vm-memory-unit", VM, {"name": ["PLAIN-1"], "startup_memory": "8XB"}, "startup_memory", NONE),
        Case("vm-memory-negative", VM, {"name": ["PLAIN-1"], "startup_memory": "-1GB"}, "startup_memory", NONE),
        Case("vm-memory-zero", VM, {"name": ["PLAIN-1"], "startup_memory": 0}, "startup_memory", NONE),
        Case("vm-memory-fraction-of-byte", VM, {"name": ["PLAIN-1"], "startup_memory": "1.5"}, "startup_memory", NONE),
        Case("vm-memory-not-2mb-multiple", VM, {"name": ["PLAIN-1"], "startup_memory": 1000001}, "startup_memory", NONE),
        Case("vm-memory-over-host", VM, {"name": ["PLAIN-1"], "startup_memory": "1TB", "power": "turn_off"}, "startup_memory", PROBE),
        Case("vm-memory-bool", VM, {"name": ["PLAIN-1"], "startup_memory": True}, "startup_memory", NONE),
        Case("vm-memory-injection", VM, {"name": ["PLAIN-1"], "startup_memory": f"8GB; Stop-Computer {MARK}"}, "startup_memory", NONE),
        Case("vm-shutdown-timeout-zero", VM, {"name": ["PLAIN-1"], "shutdown_timeout": 0}, "shutdown_timeout", NONE),
        Case("vm-power-concurrency-negative", VM, {"name": ["PLAIN-1"], "power_concurrency": -1}, "power_concurrency", NONE),
        Case("vm-start-timeout-text", VM, {"name": ["PLAIN-1"], "start_timeout": "soon"}, "start_timeout", NONE),
        Case("vm-upgrade-version-text", VM, {"name": ["PLAIN-1"], "upgrade_version": "maybe"}, "upgrade_version", NONE),
        Case("vm-adapters-without-spoofing", VM, {"name": ["PLAIN-1"], "adapters": ["Network Adapter"]}, "adapters", NONE),
        Case("vm-adapters-empty", VM, {"name": ["PLAIN-1"], "adapters": [], "mac_address_spoofing": "on"}, "adapters", NONE),
        Case("vm-adapters-unknown", VM, {"name": ["PLAIN-1"], "adapters": ["No Such NIC"], "mac_address_spoofing": "on"}, "adapters", PROBE),
        Case("vm-unknown-option", VM, {"name": ["PLAIN-1"], "bogus_option": 1}, "bogus_option", NONE),
        Case("vm-running-needs-power", VM, {"name": ["PLAIN-1"]}, "power", PROBE),
        Case("vm-dynamic-memory-choice", VM, {"name": ["PLAIN-1"], "dynamic_memory": "on"}, "dynamic_memory", NONE),
        Case("vm-clustered-choice", VM, {"name": ["PLAIN-1"], "clustered": "yes"}, "clustered", NONE),
        Case("vm-checkpoints-choice", VM, {"name": ["PLAIN-1"], "checkpoints": "delete"}, "checkpoints", NONE),
    ]
    cases += [Case(f"vm-name-control-{label}", VM, {"name": [value], "power": "turn_off"}, "name", NONE) for label, value in CONTROL]
    cases += [Case(f"vm-name-hostile-{label}", VM, {"name": [value], "power": "turn_off"}, "name", PROBE) for label, value in HOSTILE_UNKNOWN]
    return cases


def info_cases() -> list[Case]:
    return [
        Case("info-name-empty-string", INFO, {"name": [""]}, "name", NONE),
        Case("info-name-101-chars", INFO, {"name": [LONG]}, "name", NONE),
        Case("info-name-newline", INFO, {"name": [f"a\n{MARK}"]}, "name", NONE),
        Case("info-name-nul", INFO, {"name": ["a\u0000b"]}, "name", NONE),
        Case("info-name-dict", INFO, {"name": {"a": 1}}, "name", NONE),
        Case("info-unknown-option", INFO, {"names": ["PLAIN-1"]}, "names", NONE),
        Case("info-network-mode-unknown", INFO, {"network_modes": {"PLAIN-1": "bridge"}}, "network_modes", NONE),
        Case("info-network-mode-name-control", INFO, {"network_modes": {f"a\n{MARK}": "nat"}}, "network_modes", NONE),
        Case("info-network-modes-list", INFO, {"network_modes": ["PLAIN-1"]}, "network_modes", NONE),
    ]


def nat_cases() -> list[Case]:
    guests = [{"vm": "GUEST-A"}]
    raw = [
        ("nat-prefix-no-length", {"prefix": "192.168.100.0"}, "prefix"),
        ("nat-prefix-host-bits", {"prefix": "192.168.100.1/24"}, "prefix"),
        ("nat-prefix-too-small", {"prefix": "192.168.100.0/31"}, "prefix"),
        ("nat-prefix-ipv6", {"prefix": "fd00::/64"}, "prefix"),
        ("nat-prefix-octet-range", {"prefix": "300.1.1.0/24"}, "prefix"),
        ("nat-prefix-injection", {"prefix": f"10.0.0.0/8; Remove-NetNat -Confirm:$false {MARK}"}, "prefix"),
        ("nat-gateway-outside", {"gateway": "10.0.0.1"}, "gateway"),
        ("nat-gateway-network-address", {"gateway": "192.168.100.0"}, "gateway"),
        ("nat-gateway-broadcast", {"gateway": "192.168.100.255"}, "gateway"),
        ("nat-gateway-subexpression", {"gateway": f"$(whoami){MARK}"}, "gateway"),
        ("nat-guest-ip-outside", {**GUEST, "guests": [{"vm": "GUEST-A", "ip": "192.168.200.5"}]}, "guests[0].ip"),
        ("nat-guest-ip-is-gateway", {**GUEST, "guests": [{"vm": "GUEST-A", "ip": "192.168.100.1"}]}, "guests[0].ip"),
        ("nat-guest-ip-broadcast", {**GUEST, "guests": [{"vm": "GUEST-A", "ip": "192.168.100.255"}]}, "guests[0].ip"),
        ("nat-guest-ip-injection", {**GUEST, "guests": [{"vm": "GUEST-A", "ip": f"192.168.100.9`; calc {MARK}"}]}, "guests[0].ip"),
        ("nat-guest-duplicate-vm", {**GUEST, "guests": [{"vm": "GUEST-A"}, {"vm": "guest-a"}]}, "guests[1].vm"),
        (
            "nat-guest-duplicate-ip",
            {**GUEST, "guests": [{"vm": "GUEST-A", "ip": "192.168.100.9"}, {"vm": "O'Brien $(guest)", "ip": "192.168.100.9"}]},
            "guests[1].ip",
        ),
        ("nat-guest-vm-empty", {**GUEST, "guests": [{"vm": ""}]}, "guests[0].vm"),
        ("nat-guest-vm-101-chars", {**GUEST, "guests": [{"vm": LONG}]}, "guests[0].vm"),
        ("nat-guest-vm-newline", {**GUEST, "guests": [{"vm": f"GUEST-A\n{MARK}"}]}, "guests[0].vm"),
        ("nat-guest-vm-missing", {**GUEST, "guests": [{"ip": "192.168.100.9"}]}, "vm"),
        ("nat-guest-no-username", {"guest_password": "x", "guests": guests}, "guests[0].username"),
        ("nat-guest-no-password", {"guest_username": "Administrator", "guests": guests}, "guests[0].password"),
        ("nat-guest-dns-injection", {**GUEST, "guests": [{"vm": "GUEST-A", "dns": [f"1.1.1.1; calc {MARK}"]}]}, "guests[0].dns[0]"),
        ("nat-guest-dns-empty", {**GUEST, "guests": [{"vm": "GUEST-A", "dns": []}]}, "guests[0].dns"),
        ("nat-guest-dns-duplicate", {**GUEST, "guest_dns": ["1.1.1.1", "1.1.1.1"], "guests": guests}, "guest_dns"),
        ("nat-switch-name-empty", {"switch_name": ""}, "switch_name"),
        ("nat-switch-name-wildcard", {"switch_name": "Vm*NAT"}, "switch_name"),
        ("nat-nat-name-wildcard", {"nat_name": "Local[NAT]"}, "nat_name"),
        ("nat-state", {"state": "gone"}, "state"),
        ("nat-replace-text", {"replace": "perhaps"}, "replace"),
        ("nat-firewall-rules-text", {"firewall_rules": "sometimes"}, "firewall_rules"),
        ("nat-allow-multiple-nats-text", {"allow_multiple_nats": "perhaps"}, "allow_multiple_nats"),
        ("nat-port-zero", {"port_mappings": [{"external_port": 0, "internal_ip": "192.168.100.2", "internal_port": 22}]}, "port_mappings[0].external_port"),
        (
            "nat-port-too-high",
            {"port_mappings": [{"external_port": 70000, "internal_ip": "192.168.100.2", "internal_port": 22}]},
            "port_mappings[0].external_port",
        ),
        ("nat-port-text", {"port_mappings": [{"external_port": 22, "internal_ip": "192.168.100.2", "internal_port": "ssh"}]}, "internal_port"),
        (
            "nat-port-ip-and-vm",
            {**GUEST, "guests": guests, "port_mappings": [{"external_port": 22, "internal_ip": "192.168.100.2", "vm": "GUEST-A", "internal_port": 22}]},
            "port_mappings[0]",
        ),
        ("nat-port-no-target", {"port_mappings": [{"external_port": 22, "internal_port": 22}]}, "port_mappings[0]"),
        ("nat-port-vm-not-a-guest", {"port_mappings": [{"external_port": 22, "vm": "GUEST-A", "internal_port": 22}]}, "port_mappings[0].vm"),
        (
            "nat-port-internal-ip-outside",
            {"port_mappings": [{"external_port": 22, "internal_ip": "10.1.1.1", "internal_port": 22}]},
            "port_mappings[0].internal_ip",
        ),
        (
            "nat-port-external-ip-injection",
            {"port_mappings": [{"external_port": 22, "external_ip": f"0.0.0.0|calc {MARK}", "internal_ip": "192.168.100.2", "internal_port": 22}]},
            "port_mappings[0].external_ip",
        ),
        (
            "nat-port-duplicate",
            {
                "port_mappings": [
                    {"external_port": 22, "internal_ip": "192.168.100.2", "internal_port": 22},
                    {"external_port": 22, "internal_ip": "192.168.100.3", "internal_port": 2222},
                ]
            },
            "port_mappings[1]",
        ),
        ("nat-port-protocol", {"port_mappings": [{"protocol": "icmp", "external_port": 22, "internal_ip": "192.168.100.2", "internal_port": 22}]}, "protocol"),
    ]
    cases = [Case(case_id, NAT, args, option, NONE, host=L1) for case_id, args, option in raw]
    # Control characters in the names of the switch and the NAT: the names reach New-VMSwitch / New-NetNat.
    cases += [
        Case("nat-switch-name-newline", NAT, {"switch_name": f"VmNAT\n{MARK}"}, "switch_name", NONE, host=L1),
        Case("nat-nat-name-nul", NAT, {"nat_name": "Local\u0000NAT"}, "nat_name", NONE, host=L1),
        # Only the host knows these: refused after the read-only probe.
        Case("nat-guest-vm-unknown", NAT, {**GUEST, "guests": [{"vm": f"$(Stop-VM *){MARK}"}]}, "guests[0].vm", PROBE, host=L1),
        Case("nat-guest-wrong-password", NAT, {**GUEST, "guests": [{"vm": "GUEST-A", "password": "not-it"}]}, "guests[0]", PROBE, host=L1),
        Case("nat-switch-private-exists", NAT, {"switch_name": "Isolated"}, "switch_name", PROBE, host=L1),
    ]
    return cases


def switch_cases() -> list[Case]:
    raw = [
        ("switch-name-missing", {"net_adapter_name": "Ethernet"}, "name", NONE),
        ("switch-state", {"name": "NestedExternal", "state": "gone"}, "state", NONE),
        ("switch-allow-management-os-text", {"name": "NestedExternal", "allow_management_os": "sometimes"}, "allow_management_os", NONE),
        ("switch-vms-dict", {"name": "NestedExternal", "vms": {"a": 1}}, "vms", NONE),
        ("switch-name-empty", {"name": "", "net_adapter_name": "Ethernet"}, "name", NONE),
        ("switch-name-newline", {"name": f"Nested\n{MARK}", "net_adapter_name": "Ethernet"}, "name", NONE),
        ("switch-name-nul", {"name": "Nested\u0000External", "net_adapter_name": "Ethernet"}, "name", NONE),
        ("switch-no-adapter-for-new-switch", {"name": "NestedExternal"}, "net_adapter_name", PROBE),
        ("switch-adapter-unknown", {"name": "NestedExternal", "net_adapter_name": f"NoSuchNic; calc {MARK}"}, "net_adapter_name", PROBE),
        ("switch-exists-private", {"name": "Isolated", "net_adapter_name": "Ethernet"}, "name", PROBE),
        ("switch-vms-unknown", {"name": "Isolated2", "net_adapter_name": "Ethernet", "vms": [f"$(Stop-VM *){MARK}"]}, "vms", PROBE),
        (
            "switch-vm-adapters-unknown",
            {"name": "Isolated2", "net_adapter_name": "Ethernet", "vms": ["GUEST-A"], "adapters": ["No Such NIC"]},
            "adapters",
            PROBE,
        ),
    ]
    return [Case(case_id, SWITCH, args, option, sent, host=L1) for case_id, args, option, sent in raw]


PROVISION = "hyperv.nested.win_nested_vm_provision"
DHCP = "hyperv.nested.win_nested_dhcp"
GUEST_CHECK = "hyperv.nested.win_nested_guest_check"


def provisioning_cases() -> list[Case]:
    """win_nested_vm_provision on the L0, win_nested_dhcp and win_nested_guest_check on the L1."""
    vm = {"name": "NEW-1", "image": "C:\\Golden\\ws2022.vhdx", "adapters": [{"switch": "External"}]}
    secret = {"admin_password": "Adm1n-S3cret-plugh"}
    raw: list[tuple[str, str, dict[str, t.Any], str, tuple[str, ...], str]] = [
        ("provision-name-slash", PROVISION, {**secret, "vms": [{**vm, "name": f"a/b{MARK}"}]}, "vms[0].name", NONE, L0),
        ("provision-name-newline", PROVISION, {**secret, "vms": [{**vm, "name": f"NEW\n{MARK}"}]}, "vms[0].name", NONE, L0),
        ("provision-computer-name", PROVISION, {**secret, "vms": [{**vm, "computer_name": f"$(x){MARK}"}]},
         "vms[0].computer_name", NONE, L0),
        ("provision-memory-text", PROVISION, {**secret, "vms": [{**vm, "memory": "lots"}]}, "vms[0].memory", NONE, L0),
        ("provision-generation", PROVISION, {**secret, "vms": [{**vm, "generation": 3}]}, "generation", NONE, L0),
        ("provision-path-relative", PROVISION, {**secret, "path": f"VMs; calc {MARK}", "vms": [vm]}, "path", NONE, L0),
        ("provision-image-missing", PROVISION,
         {**secret, "vms": [{**vm, "name": f"$(Stop-Computer){MARK}", "computer_name": "HOSTILE1",
                             "image": f"C:\\Golden\\nope'; calc {MARK}.vhdx"}]},
         "vms[].image", ("provision",), L0),
        ("dhcp-prefix", DHCP, {"prefix": f"192.168.100.0/24; calc {MARK}"}, "prefix", NONE, L1),
        ("dhcp-dns", DHCP, {"prefix": "192.168.100.0/24", "dns_servers": [f"1.1.1.1`n{MARK}"]}, "dns_servers[0]", NONE, L1),
        ("guest-check-ip", GUEST_CHECK, {"guests": [{"vm": "GUEST-A", "ip": f"192.168.100.9 {MARK}"}]}, "guests[0].ip",
         NONE, L1),
        ("guest-check-prefix", GUEST_CHECK, {"prefix": "lab", "guests": [{"vm": "GUEST-A"}]}, "prefix", NONE, L1),
    ]
    return [Case(case_id, module, args, option, sent, host=host) for case_id, module, args, option, sent, host in raw]


MODULE_CASES = vm_cases() + info_cases() + nat_cases() + switch_cases() + provisioning_cases()

# Known bugs: the case stays in the suite, marked, so the bug stays visible (pytest xfail strict).
BUGS: dict[str, str] = {}


def task_for(case: Case) -> dict[str, t.Any]:
    return {"name": f"case {case.id}", case.module: case.args, "ignore_errors": True}


@dataclass
class Outcome:
    result: dict[str, t.Any]
    sent: dict[str, list[str]]  # host -> script names received while the case ran
    entries: list[dict[str, t.Any]]


def attribute(lab: Lab, played: PlayRun, prefix: str, hosts: t.Sequence[str]) -> dict[str, Outcome]:
    """Per case (task named '<prefix><id>'), its result and the transcript entries in its window."""
    firsts = played.named(prefix)
    outcomes: dict[str, Outcome] = {}
    for position, (index, task) in enumerate(firsts):
        case_id = task.name[len(prefix) :]
        end = played.tasks[firsts[position + 1][0]].start if position + 1 < len(firsts) else None
        sent: dict[str, list[str]] = {}
        entries: list[dict[str, t.Any]] = []
        for host in hosts:
            window = entries_between(lab, host, task.start, end)
            sent[host] = script_names(window)
            entries += window
        # The case's own result, or (roles) the failure the rescue recorded.
        result = next(iter(task.hosts.values()), {})
        for later in played.tasks[index + 1 : (firsts[position + 1][0] if position + 1 < len(firsts) else len(played.tasks))]:
            recorded = next(iter(later.hosts.values()), {}).get("ansible_facts", {}).get("case_failure")
            if recorded is not None:
                result = recorded
        outcomes[case_id] = Outcome(result, sent, entries)
    return outcomes


# Cases that change the host when they misbehave run on a lab of their own, so that a leak
# cannot change what the other cases see.
SUSPECTS = {"switch-name-empty", "switch-name-newline", "switch-name-nul", "nat-switch-name-newline", "nat-nat-name-nul"}


def run_cases(lab: Lab, cases: list[Case], workdir: Path) -> dict[str, t.Any]:
    before = {host: lab.show(host) for host in HOSTS}
    plays = [{"hosts": host, "gather_facts": False, "tasks": [task_for(case) for case in cases if case.host == host]} for host in HOSTS]
    played = run_play(lab, [play for play in plays if play["tasks"]], workdir)
    assert played.tasks, f"no JSON output: {played.run.stderr[-3000:]}"
    return {"lab": lab, "outcomes": attribute(lab, played, "case ", HOSTS), "before": before, "after": {host: lab.show(host) for host in HOSTS}}


@pytest.fixture(scope="module")
def runs(module_labs: t.Callable[[Path], Lab], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, t.Any]]:
    """The three playbooks (module cases, suspect cases, role cases), each on a lab of its own, side by side."""
    labs = [module_labs(HOSTILE_LAB) for _unused in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        module = pool.submit(run_cases, labs[0], [case for case in MODULE_CASES if case.id not in SUSPECTS], tmp_path_factory.mktemp("bad-input"))
        suspect = pool.submit(run_cases, labs[1], [case for case in MODULE_CASES if case.id in SUSPECTS], tmp_path_factory.mktemp("bad-input-suspects"))
        role = pool.submit(run_role_cases, labs[2], tmp_path_factory.mktemp("bad-role-input"))
        return {"module": module.result(), "suspect": suspect.result(), "role": role.result()}


@pytest.fixture(scope="module")
def module_run(runs: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    return runs["module"]


@pytest.fixture(scope="module")
def suspect_run(runs: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    return runs["suspect"]


@pytest.fixture(scope="module")
def role_run(runs: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    return runs["role"]


def names_option(msg: str, option: str) -> bool:
    return re.search(r"(?<![\w\[.])" + re.escape(option) + r"(?![\w])", msg) is not None


def check(case: Case, outcome: Outcome) -> None:
    result = outcome.result
    assert result.get("failed") is True, f"{case.id} did not fail: {json.dumps(result)[:800]}"
    assert result.get("changed") is False
    msg = str(result.get("msg", ""))
    for host, names in outcome.sent.items():
        assert "execute" not in names, f"{case.id}: an execute request reached {host}: {outcome.entries}"
        assert set(names) <= set(case.sent), f"{case.id}: {host} received {names}, expected at most {case.sent}; msg={msg!r}"
    assert names_option(msg, case.option), f"{case.id}: message does not name {case.option!r}: {msg!r}"


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=BUGS[case.id])] if case.id in BUGS else []) for case in MODULE_CASES],
)
def test_module_bad_input_fails_naming_the_option(case: Case, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue("suspect_run" if case.id in SUSPECTS else "module_run")
    outcome = run["outcomes"].get(case.id)
    assert outcome is not None, f"no result for {case.id}"
    check(case, outcome)


def test_bad_input_changed_no_state(module_run: dict[str, t.Any]) -> None:
    assert module_run["after"] == module_run["before"]


def test_suspect_bad_input_changed_no_state(suspect_run: dict[str, t.Any]) -> None:
    assert suspect_run["after"] == suspect_run["before"]


def test_hostile_strings_travel_only_as_data(module_run: dict[str, t.Any]) -> None:
    """No hostile payload reaches a script or a command line: user values live in `parameters`."""
    entries = [entry for host in HOSTS for entry in module_run["lab"].transcript(host)]
    assert entries, "the target received nothing at all"
    carried = 0
    for entry in entries:
        assert MARK not in (entry.get("command_line") or ""), entry["command_line"][:300]
        assert MARK not in (entry.get("script") or ""), (entry.get("script") or "")[:300]
        request = json.loads(entry["stdin"])
        assert MARK not in request["script"]
        carried += MARK in json.dumps(request["parameters"], ensure_ascii=False)
    # The hostile names that are legal VM names did reach the probe, as data.
    assert carried >= len(HOSTILE_UNKNOWN) - 5


def test_enough_cases() -> None:
    assert len(MODULE_CASES) + len(ROLE_CASES) >= 60
    assert len({case.id for case in MODULE_CASES} | {case_id for case_id, *_unused in ROLE_CASES}) == len(MODULE_CASES) + len(ROLE_CASES)


# ----------------------------------------------------------------------------------------- roles

# (id, role, vars, option named in the message)
ROLE_CASES: list[tuple[str, str, dict[str, t.Any], str]] = [
    ("role-vm-settings-power", "nested_vm_settings", {"nested_vm_settings_power": "yes"}, "nested_vm_settings_power"),
    ("role-vm-settings-state", "nested_vm_settings", {"nested_vm_settings_state": "on"}, "nested_vm_settings_state"),
    ("role-vm-settings-processor-count", "nested_vm_settings", {"nested_vm_settings_processor_count": "many"}, "nested_vm_settings_processor_count"),
    ("role-vm-settings-upgrade-version", "nested_vm_settings", {"nested_vm_settings_upgrade_version": "perhaps"}, "nested_vm_settings_upgrade_version"),
    ("role-vm-settings-spoofing", "nested_vm_settings", {"nested_vm_settings_mac_address_spoofing": "maybe"}, "nested_vm_settings_mac_address_spoofing"),
    ("role-vm-settings-memory", "nested_vm_settings", {"nested_vm_settings_startup_memory": "lots"}, "startup_memory"),
    ("role-vm-settings-shutdown-timeout", "nested_vm_settings", {"nested_vm_settings_shutdown_timeout": 0}, "shutdown_timeout"),
    ("role-networking-state", "nested_networking", {"nested_networking_state": "removed"}, "nested_networking_state"),
    ("role-networking-mode", "nested_networking", {"nested_network_mode": "bridge"}, "nested_network_mode"),
    ("role-networking-mode-case", "nested_networking", {"nested_network_mode": "NAT"}, "nested_network_mode"),
    # The role's inventory check refuses it before win_nested_nat would, naming the role variable.
    (
        "role-networking-prefix",
        "nested_networking",
        {"nested_networking_nat_prefix": "10.0.0.0/33", "nested_networking_start_guests": False},
        "nested_networking_nat_prefix",
    ),
    ("role-networking-gateway", "nested_networking", {"nested_networking_nat_gateway": "8.8.8.8", "nested_networking_start_guests": False}, "gateway"),
    (
        "role-networking-port",
        "nested_networking",
        {
            "nested_networking_nat_port_mappings": [{"external_port": 0, "internal_ip": "192.168.100.2", "internal_port": 22}],
            "nested_networking_start_guests": False,
        },
        "port_mappings[0].external_port",
    ),
    (
        "role-prerequisites-fail-on-blockers",
        "nested_prerequisites",
        {"nested_prerequisites_fail_on_blockers": "maybe"},
        "nested_prerequisites_fail_on_blockers",
    ),
    ("role-hyperv-reboot-timeout", "nested_hyperv", {"nested_hyperv_reboot_timeout": "long"}, "nested_hyperv_reboot_timeout"),
]


def run_role_cases(lab: Lab, workdir: Path) -> dict[str, t.Any]:
    before = {host: lab.show(host) for host in HOSTS}
    tasks = []
    for case_id, role, role_vars, _option in ROLE_CASES:
        tasks.append(
            {
                "name": f"block {case_id}",
                "block": [{"name": f"case {case_id}", "ansible.builtin.include_role": {"name": f"hyperv.nested.{role}"}, "vars": role_vars}],
                "rescue": [{"name": f"record {case_id}", "ansible.builtin.set_fact": {"case_failure": "{{ ansible_failed_result }}"}}],
            }
        )
    plays = [{"hosts": L1, "gather_facts": False, "tasks": tasks}]
    played = run_play(lab, plays, workdir)
    assert played.tasks, f"no JSON output: {played.run.stderr[-3000:]}"
    return {"outcomes": attribute(lab, played, "case ", HOSTS), "before": before, "after": {host: lab.show(host) for host in HOSTS}}


@pytest.mark.parametrize("case_id, role, role_vars, option", ROLE_CASES, ids=[case[0] for case in ROLE_CASES])
def test_role_bad_input_fails_naming_the_option(case_id: str, role: str, role_vars: dict[str, t.Any], option: str, role_run: dict[str, t.Any]) -> None:
    outcome = role_run["outcomes"].get(case_id)
    assert outcome is not None, f"no result for {case_id}"
    result = outcome.result
    assert result.get("failed") is True, f"{case_id} did not fail: {json.dumps(result)[:800]}"
    msg = str(result.get("msg", ""))
    assert names_option(msg, option), f"{case_id}: message does not name {option!r}: {msg!r}"
    for host, names in outcome.sent.items():
        assert "execute" not in names, f"{case_id}: an execute request reached {host}"


def test_role_bad_input_changed_no_state(role_run: dict[str, t.Any]) -> None:
    assert role_run["after"] == role_run["before"]
