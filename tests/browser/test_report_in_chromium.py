"""The HTML report of a simulated fleet run, loaded in Debian's chromium (headless, started here).

The run: playbooks/site.yml against tests/lab/labs/roles-mixed.yml, where lab-hv2 becomes
a Hyper-V host (healthy), lab-hv1 is stopped by its blocker (its VM is in a saved state) and
lab-hv3's own WinRM port is closed (unreachable). The assertions are on the page chromium
rendered - the DOM after load and after the page's script ran - and on what it does when typed
into. Screenshots go to tests/output/browser/ for review.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import typing as t
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from hvsim.pytest_plugin import Lab, started_labs

from ansible_collections.hyperv.nested.plugins.filter.nested_report import nested_report_render
from tests.browser.chromium import Browser, Page, dump_dom, find, why_missing

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab" / "labs" / "roles-mixed.yml"
OUTPUT = REPO / "tests" / "output" / "browser"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find()
    if binary is None:
        skip, message = why_missing()
        if skip:
            pytest.skip(message)
        pytest.fail(message)
    return binary


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Path]:
    """The report directory of one site.yml run: healthy, blocked and unreachable L1 hosts."""
    reports = tmp_path_factory.mktemp("reports")
    with started_labs(lambda lab_file, _count: tmp_path_factory.mktemp(f"lab-{lab_file.stem}")) as start:
        lab: Lab = start(LAB)
        # check.yml (read-only) writes the HTML report too, and says where.
        checked = tmp_path_factory.mktemp("check-reports")
        # The role's options reach the page: the docs' URL and the collapse threshold.
        check = lab.playbook(REPO / "playbooks" / "check.yml", "-e", f"nested_report_dir={checked}",
                             "-e", "nested_report_docs_url=https://docs.example/hyperv.nested/", "-e", "nested_report_html_collapse_above=2")
        said = check.task_results("Say where the report files are")
        assert any(f"Report (HTML): {checked}/nested-report.html" in result.get("msg", []) for result in said.values()), check.stdout[-3000:]
        checked_page = (checked / "nested-report.html").read_text(encoding="utf-8")
        assert 'href="https://docs.example/hyperv.nested/reason-codes.md#vmsaved_state"' in checked_page
        assert "<details open" not in checked_page and "3 L1 hosts: the boxes are collapsed" in checked_page
        host_vars = lab.inventory.parent / "host_vars"
        host_vars.mkdir(exist_ok=True)
        (host_vars / "lab-hv3.yml").write_text(yaml.safe_dump({"ansible_port": closed_port(), "nested_hyperv_connect_timeout": 5}), encoding="utf-8")
        run = lab.playbook(REPO / "playbooks" / "site.yml", "-e", f"nested_report_dir={reports}")
        # lab-hv3: nested_hyperv waits for it to answer (5 s here), then fails it; the report says unreachable.
        assert run.recap["lab-hv1"]["failures"] >= 1 and run.recap["lab-hv3"]["failures"] + run.recap["lab-hv3"]["unreachable"] >= 1, run.recap
        assert run.recap["lab-hv2"]["failures"] == 0 and run.recap["lab-hv2"]["unreachable"] == 0, run.recap
        said = run.task_results("Say where the report files are")
        assert any(f"Report (HTML): {reports}/nested-report.html" in result.get("msg", []) for result in said.values()), said
    yield reports


class Dom(HTMLParser):
    """chromium's serialised DOM: elements by id/class with their attributes and text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.closed: list[tuple[str, dict[str, str | None], str]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "input", "br", "link", "img"):
            self.closed.append((tag, dict(attrs), ""))
            return
        self.stack.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, attrs, texts = self.stack.pop()
            text = " ".join(" ".join(texts).split())
            self.closed.append((name, attrs, text))
            if self.stack:
                self.stack[-1][2].append(text)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] not in ("script", "style"):
            self.stack[-1][2].append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[dict[str, str | None], str]]:
        return [(a, text) for name, a, text in self.closed if name == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def test_the_rendered_page_counts_the_fleet_and_shows_the_blocker_and_the_unreachable_host(chromium: str, fleet_run: Path) -> None:
    report = json.loads((fleet_run / "nested-report.json").read_text(encoding="utf-8"))
    statuses = {row["host"]: row["status"] for row in report["hosts"]}
    assert statuses == {"lab-hv1": "failed", "lab-hv2": "ready", "lab-hv3": "unreachable"}, statuses

    dom = Dom(dump_dom(chromium, (fleet_run / "nested-report.html").as_uri()))
    tally = {attrs["data-count-of"]: int(text.split()[0]) for attrs, text in dom.find("li") if attrs.get("data-count-of")}
    assert tally == {"ready": 1, "warnings": 0, "pending": 0, "blocked": 1, "failed": 0, "unreachable": 1, "stale": 0}, tally
    # The script ran: it showed the filter box and counted the boxes.
    form = dom.find("form", id="filter-form")[0][0]
    assert "hidden" not in form and dom.find("output", id="filter-shown")[0][1] == "3 L1 hosts"

    boxes = {text.split()[2]: (attrs, text) for attrs, text in dom.find("li") if (attrs.get("class") or "").startswith("l1 ")}
    assert {host: attrs["data-verdict"] for host, (attrs, _text) in boxes.items()} == {"lab-hv1": "blocked", "lab-hv2": "ready", "lab-hv3": "unreachable"}
    blocked = boxes["lab-hv1"][1]
    assert "Blocked lab-hv1" in blocked and "vm.saved_state" in blocked and "Fix:" in blocked
    links = {attrs["href"] for attrs, text in dom.find("a", **{"class": "code"}) if text == "vm.saved_state"}
    assert links == {"https://github.com/hyperv-nested/hyperv.nested/blob/main/docs/reason-codes.md#vmsaved_state"}
    healthy = boxes["lab-hv2"][1]
    assert "Ready lab-hv2" in healthy and "Hyper-V running" in healthy and "network mac_spoofing, up" in healthy
    assert re.search(r"connected lab-vm3 VM LAB-VM3 , Running, no address read", healthy), healthy

    problems = next(text for attrs, text in dom.find("ul", **{"class": "problems"}))
    assert "Unreachable lab-hv3" in problems and "Blocked lab-hv1" in problems and "lab-hv2" not in problems
    header = next(text for attrs, text in dom.find("dl", **{"class": "meta"}))
    assert "Playbook Turn the L1 VMs into Hyper-V hosts" in header and "Limit none (every host)" in header
    assert re.search(r"Collection hyperv\.nested \d+\.\d+\.\d+", header), header


def visible_hosts(page: Page) -> list[str]:
    return t.cast(list[str], page.evaluate(
        "Array.from(document.querySelectorAll('li.l1')).filter(li => li.offsetParent !== null)"
        ".map(li => li.querySelector('summary .name').textContent)"
    ))


def type_filter(page: Page, text: str) -> str:
    """Clear the filter box, type `text` into it as keystrokes would, return the count it shows."""
    page.evaluate("(() => { const box = document.getElementById('filter'); box.focus(); box.select(); return true; })()")
    page.call("Input.dispatchKeyEvent", type="keyDown", key="Backspace", code="Backspace", windowsVirtualKeyCode=8)
    page.call("Input.dispatchKeyEvent", type="keyUp", key="Backspace", code="Backspace", windowsVirtualKeyCode=8)
    if text:
        page.call("Input.insertText", text=text)
    return t.cast(str, page.evaluate("document.getElementById('filter-shown').textContent"))


def test_the_filter_box_narrows_the_list_and_the_page_fetches_nothing(chromium: str, fleet_run: Path) -> None:
    url = (fleet_run / "nested-report.html").as_uri()
    with Browser(chromium, window="1280,1200") as browser:
        page = browser.page()
        page.call("Network.enable")
        page.call("Log.enable")
        page.call("Page.enable")
        page.open(url)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(OUTPUT / "nested-report.png")
        page.screenshot(OUTPUT / "nested-report-top.png", whole_page=False)
        assert visible_hosts(page) == ["lab-hv1", "lab-hv2", "lab-hv3"]
        # The page's own style applies (its hash is allowed): each verdict has its colour.
        colours = page.evaluate(
            "Object.fromEntries(Array.from(document.querySelectorAll('li.l1')).map("
            "li => [li.dataset.verdict, getComputedStyle(li).borderLeftColor]))"
        )
        assert colours == {"blocked": "rgb(207, 34, 46)", "ready": "rgb(26, 127, 55)", "unreachable": "rgb(130, 80, 223)"}, colours

        assert type_filter(page, "saved_state") == "1 of 3 L1 hosts match"  # a reason code
        assert visible_hosts(page) == ["lab-hv1"]
        page.screenshot(OUTPUT / "nested-report-filtered.png")
        assert type_filter(page, "unreachable") == "1 of 3 L1 hosts match"  # a state
        assert visible_hosts(page) == ["lab-hv3"]
        assert type_filter(page, "lab-vm3") == "1 of 3 L1 hosts match"  # a guest's name finds its L1 host
        assert visible_hosts(page) == ["lab-hv2"]
        assert type_filter(page, "hv01 ready") == "1 of 3 L1 hosts match"  # every word must match
        assert visible_hosts(page) == ["lab-hv2"]
        assert type_filter(page, "hv02 ready") == "0 of 3 L1 hosts match"
        assert visible_hosts(page) == [] and page.evaluate("document.querySelectorAll('section.l0:not([hidden])').length") == 0
        assert type_filter(page, "") == "3 L1 hosts"
        assert visible_hosts(page) == ["lab-hv1", "lab-hv2", "lab-hv3"]
        # A count at the top filters on its state when clicked.
        page.evaluate("document.querySelector('li[data-count-of=blocked]').click()")
        assert visible_hosts(page) == ["lab-hv1"] and page.evaluate("document.getElementById('filter').value") == "blocked"
        assert type_filter(page, "") == "3 L1 hosts"

        requests = [event["params"]["request"]["url"] for event in page.events if event["method"] == "Network.requestWillBeSent"]
        assert requests == [url], requests
        violations = [event for event in page.events if event["method"] == "Log.entryAdded" and "Content Security Policy" in json.dumps(event)]
        assert violations == []


def test_the_page_reads_without_script(chromium: str, fleet_run: Path) -> None:
    with Browser(chromium) as browser:
        page = browser.page()
        page.call("Page.enable")
        page.call("Emulation.setScriptExecutionDisabled", value=True)
        page.open((fleet_run / "nested-report.html").as_uri())
        assert page.evaluate("document.getElementById('filter-form').offsetParent") is None  # no dead filter box
        text = t.cast(str, page.evaluate("document.body.innerText"))
        for words in ("L1 hosts by state", "lab-hv1", "vm.saved_state", "Fix:", "lab-hv3", "Unreachable", "lab-vm3"):
            assert words in text, words
        page.screenshot(OUTPUT / "nested-report-no-script.png")


def test_a_large_report_starts_collapsed_and_the_filter_opens_what_matches(chromium: str, fleet_run: Path, tmp_path: Path) -> None:
    report = json.loads((fleet_run / "nested-report.json").read_text(encoding="utf-8"))
    page_file = tmp_path / "collapsed.html"
    page_file.write_text(nested_report_render(report, "html", collapse_above=2), encoding="utf-8")
    with Browser(chromium) as browser:
        page = browser.page()
        page.call("Page.enable")
        page.open(page_file.as_uri())
        assert "the boxes are collapsed" in t.cast(str, page.evaluate("document.body.innerText"))
        topology = "Array.from(document.querySelectorAll('section.l0')).map(box => box.innerText).join(' ')"
        text = t.cast(str, page.evaluate(topology))
        assert "hv01" in text and "lab-hv1" not in text and "vm.saved_state" not in text
        assert type_filter(page, "blocked") == "1 of 3 L1 hosts match"
        text = t.cast(str, page.evaluate(topology))
        assert "lab-hv1" in text and "vm.saved_state" in text and "lab-hv2" not in text
        assert type_filter(page, "") == "3 L1 hosts"
        assert page.evaluate("document.querySelectorAll('details[open]').length") == 0


HOSTILE_NAME = "<script>document.title='INJECTED'</script><img src=x onerror=\"document.title='INJECTED'\">{{ 7 * 191 }}"


def test_a_hostile_vm_name_is_text_in_the_browser_after_ansible_wrote_the_page(chromium: str, fleet_run: Path, tmp_path: Path) -> None:
    """The page written the way the role writes it (copy content from the filter), with a VM name, an
    error and a play name that are markup, script and a Jinja expression: chromium shows them as text."""
    report = json.loads((fleet_run / "nested-report.json").read_text(encoding="utf-8"))
    report["last_run"]["play"] = HOSTILE_NAME
    for row in report["hosts"]:
        row["vm_name"] = HOSTILE_NAME
        row["error"] = HOSTILE_NAME if row["error"] else None
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    playbook = tmp_path / "write.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"ansible.builtin.copy": {
            "content": "{{ lookup('ansible.builtin.file', '" + str(tmp_path / "report.json") + "') | from_json"
                       " | hyperv.nested.nested_report_render('html') }}",
            "dest": str(tmp_path / "hostile.html"), "mode": "0644"}}],
    }]), encoding="utf-8")
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    written = (tmp_path / "hostile.html").read_text(encoding="utf-8")
    assert "{{ 7 * 191 }}" in written and "1337" not in written  # not templated again by Ansible

    dom = Dom(dump_dom(chromium, (tmp_path / "hostile.html").as_uri()))
    assert dom.find("title")[0][1].startswith("Nested virtualization report")
    assert not dom.find("img") and len(dom.find("script")) == 1
    texts = " ".join(text for _attrs, text in dom.find("body"))
    assert texts.count("<script>document.title='INJECTED'</script>") >= 4  # the play and three VM names, as text
