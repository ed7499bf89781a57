"""The HTML report (nested_report_render 'html'): every verdict, counts, escaping, the collapse
threshold, reason-code links that land on the shipped documentation's headings, no fetches."""

from __future__ import annotations

import json
import re
import typing as t
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import markdown
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.nested.plugins.filter.nested_report import collection_version, nested_report_merge, nested_report_render
from ansible_collections.hyperv.nested.plugins.plugin_utils.nested_report_html import (
    L1_VERDICTS,
    counts,
    github_anchor,
    l0_verdict,
    l1_verdict,
    reason_code_link,
)

REPO = Path(__file__).resolve().parents[4]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
DOCS = "https://docs.example/hyperv.nested/docs/"
SAVED = {"code": "vm.saved_state", "msg": "The VM is in a saved state.", "fix": "Start it and shut it down.", "where": "hv01/LAB-HV2",
         "level": "L1 VM", "deferred": False, "fixed_by": None}
DYNMEM = {"code": "vm.dynamic_memory_enabled", "msg": "Dynamic memory is on.", "fix": "Turn it off.", "where": "hv01/LAB-HV3",
          "level": "L1 VM", "deferred": False, "fixed_by": None}
EXTENSIONS_LATER = {"code": "vm.extensions_not_exposed", "msg": "Virtualization extensions are not exposed.", "fix": "Expose them.",
                    "where": "hv01/LAB-HV8", "level": "L1 VM", "deferred": True, "fixed_by": "nested_vm_settings"}
BCD = {"code": "host.bcd_unreadable", "msg": "The boot configuration could not be read.", "fix": "Connect as an administrator.",
       "where": "hv02", "level": "L0 host", "deferred": False, "fixed_by": None}


def row(host: str, parent: str = "hv01", status: str = "ready", *, blockers: list[dict[str, t.Any]] | None = None,
        warnings: list[dict[str, t.Any]] | None = None, parent_warnings: list[dict[str, t.Any]] | None = None,
        guests: list[dict[str, t.Any]] | None = None, error: str | None = None, vm_name: str | None = None,
        at: str = "2026-05-01T10:00:06Z") -> dict[str, t.Any]:
    """A row as the role writes it (checked against the schema by report())."""
    failed = status in ("failed", "unreachable")
    return {
        "host": host, "reported_at": at, "status": status, "error": error if failed else None, "parent": parent,
        "vm_name": vm_name or host.upper(), "network_mode": "nat", "network": {"mode": "nat", "state": "up" if status == "ready" else "unknown"},
        "nested_ready": status == "ready",
        "vm": {"found": True, "state": "Running", "version": "10.0", "processor_count": 4, "startup_memory_bytes": 8 << 30,
               "expose_virtualization_extensions": status == "ready", "dynamic_memory_enabled": False, "mac_address_spoofing": ["Off"],
               "blockers": blockers or [], "warnings": warnings or []},
        "l1": None if status == "unreachable" else {"reached": True, "note": "reached", "build": 20348, "hyperv_feature": "Enabled",
                                                    "hypervisor_present": status == "ready", "blockers": [], "warnings": []},
        "parent_host": {"reached": True, "build": 20348, "processor": "GenuineIntel", "blockers": [], "warnings": parent_warnings or []},
        "guests": guests or [],
    }


def guest(host: str, ip: str | None, connected: bool | None) -> dict[str, t.Any]:
    return {"host": host, "vm_name": host.upper(), "state": "Running", "switches": ["VmNAT"], "configured_ip": ip, "ip": ip,
            "gateway": "192.168.100.1", "connected": connected, "note": "addressed on the NAT network in this run"}


def report(rows: list[dict[str, t.Any]], this_run: list[str] | None = None, **run: t.Any) -> dict[str, t.Any]:
    merged = nested_report_merge(None, rows, {"at": "2026-05-01T10:00:07Z", "play": "site", "limit": None, "check_mode": False, **run},
                                 [r["host"] for r in rows])
    if this_run is not None:
        merged["last_run"]["hosts"] = this_run
    jsonschema.validate(merged, SCHEMA)
    return merged


