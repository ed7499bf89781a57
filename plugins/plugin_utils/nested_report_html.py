# Copyright (c) hyperv.nested contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the hyperv.nested collection: not an API for other collections, roles or playbooks.
# Anything here may change in any release, bug fixes included.
"""The nested virtualization report as one self-contained HTML page (L0 -> L1 -> L2 boxes).

Rendered from the report's JSON only (docs/report.md): the same document the console table and
the Markdown come from. Every value of the report is escaped; the page fetches nothing (a
Content-Security-Policy allows only its own inline style and the one script, by hash), and it is
complete without script - the script only adds the filter box.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import typing as t
from collections.abc import Iterable, Mapping

DEFAULT_DOCS_URL = "https://github.com/hyperv-nested/hyperv.nested/blob/main/docs/"
DEFAULT_COLLAPSE_ABOVE = 25

# verdict -> (label, icon). The label is always shown next to the colour and the icon.
VERDICTS: dict[str, tuple[str, str]] = {
    "ready": ("Ready", "\u2713"),
    "warnings": ("Warnings", "\u26a0"),
    "pending": ("Pending (site.yml fixes it)", "\u25d4"),
    "blocked": ("Blocked", "\u2298"),
    "failed": ("Failed", "\u2717"),
    "unreachable": ("Unreachable", "\u21af"),
    "stale": ("Not checked in this run", "\u25f7"),
    "unknown": ("Not read", "?"),
}
L1_VERDICTS = ("ready", "warnings", "pending", "blocked", "failed", "unreachable", "stale")
# A finding's code -> the documentation page that explains it (host.* and vm.* are win_nested_info's).
ROLE_CODES_SECTION = "troubleshooting.md#findings-of-the-roles-themselves"
PARTS = (("parent_host", "L0 host"), ("vm", "L1 VM"), ("l1", "L1 host"))


def _mapping(value: t.Any) -> Mapping[str, t.Any]:
    return value if isinstance(value, Mapping) else {}


def _rows(report: Mapping[str, t.Any]) -> list[Mapping[str, t.Any]]:
    return [row for row in report.get("hosts") or [] if isinstance(row, Mapping)]


def _e(value: t.Any) -> str:
    """Text for HTML content or a quoted attribute value."""
    return html.escape("" if value is None else str(value), quote=True)


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and Python-Markdown's toc, GitLab) gives a Markdown heading: its text in
    lower case, punctuation other than `-` and `_` removed, spaces as `-`."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def reason_code_link(code: str, docs_url: str = DEFAULT_DOCS_URL) -> str:
    """The URL of a reason code's section in the collection's documentation."""
    base = docs_url if docs_url.endswith("/") else docs_url + "/"
    if re.match(r"^(host|vm)\.[a-z0-9_]+$", code):
        # docs/reason-codes.md has a heading "## `<code>`" per code.
        return f"{base}reason-codes.md#{github_anchor(code)}"
    return base + ROLE_CODES_SECTION


def findings(row: Mapping[str, t.Any], kind: str, parts: Iterable[str] = ("parent_host", "vm", "l1")) -> list[Mapping[str, t.Any]]:
    """A row's findings of a kind (`blockers` or `warnings`) over its parts."""
    return [f for part in parts for f in _mapping(row.get(part)).get(kind) or [] if isinstance(f, Mapping)]


def this_run_hosts(report: Mapping[str, t.Any]) -> set[str]:
    return {str(host) for host in _mapping(report.get("last_run")).get("hosts") or []}


def l1_verdict(row: Mapping[str, t.Any], current: set[str]) -> str:
    """ready, warnings, pending, blocked, failed, unreachable, or stale (a row an earlier run made)."""
    if row.get("host") not in current:
        return "stale"
    status = row.get("status")
    if status == "unreachable":
        return "unreachable"
    blockers = findings(row, "blockers")
    if status == "failed":
        # site.yml stops an L1 host for its blockers: blocked, with the error that says so.
        return "blocked" if blockers else "failed"
    if status != "ready":
        # Only steps a role of site.yml takes (what check.yml finds on a VM not set up yet): pending.
        return "pending" if blockers and all(f.get("deferred") for f in blockers) else "blocked"
    return "warnings" if findings(row, "warnings") else "ready"


