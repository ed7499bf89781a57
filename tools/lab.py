"""`make lab`: converge a simulated Hyper-V fleet with playbooks/site.yml, twice.

1. start the simulated lab (tests/simulator, `hvsim up LAB --state .lab/<lab name>`), from a
   fresh state unless --keep-state;
2. run playbooks/site.yml against the inventory the simulator wrote;
3. run it again: every host must report changed=0 (idempotence), nothing failed or unreachable;
4. every L2 guest of the inventory must have connectivity (`hvsim connectivity`);
5. say where the report is;
6. stop the lab, also when something failed or on Ctrl-C.

Exit status 0 only when all of that happened. When a piece is missing (the simulator or the
playbook is not built yet) it says so and exits 2: a missing piece is never a success.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import yaml

REPO = Path(__file__).resolve().parent.parent
SIMULATOR = REPO / "tests" / "simulator" / "hvsim"
SITE = REPO / "playbooks" / "site.yml"
COLLECTIONS = REPO / "build" / "collections"
BIN = Path(sys.executable).parent

RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")
REPORT_PATH = re.compile(r"""(?:report|Report|REPORT)\b[^\n]*?(?P<path>(?:/|\.{1,2}/|\.lab/|build/)[^\s"',]+)""")


def rel(path: Path) -> str:
    """A path relative to the repository when it is inside it (for messages)."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


class LabError(Exception):
    """A step failed; the message says which and why."""


class Missing(Exception):
    """A piece the lab needs does not exist yet."""


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    """Per-host counters of the last PLAY RECAP in ansible-playbook's default output."""
    start = output.rfind("PLAY RECAP")
    if start < 0:
        return {}
    recap: dict[str, dict[str, int]] = {}
    for line in output[start:].splitlines()[1:]:
        match = RECAP_LINE.match(line.strip())
        if not match:
            if recap and line.strip():
                break
            continue
        counts = dict(pair.split("=") for pair in match.group("counts").split())
        recap[match.group("host")] = {key: int(value) for key, value in counts.items()}
    return recap


def recap_problems(recap: dict[str, dict[str, int]], *, require_unchanged: bool) -> list[str]:
    """What is wrong with a run, judged from its recap (empty list: fine)."""
    if not recap:
        return ["no PLAY RECAP in the output"]
    problems = []
    for host, counts in sorted(recap.items()):
        for key in ("failed", "unreachable"):
            if counts.get(key, 0):
                problems.append(f"{host}: {key}={counts[key]}")
        if require_unchanged and counts.get("changed", 0):
            problems.append(f"{host}: changed={counts['changed']} on the second run (not idempotent)")
    return problems


def find_report(output: str) -> list[str]:
    """Paths the playbook output names as a report, which exist."""
    found = []
    for match in REPORT_PATH.finditer(output):
        path = match.group("path").rstrip(".:;)]}")
        candidate = Path(path) if Path(path).is_absolute() else REPO / path
        if candidate.exists() and str(candidate) not in found:
            found.append(str(candidate))
    return found


def env() -> dict[str, str]:
    result = dict(os.environ)
    result["PATH"] = os.pathsep.join([str(BIN), result.get("PATH", "")])
    result["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    result["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
    result.setdefault("ANSIBLE_CALLBACK_RESULT_FORMAT", "yaml")
    result.setdefault("ANSIBLE_HOST_KEY_CHECKING", "False")
    return result


def run(cmd: Sequence[str], *, capture: bool = False) -> tuple[int, str]:
    """Run a command (stdin closed), echoing its output; return (rc, output)."""
    print("$ " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(
        list(cmd), cwd=REPO, env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        if not capture:
            sys.stdout.write(line)
        lines.append(line)
    sys.stdout.flush()
    return proc.wait(), "".join(lines)


def hvsim(*args: str) -> list[str]:
    return [sys.executable, str(SIMULATOR), *args]


class Lab:
    def __init__(self, lab_file: Path, state: Path) -> None:
        self.lab_file = lab_file
        self.state = state
        self.started = False

    def up(self, *, keep_state: bool) -> Path:
        if not (SIMULATOR / "__main__.py").exists():
            raise Missing(f"the simulator ({rel(SIMULATOR)}) is not built yet")
        if not self.lab_file.is_file():
            raise Missing(f"lab file {self.lab_file} does not exist")
        if not keep_state and self.state.exists():
            run(hvsim("down", "--state", str(self.state)), capture=True)
            shutil.rmtree(self.state)
        self.started = True  # from here on, always try to stop it
        rc, out = run(hvsim("up", str(self.lab_file), "--state", str(self.state)))
        if rc != 0:
            raise LabError(f"hvsim up failed (exit {rc})")
        lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
        inventory = Path(lines[-1]) if lines else self.state / "inventory.yml"
        if not inventory.is_absolute():
            inventory = REPO / inventory
        if not inventory.is_file():
            raise LabError(f"hvsim up printed no inventory file (got {lines[-1] if lines else 'nothing'!r})")
        return inventory

    def check_guests(self, inventory: Path) -> None:
        """Every L2 guest of the inventory must have network connectivity (the simulator decides)."""
        groups = (yaml.safe_load(inventory.read_text(encoding="utf-8")) or {}).get("all", {}).get("children", {})
        guests = sorted((groups.get("nested_guests") or {}).get("hosts") or {})
        print("\n==== L2 guest connectivity ====")
        lost = []
        for guest in guests:
            rc, out = run(hvsim("connectivity", guest, "--state", str(self.state)), capture=True)
            path = json.loads(out).get("path", "") if out.strip().startswith("{") else out.strip()
            print(f"{guest}: {'connected' if rc == 0 else 'NOT connected'} {path}")
            if rc != 0:
                lost.append(guest)
        if lost:
            raise LabError(f"L2 guests without connectivity after site: {', '.join(lost)}")

    def down(self) -> None:
        if self.started:
            self.started = False
            rc, out = run(hvsim("down", "--state", str(self.state)), capture=True)
            print(f"lab stopped (state kept in {rel(self.state)})" if rc == 0 else f"hvsim down failed (exit {rc}): {out.strip()}")


def converge(inventory: Path, playbook: Path, run_number: int, report_dir: Path) -> str:
    print(f"\n==== run {run_number}: ansible-playbook {rel(playbook)} ====", flush=True)
    t0 = time.monotonic()
    # The report goes next to the lab's state (hyperv.nested.nested_report's nested_report_dir).
    extra = ["--extra-vars", f"nested_report_dir={report_dir}"]
    rc, out = run([str(BIN / "ansible-playbook"), "-i", str(inventory), *extra, str(playbook)])
    recap = parse_recap(out)
    problems = recap_problems(recap, require_unchanged=run_number > 1)
    changed = sum(c.get("changed", 0) for c in recap.values())
    print(f"---- run {run_number}: exit {rc}, {len(recap)} host(s), changed={changed}, {time.monotonic() - t0:.1f}s", flush=True)
    if rc != 0 or problems:
        raise LabError(f"run {run_number} of {playbook.name}: " + ("; ".join(problems) if problems else f"ansible-playbook exit {rc}"))
    return out


def smoke(inventory: Path) -> None:
    """What exists while the playbook does not: can Ansible reach every host of the lab?"""
    print("\n==== what exists: reaching every lab host over WinRM (ansible.windows.win_ping) ====", flush=True)
    rc, _unused = run([str(BIN / "ansible"), "-i", str(inventory), "hyperv_hosts:nested_hosts", "-m", "ansible.windows.win_ping", "-o"])
    print(f"---- win_ping: exit {rc}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--lab", default="tests/simulator/labs/bare-hosts.yml", help="lab file (default: %(default)s)")
    parser.add_argument("--state", help="state directory (default: .lab/<lab file name>)")
    parser.add_argument("--keep-state", action="store_true", help="resume the lab's saved state instead of starting fresh")
    parser.add_argument("--playbook", default=str(SITE), help="playbook to converge with (default: playbooks/site.yml)")
    args = parser.parse_args(argv)

    lab_file = (REPO / args.lab).resolve()
    state = (REPO / (args.state or f".lab/{lab_file.stem}")).resolve()
    playbook = (REPO / args.playbook).resolve()
    lab = Lab(lab_file, state)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    t0 = time.monotonic()
    state.parent.mkdir(parents=True, exist_ok=True)
    lock = (state.parent / f"{state.name}.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"make lab: another make lab is using {rel(state)}", file=sys.stderr)
        return 1
    try:
        inventory = lab.up(keep_state=args.keep_state)
        print(f"lab {lab_file.stem} is up; inventory: {rel(inventory)}", flush=True)
        if not playbook.is_file():
            smoke(inventory)
            raise Missing(f"{rel(playbook)} does not exist yet (planned): the lab started, nothing was converged")
        report_dir = state / "reports"
        converge(inventory, playbook, 1, report_dir)
        second = converge(inventory, playbook, 2, report_dir)
        lab.check_guests(inventory)
        reports = find_report(second) or sorted(str(p) for p in report_dir.glob("*") if p.is_file())
        print("\n==== report ====")
        if reports:
            for path in reports:
                print(f"report: {path}")
        else:
            print("no report file named in the playbook output (the nested_report role writes it once it exists)")
        print(f"\nmake lab: PASSED in {time.monotonic() - t0:.0f}s (second run: changed=0 on every host; every L2 guest connected)")
        return 0
    except Missing as exc:
        print(f"\nmake lab: INCOMPLETE: {exc}", file=sys.stderr)
        return 2
    except LabError as exc:
        print(f"\nmake lab: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nmake lab: interrupted", file=sys.stderr)
        return 130
    finally:
        with contextlib.suppress(Exception):
            lab.down()
        lock.close()


if __name__ == "__main__":
    sys.exit(main())
