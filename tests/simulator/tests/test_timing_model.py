"""The realistic timing model (hvsim/model/timing.py): it charges what TIMING.md says, per command,
on the host that runs it, and commands on one host contend for its processors. Assertions read the
model's ledger, never the wall clock (fake clocks and sleeps stand in for time)."""

from __future__ import annotations

import copy
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from ansible_payloads import encoded_command_line, module_invocation
from hvsim.fleet import Fleet
from hvsim.labfile import LabError, timing_model_config
from hvsim.labgen import generate_lab
from hvsim.model.timing import FAST_LIFECYCLE, FIGURES, LIFECYCLE, TimingModel
from hvsim.winrm.backend import CommandResult
from hvsim.winrm.shells import ShellRegistry
from lab_dicts import COMMAND_LINE, l0, lab, vm, windows_guest

TIMING_MD = Path(__file__).resolve().parent.parent / "hvsim" / "model" / "TIMING.md"
SECONDS = {f.key: f.seconds for f in FIGURES}


class FakeTime:
    """A clock that only moves when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def realistic(spec: dict[str, Any], fake: FakeTime, **config: Any) -> Fleet:
    spec = copy.deepcopy(spec)
    spec.pop("timing", None)
    spec["timing_model"] = {"profile": "realistic", **config}
    return Fleet.from_lab(spec, clock=fake.clock, sleep=fake.sleep)


def one_host(cores: int = 16) -> dict[str, Any]:
    return lab(l0(vms=[vm("LAB-HV1", state="Running", guest=windows_guest())], logical_processors=cores))


def charged(fleet: Fleet, host: str = "hv01") -> dict[str, float]:
    totals: dict[str, float] = {}
    for charge in fleet.timing_ledger(host):
        for key, _count, seconds in charge["items"]:
            totals[key] = round(totals.get(key, 0.0) + seconds, 6)
    return totals


def test_timing_md_lists_exactly_the_figures_of_the_code() -> None:
    text = TIMING_MD.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([\w:-]+)` \| ([\d.]+) \| (yes|no|[\d.]+) \|", text, re.M)
    figures = {key: (float(seconds), cpu) for key, seconds, cpu in rows if cpu in ("yes", "no")}
    assert figures == {f.key: (f.seconds, "yes" if f.cpu else "no") for f in FIGURES}
    lifecycle = {key: float(seconds) for key, seconds, fast in rows if fast not in ("yes", "no")}
    assert lifecycle == {f.key: f.seconds for f in LIFECYCLE}
    for figure in FIGURES + LIFECYCLE:       # every row cites a source or says it is an assumption
        assert figure.source.startswith("Assumption") or re.search(r"#\d+|\.info|ADR", figure.source), figure.key


def test_a_probe_costs_its_script_work_and_a_module_payload_the_exec_wrapper() -> None:
    fake = FakeTime()
    fleet = realistic(one_host(), fake)
    request = {"hyperv_nested_request": 1, "script_name": "probe", "script": "x",
               "parameters": {"sections": ["vms"], "vm_names": ["LAB-HV1"]}}
    assert fleet.run_command("hv01", COMMAND_LINE, json.dumps(request).encode()).rc == 0
    # powershell.exe, the Hyper-V module, Get-VM and six reads of the one VM, its guest OS name (CIM).
    assert charged(fleet) == {"process:powershell": SECONDS["process:powershell"],
                              "import:Hyper-V": SECONDS["import:Hyper-V"],
                              "cmdlet:hyperv_read": round(7 * SECONDS["cmdlet:hyperv_read"], 6),
                              "cim:query": SECONDS["cim:query"]}
    probe_cost = sum(charged(fleet).values())

    fake2 = FakeTime()
    fleet2 = realistic(one_host(), fake2)
    command_line, stdin = module_invocation("win_ping", {})
    assert fleet2.run_command("hv01", command_line, stdin).rc == 0
    assert charged(fleet2) == {"process:powershell": SECONDS["process:powershell"],
                               "exec_wrapper:module": SECONDS["exec_wrapper:module"]}
    # The waits were real sleeps of exactly the charged time (one command at a time: no queueing).
    assert sum(fake.slept) == pytest.approx(probe_cost)
    assert sum(fake2.slept) == pytest.approx(SECONDS["process:powershell"] + SECONDS["exec_wrapper:module"])


def test_a_script_pays_each_module_once_and_each_cmdlet() -> None:
    fake = FakeTime()
    fleet = realistic(one_host(), fake)
    script = "Get-VM LAB-HV1; Get-VMProcessor LAB-HV1; Stop-VM LAB-HV1 -TurnOff; Get-NetAdapter"
    assert fleet.run_command("hv01", encoded_command_line(script), b"").rc == 0
    assert charged(fleet) == {
        "process:powershell": SECONDS["process:powershell"], "import:Hyper-V": SECONDS["import:Hyper-V"],
        "cmdlet:hyperv_read": round(2 * SECONDS["cmdlet:hyperv_read"], 6),
        "cmdlet:hyperv_change": SECONDS["cmdlet:hyperv_change"],
        "import:cdxml": SECONDS["import:cdxml"], "cmdlet:cim_read": SECONDS["cmdlet:cim_read"]}


def test_two_concurrent_commands_on_a_one_processor_host_run_one_after_the_other() -> None:
    fake = FakeTime()           # frozen: both commands ask at the same instant
    model = TimingModel("realistic", clock=fake.clock, sleep=lambda s: None)
    threads = [threading.Thread(target=model.charge, args=("h1", 1, f"c{i}", [("exec_wrapper:module", 1)]))
               for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = sorted(model.ledger("h1"), key=lambda c: c.started_at)
    assert first.requested_at == second.requested_at
    assert first.started_at == first.requested_at and first.queued_seconds == 0
    assert second.started_at == pytest.approx(first.finished_at)
    assert second.queued_seconds == pytest.approx(SECONDS["exec_wrapper:module"])
    assert second.finished_at - second.requested_at == pytest.approx(2 * SECONDS["exec_wrapper:module"])
    # With two processors they overlap.
    model.charge("h2", 2, "a", [("exec_wrapper:module", 1)])
    model.charge("h2", 2, "b", [("exec_wrapper:module", 1)])
    a, b = model.ledger("h2")
    assert (a.core, b.core) == (0, 1) and a.queued_seconds == b.queued_seconds == 0
    # Work that needs no processor does not queue behind it.
    model.charge("h1", 1, "install", [("feature:install", 1)])
    assert model.ledger("h1")[-1].queued_seconds == 0


def test_concurrency_on_one_host_is_charged_through_the_fleet_per_host() -> None:
    fake = FakeTime()
    fleet = realistic(one_host(cores=1), fake)
    fleet.shell_event("hv01", "shell_create")
    fleet.shell_event("hv01", "shell_create")
    first, second = fleet.timing_ledger("hv01")
    assert first["core"] == second["core"] == 0
    assert second["started_at"] >= first["finished_at"]


def test_the_default_profile_charges_nothing_and_keeps_the_fast_lifecycle_timers() -> None:
    fake = FakeTime()
    spec = copy.deepcopy(one_host())
    spec.pop("timing")
    fleet = Fleet.from_lab(spec, clock=fake.clock, sleep=fake.sleep)
    command_line, stdin = module_invocation("win_ping", {})
    fleet.run_command("hv01", command_line, stdin)
    fleet.run_command("hv01", encoded_command_line("Get-VM"), b"")
    fleet.shell_event("hv01", "shell_create")
    assert fleet.timing_ledger("hv01") == [] and fake.slept == []
    assert fleet.export_state()["timing"] == FAST_LIFECYCLE


def test_the_realistic_profile_sets_the_lifecycle_timers_scaled_unless_the_lab_sets_them() -> None:
    fleet = realistic(one_host(), FakeTime(), scale=0.5)
    assert fleet.export_state()["timing"] == {f.key: f.seconds * 0.5 for f in LIFECYCLE}
    spec = copy.deepcopy(one_host())
    spec["timing_model"] = "realistic"
    spec["timing"] = {"boot_seconds": 2.0}
    timing = Fleet.from_lab(spec).export_state()["timing"]
    assert timing["boot_seconds"] == 2.0 and timing["shutdown_seconds"] == 15.0


def test_scale_and_overrides_change_what_is_charged() -> None:
    fake = FakeTime()
    fleet = realistic(one_host(), fake, scale=0.1, figures={"process:powershell": 3.0})
    fleet.run_command("hv01", encoded_command_line("'hello'"), b"")
    assert charged(fleet) == {"process:powershell": pytest.approx(0.3)}


def test_the_timing_model_survives_a_daemon_restart() -> None:
    fleet = realistic(one_host(), FakeTime(), scale=0.25)
    state = json.loads(json.dumps(fleet.export_state()))
    assert Fleet.from_state(state).timing_config() == {"profile": "realistic", "scale": 0.25, "figures": {}}


def test_the_winrm_endpoint_charges_shell_creation_and_deletion() -> None:
    events: list[tuple[str, str]] = []

    class Backend:
        def reachable(self, host: str) -> bool:
            return True

        def credentials(self, host: str) -> tuple[str, str]:
            return "u", "p"

        def run_command(self, host: str, command_line: str, stdin: bytes, user: str | None = None) -> CommandResult:
            return CommandResult(0, b"", b"")

        def shell_event(self, host: str, event: str) -> None:
            events.append((host, event))

    registry = ShellRegistry("hv01", Backend())
    shell = registry.create_shell("u", 65001)
    registry.delete_shell(shell.id, "u")
    assert events == [("hv01", "shell_create"), ("hv01", "shell_delete")]


@pytest.mark.parametrize(("value", "message"), [
    ("slow", "timing_model.profile: 'slow' is not one of fast, realistic"),
    ({"profile": "realistic", "scale": 0}, "timing_model.scale: 0 is not a positive number"),
    ({"profile": "realistic", "figures": {"nope": 1}}, "timing_model.figures: unknown figure 'nope'"),
    ({"profile": "realistic", "speed": 2}, "timing_model: unknown key(s) speed"),
])
def test_a_bad_timing_model_in_a_lab_file_is_refused_naming_the_key(value: Any, message: str) -> None:
    with pytest.raises(LabError, match=re.escape(message)):
        timing_model_config({"timing_model": value, "hosts": []})


def test_generated_labs_can_carry_the_realistic_timing_model() -> None:
    generated = generate_lab(3, 2, timing="realistic", scale=0.2)
    assert generated["timing_model"] == {"profile": "realistic", "scale": 0.2} and "timing" not in generated
    assert len(generated["hosts"]) == 3 and all(len(h["vms"]) == 2 for h in generated["hosts"])
    fleet = Fleet.from_lab(generated)
    assert fleet.timing_config()["profile"] == "realistic"
    assert generate_lab(1, 2)["timing"]["boot_seconds"] == 0.2 and "timing_model" not in generate_lab(1, 2)