def l0_verdict(rows: list[Mapping[str, t.Any]], current: set[str]) -> str:
    """An L0 host's own verdict, from what the rows of this run read of it."""
    live = [row for row in rows if row.get("host") in current]
    if not live:
        return "stale"
    read = [row for row in live if _mapping(row.get("parent_host")).get("reached")]
    if not read:
        return "unknown"
    if any(findings(row, "blockers", ("parent_host",)) for row in read):
        return "blocked"
    if any(findings(row, "warnings", ("parent_host",)) for row in read):
        return "warnings"
    return "ready"


def counts(report: Mapping[str, t.Any]) -> dict[str, int]:
    """How many L1 hosts of the report have each verdict (every verdict, zeros included)."""
    current = this_run_hosts(report)
    result = dict.fromkeys(L1_VERDICTS, 0)
    for row in _rows(report):
        result[l1_verdict(row, current)] += 1
    return result


def _badge(verdict: str, label: str | None = None) -> str:
    text, icon = VERDICTS[verdict]
    return f'<span class="badge v-{verdict}"><span class="icon" aria-hidden="true">{_e(icon)}</span> {_e(label or text)}</span>'


def _finding_items(items: list[Mapping[str, t.Any]], kind: str, docs_url: str) -> str:
    if not items:
        return ""
    title = "Blockers" if kind == "blockers" else "Warnings"
    lines = [f'<div class="findings {kind}"><h4>{title}</h4><ul>']
    for finding in items:
        code = str(finding.get("code") or "")
        where = f' <span class="where">({_e(finding.get("where"))})</span>' if finding.get("where") else ""
        fixed_by = f"{finding.get('fixed_by')} fixes it in site.yml" if finding.get("fixed_by") else "site.yml fixes it"
        later = f" <em>({_e(fixed_by)})</em>" if finding.get("deferred") else ""
        fix = f'<br><span class="fix"><strong>Fix:</strong> {_e(finding.get("fix"))}</span>' if finding.get("fix") else ""
        lines.append(
            f'<li><a class="code" href="{_e(reason_code_link(code, docs_url))}"><code>{_e(code)}</code></a>{where}{later}: '
            f'<span class="msg">{_e(finding.get("msg"))}</span>{fix}</li>'
        )
    lines.append("</ul></div>")
    return "".join(lines)


def _unique(items: Iterable[Mapping[str, t.Any]]) -> list[Mapping[str, t.Any]]:
    seen: dict[tuple[str, str], Mapping[str, t.Any]] = {}
    for item in items:
        seen.setdefault((str(item.get("code")), str(item.get("msg"))), item)
    return list(seen.values())


def _on_off(value: t.Any) -> str:
    return "not read" if value is None else ("on" if value else "off")


def _hyperv_words(row: Mapping[str, t.Any]) -> str:
    l1 = _mapping(row.get("l1"))
    if not l1:
        return "not read"
    if l1.get("hypervisor_present"):
        return "running"
    feature = l1.get("hyperv_feature")
    if feature:
        return f"not running (feature {feature})"
    return str(l1.get("note") or "not read")


def _network_words(row: Mapping[str, t.Any]) -> str:
    mode = row.get("network_mode")
    state = _mapping(row.get("network")).get("state") or "unknown"
    return f"{mode}, {state}" if mode else "not set"


def _guest(guest: Mapping[str, t.Any]) -> str:
    connected = guest.get("connected")
    verdict, words = ("ready", "connected") if connected is True else ("failed", "NOT connected") if connected is False else ("unknown", "connectivity unknown")
    address = guest.get("ip") or (f"{guest.get('configured_ip')} (configured)" if guest.get("configured_ip") else "no address read")
    note = f' <span class="note">{_e(guest.get("note"))}</span>' if guest.get("note") else ""
    return (
        f'<li class="l2 v-{verdict}">{_badge(verdict, words)} <strong class="name">{_e(guest.get("host"))}</strong>'
        f' <span class="vmname">VM {_e(guest.get("vm_name"))}</span>, {_e(guest.get("state") or "state unknown")},'
        f' <span class="addr">{_e(address)}</span>{note}{_proof(guest)}</li>'
    )


def _proof(guest: Mapping[str, t.Any]) -> str:
    # The guest's proof from inside (win_nested_guest_check) in the run that wrote the row, if any.
    proof = _mapping(guest.get("proof"))
    if not isinstance(proof.get("ok"), bool):
        return ""
    if proof["ok"]:
        return ' <span class="proof proof-ok">proof: passed</span>'
    codes = "".join(f' <code class="code">{_e(code)}</code>' for code in proof.get("codes") or [])
    return f' <span class="proof proof-failed">proof: FAILED{codes}</span>'


