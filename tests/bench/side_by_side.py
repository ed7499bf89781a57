"""playbooks/site.yml against the conventional playbook (tests/bench/conventional/site.yml), side by side.

    .venv/bin/python -m tests.bench.side_by_side --sizes 1,10,100 --out docs/benchmark
    .venv/bin/python -m tests.bench.side_by_side --sizes 1 --timing-scale 0.02 --out /tmp/sbs   # a smoke run

For each fleet size N: `hvsim generate --hosts N --vms 2 --guests 1` (each L0 host with one NAT and one
MAC-spoofing L1 VM, each with one L2 guest; the realistic timing model, tests/simulator/TIMING.md). Each
playbook gets a fresh lab: its first run (from fresh VMs) and its converged run (the second, which must
report changed=0). Per run: wall time, WinRM commands and bytes per host (L0 and L1 hosts, from the
simulator's transcripts), and the controller's CPU seconds (ansible-playbook and its workers, from
getrusage of the children). The raw floor, one `ansible.builtin.raw: hostname` per L0 and L1 host, is a
reference row. The results are written to --out/side_by_side.json after every measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from tests.bench.measure import COLLECTIONS, REPO, VENV_BIN, Lab, _parse, hvsim, link_collection

PLAYBOOKS = {"site.yml": REPO / "playbooks" / "site.yml",
             "conventional": REPO / "tests" / "bench" / "conventional" / "site.yml"}


@dataclass
class Run:
    hosts: int           # L0 hosts of the fleet (each with 2 L1 hosts)
    playbook: str        # site.yml, conventional or raw
    phase: str           # first, converged or floor
    forks: int
    wall_s: float
    controller_cpu_s: float
    commands_per_host: float
    bytes_sent_per_host: float
    bytes_received_per_host: float
    changed: int
    failed: int
    task_results_per_l1_host: float = 0.0   # every task's host results (skipped included), over the L1 hosts


def forks_for(hosts: int) -> int:
    """What an operator sets: one fork per L1 host the play runs on, the default 5 at least, 50 at most."""
    return max(5, min(2 * hosts, 50))


def run_file(lab: Lab, playbook: Path, forks: int, extra: t.Sequence[str] = ()) -> tuple[t.Any, float]:
    """ansible-playbook on the lab: its parsed result and the CPU seconds it and its workers used."""
    link_collection()
    env = {**os.environ,
           "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join([str(COLLECTIONS), os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")]),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_HOST_KEY_CHECKING": "False",
           "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_FORKS": str(forks)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(lab.inventory), str(playbook), *extra],
                          capture_output=True, text=True, env=env, timeout=4 * 3600, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return _parse(done, wall), cpu


def measure(lab: Lab, size: int, name: str, phase: str, playbook: Path, forks: int, extra: t.Sequence[str],
            host_count: int) -> Run:
    lab.mark()
    result, cpu = run_file(lab, playbook, forks, extra)
    traffic = lab.traffic()
    # The simulator's own figures are for the Hyper-V hosts only (the controller's connections).
    commands = sum(cost.commands for cost in traffic.values())
    sent = sum(cost.bytes_sent for cost in traffic.values())
    received = sum(cost.bytes_received for cost in traffic.values())
    run = Run(size, name, phase, forks, round(result.wall_s, 2), round(cpu, 2), round(commands / host_count, 2),
              round(sent / host_count), round(received / host_count), result.changed, result.failed,
              round(result.task_results / (2 * size), 2))
    print(f"{size} hosts, {name}, {phase}: {run.wall_s} s, {run.commands_per_host} commands/host, "
          f"cpu {run.controller_cpu_s} s, {run.task_results_per_l1_host} task results/L1 host, "
          f"changed={run.changed}, failed={run.failed}", file=sys.stderr, flush=True)
    if result.failed:
        raise RuntimeError(f"{name} {phase} on {size} hosts failed:\n{result.output}")
    return run


def fleet_lab(root: Path, size: int, timing_scale: float) -> Path:
    lab_file = root / f"fleet-{size}.yml"
    hvsim("generate", "--hosts", str(size), "--vms", "2", "--guests", "1", "--timing", "realistic",
          "--timing-scale", str(timing_scale), "--out", str(lab_file))
    return lab_file


def one_playbook(root: Path, lab_file: Path, size: int, name: str) -> list[Run]:
    state = root / f"{name}-{size}"
    lab = Lab.up(lab_file, state)
    forks = forks_for(size)
    host_count = 3 * size
    extra = ["-e", f"nested_report_dir={state}"] if name == "site.yml" else ["-e", f"report_dir={state}"]
    try:
        first = measure(lab, size, name, "first", PLAYBOOKS[name], forks, extra, host_count)
        converged = measure(lab, size, name, "converged", PLAYBOOKS[name], forks, extra, host_count)
        if converged.changed:
            raise RuntimeError(f"{name} on {size} hosts is not idempotent: changed={converged.changed} on its second run")
        runs = [first, converged]
        if name == "site.yml":
            runs.append(floor(root, lab, size, forks, host_count))
        return runs
    finally:
        lab.down()


def floor(root: Path, lab: Lab, size: int, forks: int, host_count: int) -> Run:
    """The floor: one raw round trip per L0 and L1 host, the least any playbook can send."""
    playbook = root / "floor.yml"
    playbook.write_text(yaml.safe_dump([{"name": "floor", "hosts": "hyperv_hosts:nested_hosts", "gather_facts": False,
                                         "tasks": [{"name": "one raw round trip", "ansible.builtin.raw": "hostname"}]}]),
                        encoding="utf-8")
    return measure(lab, size, "raw", "floor", playbook, forks, (), host_count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100", help="L0 host counts (default %(default)s)")
    parser.add_argument("--playbooks", default="site.yml,conventional", help="which (default %(default)s)")
    parser.add_argument("--timing-scale", type=float, default=1.0, help="multiply the realistic figures (1.0: as measured)")
    parser.add_argument("--out", type=Path, required=True, help="folder for side_by_side.json")
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    target = options.out / "side_by_side.json"
    document: dict[str, t.Any] = {"command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
                                  "timing_scale": options.timing_scale, "vms_per_host": 2, "guests_per_vm": 1,
                                  "cpu_count": os.cpu_count(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="hvsbs-") as folder:
        root = Path(folder)
        for size in [int(size) for size in options.sizes.split(",")]:
            lab_file = fleet_lab(root, size, options.timing_scale)
            for name in options.playbooks.split(","):
                document["runs"].extend(asdict(run) for run in one_playbook(root, lab_file, size, name))
                target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
