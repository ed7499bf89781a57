"""The side-by-side results (side_by_side.py's JSON) as Markdown tables, the issue's targets, and a chart.

    .venv/bin/python -m tests.bench.side_by_side_report docs/benchmark/side_by_side.json --chart docs/side_by_side.png
"""

from __future__ import annotations

import argparse
import json
import typing as t
from pathlib import Path

Document = dict[str, t.Any]


def _row(cells: t.Iterable[object]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _bytes(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _per_l1(run: dict[str, t.Any]) -> str:
    """Task results per L1 host; runs measured before the column existed have none."""
    value = run.get("task_results_per_l1_host")
    return "n/a" if not value else f"{value:.1f}"


def runs_by_key(document: Document) -> dict[tuple[int, str, str], dict[str, t.Any]]:
    return {(run["hosts"], run["playbook"], run["phase"]): run for run in document["runs"]}


def table(document: Document) -> str:
    lines = [_row(["L0 hosts (L1 hosts)", "commit", "forks", "playbook", "run", "wall s", "WinRM commands/host", "bytes sent/host",
                   "bytes received/host", "controller CPU s", "task results/L1 host", "changed"]), _row(["---"] * 12)]
    order = {"site.yml": 0, "conventional": 1, "raw": 2}
    phases = {"first": 0, "converged": 1, "floor": 2}
    for run in sorted(document["runs"], key=lambda r: (r["hosts"], phases[r["phase"]], order[r["playbook"]])):
        name = "raw floor (reference)" if run["playbook"] == "raw" else run["playbook"]
        lines.append(_row([f"{run['hosts']} ({2 * run['hosts']})", run.get("commit", "n/a"), run["forks"], name, run["phase"], f"{run['wall_s']:.1f}",
                           f"{run['commands_per_host']:.2f}", _bytes(run["bytes_sent_per_host"]), _bytes(run["bytes_received_per_host"]),
                           f"{run['controller_cpu_s']:.1f}", _per_l1(run), run["changed"]]))
    return "\n".join(lines)


def ratios(document: Document) -> str:
    runs = runs_by_key(document)
    lines = [_row(["L0 hosts", "run", "conventional / site.yml wall time", "site.yml / conventional commands per host",
                   "conventional / site.yml controller CPU", "site.yml / conventional task results"]), _row(["---"] * 6)]
    for hosts in sorted({run["hosts"] for run in document["runs"]}):
        for phase in ("first", "converged"):
            site, conventional = runs.get((hosts, "site.yml", phase)), runs.get((hosts, "conventional", phase))
            if site is None or conventional is None:
                continue
            lines.append(_row([hosts, phase, f"{conventional['wall_s'] / site['wall_s']:.2f}x",
                               f"{site['commands_per_host'] / conventional['commands_per_host']:.2f}",
                               f"{conventional['controller_cpu_s'] / site['controller_cpu_s']:.2f}x", _result_share(site, conventional)]))
    return "\n".join(lines)


def _result_share(site: dict[str, t.Any], conventional: dict[str, t.Any]) -> str:
    if not site.get("task_results_per_l1_host") or not conventional.get("task_results_per_l1_host"):
        return "n/a"
    return f"{site['task_results_per_l1_host'] / conventional['task_results_per_l1_host']:.2f}"


def targets(document: Document, hosts: int = 100) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for issue 20's targets at `hosts` L0 hosts."""
    runs = runs_by_key(document)
    found: list[tuple[str, str, bool]] = []
    site_c, conv_c = runs.get((hosts, "site.yml", "converged")), runs.get((hosts, "conventional", "converged"))
    site_f, conv_f = runs.get((hosts, "site.yml", "first")), runs.get((hosts, "conventional", "first"))
    if site_c and conv_c:
        speed = conv_c["wall_s"] / site_c["wall_s"]
        found.append((f"converged site.yml at {hosts} hosts at least 3x faster than conventional", f"{speed:.2f}x", speed >= 3))
        share = site_c["commands_per_host"] / conv_c["commands_per_host"]
        found.append(("converged: site.yml commands per host at most a third of conventional's", f"{share:.2f}", share <= 1 / 3))
    if site_f and conv_f:
        speed = conv_f["wall_s"] / site_f["wall_s"]
        found.append((f"first run at {hosts} hosts at least 2x faster than conventional", f"{speed:.2f}x", speed >= 2))
        share = site_f["commands_per_host"] / conv_f["commands_per_host"]
        found.append(("first run: site.yml commands per host at most a third of conventional's", f"{share:.2f}", share <= 1 / 3))
    if site_c:
        found.append(("converged site.yml at most 1.5 WinRM commands per host", f"{site_c['commands_per_host']:.2f}",
                      site_c["commands_per_host"] <= 1.5))
    return found


def targets_table(document: Document, hosts: int = 100) -> str:
    lines = [_row(["target", "measured", "met"]), _row(["---"] * 3)]
    lines += [_row([target, measured, "yes" if met else "**no**"]) for target, measured, met in targets(document, hosts)]
    return "\n".join(lines)


def chart(document: Document, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = runs_by_key(document)
    sizes = sorted({run["hosts"] for run in document["runs"]})
    figure, axes = plt.subplots(figsize=(7, 4.5))
    styles = {("site.yml", "first"): ("tab:blue", "--", "o"), ("site.yml", "converged"): ("tab:blue", "-", "o"),
              ("conventional", "first"): ("tab:orange", "--", "s"), ("conventional", "converged"): ("tab:orange", "-", "s"),
              ("raw", "floor"): ("tab:gray", ":", "^")}
    for (playbook, phase), (colour, line, marker) in styles.items():
        points = [(size, runs[(size, playbook, phase)]["wall_s"]) for size in sizes if (size, playbook, phase) in runs]
        if not points:
            continue
        label = "raw floor (one round trip per host)" if playbook == "raw" else f"{playbook}, {phase} run"
        axes.plot([p[0] for p in points], [p[1] for p in points], color=colour, linestyle=line, marker=marker, label=label)
    axes.set_xscale("log")
    axes.set_xticks(sizes)
    axes.set_xticklabels([f"{size}\n({2 * size} L1)" for size in sizes])
    axes.set_xlabel("L0 hosts of the generated fleet (each with 2 L1 hosts and 2 L2 guests)")
    axes.set_ylabel("wall time, s")
    axes.set_title("site.yml against the conventional playbook (realistic timing)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="side_by_side.json")
    parser.add_argument("--chart", type=Path, help="write the chart (PNG) here")
    options = parser.parse_args(argv)
    document = json.loads(options.results.read_text(encoding="utf-8"))
    print(table(document), ratios(document), targets_table(document), sep="\n\n")
    if options.chart:
        chart(document, options.chart)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