def _search_text(row: Mapping[str, t.Any], verdict: str) -> str:
    # The verdict, not the status: "ready" must not find not_ready hosts.
    words = [row.get("host"), row.get("vm_name"), row.get("parent"), verdict, VERDICTS[verdict][0], row.get("network_mode")]
    words += [f.get("code") for kind in ("blockers", "warnings") for f in findings(row, kind)]
    for guest in row.get("guests") or []:
        if isinstance(guest, Mapping):
            words += [guest.get("host"), guest.get("vm_name"), guest.get("ip") or guest.get("configured_ip")]
            words += list(_mapping(guest.get("proof")).get("codes") or [])
    return " ".join(dict.fromkeys(str(word).lower() for word in words if word))


def _l1(row: Mapping[str, t.Any], index: int, verdict: str, docs_url: str, open_: bool) -> str:
    guests = [guest for guest in row.get("guests") or [] if isinstance(guest, Mapping)]
    body = ['<dl class="facts">']
    body += [f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in _l1_facts(row, verdict)]
    body.append("</dl>")
    body += _l1_error(row, verdict)
    body.append(_finding_items(findings(row, "blockers", ("vm", "l1")), "blockers", docs_url))
    body.append(_finding_items(findings(row, "warnings", ("vm", "l1")), "warnings", docs_url))
    if guests:
        body.append('<h4>L2 guests</h4><ul class="l2s">' + "".join(_guest(guest) for guest in guests) + "</ul>")
    stale = f' <span class="stale-was">(was {_e(row.get("status"))} at {_e(row.get("reported_at"))})</span>' if verdict == "stale" else ""
    return (
        f'<li class="l1 v-{verdict}" id="l1-{index}" data-search="{_e(_search_text(row, verdict))}" data-verdict="{verdict}">'
        f'<details{" open" if open_ else ""}{" data-default-open" if open_ else ""}><summary>{_badge(verdict)}{stale}'
        f' <strong class="name">{_e(row.get("host"))}</strong> <span class="level">L1</span>'
        f' <span class="sum">{_e(_l1_summary(row, guests))}</span></summary>{"".join(body)}</details></li>'
    )


def _l1_summary(row: Mapping[str, t.Any], guests: list[Mapping[str, t.Any]]) -> str:
    """The closed box's line: Hyper-V inside, the network, and the guests connected."""
    bits = [f"Hyper-V {_hyperv_words(row)}", f"network {_network_words(row)}"]
    if guests:
        connected = sum(1 for guest in guests if guest.get("connected") is True)
        bits.append(f"{connected}/{len(guests)} guests connected")
    return " · ".join(bits)


def _l1_facts(row: Mapping[str, t.Any], verdict: str) -> list[tuple[str, str]]:
    """The L1 box's facts: its VM's settings, Hyper-V inside it, its network, when the row was made."""
    vm = _mapping(row.get("vm"))
    build = _mapping(row.get("l1")).get("build")
    return [
        ("VM", f"{row.get('vm_name') or '-'} on {row.get('parent') or '-'}, {vm.get('state') or 'state not read'}"),
        ("Virtualization extensions", _on_off(vm.get("expose_virtualization_extensions"))),
        ("Dynamic memory", _on_off(vm.get("dynamic_memory_enabled"))),
        ("MAC address spoofing", "/".join(str(v).lower() for v in vm.get("mac_address_spoofing") or []) or "not read"),
        ("Hyper-V inside", _hyperv_words(row) + (f", build {build}" if build else "")),
        ("Network", _network_words(row)),
        ("Row made", str(row.get("reported_at") or "-") + ("" if verdict != "stale" else " (an earlier run; this run did not target it)")),
    ]


def _l1_error(row: Mapping[str, t.Any], verdict: str) -> list[str]:
    """The row's error (a long one in a box that opens), or why a blocked host without blockers is not ready."""
    out = []
    if row.get("error"):
        error, status = str(row.get("error")), _e(str(row.get("status")).upper())
        if len(error) > SHORT:
            out.append(f'<details class="error"><summary><strong>{status}:</strong> {_e(_short(error))}</summary>{_e(error)}</details>')
        else:
            out.append(f'<p class="error"><strong>{status}:</strong> {_e(error)}</p>')
    elif verdict == "blocked" and not findings(row, "blockers"):
        out.append(f'<p class="error"><strong>Not ready:</strong> {_e(_not_ready_words(row))}</p>')
    return out


