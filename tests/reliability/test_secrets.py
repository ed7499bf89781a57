"""Secrets stay secret: guest passwords (win_nested_nat, role nested_networking) and connection
passwords never appear in task output, -vvvv logs, diffs, `commands`, or in the script text and
command lines the hosts receive. The guest password does travel to the L1 host as data for
PowerShell Direct: only inside the request's `parameters`, only as the value of a `password` key.

Every password of labs/hostile-names.yml is a unique string, so searching all output for it is
meaningful; each test also shows the password really was used (sent as data, guests reached)."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tests.reliability._support import CONNECTION_PASSWORD, GUEST_PASSWORD, HOSTILE_LAB, L1_PASSWORD, hvsim, run_play, start_lab

L0, L1 = "hvx", "hx-l1"
WRONG_PASSWORD = "Wr0ng-S3cret-zork-5"
SECRETS = (CONNECTION_PASSWORD, L1_PASSWORD, GUEST_PASSWORD, WRONG_PASSWORD)
GUESTS = ["GUEST-A", "O'Brien $(guest)"]
HUMAN = {"ANSIBLE_STDOUT_CALLBACK": "default"}


def nat_task(name: str, **extra: t.Any) -> dict[str, t.Any]:
    args = {
        "guest_username": "Administrator",
        "guest_password": GUEST_PASSWORD,
        "guests": [{"vm": GUESTS[0]}, {"vm": GUESTS[1], "password": GUEST_PASSWORD, "ip": "192.168.100.20"}],
        "port_mappings": [{"external_port": 50022, "vm": GUESTS[0], "internal_port": 22}],
        **extra,
    }
    return {"name": name, "hyperv.nested.win_nested_nat": args, "register": "nat"}


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[dict[str, t.Any]]:
    """Everything the controller printed and every host received, over two labs:
    A: role nested_networking (guest passwords from the inventory), -vvvv --diff, human output;
    B: win_nested_nat and win_nested_vm directly, -vvvv --diff, check mode, a wrong password,
       human and JSON output."""
    root = tmp_path_factory.mktemp("secrets")
    labs = {"A": start_lab(HOSTILE_LAB, root / "lab-a"), "B": start_lab(HOSTILE_LAB, root / "lab-b")}
    try:
        outputs: list[str] = []
        role = labs["A"].playbook(
            write(root, "role.yml", [{"hosts": L1, "gather_facts": False, "roles": [{"role": "hyperv.nested.nested_networking"}]}]),
            "-vvvv",
            "--diff",
            env=HUMAN,
        )
        outputs += [role.stdout, role.stderr]
        plays = [
            {
                "hosts": L1,
                "gather_facts": False,
                "tasks": [
                    {**nat_task("nat check mode"), "check_mode": True},
                    nat_task("nat"),
                    nat_task("nat again"),
                    {**nat_task("nat wrong password", guests=[{"vm": GUESTS[0], "password": WRONG_PASSWORD}]), "ignore_errors": True},
                    {"name": "show what was registered", "ansible.builtin.debug": {"var": "nat"}},
                ],
            },
            {
                "hosts": L0,
                "gather_facts": False,
                "tasks": [{"name": "vm", "hyperv.nested.win_nested_vm": {"name": ["PLAIN-1"], "power": "turn_off"}}],
            },
        ]
        human = labs["B"].playbook(write(root, "direct-human.yml", plays), "-vvvv", "--diff", env=HUMAN)
        outputs += [human.stdout, human.stderr]
        # The same plays again with the JSON callback: results as data (now converged, plus the failure).
        # (-vvvv would mix its lines into the JSON document: this run is plain.)
        played = run_play(labs["B"], plays, root / "json", "--diff")
        outputs += [played.run.stdout, played.run.stderr]
        transcripts = {(name, host): lab.transcript(host) for name, lab in labs.items() for host in (L0, L1)}
        yield {
            "outputs": outputs,
            "role": role,
            "human": human,
            "played": played,
            "transcripts": transcripts,
            "connected": {name: [lab.connectivity(guest)["connected"] for guest in ("hx-guest-a", "hx-guest-b")] for name, lab in labs.items()},
        }
    finally:
        for lab in labs.values():
            hvsim("down", "--state", str(lab.state_dir), check=False)


def write(root: Path, name: str, plays: list[dict[str, t.Any]]) -> Path:
    path = root / name
    path.write_text(json.dumps(plays), encoding="utf-8")
    return path


def test_the_runs_did_the_work_the_secrets_are_needed_for(captured: dict[str, t.Any]) -> None:
    assert captured["role"].rc == 0, captured["role"].stdout[-3000:]
    assert captured["human"].rc == 0, captured["human"].stdout[-3000:]
    assert captured["connected"] == {"A": [True, True], "B": [True, True]}  # PowerShell Direct with the guest password worked
    results = {task.name: task.hosts for task in captured["played"].tasks}
    assert results["nat wrong password"][L1]["failed"] is True
    assert results["nat wrong password"][L1]["msg"].startswith("guests[0]: cannot reach GUEST-A through PowerShell Direct")
    # The guest password did travel, as data: searching for it below is not vacuous.
    sent = [entry["stdin"] for (_unused, host), entries in captured["transcripts"].items() for entry in entries if host == L1]
    assert any(GUEST_PASSWORD in stdin for stdin in sent)
    assert any(WRONG_PASSWORD in stdin for stdin in sent)


@pytest.mark.parametrize("secret", SECRETS, ids=["connection", "l1-connection", "guest", "wrong-guest"])
def test_no_secret_in_any_controller_output(captured: dict[str, t.Any], secret: str) -> None:
    assert "ESTABLISH WINRM CONNECTION" in captured["outputs"][0]  # really -vvvv
    assert "ESTABLISH WINRM CONNECTION" in captured["outputs"][2]
    assert "+++ after" in captured["outputs"][0] and "+++ after" in captured["outputs"][2]  # really --diff
    for index, text in enumerate(captured["outputs"]):
        position = text.find(secret)
        assert position < 0, f"output {index} shows the secret: ...{text[max(0, position - 300) : position + 50]}..."


def test_no_secret_in_registered_results_commands_or_diffs(captured: dict[str, t.Any]) -> None:
    seen = 0
    for task in captured["played"].tasks:
        for result in task.hosts.values():
            text = json.dumps(result, ensure_ascii=False)
            seen += "commands" in result
            for secret in SECRETS:
                assert secret not in text, f"{task.name}: result carries a password"
    assert seen >= 3
    nat = next(task for task in captured["played"].tasks if task.name == "nat check mode").hosts[L1]
    assert "diff" in nat
    # The first (changing) runs printed the guest operations, credentials included, as commands.
    assert "Invoke-Command -VMId" in captured["outputs"][2] and "(Get-Credential 'Administrator')" in captured["outputs"][2]


def walk(value: t.Any, path: tuple[str, ...] = ()) -> t.Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, (*path, str(index)))
    elif isinstance(value, str):
        yield path, value


@pytest.mark.parametrize("secret", SECRETS, ids=["connection", "l1-connection", "guest", "wrong-guest"])
def test_hosts_receive_secrets_only_as_password_parameters(captured: dict[str, t.Any], secret: str) -> None:
    checked = 0
    for (lab, host), entries in captured["transcripts"].items():
        for entry in entries:
            checked += 1
            assert secret not in entry["command_line"], (lab, host)
            assert secret not in (entry.get("script") or ""), (lab, host)
            assert secret not in (entry.get("stdout") or ""), (lab, host, "echoed back")
            assert secret not in (entry.get("stderr") or ""), (lab, host, "echoed back")
            stdin = entry.get("stdin") or ""
            if secret not in stdin:
                continue
            request = json.loads(stdin)
            assert secret not in request["script"]
            assert secret not in json.dumps({key: value for key, value in request.items() if key != "parameters"}, ensure_ascii=False)
            for path, value in walk(request["parameters"]):
                if secret in value:
                    assert path[-1] == "password" and value == secret, (lab, host, path)
    assert checked > 10
