"""Turn benchmark results into a Markdown table (with the issue's targets) and a PNG chart."""

from __future__ import annotations

import typing as t
from pathlib import Path

Results = dict[str, t.Any]


def _row(cells: t.Iterable[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _by_scenario(results: Results) -> dict[str, dict[str, t.Any]]:
    return {row["scenario"]: row for row in results["modules"]}


def targets(results: Results) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target of issue 8 that this run measured."""
    rows = _by_scenario(results)
    checks: list[tuple[str, str, bool]] = []
    raw = rows.get("raw (floor)")
    wrapper = rows.get("ansible.windows.win_ping (exec wrapper)")
    for name in ("win_nested_info", "win_nested_vm converged"):
        row = rows.get(name)
        if row is None:
            continue
        checks.append((f"{name}: exactly 1 WinRM command", f"{row['commands_per_task']:g}", row["commands_per_task"] == 1))
        if wrapper:
            share = (row["bytes_sent_per_task"] + row["bytes_received_per_task"]) / (
                wrapper["bytes_sent_per_task"] + wrapper["bytes_received_per_task"])
            checks.append((f"{name}: bytes <= 10% of the PowerShell module's", f"{share:.1%}", share <= 0.10))
        if raw:
            ratio = row["seconds_per_task"] / raw["seconds_per_task"]
            checks.append((f"{name}: controller time <= 1.3x raw", f"{ratio:.2f}x", ratio <= 1.3))
    change = rows.get("win_nested_vm change (no power cycle)")
    if change:
        checks.append(("change: 2 commands (no power waits needed)", f"{change['commands_per_task']:g}",
                       change["commands_per_task"] == 2))
    if results["batching"]:
        first, last = results["batching"][0], results["batching"][-1]
        checks.append((f"batched task for {last['vms']} VMs: no more round trips than for {first['vms']}",
                       f"{last['batched_commands']} vs {first['batched_commands']}",
                       last["batched_commands"] <= first["batched_commands"]))
    for row in results["fleet"]:
        if row["hosts"] == 100:
            checks.append(("converged site at 100 hosts <= 1.5x raw baseline", f"{row['ratio']:.2f}x", row["ratio"] <= 1.5))
    return checks


def write_table(results: Results, path: Path) -> None:
    lines = ["# Benchmark", ""]
    if results.get("smoke"):
        lines += ["*Smoke run (small sizes): counts are meaningful, times are not.*", ""]
    lines += ["## Per task", "",
              _row(["task", "WinRM commands", "bytes sent", "bytes received", "controller s/task", "tasks"]),
              _row(["---"] * 6)]
    for row in results["modules"]:
        lines.append(_row([row["scenario"], f"{row['commands_per_task']:g}", f"{row['bytes_sent_per_task']:.0f}",
                           f"{row['bytes_received_per_task']:.0f}", f"{row['seconds_per_task']:.3f}", row["tasks"]]))
    lines += ["", "## Batching: one task for M VMs against a loop of M tasks (converged)", "",
              _row(["M", "batched commands", "loop commands", "batched s", "loop s"]), _row(["---"] * 5)]
    for row in results["batching"]:
        lines.append(_row([row["vms"], row["batched_commands"], row["loop_commands"],
                           f"{row['batched_seconds']:.2f}", f"{row['loop_seconds']:.2f}"]))
    if results["fleet"]:
        lines += ["", "## Fleet: converged site against the same number of raw round trips", "",
                  _row(["hosts", "forks", "site s", "commands/host", "raw s", "site/raw"]), _row(["---"] * 6)]
        for row in results["fleet"]:
            lines.append(_row([row["hosts"], row["forks"], f"{row['site_seconds']:.1f}",
                               f"{row['commands_per_host']:.1f}", f"{row['raw_seconds']:.1f}", f"{row['ratio']:.2f}"]))
    lines += ["", "## Targets (issue 8)", "", _row(["target", "measured", "met"]), _row(["---"] * 3)]
    for target, measured, met in targets(results):
        lines.append(_row([target, measured, "yes" if met else "**no**"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_chart(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if results["fleet"] else 2
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5))
    names = [row["scenario"] for row in results["modules"]]
    sizes = [row["bytes_sent_per_task"] + row["bytes_received_per_task"] for row in results["modules"]]
    axes[0].barh(names, sizes, color="#4878a8")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("payload bytes per task (log)")
    axes[0].set_title("Bytes per task")
    batch = results["batching"]
    axes[1].plot([row["vms"] for row in batch], [row["batched_commands"] for row in batch], "o-", label="one batched task")
    axes[1].plot([row["vms"] for row in batch], [row["loop_commands"] for row in batch], "s--", label="loop of tasks")
    axes[1].set_xlabel("VMs")
    axes[1].set_ylabel("WinRM commands")
    axes[1].set_title("Batching")
    axes[1].legend()
    if results["fleet"]:
        fleet = results["fleet"]
        axes[2].plot([row["hosts"] for row in fleet], [row["site_seconds"] for row in fleet], "o-", label="site (converged)")
        axes[2].plot([row["hosts"] for row in fleet], [row["raw_seconds"] for row in fleet], "s--", label="raw baseline")
        axes[2].set_xlabel("hosts")
        axes[2].set_ylabel("wall seconds")
        axes[2].set_title("Fleet")
        axes[2].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def power_table(results: Results) -> str:
    """The power-cycle comparison (bench.py --power-only) as a Markdown table."""
    by_size: dict[int, dict[str, dict[str, t.Any]]] = {}
    for row in results["summary"]:
        by_size.setdefault(row["vms"], {})[row["mode"]] = row
    lines = [_row(["VMs", "one task: median s (range)", "loop: median s (range)", "loop / one task",
                   "one task: commands", "loop: commands"]), _row(["---"] * 6)]
    for size, modes in sorted(by_size.items()):
        together, loop = modes["together"], modes["loop"]
        lines.append(_row([size, _spread(together), _spread(loop),
                           f"{loop['median_seconds'] / together['median_seconds']:.1f}x",
                           _counts(together["commands"]), _counts(loop["commands"])]))
    return "\n".join(lines)


def _spread(row: dict[str, t.Any]) -> str:
    return f"{row['median_seconds']:.2f} ({row['min_seconds']:.2f}-{row['max_seconds']:.2f})"


def _counts(commands: list[int]) -> str:
    distinct = sorted(set(commands))
    return str(distinct[0]) if len(distinct) == 1 else "/".join(str(count) for count in commands)