SHORT = 240  # longer errors show their start, and the whole text in a box that opens


def _short(text: str) -> str:
    return text if len(text) <= SHORT else text[: text.rfind(" ", 0, SHORT) if " " in text[:SHORT] else SHORT] + " \u2026"


def _not_ready_words(row: Mapping[str, t.Any]) -> str:
    reasons = []
    if not row.get("nested_ready"):
        reasons.append("nested virtualization does not run inside (L1 host " + str(_mapping(row.get("l1")).get("note") or "not read") + ")")
    for guest in row.get("guests") or []:
        if isinstance(guest, Mapping) and guest.get("connected") is False:
            reasons.append(f"L2 guest {guest.get('host')} is not connected ({guest.get('note')})")
    return "; ".join(reasons) or "see the details"


class Placed(t.NamedTuple):
    """An L1 host's row, its place in the report (for its box's id) and its verdict."""

    position: int
    row: Mapping[str, t.Any]
    verdict: str


def _l0(parent: str, rows: list[Placed], current: set[str], docs_url: str, collapsed: bool) -> str:
    verdict = l0_verdict([item.row for item in rows], current)
    about = _l0_about(rows)
    items = "".join(_l1(item.row, item.position, item.verdict, docs_url, not collapsed) for item in rows)
    return (
        f'<section class="l0 v-{verdict}"><details{"" if collapsed else " open data-default-open"}><summary>{_badge(verdict)}'
        f' <strong class="name">{_e(parent)}</strong> <span class="level">L0</span>'
        f' <span class="sum">{_e(about + (" · " if about else "") + f"{len(rows)} L1 host(s): {_l0_children(rows)}")}</span></summary>'
        f'{_l0_findings(rows, docs_url)}<ul class="l1s">{items}</ul></details></section>'
    )


def _l0_children(rows: list[Placed]) -> str:
    """How many of an L0 host's L1 hosts have each verdict: "2 ready, 1 blocked"."""
    tally: dict[str, int] = {}
    for item in rows:
        tally[item.verdict] = tally.get(item.verdict, 0) + 1
    return ", ".join(f"{n} {VERDICTS[v][0].lower()}" for v, n in sorted(tally.items(), key=lambda item: L1_VERDICTS.index(item[0])))


def _l0_about(rows: list[Placed]) -> str:
    """The L0 host's build and processor, from the first row that read it."""
    host_info = next((_mapping(item.row.get("parent_host")) for item in rows if _mapping(item.row.get("parent_host")).get("reached")), {})
    return ", ".join(bit for bit in (f"build {host_info.get('build')}" if host_info.get("build") else "", str(host_info.get("processor") or "")) if bit)


def _l0_findings(rows: list[Placed], docs_url: str) -> str:
    """The L0 host's own findings as this run read them (those of earlier runs when this run read none)."""
    read = [item.row for item in rows if item.verdict != "stale" and _mapping(item.row.get("parent_host")).get("reached")] or [item.row for item in rows]
    return "".join(
        _finding_items(_unique(f for row in read for f in findings(row, kind, ("parent_host",))), kind, docs_url) for kind in ("blockers", "warnings")
    )


