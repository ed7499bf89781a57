"""hvsim command line: up / down / status / show / connectivity / fault / generate (and serve)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from hvsim import process
from hvsim.control import ControlError
from hvsim.labgen import generate_lab
from hvsim.statedir import StateDir

# Python's spelling too: callers format keyword arguments with f"{key}={value}".
_LITERALS: dict[str, Any] = {"True": True, "False": False, "None": None}


def parse_value(text: str) -> Any:
    """JSON-typed when it parses (3, 0.2, true, null), else the string itself: `Off` or
    `LAB-HV1` never become booleans the way YAML would make them."""
    if text in _LITERALS:
        return _LITERALS[text]
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_fault(kind: str, assignments: Sequence[str]) -> dict[str, Any]:
    """`KIND key=value...` -> a fault object."""
    fault: dict[str, Any] = {"kind": kind}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {assignment!r}")
        fault[key] = parse_value(value)
    return fault


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def cmd_up(args: argparse.Namespace) -> int:
    state = StateDir.at(args.state)
    info = process.running_daemon(state)
    if info is None:
        lab = Path(args.labfile)
        if state.state_file.exists():
            print(f"hvsim: resuming the saved state in {state.root} ({lab} is not read)", file=sys.stderr)
        elif not lab.is_file():
            print(f"hvsim: no such lab file: {lab}", file=sys.stderr)
            return 2
        info = process.spawn(state, lab, timeout_s=args.timeout)
    else:
        print(f"hvsim: already running (pid {info['pid']})", file=sys.stderr)
    print(info["inventory"])
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    state = StateDir.at(args.state)
    if not process.stop(state):
        print(f"hvsim: nothing running for {state.root}", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    _print_json(process.client(StateDir.at(args.state)).status())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    _print_json(process.client(StateDir.at(args.state)).show(args.host))
    return 0


def cmd_timing(args: argparse.Namespace) -> int:
    _print_json(process.client(StateDir.at(args.state)).timing(args.host))
    return 0


def cmd_connectivity(args: argparse.Namespace) -> int:
    result = process.client(StateDir.at(args.state)).connectivity(args.guest)
    _print_json(result)
    return 0 if result.get("connected") else 1


def cmd_fault(args: argparse.Namespace) -> int:
    fault = parse_fault(args.kind, args.assignments)
    _print_json(process.client(StateDir.at(args.state)).fault(fault))
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    lab = generate_lab(args.hosts, args.vms, args.guests, timing=args.timing, scale=args.timing_scale)
    Path(args.out).write_text(yaml.safe_dump(lab, sort_keys=False), encoding="utf-8")
    print(args.out)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from hvsim.daemon import serve  # the daemon's imports (Fleet, endpoints) only where needed
    return serve(StateDir.at(args.state), Path(args.lab) if args.lab else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hvsim", description="Simulated Hyper-V fleet over WinRM.")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Any, help_text: str, state: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if state:
            sub.add_argument("--state", required=True, metavar="DIR", help="state directory of the lab")
        sub.set_defaults(handler=handler)
        return sub

    up = add("up", cmd_up, "start a lab in the background; prints the inventory path")
    up.add_argument("labfile", help="lab YAML (ignored when DIR already holds saved state)")
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the endpoints")
    add("down", cmd_down, "stop the lab (its state stays in DIR)")
    add("status", cmd_status, "daemon, endpoints and reachability as JSON")
    add("show", cmd_show, "one host's state as JSON").add_argument("host")
    add("timing", cmd_timing, "what the timing model charged one host, as JSON (TIMING.md)").add_argument("host")
    add("connectivity", cmd_connectivity,
        "can this guest reach the network? JSON; exit 0 if connected, 1 if not").add_argument("guest")
    fault = add("fault", cmd_fault, "inject a fault, e.g. `fault reboot_host host=hv01`")
    fault.add_argument("kind", help="fail_cmdlet_once, ignore_shutdown, slow_shutdown, crash_when_stopped, deny_restart_marks, "
                       "reboot_host, latency, drop_connection")
    fault.add_argument("assignments", nargs="*", metavar="key=value")
    generate = add("generate", cmd_generate, "write a generated lab: N hosts x M L1 VMs", state=False)
    generate.add_argument("--hosts", type=int, required=True)
    generate.add_argument("--vms", type=int, required=True, help="L1 VMs per host")
    generate.add_argument("--guests", type=int, default=0, help="L2 guests per L1 VM")
    generate.add_argument("--timing", choices=("fast", "realistic"), default="fast",
                          help="realistic: each host spends what Windows spends per command (TIMING.md)")
    generate.add_argument("--timing-scale", type=float, default=1.0,
                          help="with --timing realistic: multiply every figure (0.1 = ten times faster)")
    generate.add_argument("--out", required=True)
    serve = add("serve", cmd_serve, "run the daemon in the foreground (what `up` starts)")
    serve.add_argument("--lab", help="lab YAML used when DIR holds no saved state")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ControlError as error:
        print(f"hvsim: {error}", file=sys.stderr)
        return 2 if error.status == 404 else 3
    except (process.DaemonError, ValueError) as error:
        print(f"hvsim: {error}", file=sys.stderr)
        return 3
