"""No secret in Windows logs (RULES #61): with Group Policy module logging and script block logging
on, provisioning with an admin password and the guest proof and NAT set-up with a guest password
leave neither password in the host's PowerShell log (events 4103 and 4104), in what the hosts
received as command lines and scripts or sent back, or in the task output.

Each password is a unique string that the lab's requests really carry as data (checked first), so
searching for it is meaningful. On the stub that parsed the request with ConvertFrom-Json, the whole
request, passwords included, was a parameter binding of event 4103: this test failed there.
"""

from __future__ import annotations

import base64
import copy
import json
import typing as t
from pathlib import Path

import pytest
import yaml
from hvsim.powershell.module_logging import as_text, events_for
from hvsim.pytest_plugin import LABS, Lab, PlaybookRun, requests_in, started_labs
from lab_dicts import nested_ready_lab

ADMIN_PASSWORD = "Canary-Adm1n-Q7v4z"
GUEST_PASSWORD = "Canary-Gu3st-K9x2w"
# The answer file carries the admin password obfuscated, as Windows Setup reads it with
# <PlainText>false</PlainText> (base64 of the UTF-16-LE password + "AdministratorPassword"): as good as clear.
ENCODED_ADMIN_PASSWORD = base64.b64encode((ADMIN_PASSWORD + "AdministratorPassword").encode("utf-16-le")).decode("ascii")
SECRETS = (ADMIN_PASSWORD, ENCODED_ADMIN_PASSWORD, GUEST_PASSWORD)
SECRET_IDS = ["admin", "admin-in-answer-file", "guest"]
VMS = [{"name": "LAB-HV1", "image": "C:\\Golden\\ws2022.vhdx", "processor_count": 4, "memory": "8GB",
        "network_mode": "nat", "adapters": [{"switch": "External"}]}]


def provisioning_lab(path: Path) -> Path:
    lab = yaml.safe_load((LABS / "bare-hosts.yml").read_text(encoding="utf-8"))
    lab["hosts"][0]["module_logging"] = True
    path.write_text(yaml.safe_dump(lab), encoding="utf-8")
    return path


def guest_lab(path: Path) -> Path:
    lab = copy.deepcopy(nested_ready_lab(l2_state="Running"))
    l0 = lab["hosts"][0]
    l0["module_logging"] = True
    l1 = l0["vms"][0]["guest"]["nested_host"]
    l1["module_logging"] = True
    l1["vms"][0]["guest"]["password"] = GUEST_PASSWORD
    path.write_text(yaml.safe_dump(lab), encoding="utf-8")
    return path


def playbook(lab: Lab, path: Path, hosts: str, tasks: list[dict[str, t.Any]]) -> PlaybookRun:
    path.write_text(yaml.safe_dump([{"hosts": hosts, "gather_facts": False, "tasks": tasks}]), encoding="utf-8")
    return lab.playbook(path, "--diff")


def powershell_logs(state_dir: Path) -> dict[str, list[dict[str, t.Any]]]:
    """host name -> its PowerShell log, from the state the stopped lab left."""
    found: dict[str, list[dict[str, t.Any]]] = {}

    def walk(host: dict[str, t.Any]) -> None:
        found[host["name"]] = host["os_state"].get("powershell_log") or []
        for vm in host.get("vms") or []:
            if vm.get("nested_host"):
                walk(vm["nested_host"])

    for root in json.loads((state_dir / "state.json").read_text(encoding="utf-8"))["roots"]:
        walk(root)
    return found


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    root = tmp_path_factory.mktemp("windows-logs")
    runs: dict[str, PlaybookRun] = {}
    with started_labs(lambda lab_file, count: root / f"state-{lab_file.stem}") as start:
        provisioning = start(provisioning_lab(root / "provisioning.yml"))
        runs["provision"] = playbook(provisioning, root / "provision.yml", "hv01", [
            {"name": "provision", "hyperv.nested.win_nested_vm_provision": {"admin_password": ADMIN_PASSWORD, "vms": VMS}},
        ])
        guests = start(guest_lab(root / "guests.yml"))
        guest = {"vm": "LAB-VM1", "ip": "192.168.100.10"}
        runs["guests"] = playbook(guests, root / "guests-play.yml", "lab-hv1", [
            {"name": "nat", "hyperv.nested.win_nested_nat": {
                "guest_username": "Administrator", "guest_password": GUEST_PASSWORD, "guests": [guest]}},
            {"name": "proof", "hyperv.nested.win_nested_guest_check": {
                "guests": [{**guest, "username": "Administrator", "password": GUEST_PASSWORD}]}},
        ])
        transcripts = {"hv01": provisioning.transcript("hv01"), "lab-hv1": guests.transcript("lab-hv1")}
    # Stopped: the state files hold everything the hosts logged.
    logs = {"hv01": powershell_logs(root / "state-provisioning")["hv01"], **{
        f"guests/{host}": events for host, events in powershell_logs(root / "state-guests").items()}}
    logs["lab-hv1"] = logs.pop("guests/lab-hv1")
    return {"runs": runs, "transcripts": transcripts, "logs": logs}


