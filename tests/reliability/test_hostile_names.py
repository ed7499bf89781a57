"""VM names Hyper-V accepts but careless PowerShell would not survive (quotes of every kind,
backtick, $(), ;, |, &, wildcards, 100 characters) are names, not code: win_nested_vm enables
exactly the VM it is given, touches no other VM, and converges on the second run."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
import yaml

from tests.reliability._support import HOSTILE_LAB, Lab, entries_between, requests, run_play, script_names, vms_of

L0 = "hvx"
BYSTANDERS = ("PLAIN-1", "lab1", "NEST-L1")
LAB_VMS = [vm["name"] for vm in yaml.safe_load(HOSTILE_LAB.read_text(encoding="utf-8"))["hosts"][0]["vms"]]
HOSTILE = [name for name in LAB_VMS if name not in BYSTANDERS]
# PowerShell closes a single-quoted string at any of these, so each must be doubled inside one.
PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def ps_literal(value: str) -> str:
    return "'" + "".join(ch * 2 if ch in PS_SINGLE_QUOTES else ch for ch in value) + "'"


def parse_ps_literal(text: str, start: int) -> tuple[str, int]:
    """Read the single-quoted PowerShell literal starting at text[start]; return value and end."""
    assert text[start] in PS_SINGLE_QUOTES
    out, index = [], start + 1
    while index < len(text):
        ch = text[index]
        if ch in PS_SINGLE_QUOTES:
            if index + 1 < len(text) and text[index + 1] in PS_SINGLE_QUOTES:
                out.append(ch)
                index += 2
                continue
            return "".join(out), index + 1
        out.append(ch)
        index += 1
    raise AssertionError(f"unterminated literal in {text!r}")


def tasks(flags: dict[str, t.Any] | None = None) -> list[dict[str, t.Any]]:
    return [
        {"name": f"vm {index}", "hyperv.nested.win_nested_vm": {"name": [name], "power": "shutdown", **(flags or {})}, "register": f"vm_{index}"}
        for index, name in enumerate(HOSTILE)
    ]


@pytest.fixture(scope="module")
def lab(module_labs: t.Callable[[Path], Lab]) -> Lab:
    return module_labs(HOSTILE_LAB)


@pytest.fixture(scope="module")
def enabled(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    workdir = tmp_path_factory.mktemp("hostile")
    before = vms_of(lab, L0)
    first = run_play(lab, [{"hosts": L0, "gather_facts": False, "tasks": tasks()}], workdir, "--diff")
    after = vms_of(lab, L0)
    windows = []
    for index, task in enumerate(first.tasks):
        end = first.tasks[index + 1].start if index + 1 < len(first.tasks) else None
        windows.append(entries_between(lab, L0, task.start, end))
    # The rerun: one task for all of them (each name's own convergence is in its `vms` entry).
    rerun = [{"name": "all", "hyperv.nested.win_nested_vm": {"name": HOSTILE, "power": "shutdown"}}]
    second = run_play(lab, [{"hosts": L0, "gather_facts": False, "tasks": rerun}], workdir)
    second_windows = entries_between(lab, L0, second.tasks[0].start, None) if second.tasks else []
    return {"before": before, "after": after, "first": first, "windows": windows, "second": second, "second_entries": second_windows}


def test_the_lab_has_the_hostile_names() -> None:
    assert len(HOSTILE) == 11
    assert max(len(name) for name in HOSTILE) == 100
    for char in ("'", '"', "\u2018", "\u2019", "\u201a", "\u201b", "\u201c", "\u201d", "\u201e", "`", "$(", ";", "|", "&", "[", "*"):
        assert any(char in name for name in HOSTILE), char


@pytest.mark.parametrize("index", range(len(HOSTILE)), ids=[f"vm{index}" for index in range(len(HOSTILE))])
def test_each_hostile_name_is_enabled_alone(enabled: dict[str, t.Any], index: int) -> None:
    name = HOSTILE[index]
    task = enabled["first"].tasks[index]
    result = task.hosts[L0]
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert [vm["name"] for vm in result["vms"]] == [name]
    window = enabled["windows"][index]
    assert script_names(window) == ["probe", "execute"]
    (probe,) = requests(window, "probe")
    assert probe["parameters"]["vm_names"] == [name]
    (execute,) = requests(window, "execute")
    params = execute["parameters"]
    named = {op.get("vm") for op in params["operations"] + params["on_failure"]}
    assert named == {name}, f"operations name other VMs: {named}"
    # The name reached the host only as data: never in the script or the command line.
    for entry in window:
        assert name not in (entry.get("script") or "") and name not in entry["command_line"]
    # The host now has exactly this VM nested, and running again as before.
    vm = enabled["after"][name]
    assert vm["expose_virtualization_extensions"] is True
    assert vm["dynamic_memory_enabled"] is False
    assert vm["state"] == "Running"


def test_no_other_vm_was_touched(enabled: dict[str, t.Any]) -> None:
    for name in BYSTANDERS:
        assert enabled["after"][name] == enabled["before"][name], name
    assert set(enabled["after"]) == set(enabled["before"])  # nothing created, nothing removed


def test_commands_quote_every_name_as_a_powershell_literal(enabled: dict[str, t.Any]) -> None:
    """`commands` are what an operator would paste: every literal must read back as the name."""
    for index, name in enumerate(HOSTILE):
        commands = enabled["first"].tasks[index].hosts[L0]["commands"]
        assert commands
        for command in commands:
            position = command.index(ps_literal(name))
            value, _end = parse_ps_literal(command, position)
            assert value == name
            # No other literal of the line may swallow code: every quote char in the line is part of the literal.
            outside = command[:position] + command[position + len(ps_literal(name)) :]
            assert not any(ch in outside for ch in PS_SINGLE_QUOTES), command


def test_commands_never_select_a_backtick_name_with_a_wildcard_pattern(enabled: dict[str, t.Any]) -> None:
    index = next(i for i, name in enumerate(HOSTILE) if "`" in name)
    for command in enabled["first"].tasks[index].hosts[L0]["commands"]:
        assert "Get-VM -Name" not in command, command


def test_second_run_converges(enabled: dict[str, t.Any]) -> None:
    second = enabled["second"]
    assert second.run.rc == 0, second.run.stderr[-2000:]
    assert second.run.total("changed") == 0
    result = second.tasks[0].hosts[L0]
    assert result["changed"] is False
    assert [vm["name"] for vm in result["vms"]] == HOSTILE
    assert not any(vm["changed"] for vm in result["vms"])
    assert set(script_names(enabled["second_entries"])) == {"probe"}


def test_info_reports_each_hostile_vm_by_its_exact_name(lab: Lab, enabled: dict[str, t.Any], tmp_path: Path) -> None:
    played = run_play(lab, [{"hosts": L0, "gather_facts": False, "tasks": [{"hyperv.nested.win_nested_info": {"name": HOSTILE}}]}], tmp_path)
    result = played.tasks[0].hosts[L0]
    assert result.get("failed") is not True, result.get("msg")
    assert result["missing"] == []
    assert [vm["name"] for vm in result["vms"]] == HOSTILE
    assert set(result["verdict"]["vms"]) == set(HOSTILE)
    assert all(verdict["ready"] for verdict in result["verdict"]["vms"].values()), json.dumps(result["verdict"]["vms"])[:1000]


def test_hostile_switch_and_guest_names_inside_an_l1(lab: Lab, tmp_path: Path) -> None:
    """win_nested_switch on the L1: a switch whose name carries quotes and $() is created under
    exactly that name, the guest named O'Brien $(guest) is connected to it, and the rerun is a probe."""
    switch = "Nested \u2018Ext\u2019 $(Stop-Computer) 'x'"
    task = {"hyperv.nested.win_nested_switch": {"name": switch, "net_adapter_name": "Ethernet", "vms": ["GUEST-A", "O'Brien $(guest)"]}}
    played = run_play(lab, [{"hosts": "hx-l1", "gather_facts": False, "tasks": [{"name": "create", **task}, {"name": "again", **task}]}], tmp_path)
    first, again = (played.tasks[0].hosts["hx-l1"], played.tasks[1].hosts["hx-l1"])
    assert first.get("failed") is not True, first.get("msg")
    assert first["changed"] is True and again["changed"] is False
    shown = lab.show("hx-l1")
    assert [s["name"] for s in shown["network"]["switches"] if s["switch_type"] == "External"] == [switch]
    guests = {vm["name"]: vm for vm in shown["vms"]["vms"]}
    assert [a["switch_name"] for a in guests["O'Brien $(guest)"]["adapters"]] == [switch]
    assert [a["switch_name"] for a in guests["GUEST-A"]["adapters"]] == [switch]
    for entry in lab.transcript("hx-l1"):
        assert "Stop-Computer" not in (entry.get("script") or "") and "Stop-Computer" not in entry["command_line"]
    assert script_names(entries_between(lab, "hx-l1", played.tasks[1].start, None)) == ["probe"]
    assert len(first["commands"]) == 3  # New-VMSwitch and two Connect-VMNetworkAdapter
    for command in first["commands"]:
        position = command.index(ps_literal(switch))
        assert parse_ps_literal(command, position)[0] == switch