def every_verdict() -> dict[str, t.Any]:
    rows = [
        row("lab-hv1", guests=[guest("lab-vm1", "192.168.100.11", True), guest("lab-vm2", "192.168.100.12", None)]),
        row("lab-hv2", status="not_ready", blockers=[SAVED], vm_name="LAB-HV2"),
        row("lab-hv3", warnings=[DYNMEM]),
        row("lab-hv4", parent="hv02", status="failed", error="the VM settings task on its parent hv02 failed: access denied", parent_warnings=[BCD]),
        row("lab-hv5", parent="hv02", status="unreachable", error="ntlm: the specified credentials were rejected by the server"),
        row("lab-hv6", parent="hv02", at="2026-04-01T09:00:00Z"),
        row("lab-hv8", status="not_ready", blockers=[EXTENSIONS_LATER]),
    ]
    return report(rows, this_run=["lab-hv1", "lab-hv2", "lab-hv3", "lab-hv4", "lab-hv5", "lab-hv8"], limit="hv01:hv02")


class Page(HTMLParser):
    """The rendered page as elements with attributes and text, to assert on structure."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script, self._in_style = tag == "script", tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            (self.scripts if self._in_script else self.texts).append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t_, a in self.elements if t_ == tag and all(a.get(k) == v for k, v in attrs.items())]

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


def html(rep: dict[str, t.Any], **options: t.Any) -> str:
    return t.cast(str, nested_report_render(rep, "html", docs_url=options.pop("docs_url", DOCS), **options))


def test_every_verdict_has_its_colour_class_its_words_and_its_count() -> None:
    rep = every_verdict()
    assert counts(rep) == {"ready": 1, "warnings": 1, "pending": 1, "blocked": 1, "failed": 1, "unreachable": 1, "stale": 1}
    current = set(rep["last_run"]["hosts"])
    verdicts = {r["host"]: l1_verdict(r, current) for r in rep["hosts"]}
    assert verdicts == {"lab-hv1": "ready", "lab-hv2": "blocked", "lab-hv3": "warnings", "lab-hv4": "failed", "lab-hv5": "unreachable",
                        "lab-hv6": "stale", "lab-hv8": "pending"}
    page = Page(html(rep))
    for verdict in L1_VERDICTS:
        boxes = page.all("li", **{"data-verdict": verdict})
        assert len(boxes) == 1 and boxes[0]["class"] == f"l1 v-{verdict}", verdict
        tallies = [a for a in page.all("li") if a.get("class") == f"v-{verdict}"]
        assert len(tallies) == 1, verdict
    # Colour is never the only signal: each verdict's words are on the page.
    for words in ("Ready", "Warnings", "Pending (site.yml fixes it)", "Blocked", "Failed", "Unreachable", "Not checked in this run"):
        assert words in page.text
    # The counts at the top say 1 for each verdict.
    tally = r"L1 hosts by state 1 \S Ready 1 \S Warnings 1 \S Pending \(site.yml fixes it\) 1 \S Blocked 1 \S Failed 1 \S Unreachable"
    assert re.search(tally + r" 1 \S Not checked in this run", page.text), page.text


def test_a_host_whose_only_blockers_site_fixes_is_pending_and_one_with_another_blocker_is_blocked() -> None:
    later = row("lab-hv8", status="not_ready", blockers=[EXTENSIONS_LATER])
    both = row("lab-hv9", status="not_ready", blockers=[EXTENSIONS_LATER, SAVED])
    stopped = row("lab-hv10", status="failed", blockers=[EXTENSIONS_LATER], error="the VM settings task on its parent hv01 failed")
    rep = report([later, both, stopped])
    assert {r["host"]: l1_verdict(r, {"lab-hv8", "lab-hv9", "lab-hv10"}) for r in rep["hosts"]} == {
        "lab-hv8": "pending", "lab-hv9": "blocked", "lab-hv10": "blocked"}
    assert "nested_vm_settings fixes it in site.yml" in Page(html(rep)).text


def test_a_host_that_site_stopped_for_its_blockers_is_blocked_and_one_that_failed_otherwise_is_failed() -> None:
    stopped = row("lab-hv2", status="failed", blockers=[SAVED], error="lab-hv2 cannot become a Hyper-V host: BLOCKER [vm.saved_state]")
    broken = row("lab-hv4", status="failed", error="access denied")
    not_ready = row("lab-hv7", status="not_ready")  # no code: the hypervisor does not run inside
    rep = report([stopped, broken, not_ready])
    assert [l1_verdict(r, {"lab-hv2", "lab-hv4", "lab-hv7"}) for r in rep["hosts"]] == ["blocked", "failed", "blocked"]
    text = Page(html(rep)).text
    assert "FAILED: lab-hv2 cannot become a Hyper-V host: BLOCKER [vm.saved_state]" in text
    assert "Not ready: nested virtualization does not run inside (L1 host reached)" in text


def test_the_header_says_when_how_and_by_which_version_and_lists_failed_and_unreachable_hosts() -> None:
    rep = every_verdict()
    assert rep["last_run"]["collection_version"] == collection_version() and re.fullmatch(r"\d+\.\d+\.\d+\S*", str(collection_version()))
    text = Page(html(rep)).text
    assert "Generated 2026-05-01T10:00:07Z Playbook site Limit hv01:hv02 Check mode no" in text
    assert f"Collection hyperv.nested {collection_version()}" in text
    assert "This run 6 L1 host(s); 1 more kept from earlier runs" in text
    assert "Fleet 2 L0 host(s), 7 L1 host(s), 2 L2 guest(s): 1 connected, 0 not connected, 1 unknown" in text
    section = text.split("Failed or unreachable in this run", 1)[1].split("Topology", 1)[0]
    assert "Failed lab-hv4 : the VM settings task on its parent hv02 failed: access denied" in section
    assert "Unreachable lab-hv5 : ntlm: the specified credentials were rejected by the server" in section
    assert "lab-hv1" not in section and "lab-hv6" not in section
    # A report without failures says so instead of leaving the section out.
    assert "None: every L1 host of this run got as far as the report." in Page(html(report([row("lab-hv1")]))).text


def test_topology_nests_guests_under_their_l1_and_l1s_under_their_l0() -> None:
    page = html(every_verdict())
    hv01, hv02 = page.index(">hv01</strong>"), page.index(">hv02</strong>")
    assert hv01 < page.index(">lab-hv1</strong>") < page.index(">lab-vm1</strong>") < page.index(">lab-hv2</strong>") < hv02
    assert hv02 < page.index(">lab-hv4</strong>")
    text = Page(page).text
    assert "connected lab-vm1 VM LAB-VM1 , Running, 192.168.100.11" in text
    assert "connectivity unknown lab-vm2" in text
    assert "Hyper-V running · network nat, up · 1/2 guests connected" in text
    # The L0 box carries its own finding once, and the tally of its L1 hosts.
    assert text.count("host.bcd_unreadable") == 1
    assert "Ready hv01 L0 build 20348, GenuineIntel · 4 L1 host(s): 1 ready, 1 warnings, 1 pending (site.yml fixes it), 1 blocked" in text
    assert "Warnings hv02 L0 build 20348, GenuineIntel · 3 L1 host(s): 1 failed, 1 unreachable, 1 not checked in this run" in text


def test_each_blocker_and_warning_has_code_sentence_fix_and_a_link_to_its_section() -> None:
    page = Page(html(every_verdict()))
    links = {a["href"] for a in page.all("a", **{"class": "code"})}
    assert links == {DOCS + "reason-codes.md#vmsaved_state", DOCS + "reason-codes.md#vmdynamic_memory_enabled",
                     DOCS + "reason-codes.md#hostbcd_unreadable", DOCS + "reason-codes.md#vmextensions_not_exposed"}
    assert "vm.saved_state (hv01/LAB-HV2) : The VM is in a saved state. Fix: Start it and shut it down." in page.text
    assert reason_code_link("l1.mac_spoofing_left_on", "https://x/docs") == "https://x/docs/troubleshooting.md#findings-of-the-roles-themselves"


def rendered_headings(path: Path) -> dict[str, str]:
    """Heading id -> text, as Python-Markdown's toc (GitHub's slug rules) renders a shipped page."""
    md = markdown.Markdown(extensions=["toc"])
    body = md.convert(path.read_text(encoding="utf-8"))
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)) for m in re.finditer(r'<h\d id="([^"]+)">(.*?)</h\d>', body)}


def test_reason_code_links_land_on_the_headings_of_the_shipped_documentation() -> None:
    reason_codes = rendered_headings(REPO / "docs" / "reason-codes.md")
    codes = [text for text in reason_codes.values() if re.fullmatch(r"(host|vm)\.[a-z0-9_]+", text)]
    assert len(codes) >= 25
    for code in codes:
        anchor = reason_code_link(code, DOCS).split("#", 1)[1]
        assert reason_codes.get(anchor) == code, code
    troubleshooting = rendered_headings(REPO / "docs" / "troubleshooting.md")
    assert reason_code_link("l1.mac_spoofing_left_on", DOCS).split("#", 1)[1] in troubleshooting
    assert github_anchor("Findings of the roles themselves") == "findings-of-the-roles-themselves"


def test_everything_from_the_report_is_escaped() -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    attr = '" onmouseover="alert(1)'
    bad = row(evil, parent=f"hv{attr}", vm_name=evil, status="failed", error=evil,
              blockers=[{**SAVED, "code": f"vm.{evil}", "msg": evil, "fix": evil, "where": attr}],
              guests=[guest(f"g{evil}", f"10.0.0.1{attr}", False)])
    rep = report([bad], play=evil, limit=attr)
    text = html(rep)
    page = Page(text)
    # The one script is the page's own; no element or attribute came from the data.
    assert len(page.all("script")) == 1 and not page.all("img")
    assert all(not key.startswith("on") for _tag, attrs in page.elements for key in attrs)
    assert "<script>alert" not in text and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert evil in page.text  # shown as text, whole
    assert all(a["href"] and a["href"].startswith((DOCS, "#")) for a in page.all("a"))
    # The docs URL is escaped as an attribute too.
    assert "onmouseover" not in "".join(str(a) for a in Page(html(rep, docs_url=f"https://x/{attr}/")).all("a", **{"class": "code"})[0])


def test_no_fetch_is_possible_and_the_script_is_allowed_by_its_hash_only() -> None:
    text = html(every_verdict())
    page = Page(text)
    policy = page.all("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"] or ""
    assert "default-src 'none'" in policy and re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+';", policy)
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+';", policy) and "unsafe" not in policy
    assert not page.all("link") and not page.all("img") and not page.all("iframe")
    assert all(a.get("src") is None for a in page.all("script"))
    assert not re.search(r"(src|href)=\"(https?:)?//", text.replace(f'href="{DOCS}', ""))
    assert len("".join(page.scripts)) < 3000  # a small script


@pytest.mark.parametrize(("hosts", "threshold", "collapsed"), [(3, 3, False), (4, 3, True), (1, 0, True), (30, 25, True)])
def test_boxes_are_collapsed_only_above_the_threshold(hosts: int, threshold: int, collapsed: bool) -> None:
    rep = report([row(f"lab-hv{n:02d}", parent=f"hv{n % 3}") for n in range(hosts)])
    page = Page(html(rep, collapse_above=threshold))
    details = page.all("details")
    assert len(details) == hosts + len({n % 3 for n in range(hosts)})
    assert all(("open" in d) is (not collapsed) for d in details)
    assert ("the boxes are collapsed" in page.text) is collapsed


def test_the_filter_form_is_hidden_without_script_and_every_box_says_what_it_matches() -> None:
    page = Page(html(every_verdict()))
    form = page.all("form", id="filter-form")[0]
    assert "hidden" in form  # the script shows it; without script the page is complete as it is
    search = {a["id"]: a["data-search"] or "" for a in page.all("li") if a.get("data-search") is not None}
    hv2 = next(text for text in search.values() if text.startswith("lab-hv2 "))
    assert {"lab-hv2", "hv01", "blocked", "vm.saved_state"} <= set(hv2.split())
    assert "ready" not in hv2  # its status not_ready is not searchable, its verdict is
    hv1 = next(text for text in search.values() if text.startswith("lab-hv1 "))
    assert {"lab-vm1", "192.168.100.11", "ready"} <= set(hv1.split())


def test_bad_options_are_named() -> None:
    with pytest.raises(AnsibleFilterError, match="collapse_above must be a whole number"):
        nested_report_render(every_verdict(), "html", collapse_above="many")
    with pytest.raises(AnsibleFilterError, match="collapse_above must be 0 or more"):
        nested_report_render(every_verdict(), "html", collapse_above=-1)
    with pytest.raises(AnsibleFilterError, match="docs_url must be a non-empty string"):
        nested_report_render(every_verdict(), "html", docs_url="")
    with pytest.raises(AnsibleFilterError, match="'text', 'markdown' or 'html'"):
        nested_report_render(every_verdict(), "pdf")


def test_an_empty_report_renders() -> None:
    text = Page(html(report([]))).text
    assert "The report has no L1 host yet." in text and "L1 hosts by state 0" in text


def test_a_long_error_shows_its_start_and_opens_to_the_whole_text() -> None:
    long_error = "lab-hv2 cannot become a Hyper-V host: " + " ".join(f"BLOCKER [vm.code_{n}] a sentence." for n in range(40)) + " THE END"
    page = Page(html(report([row("lab-hv2", status="failed", error=long_error)])))
    problems = page.text.split("Failed or unreachable in this run", 1)[1].split("Topology", 1)[0]
    assert "lab-hv2 cannot become a Hyper-V host" in problems and "THE END" not in problems and "\u2026" in problems
    assert page.text.count("THE END") == 1  # the whole text, once, inside the host's box
    assert page.all("details", **{"class": "error"})


def test_an_l0_host_has_its_own_verdict_from_what_this_run_read_of_it() -> None:
    hardware = {**BCD, "code": "host.slat_missing", "msg": "No SLAT.", "fix": "Use another host."}
    blocked_parent = row("lab-hv1", parent="hv01")
    blocked_parent["parent_host"]["blockers"] = [hardware]
    unread = row("lab-hv2", parent="hv02", status="unreachable", error="no route")
    unread["parent_host"] = None
    old = row("lab-hv3", parent="hv03")
    rep = report([blocked_parent, unread, old], this_run=["lab-hv1", "lab-hv2"])
    current = set(rep["last_run"]["hosts"])
    rows = {r["parent"]: r for r in rep["hosts"]}
    assert [l0_verdict([rows[parent]], current) for parent in ("hv01", "hv02", "hv03")] == ["blocked", "unknown", "stale"]
    text = Page(html(rep)).text
    assert "Blocked hv01 L0" in text and "Not read hv02 L0" in text and "Not checked in this run hv03 L0" in text
    assert "host.slat_missing (hv02) : No SLAT. Fix: Use another host." in text


def test_a_not_ready_host_without_a_code_says_why() -> None:
    off = guest("lab-vm9", None, False)
    off["note"] = "the guest is Off"
    ready_inside = row("lab-hv1", guests=[off])
    ready_inside["status"] = "not_ready"  # nested virtualization works, a guest is not connected
    text = Page(html(report([ready_inside]))).text
    assert "Not ready: L2 guest lab-vm9 is not connected (the guest is Off)" in text
    assert "NOT connected lab-vm9" in text


def test_a_guest_shows_its_proof_and_its_reason_codes_are_searchable() -> None:
    proven = {**guest("lab-vm1", "192.168.100.11", True), "proof": {"ok": True, "view": "inside", "codes": []}}
    failed = {**guest("lab-vm2", None, False), "proof": {"ok": False, "view": "l1", "codes": ["guest.wrong_gateway", "nat.missing"]}}
    unproven = {**guest("lab-vm3", None, None), "proof": None}
    page = nested_report_render(report([row("lab-hv1", guests=[proven, failed, unproven])]), "html", docs_url=DOCS)
    assert 'proof: passed' in page
    assert 'proof: FAILED <code class="code">guest.wrong_gateway</code> <code class="code">nat.missing</code>' in page
    assert page.count("proof:") == 2
    assert re.search(r'data-search="[^"]*guest\.wrong_gateway', page)