STYLE = """
:root{--ready:#1a7f37;--warnings:#9a6700;--pending:#0969da;--blocked:#cf222e;--failed:#a40e26;--unreachable:#8250df;--stale:#6e7781;--unknown:#57606a}
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:1.5rem;color:#1f2328;background:#fff;line-height:1.4}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:1.2rem 0 .4rem}h4{margin:.5rem 0 .2rem;font-size:.95rem}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:0 0 1rem}.meta dt{font-weight:bold}.meta dd{margin:0}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0;margin:.5rem 0}
.counts li{border:2px solid var(--c);border-radius:.4rem;padding:.3rem .7rem;background:#f6f8fa}.counts li[role=button]{cursor:pointer}
.counts .n{font-size:1.3rem;font-weight:bold;margin-right:.3rem}
.badge{display:inline-block;border-radius:.3rem;padding:0 .4rem;color:#fff;background:var(--c);font-size:.85rem;font-weight:bold;white-space:nowrap}
.v-ready{--c:var(--ready)}.v-warnings{--c:var(--warnings)}.v-pending{--c:var(--pending)}.v-blocked{--c:var(--blocked)}.v-failed{--c:var(--failed)}
.v-unreachable{--c:var(--unreachable)}.v-stale{--c:var(--stale)}.v-unknown{--c:var(--unknown)}
section.l0{border:2px solid var(--c);border-left-width:.6rem;border-radius:.4rem;margin:.6rem 0;padding:.3rem .6rem;background:#fafbfc}
ul.l1s,ul.l2s{list-style:none;padding-left:1rem;margin:.3rem 0}
li.l1{border:1px solid var(--c);border-left-width:.45rem;border-radius:.3rem;margin:.35rem 0;padding:.2rem .5rem;background:#fff}
li.l2{margin:.2rem 0;padding-left:.3rem;border-left:.3rem solid var(--c)}
summary{cursor:pointer}.level{color:#57606a;font-size:.8rem;border:1px solid #d0d7de;border-radius:.2rem;padding:0 .2rem}
.sum,.note,.where,.stale-was{color:#57606a;font-size:.9rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:0 .8rem;margin:.4rem 0;font-size:.9rem}dl.facts dt{color:#57606a}dl.facts dd{margin:0}
.findings ul{margin:.2rem 0;padding-left:1.2rem}.findings li{margin:.25rem 0}.fix{color:#1f2328}
.error{border-left:.3rem solid var(--failed);padding:.2rem .5rem;background:#fff5f5;margin:.3rem 0;overflow-wrap:anywhere}
#filter-form{margin:.8rem 0}#filter{font-size:1rem;padding:.3rem .5rem;width:min(32rem,90%)}
code{background:#f6f8fa;padding:0 .2rem;border-radius:.2rem}.problems li{margin:.2rem 0}
"""

# Reads nothing from the report: it filters the boxes the page already shows.
SCRIPT = """
(function () {
  var form = document.getElementById("filter-form"), box = document.getElementById("filter");
  var shown = document.getElementById("filter-shown");
  var items = Array.prototype.slice.call(document.querySelectorAll("li.l1[data-search]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("section.l0"));
  var limit = parseInt(form.getAttribute("data-open-up-to"), 10);
  form.hidden = false;
  function reset(details) { details.open = details.hasAttribute("data-default-open"); }
  function apply() {
    var terms = box.value.toLowerCase().split(/\\s+/).filter(Boolean), count = 0;
    items.forEach(function (item) {
      var text = item.getAttribute("data-search");
      var match = terms.every(function (term) { return text.indexOf(term) !== -1; });
      item.hidden = !match;
      if (match) { count += 1; }
    });
    groups.forEach(function (group) {
      var visible = group.querySelectorAll("li.l1:not([hidden])").length;
      group.hidden = visible === 0;
      var details = group.querySelector("details");
      if (terms.length) { details.open = visible > 0; } else { reset(details); }
    });
    items.forEach(function (item) {
      var details = item.querySelector("details");
      if (terms.length) { details.open = !item.hidden && count <= limit; } else { reset(details); }
    });
    shown.textContent = terms.length ? count + " of " + items.length + " L1 hosts match" : items.length + " L1 hosts";
  }
  Array.prototype.slice.call(document.querySelectorAll("li[data-count-of]")).forEach(function (count) {
    var pick = function () { box.value = count.getAttribute("data-count-of"); apply(); box.focus(); };
    count.setAttribute("role", "button");
    count.setAttribute("tabindex", "0");
    count.title = "Show only these";
    count.addEventListener("click", pick);
    count.addEventListener("keydown", function (event) { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(); } });
  });
  box.addEventListener("input", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  apply();
})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _csp() -> str:
    """Nothing may load; only the page's own style and script run (by hash), whatever the report holds."""
    return f"default-src 'none'; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; base-uri 'none'; form-action 'none'"


def render_html(report: Mapping[str, t.Any], docs_url: str = DEFAULT_DOCS_URL, collapse_above: int = DEFAULT_COLLAPSE_ABOVE) -> str:
    """The whole page. Boxes are collapsed (<details> closed) when the report has more than
    `collapse_above` L1 hosts."""
    report = _mapping(report)
    rows = _rows(report)
    current = this_run_hosts(report)
    by_parent: dict[str, list[Placed]] = {}
    for index, row in enumerate(rows):
        by_parent.setdefault(str(row.get("parent") or "(parent unknown)"), []).append(Placed(index, row, l1_verdict(row, current)))
    out = _header(report, _meta(report, rows, current, len(by_parent)))
    out.append('<h2>Failed or unreachable in this run</h2>')
    out += _problems(rows, current)
    out += _topology(rows, by_parent, current, docs_url, collapse_above)
    out.append(
        f'</main><footer><p class="note">Reason codes link to the collection\'s documentation ({_e(docs_url)}). '
        "Written by the role hyperv.nested.nested_report from nested-report.json (docs/report.md).</p></footer>"
    )
    out.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"


