"""The helpers behind `make test` and `make lab` (tools/run_tests.py, tools/lab.py)."""

from __future__ import annotations

import ensurepip
import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from tests.foundation.conftest import REPO, load_tool

run_tests = load_tool("run_tests")
lab = load_tool("lab")

RECAP = textwrap.dedent(
    """\
    TASK [hyperv.nested.nested_report : Write the report] ********************
    changed: [hv01] => {"path": "/tmp/whatever"}

    PLAY RECAP *********************************************************************
    hv01                       : ok=12   changed=3    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0
    lab-hv1                    : ok=7    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0

    """
)


def test_recap_is_parsed_per_host() -> None:
    recap = lab.parse_recap(RECAP)
    assert recap["hv01"]["changed"] == 3
    assert recap["lab-hv1"] == {"ok": 7, "changed": 0, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0}


def test_first_run_may_change_second_must_not() -> None:
    recap = lab.parse_recap(RECAP)
    assert lab.recap_problems(recap, require_unchanged=False) == []
    assert lab.recap_problems(recap, require_unchanged=True) == ["hv01: changed=3 on the second run (not idempotent)"]


def test_failures_unreachable_and_missing_recap_are_problems() -> None:
    out = RECAP.replace("unreachable=0    failed=0    skipped=2", "unreachable=1    failed=2    skipped=2")
    assert lab.recap_problems(lab.parse_recap(out), require_unchanged=False) == ["hv01: failed=2", "hv01: unreachable=1"]
    assert lab.recap_problems(lab.parse_recap("ERROR! the playbook could not be found"), require_unchanged=False) == [
        "no PLAY RECAP in the output"
    ]


def test_only_the_last_recap_counts() -> None:
    twice = RECAP.replace("changed=3", "changed=9") + RECAP.replace("changed=3", "changed=0")
    assert lab.parse_recap(twice)["hv01"]["changed"] == 0


def test_report_paths_named_in_the_output_and_existing_are_found(tmp_path: Path) -> None:
    report = tmp_path / "nested-report.md"
    report.write_text("# report\n")
    out = f'ok: [localhost] => {{"msg": "report written to {report}"}}\nreport: /nonexistent/report.md\n'
    assert lab.find_report(out) == [str(report)]


def test_lab_without_simulator_or_playbook_is_incomplete_not_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab, "SIMULATOR", tmp_path / "no-simulator")
    assert lab.main(["--lab", str(REPO / "galaxy.yml"), "--state", str(tmp_path / "state")]) == 2


def write_junit(path: Path, tests: int, failures: int, errors: int, skipped: int) -> Path:
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="{errors}" '
        f'failures="{failures}" skipped="{skipped}" tests="{tests}" time="1.0"></testsuite></testsuites>'
    )
    return path


def test_junit_counts_errors_as_failed_and_skips_as_neither(tmp_path: Path) -> None:
    assert run_tests.junit_counts(write_junit(tmp_path / "a.xml", 10, 1, 2, 3)) == (4, 3, 3)
    assert run_tests.junit_counts(write_junit(tmp_path / "b.xml", 5, 0, 0, 0)) == (5, 0, 0)


def test_pytest_step_distinguishes_no_tests_from_no_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_tests, "REPO", tmp_path)
    assert run_tests.pytest_step("tests/missing")().status == "skipped"
    (tmp_path / "tests" / "empty").mkdir(parents=True)
    (tmp_path / "tests" / "empty" / "helpers.py").write_text("X = 1\n")
    result = run_tests.pytest_step("tests/empty")()
    assert (result.status, result.detail) == ("skipped", "no tests in tests/empty yet")
    assert run_tests.has_tests(REPO / "tests" / "foundation")


def test_pytest_step_fails_when_test_files_collect_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest's exit 5 is a failure for a directory that has test files."""
    for name in ("REPO", "LOGS", "JUNIT", "COVERAGE_FILE", "COLLECTION_LINK"):
        monkeypatch.setattr(run_tests, name, tmp_path / name.lower() if name != "REPO" else tmp_path)
    monkeypatch.setattr(run_tests, "ensure_collection_link", lambda: None)
    (tmp_path / "tests" / "hollow").mkdir(parents=True)
    (tmp_path / "tests" / "hollow" / "test_nothing.py").write_text("X = 1\n")
    result = run_tests.pytest_step("tests/hollow")()
    assert result.status == "failed"
    assert "collected no tests" in result.detail


def test_sanity_copy_takes_what_git_tracks_and_not_build_output() -> None:
    files = run_tests.tree_files()
    assert "galaxy.yml" in files and "meta/runtime.yml" in files
    assert not [f for f in files if f.startswith((".venv/", "build/", "tests/output/", ".git/", ".cache/"))]


def test_get_pip_is_seeded_under_the_name_ansible_test_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ansible_test

    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    target = run_tests.seed_get_pip()
    source = (Path(ansible_test.__file__).parent / "_util" / "target" / "setup" / "requirements.py").read_text()
    assert "cache/get_pip_%s.py" in source  # where ansible-test looks for a cached script
    assert target.parent == tmp_path / ".ansible" / "test" / "cache"
    assert target.name.startswith("get_pip_") and target.read_text() == (REPO / "tools" / "get_pip_standin.py").read_text()
    # a real get-pip placed there by someone else is left alone
    target.write_text("# the real thing\n")
    run_tests.seed_get_pip()
    assert target.read_text() == "# the real thing\n"


