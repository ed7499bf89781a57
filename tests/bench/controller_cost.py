"""What site.yml (or the conventional playbook) costs the controller: task results and CPU seconds.

    .venv/bin/python -m tests.bench.controller_cost --hosts 30 --phases first,converged

The side-by-side fleet (`hvsim generate --hosts N --vms 2 --guests 1`) with the realistic timing figures
scaled down (default 1%), so that nearly all of a run's time is the controller's: per run, the wall time,
the controller's CPU seconds (ansible-playbook and its workers) and the task results (every task's host
results, skipped ones included), in total and per host. The last phase may be `profile`: the converged
run again under cProfile, its statistics written to --out/<playbook>.prof (the main process only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.measure import COLLECTIONS, VENV_BIN, Lab, hvsim, link_collection, task_results
from tests.bench.side_by_side import PLAYBOOKS, forks_for


def run(lab: Lab, playbook: str, hosts: int, phase: str, out: Path) -> dict[str, object]:
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_HOST_KEY_CHECKING": "False",
           "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_FORKS": str(forks_for(hosts)),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    extra = ["-e", f"nested_report_dir={out}"] if playbook == "site.yml" else ["-e", f"report_dir={out}"]
    command = [str(VENV_BIN / "ansible-playbook"), "-i", str(lab.inventory), str(PLAYBOOKS[playbook]), *extra]
    if phase == "profile":
        command = [str(VENV_BIN / "python"), "-m", "cProfile", "-o", str(out / f"{playbook}.prof"), *command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(done.stdout[done.stdout.index("{"):])
    counts = task_results(report)
    return {"phase": phase, "rc": done.returncode, "wall_s": round(wall, 1),
            "controller_cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1),
            "task_results": sum(counts.values()), "per_host": sorted(set(counts.values())),
            "changed": sum(host.get("changed", 0) for host in report.get("stats", {}).values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10, help="L0 hosts of the fleet (each with 2 L1 hosts)")
    parser.add_argument("--playbook", choices=sorted(PLAYBOOKS), default="site.yml")
    parser.add_argument("--phases", default="first,converged", help="runs in order: first, converged, profile")
    parser.add_argument("--timing-scale", type=float, default=0.01)
    parser.add_argument("--out", type=Path, default=Path("tests/output/controller_cost"))
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    lab_file = options.out / f"fleet-{options.hosts}.yml"
    hvsim("generate", "--hosts", str(options.hosts), "--vms", "2", "--guests", "1", "--timing", "realistic",
          "--timing-scale", str(options.timing_scale), "--out", str(lab_file))
    lab = Lab.up(lab_file, options.out / f"{options.playbook}-{options.hosts}")
    link_collection()
    try:
        for phase in options.phases.split(","):
            print(json.dumps(run(lab, options.playbook, options.hosts, phase, options.out)), flush=True)
    finally:
        lab.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