def test_a_hostile_nat_name_reaches_the_firewall_rule_only_as_data(lab: Lab, tmp_path: Path) -> None:
    """win_nested_nat on the L1 with a NAT name carrying quotes and $(): the mapping's firewall rule
    is named after the mapping alone, its description names the NAT, and nothing of it is code."""
    nat_name = "Local \u2018NAT\u2019 $(Stop-Computer) 'x'"
    args = {"nat_name": nat_name, "port_mappings": [{"external_port": 50080, "internal_ip": "192.168.100.9", "internal_port": 80}]}
    task = {"hyperv.nested.win_nested_nat": args}
    played = run_play(lab, [{"hosts": "hx-l1", "gather_facts": False, "tasks": [{"name": "create", **task}, {"name": "again", **task}]}], tmp_path)
    first, again = (played.tasks[0].hosts["hx-l1"], played.tasks[1].hosts["hx-l1"])
    assert first.get("failed") is not True, first.get("msg")
    assert first["changed"] is True and again["changed"] is False
    shown = lab.show("hx-l1")["network"]
    assert [n["name"] for n in shown["nats"]] == [nat_name]
    assert [r["name"] for r in shown["firewall_rules"]] == ["hyperv.nested-nat-TCP-0.0.0.0-50080"]
    rule_command = next(command for command in first["commands"] if command.startswith("New-NetFirewallRule"))
    position = rule_command.index("-Description ") + len("-Description ")
    assert nat_name in parse_ps_literal(rule_command, position)[0]
    for entry in lab.transcript("hx-l1"):
        assert "Stop-Computer" not in (entry.get("script") or "") and "Stop-Computer" not in entry["command_line"]
    assert script_names(entries_between(lab, "hx-l1", played.tasks[1].start, None)) == ["probe"]
