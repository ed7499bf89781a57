"""The benchmark of issue 8: per-task cost, batching, fleet scaling; writes a table and a chart.

    .venv/bin/python -m tests.bench.bench --out docs/benchmark          # the full run
    .venv/bin/python -m tests.bench.bench --smoke --out /tmp/bench      # small
    .venv/bin/python -m tests.bench.bench --fleet-only 10,50 --out /tmp/fleet   # converged site vs raw only
    .venv/bin/python -m tests.bench.bench --power-only 1,5,10,20 --out docs/benchmark   # power cycles: one task vs a loop

Every figure of a comparison is measured in the same run against the same simulated lab.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import typing as t
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.bench.measure import REPO, Lab, hvsim, run_playbook

HEALTHY = REPO / "tests" / "simulator" / "labs" / "healthy-intel.yml"


@dataclass
class TaskCost:
    scenario: str
    commands_per_task: float
    bytes_sent_per_task: float
    bytes_received_per_task: float
    seconds_per_task: float
    tasks: int


def play(hosts: str, tasks: list[dict[str, t.Any]], **extra: t.Any) -> dict[str, t.Any]:
    return {"name": "bench", "hosts": hosts, "gather_facts": False, "tasks": tasks, **extra}


def measure_tasks(lab: Lab, scenario: str, host: str, task: dict[str, t.Any], repeat: int) -> TaskCost:
    """Run `task` `repeat` times in one play on `host`; cost per task from transcript and callback."""
    tasks = [{"name": f"{scenario} {index}", **task} for index in range(repeat)]
    lab.mark()
    result = run_playbook(lab, [play(host, tasks)])
    if result.failed:
        raise RuntimeError(f"{scenario} failed:\n{result.output}")
    traffic = lab.traffic().get(host)
    if traffic is None:
        raise RuntimeError(f"{scenario}: no command reached {host}")
    seconds = [value for name, values in result.task_seconds.items() if name.startswith(scenario) for value in values]
    return TaskCost(
        scenario=scenario,
        commands_per_task=traffic.commands / repeat,
        bytes_sent_per_task=traffic.bytes_sent / repeat,
        bytes_received_per_task=traffic.bytes_received / repeat,
        seconds_per_task=statistics.mean(seconds),
        tasks=repeat,
    )


def per_module(lab: Lab, repeat: int) -> list[TaskCost]:
    vm = "LAB-HV1"
    enable = {"hyperv.nested.win_nested_vm": {"name": [vm], "state": "enabled", "power": "turn_off"}}
    run_playbook(lab, [play("hv01", [{"name": "converge first", **enable}])])
    costs = [
        measure_tasks(lab, "raw (floor)", "hv01", {"ansible.builtin.raw": "hostname"}, repeat),
        measure_tasks(lab, "ansible.windows.win_ping (exec wrapper)", "hv01", {"ansible.windows.win_ping": {}}, repeat),
        measure_tasks(lab, "win_nested_info", "hv01", {"hyperv.nested.win_nested_info": {"name": [vm]}}, repeat),
        measure_tasks(lab, "win_nested_vm converged", "hv01", enable, repeat),
    ]
    toggles = [
        {"name": f"win_nested_vm change {index}",
         "hyperv.nested.win_nested_vm": {"name": [vm], "state": "enabled",
                                         "mac_address_spoofing": "on" if index % 2 == 0 else "off"}}
        for index in range(repeat)
    ]
    lab.mark()
    result = run_playbook(lab, [play("hv01", toggles)])
    if result.failed or result.changed != repeat:
        raise RuntimeError(f"change scenario: expected {repeat} changes, got {result.changed}\n{result.output}")
    traffic = lab.traffic()["hv01"]
    seconds = [value for values in result.task_seconds.values() for value in values]
    costs.append(TaskCost("win_nested_vm change (no power cycle)", traffic.commands / repeat,
                          traffic.bytes_sent / repeat, traffic.bytes_received / repeat,
                          statistics.mean(seconds), repeat))
    return costs


@dataclass
class BatchCost:
    vms: int
    batched_commands: int
    loop_commands: int
    batched_seconds: float
    loop_seconds: float


def batching(state_root: Path, sizes: list[int]) -> list[BatchCost]:
    largest = max(sizes)
    lab_file = state_root / "batch-lab.yml"
    hvsim("generate", "--hosts", "1", "--vms", str(largest), "--out", str(lab_file))
    lab = Lab.up(lab_file, state_root / "batch")
    try:
        host = _first_l0(lab)
        names = _vm_names(lab, host)
        converge = {"hyperv.nested.win_nested_vm": {"name": names, "state": "enabled", "power": "turn_off"}}
        first = run_playbook(lab, [play(host, [{"name": "converge all", **converge}])])
        if first.failed:
            raise RuntimeError(first.output)
        rows = []
        for size in sizes:
            chosen = names[:size]
            batched = {"name": "batched", "hyperv.nested.win_nested_vm": {"name": chosen, "state": "enabled"}}
            looped = {"name": "looped", "loop": chosen,
                      "hyperv.nested.win_nested_vm": {"name": ["{{ item }}"], "state": "enabled"}}
            lab.mark()
            batch_result = run_playbook(lab, [play(host, [batched])])
            batch_commands = lab.traffic()[host].commands
            lab.mark()
            loop_result = run_playbook(lab, [play(host, [looped])])
            loop_commands = lab.traffic()[host].commands
            if batch_result.failed or loop_result.failed:
                raise RuntimeError(batch_result.output + loop_result.output)
            rows.append(BatchCost(size, batch_commands, loop_commands,
                                  sum(batch_result.task_seconds["batched"]), sum(loop_result.task_seconds["looped"])))
        return rows
    finally:
        lab.down()


@dataclass
class FleetCost:
    hosts: int
    forks: int
    site_seconds: float
    commands_per_host: float
    raw_seconds: float
    ratio: float


def fleet(state_root: Path, sizes: list[int], vms_per_host: int) -> list[FleetCost]:
    rows = []
    site = REPO / "playbooks" / "site.yml"
    for size in sizes:
        lab_file = state_root / f"fleet-{size}.yml"
        hvsim("generate", "--hosts", str(size), "--vms", str(vms_per_host), "--out", str(lab_file))
        lab = Lab.up(lab_file, state_root / f"fleet-{size}")
        forks = min(size, 50)
        # The report files go to the lab's folder (site.yml runs from a temporary copy of itself).
        reports = ("-e", f"nested_report_dir={state_root / f'reports-{size}'}")
        try:
            first = run_playbook_file(lab, site, forks, reports)
            if first.failed:
                raise RuntimeError(f"site on {size} hosts failed:\n{first.output}")
            lab.mark()
            converged = run_playbook_file(lab, site, forks, reports)
            if converged.failed or converged.changed:
                raise RuntimeError(f"converged site on {size} hosts: changed={converged.changed}\n{converged.output}")
            traffic = lab.traffic()
            per_host = {host: cost.commands for host, cost in traffic.items()}
            # The floor: the same hosts running the same number of raw round trips.
            raw_plays = [play(host, [{"name": f"raw {index}", "ansible.builtin.raw": "hostname"}
                                     for index in range(count)]) for host, count in per_host.items()]
            merged = _merge_by_count(raw_plays)
            raw = run_playbook(lab, merged, forks=forks)
            if raw.failed:
                raise RuntimeError(raw.output)
            rows.append(FleetCost(size, forks, converged.wall_s, statistics.mean(per_host.values()),
                                  raw.wall_s, converged.wall_s / raw.wall_s))
        finally:
            lab.down()
    return rows


def _merge_by_count(plays: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """One play per distinct task count, so hosts run in parallel as they do under site."""
    by_count: dict[int, list[str]] = {}
    for entry in plays:
        by_count.setdefault(len(entry["tasks"]), []).append(entry["hosts"])
    return [play(",".join(hosts), [{"name": f"raw {index}", "ansible.builtin.raw": "hostname"} for index in range(count)])
            for count, hosts in sorted(by_count.items())]


POWER_TIMING = {"shutdown_seconds": 2.0, "boot_seconds": 2.0, "reboot_seconds": 2.0}


@dataclass
class PowerRun:
    """One measurement of one power-cycle mode, on a lab of its own."""

    vms: int
    mode: str  # "together": one task naming every VM; "loop": one task looping over the names, one VM per item
    task_seconds: float  # the task's duration from the callback (the whole loop for "loop")
    playbook_seconds: float  # ansible-playbook, start to exit
    commands: int  # WinRM commands the L0 host received during the task
    changed: int


@dataclass
class PowerCost:
    vms: int
    mode: str
    runs: int
    median_seconds: float
    min_seconds: float
    max_seconds: float
    commands: list[int]


def power_lab(state_root: Path, vms: int, timing: dict[str, float]) -> Path:
    """A generated lab: one L0 host with `vms` running L1 VMs (not nested yet), with `timing`."""
    import yaml

    lab_file = state_root / f"power-{vms}.yml"
    hvsim("generate", "--hosts", "1", "--vms", str(vms), "--out", str(lab_file))
    spec = yaml.safe_load(lab_file.read_text(encoding="utf-8"))
    spec["timing"] = dict(timing)
    lab_file.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return lab_file


def power_task(mode: str, names: list[str], power: str) -> dict[str, t.Any]:
    if mode == "together":
        return {"name": "power together", "hyperv.nested.win_nested_vm": {"name": names, "state": "enabled", "power": power}}
    return {"name": "power loop", "loop": names,
            "hyperv.nested.win_nested_vm": {"name": ["{{ item }}"], "state": "enabled", "power": power}}


def power_once(lab_file: Path, state_dir: Path, mode: str, power: str = "shutdown") -> PowerRun:
    """Power-cycle every VM of a fresh lab once, with one task (`together`) or a loop (`loop`)."""
    lab = Lab.up(lab_file, state_dir)
    try:
        host = _first_l0(lab)
        names = _vm_names(lab, host)
        task = power_task(mode, names, power)
        lab.mark()
        result = run_playbook(lab, [play(host, [task])])
        if result.failed or result.changed != 1:
            raise RuntimeError(f"power {mode} on {len(names)} VMs: changed={result.changed}\n{result.output}")
        traffic = lab.traffic()[host]
        _check_cycled(lab, host, names)
        return PowerRun(len(names), mode, sum(result.task_seconds[task["name"]]), result.wall_s, traffic.commands,
                        result.changed)
    finally:
        lab.down()


def _check_cycled(lab: Lab, host: str, names: list[str]) -> None:
    """Every VM named runs again, with virtualization extensions exposed and dynamic memory off."""
    state = json.loads(hvsim("show", host, "--state", str(lab.state_dir)))
    machines = {vm["name"]: vm for vm in state["vms"]["vms"]}
    wrong = [name for name in names if machines[name]["state"] != "Running"
             or not machines[name]["expose_virtualization_extensions"] or machines[name]["dynamic_memory_enabled"]]
    if wrong:
        raise RuntimeError(f"not running nested after the task: {', '.join(wrong)}")


def power(state_root: Path, sizes: list[int], repeat: int, timing: dict[str, float]) -> tuple[list[PowerCost], list[PowerRun]]:
    """Each size: `repeat` fresh labs per mode, the modes alternating so that load on the machine hits both alike."""
    runs: list[PowerRun] = []
    for size in sizes:
        lab_file = power_lab(state_root, size, timing)
        for attempt in range(repeat):
            for mode in ("together", "loop"):
                run = power_once(lab_file, state_root / f"power-{size}-{mode}-{attempt}", mode)
                print(f"power: {size} VMs, {mode}, run {attempt + 1}: {run.task_seconds:.2f} s, "
                      f"{run.commands} commands", file=sys.stderr, flush=True)
                runs.append(run)
    costs = []
    for size in sizes:
        for mode in ("together", "loop"):
            chosen = [run for run in runs if run.vms == size and run.mode == mode]
            seconds = [run.task_seconds for run in chosen]
            costs.append(PowerCost(size, mode, len(chosen), statistics.median(seconds), min(seconds), max(seconds),
                                   [run.commands for run in chosen]))
    return costs, runs


def run_playbook_file(lab: Lab, path: Path, forks: int, extra: t.Sequence[str] = ()) -> t.Any:
    import yaml

    plays = yaml.safe_load(path.read_text(encoding="utf-8"))
    return run_playbook(lab, plays, forks=forks, extra=extra)


def _first_l0(lab: Lab) -> str:
    import yaml

    inventory = yaml.safe_load(lab.inventory.read_text(encoding="utf-8"))
    return sorted(inventory["all"]["children"]["hyperv_hosts"]["hosts"])[0]


def _vm_names(lab: Lab, host: str) -> list[str]:
    state = json.loads(hvsim("show", host, "--state", str(lab.state_dir)))
    return list(state["vms"]["all_names"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for benchmark.md, benchmark.json, benchmark.png")
    parser.add_argument("--smoke", action="store_true", help="small sizes, for make test")
    parser.add_argument("--fleet-only", metavar="N,N", help="only the fleet part for these host counts; JSON to --out/fleet.json")
    parser.add_argument("--power-only", metavar="N,N",
                        help="only the power-cycle part (one task for N VMs against a loop) for these VM counts; JSON to --out/power.json")
    parser.add_argument("--repeat", type=int, default=3, help="--power-only: fresh labs per size and mode (default 3)")
    parser.add_argument("--shutdown-seconds", type=float, default=POWER_TIMING["shutdown_seconds"],
                        help="--power-only: the simulated guests' shutdown time (default %(default)s)")
    parser.add_argument("--boot-seconds", type=float, default=POWER_TIMING["boot_seconds"],
                        help="--power-only: the simulated guests' boot time (default %(default)s)")
    options = parser.parse_args(argv)
    if options.power_only:
        return power_main(options)
    if options.fleet_only:
        options.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="hvbench-") as folder:
            rows = fleet(Path(folder), [int(size) for size in options.fleet_only.split(",")], vms_per_host=2)
        text = json.dumps([asdict(row) for row in rows], indent=2)
        (options.out / "fleet.json").write_text(text, encoding="utf-8")
        print(text)
        return 0
    repeat = 2 if options.smoke else 10
    batch_sizes = [1, 3] if options.smoke else [1, 10, 50]
    fleet_sizes = [1, 2] if options.smoke else [1, 10, 50, 100]
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hvbench-") as folder:
        root = Path(folder)
        lab = Lab.up(HEALTHY, root / "modules")
        try:
            modules = per_module(lab, repeat)
        finally:
            lab.down()
        batches = batching(root, batch_sizes)
        fleets = fleet(root, fleet_sizes, vms_per_host=2) if (REPO / "playbooks" / "site.yml").exists() else []
    results = {"modules": [asdict(row) for row in modules], "batching": [asdict(row) for row in batches],
               "fleet": [asdict(row) for row in fleets], "smoke": options.smoke}
    (options.out / "benchmark.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    from tests.bench.report import write_chart, write_table

    write_table(results, options.out / "benchmark.md")
    write_chart(results, options.out / "benchmark.png")
    print((options.out / "benchmark.md").read_text(encoding="utf-8"))
    return 0


def power_main(options: argparse.Namespace) -> int:
    sizes = [int(size) for size in options.power_only.split(",")]
    timing = {**POWER_TIMING, "shutdown_seconds": options.shutdown_seconds, "boot_seconds": options.boot_seconds}
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hvbench-") as folder:
        costs, runs = power(Path(folder), sizes, options.repeat, timing)
    results = {"timing": timing, "power": "shutdown", "repeat": options.repeat,
               "summary": [asdict(row) for row in costs], "runs": [asdict(row) for row in runs]}
    (options.out / "power.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    from tests.bench.report import power_table

    print(power_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