def test_get_pip_standin_bootstraps_pip_the_way_ansible_test_runs_it(tmp_path: Path) -> None:
    """ansible-test runs quiet_pip.py with GET_PIP=<cached script> in a venv without pip."""
    import ansible_test

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    standin = tmp_path / "cache" / "get_pip_x_y.py"
    standin.parent.mkdir()
    standin.write_text((REPO / "tools" / "get_pip_standin.py").read_text())
    quiet_pip = Path(ansible_test.__file__).parent / "_util" / "target" / "setup" / "quiet_pip.py"
    env = dict(os.environ, GET_PIP=str(standin), PIP_NO_INDEX="1")
    # The bundled pip version is already satisfied after ensurepip: no download needed.
    wanted = f"pip=={ensurepip.version()}"
    result = subprocess.run(
        [str(python), str(quiet_pip), "--disable-pip-version-check", wanted, "--no-setuptools", "--no-wheel"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    check = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True, text=True, check=False)
    assert check.stdout.startswith(f"pip {ensurepip.version()} ")
    assert sys.prefix != str(env_dir)


def test_summary_ends_with_the_plain_count_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setattr(run_tests, "LOGS", tmp_path / "logs")
    monkeypatch.setattr(
        run_tests,
        "steps",
        lambda: [
            run_tests.Step("ok", lambda: run_tests.Result("passed", "fine", 3, 0), 10),
            run_tests.Step("bad", lambda: run_tests.Result("failed", "broken", 2, 1), 10),
            run_tests.Step("boom", lambda: 1 / 0, 10),
        ],
    )
    assert run_tests.run_steps([]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "5 passed, 1 failed"
    assert "FAILED (2 of 3 steps: bad, boom)" in lines[-2]
    assert any(line.startswith("boom") and "ZeroDivisionError" in line for line in lines)


def test_a_step_that_hangs_is_killed_at_its_time_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(run_tests, "LOGS", tmp_path / "logs")
    monkeypatch.setattr(run_tests._context, "deadline", run_tests.time.monotonic() + 1.0)
    with pytest.raises(run_tests.StepTimeout):
        run_tests.run([sys.executable, "-c", "import time; time.sleep(60)"], "hang")


def test_failed_sanity_tests_are_named() -> None:
    out = (
        "Running sanity test \"yamllint\"\n"
        "FATAL: The 2 sanity test(s) listed below (out of 24) failed. See error output above for details.\n"
        "no-smart-quotes\npep8\n"
        'FATAL: Command "/usr/bin/env ansible-test sanity" returned exit status 1.\n'
    )
    assert run_tests.sanity_failures(out) == ["no-smart-quotes", "pep8"]
    assert run_tests.sanity_failures("all good\n") == []


def test_every_test_directory_gets_a_pytest_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_tests, "REPO", tmp_path)
    for name in ("unit", "simulator/tests", "simulator/hvsim", "reliability", "output", "sanity", "integration/targets", "zeta"):
        (tmp_path / "tests" / name).mkdir(parents=True)
    assert run_tests.pytest_dirs() == [
        "tests/unit",
        "tests/lab",
        "tests/transports",
        "tests/simulator/tests",
        "tests/foundation",
        "tests/reliability",
        "tests/zeta",
    ]


def test_steps_past_the_run_budget_fail_without_running(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    ran = []
    monkeypatch.setattr(run_tests, "LOGS", tmp_path / "logs")
    monkeypatch.setenv("MAKE_TEST_BUDGET", "5")
    monkeypatch.setattr(run_tests, "steps", lambda: [run_tests.Step("late", lambda: ran.append(1) or run_tests.Result("passed"), 10)])
    assert run_tests.run_steps([]) == 1
    assert ran == []
    assert "budget of the whole run is used up" in capsys.readouterr().out


def test_sanity_runs_in_the_background_and_is_shown_at_the_end(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(run_tests, "LOGS", tmp_path / "logs")
    monkeypatch.delenv("MAKE_TEST_PARALLEL", raising=False)

    def sanity() -> object:
        rc, out = run_tests.run([sys.executable, "-c", "print('from ansible-test')"], "sanity")
        return run_tests.Result("passed" if rc == 0 and "from ansible-test" in out else "failed", "bg")

    def other() -> object:
        run_tests.run([sys.executable, "-c", "print('from the foreground')"], "other")
        return run_tests.Result("passed", "fg", 1, 0)

    monkeypatch.setattr(run_tests, "steps", lambda: [run_tests.Step("other", other, 10), run_tests.Step("sanity", sanity, 10)])
    assert run_tests.run_steps([]) == 0
    out = capsys.readouterr().out
    assert out.index("from the foreground") < out.index("==== sanity (ran in the background)") < out.index("from ansible-test")
    assert out.strip().splitlines()[-1] == "1 passed, 0 failed"
    table = out[out.index("==== summary"):]
    assert table.index("other") < table.index("sanity")