def _meta(report: Mapping[str, t.Any], rows: list[Mapping[str, t.Any]], current: set[str], parents: int) -> list[tuple[str, t.Any]]:
    """The page's facts about the run and the fleet."""
    run = _mapping(report.get("last_run"))
    return [
        ("Generated", report.get("generated_at") or "-"),
        ("Playbook", run.get("play") or "-"),
        ("Limit", run.get("limit") or "none (every host)"),
        ("Check mode", "yes" if run.get("check_mode") else "no"),
        ("Collection", f"{report.get('collection') or 'hyperv.nested'} {run.get('collection_version') or '(version not recorded)'}"),
        ("This run", f"{len(current)} L1 host(s); {len(rows) - sum(1 for r in rows if r.get('host') in current)} more kept from earlier runs"),
        ("Fleet", f"{parents} L0 host(s), {len(rows)} L1 host(s), {_guest_words(rows)}"),
    ]


def _guest_words(rows: list[Mapping[str, t.Any]]) -> str:
    guests = [g for row in rows for g in row.get("guests") or [] if isinstance(g, Mapping)]
    return (
        f"{len(guests)} L2 guest(s): {sum(1 for g in guests if g.get('connected') is True)} connected, "
        f"{sum(1 for g in guests if g.get('connected') is False)} not connected, "
        f"{sum(1 for g in guests if g.get('connected') is None)} unknown"
    )


def _header(report: Mapping[str, t.Any], meta: list[tuple[str, t.Any]]) -> list[str]:
    """The page's head, its facts and its count of L1 hosts per verdict, up to where <main> opens."""
    tally = counts(report)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_csp())}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Nested virtualization report {_e(report.get('generated_at') or '')}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>Nested virtualization report</h1>",
        '<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta) + "</dl>",
        '<h2 id="counts-title">L1 hosts by state</h2><ul class="counts" aria-labelledby="counts-title">',
    ]
    out += [
        f'<li class="v-{v}" data-count-of="{v}"><span class="n">{tally[v]}</span>{_badge(v)}</li>' for v in L1_VERDICTS
    ]
    out.append("</ul></header><main>")
    return out


def _problems(rows: list[Mapping[str, t.Any]], current: set[str]) -> list[str]:
    """The L1 hosts of this run that failed or were not reached, each linked to its box."""
    problems = [(index, row) for index, row in enumerate(rows) if row.get("host") in current and row.get("status") in ("failed", "unreachable")]
    if not problems:
        return ['<p class="problems none">None: every L1 host of this run got as far as the report.</p>']
    items = [
        f'<li>{_badge(l1_verdict(row, current))} <a href="#l1-{index}">{_e(row.get("host"))}</a>: '
        f"{_e(_short(str(row.get('error') or '')))}</li>"
        for index, row in problems
    ]
    return ['<ul class="problems">', *items, "</ul>"]


def _topology(
    rows: list[Mapping[str, t.Any]], by_parent: dict[str, list[Placed]], current: set[str], docs_url: str, collapse_above: int
) -> list[str]:
    """The filter box and a box per L0 host, holding its L1 hosts' boxes."""
    collapsed = len(rows) > collapse_above
    out = ["<h2>Topology: L0 Hyper-V hosts, their L1 VMs, their L2 guests</h2>"]
    out.append(
        f'<form id="filter-form" role="search" hidden data-open-up-to="{int(collapse_above)}">'
        '<label for="filter">Filter by name, state or reason code: </label>'
        '<input id="filter" type="search" autocomplete="off" placeholder="e.g. blocked, vm.saved_state, hv01"> '
        '<output id="filter-shown" aria-live="polite"></output></form>'
    )
    if collapsed:
        out.append(f'<p class="note">{len(rows)} L1 hosts: the boxes are collapsed; open one, or filter.</p>')
    out += [_l0(parent, by_parent[parent], current, docs_url, collapsed) for parent in sorted(by_parent)]
    if not rows:
        out.append("<p>The report has no L1 host yet.</p>")
    return out
