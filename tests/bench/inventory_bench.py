"""How long the inventory plugin (hyperv.nested.hyperv) takes to read a fleet of N Hyper-V hosts.

    .venv/bin/python -m tests.bench.inventory_bench --hosts 100 --vms 5 --concurrency 1,8,32 --repeat 3 --out docs/benchmark
    .venv/bin/python -m tests.bench.inventory_bench --hosts 100 --vms 5 --concurrency 32,8,1 --repeat 1 --timing realistic --out /tmp/inv

A generated lab (`hvsim generate --hosts N --vms M`, every host on its own loopback address) is
started once; its `fleet.hyperv.yml` is read with `ansible-inventory --list` at each concurrency,
`--repeat` times, then once more from the cache. The floor is Ansible itself reaching the same N
hosts over the same WinRM (NTLM, message encryption): one `ansible.builtin.raw` round trip per
host with `--forks` equal to the concurrency. The simulator's transcripts give the WinRM commands
each host received. Times are reported (docs/benchmark.md), never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import yaml

from tests.bench.measure import COLLECTIONS, VENV_BIN, Lab, hvsim, link_collection


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False,
                          env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "PYTHONWARNINGS": "ignore", **(env or {})})
    return time.monotonic() - started, done


def commands_per_host(lab: Lab) -> dict[str, int]:
    return {host: len(entries) for host, entries in lab._transcripts().items()}


def read_once(lab: Lab, source: Path) -> tuple[float, dict[str, t.Any], dict[str, int]]:
    """One `ansible-inventory --list`; the WinRM commands it caused, per host."""
    before = commands_per_host(lab)
    seconds, done = timed([str(VENV_BIN / "ansible-inventory"), "-i", str(source), "--list"])
    if done.returncode != 0 or "WARNING" in done.stderr:
        raise RuntimeError(f"ansible-inventory failed:\n{done.stderr[-3000:]}")
    after = commands_per_host(lab)
    return seconds, json.loads(done.stdout), {host: count - before.get(host, 0) for host, count in after.items() if count != before.get(host, 0)}


def raw_floor(lab: Lab, hosts: int, forks: int) -> float:
    seconds, done = timed([str(VENV_BIN / "ansible"), "hyperv_hosts", "-i", str(lab.inventory), "-m", "ansible.builtin.raw",
                           "-a", "hostname", "-f", str(forks)])
    if done.returncode != 0:
        raise RuntimeError(f"raw on {hosts} hosts failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--vms", type=int, default=5, help="VMs per host (default %(default)s)")
    parser.add_argument("--concurrency", default="1,8,32", help="max_concurrency values (and raw forks), comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timing", choices=["fast", "realistic"], default="fast",
                        help="the simulator's timing model (realistic: each host spends what Windows spends; TIMING.md)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds every reply of every L0 host is delayed (hvsim fault latency), as a slower host would be")
    parser.add_argument("--out", type=Path, required=True, help="folder for inventory.json")
    options = parser.parse_args(argv)
    link_collection()
    levels = [int(level) for level in options.concurrency.split(",")]
    rows: list[dict[str, t.Any]] = []
    with tempfile.TemporaryDirectory(prefix="hvinv-") as folder:
        root = Path(folder)
        lab_file = root / "fleet.yml"
        hvsim("generate", "--hosts", str(options.hosts), "--vms", str(options.vms), "--timing", options.timing, "--out", str(lab_file))
        lab = Lab.up(lab_file, root / "lab")
        try:
            base = yaml.safe_load((lab.state_dir / "fleet.hyperv.yml").read_text(encoding="utf-8"))
            if options.latency:
                for host in base["hosts"]:
                    hvsim("fault", "--state", str(lab.state_dir), "latency", f"host={host['name']}", f"seconds={options.latency}")
            for level in levels:
                source = root / f"c{level}.hyperv.yml"
                source.write_text(yaml.safe_dump({**base, "max_concurrency": level}), encoding="utf-8")
                times = []
                for _run in range(options.repeat):
                    seconds, listing, commands = read_once(lab, source)
                    vms = len(listing.get("hyperv_vms", {}).get("hosts", []))
                    if vms != options.hosts * options.vms or sorted(set(commands.values())) != [1] or len(commands) != options.hosts:
                        raise RuntimeError(f"unexpected read: {vms} VMs, commands per host {sorted(set(commands.values()))} on {len(commands)} hosts")
                    times.append(seconds)
                floor = [raw_floor(lab, options.hosts, level) for _run in range(options.repeat)]
                rows.append({"concurrency": level, "read_s": times, "read_median_s": statistics.median(times),
                             "raw_s": floor, "raw_median_s": statistics.median(floor)})
                print(json.dumps(rows[-1]), flush=True)
            cached = root / "cached.hyperv.yml"
            cache_dir = root / "cache"
            cached.write_text(yaml.safe_dump({**base, "max_concurrency": max(levels), "cache": True,
                                              "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache_dir)}), encoding="utf-8")
            read_once(lab, cached)
            hit_seconds, _listing, hit_commands = read_once(lab, cached)
        finally:
            lab.down()
    result = {"hosts": options.hosts, "vms_per_host": options.vms, "repeat": options.repeat, "timing": options.timing,
              "latency_s": options.latency, "rows": rows,
              "cache_hit_s": hit_seconds, "cache_hit_commands": sum(hit_commands.values()),
              "load_average": os.getloadavg()}
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "inventory.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