def test_the_runs_did_the_work_and_the_passwords_travelled_as_data(captured: dict[str, t.Any]) -> None:
    for run in captured["runs"].values():
        run.assert_ok()
    provision = [r["parameters"] for r in requests_in(captured["transcripts"]["hv01"], "provision")]
    assert any(ENCODED_ADMIN_PASSWORD in json.dumps(p) for p in provision if p.get("action") == "apply")
    probes = [r["parameters"] for r in requests_in(captured["transcripts"]["lab-hv1"], "probe")]
    assert any(guest.get("password") == GUEST_PASSWORD for p in probes for guest in p.get("guests") or [])
    executes = [r["parameters"] for r in requests_in(captured["transcripts"]["lab-hv1"], "execute")]
    assert any(op.get("password") == GUEST_PASSWORD for p in executes for op in p.get("operations") or [])


@pytest.mark.parametrize("host", ["hv01", "lab-hv1"])
def test_module_logging_recorded_the_requests(captured: dict[str, t.Any], host: str) -> None:
    events = captured["logs"][host]
    assert {event["id"] for event in events} >= {4104}
    assert sum(event["id"] == 4104 for event in events) >= 2 * len(requests_in(captured["transcripts"][host], "probe"))


@pytest.mark.parametrize("secret", SECRETS, ids=SECRET_IDS)
def test_no_secret_in_the_powershell_log(captured: dict[str, t.Any], secret: str) -> None:
    for host, events in captured["logs"].items():
        for event in events:
            assert secret not in event["payload"], (host, event["payload"][:300])


@pytest.mark.parametrize("secret", SECRETS, ids=SECRET_IDS)
def test_no_secret_in_command_lines_scripts_answers_or_task_output(captured: dict[str, t.Any], secret: str) -> None:
    for host, entries in captured["transcripts"].items():
        for entry in entries:
            for key in ("command_line", "script", "stdout", "stderr"):
                assert secret not in (entry.get(key) or ""), (host, key)
            if entry.get("stdin", "").startswith("{"):
                assert secret not in json.loads(entry["stdin"]).get("script", ""), host
    for name, run in captured["runs"].items():
        assert secret not in run.stdout and secret not in run.stderr, name


# ---- the model's reading of a stub and a script (RULES #61) ------------------------------------

REQUEST = {"hyperv_nested_request": 1, "script_name": "probe", "script": "param($Parameters)\n$x",
           "parameters": {"guests": [{"vm": "A", "username": "u", "password": "s3cret"}], "names": ["A"]}}


def logged(stub: str, script: str) -> list[str]:
    request = {**REQUEST, "script": script}
    return [event["payload"] for event in events_for(stub, json.dumps(request), request) if event["id"] == 4103]


@pytest.mark.parametrize("stub", [
    "$request = (@($input) -join \"`n\") | ConvertFrom-Json",
    "$request = Microsoft.PowerShell.Utility\\ConvertFrom-Json -InputObject ($input | Out-String)",
])
def test_a_stub_that_gives_the_request_to_convertfrom_json_logs_it_whole(stub: str) -> None:
    (payload,) = logged(stub, "param($Parameters)")
    assert payload.startswith('CommandInvocation(ConvertFrom-Json): "ConvertFrom-Json"\nParameterBinding(ConvertFrom-Json): name="InputObject"')
    assert "s3cret" in payload


def test_a_stub_that_parses_with_dotnet_logs_only_its_text() -> None:
    stub = "# ConvertFrom-Json would log it\n$request = $serializer.DeserializeObject((@($input) -join \"`n\"))"
    assert logged(stub, "param($Parameters)") == []
    events = events_for(stub, json.dumps(REQUEST), REQUEST)
    assert [event["id"] for event in events] == [4104, 4104] and all("s3cret" not in event["payload"] for event in events)


@pytest.mark.parametrize(("script", "leaks"), [
    ("$g = @(@($Parameters.guests) | Where-Object { $_ } | ForEach-Object { Get-Facts $_ })", True),
    ("$names = @($Request.guests | ForEach-Object { [string]$_.vm } | Select-Object -Unique)", True),
    ("foreach ($guest in @($Parameters.guests)) { Get-Facts $guest }", False),
    ("@($Parameters.guests) | Get-Facts", False),  # a function of the script: no module, not logged
    ("$s = ConvertTo-SecureString -String $Guest.password -AsPlainText -Force", True),
])
def test_request_data_piped_to_a_logged_cmdlet_is_logged_item_by_item(script: str, leaks: bool) -> None:
    assert any("s3cret" in payload for payload in logged("$request = $s.DeserializeObject($t)", script)) is leaks


def test_values_print_as_powershell_prints_them() -> None:
    assert as_text({"vm": "A", "on": True, "list": [1, "b"], "none": None}) == "@{vm=A; on=True; list=1 b; none=}"
