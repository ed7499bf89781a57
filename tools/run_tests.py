"""Run the checks of `make test`, each as a step whose result is recorded, then summarise.

Usage: .venv/bin/python tools/run_tests.py [STEP ...]      (no step: all of them, in order)
       .venv/bin/python tools/run_tests.py --list

Every step runs even when an earlier one failed; the exit status is non-zero when any step
failed. The output ends with the per-step table and then one line `N passed, M failed` that
counts the pytest tests of all pytest runs (from their junit XML reports).

Environment: SANITY_ARGS adds arguments to ansible-test sanity (e.g. "--test pep8"),
PYTEST_ARGS to every pytest run (e.g. "-x -k nat").

Run it with the project's virtual environment (`make test` does): the tools are taken from
the directory of the running interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "tests" / "output"  # ignored by git, like ansible-test's own output
LOGS = OUTPUT / "logs"
JUNIT = OUTPUT / "junit"
BUILD = REPO / "build"
COLLECTIONS = BUILD / "collections"  # ANSIBLE_COLLECTIONS_PATH: the tree linked as hyperv.nested
COLLECTION_LINK = COLLECTIONS / "ansible_collections" / "hyperv" / "nested"
SANITY_ROOT = BUILD / "ansible_collections" / "hyperv" / "nested"  # a copy: ansible-test needs the path
DIST = BUILD / "dist"
COVERAGE_FILE = REPO / ".cache" / "coverage" / ".coverage"
COLLECTION = "hyperv.nested"
# pytest runs, one per directory, in this order; any other directory of tests/ joins after them.
PYTEST_DIRS = ("tests/unit", "tests/lab", "tests/transports", "tests/simulator/tests", "tests/foundation")
NOT_PYTEST = ("output", "sanity", "__pycache__", "integration")  # integration: ansible-test's targets (step acceptance)
COVERAGE_TARGET = 90.0
BIN = Path(sys.executable).parent
# Directories (relative to the repository) that never go into the sanity copy.
NOT_COPIED = (".git", ".venv", ".cache", ".lab", "build", "dist", "tests/output")


@dataclasses.dataclass
class Result:
    status: str  # "passed", "failed" or "skipped"
    detail: str = ""
    tests_passed: int = 0
    tests_failed: int = 0


@dataclasses.dataclass
class Step:
    name: str
    run: Callable[[], Result]
    timeout: float


# ----------------------------------------------------------------------------------------------
# helpers


def rel(path: Path) -> str:
    """A path relative to the repository when it is inside it (for messages)."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def tool(name: str) -> str:
    """The venv's copy of a console script, else whatever PATH has."""
    candidate = BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (run `make venv`)")
    return found


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(BIN.parent)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    env.pop("PYTHONPATH", None)
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    env["PY_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    return env


class StepTimeout(Exception):
    pass


class _StepContext(threading.local):
    deadline: float | None = None  # when the running step's time is up (monotonic clock)
    quiet: bool = False  # a step running in the background only writes its log


_context = _StepContext()


def run(cmd: Sequence[str], log_name: str, *, cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a command with stdin closed, stream its output, keep a log; return (rc, output)."""
    cwd = cwd or REPO
    LOGS.mkdir(parents=True, exist_ok=True)
    shown = " ".join(str(part) for part in cmd)
    if not _context.quiet:
        print(f"$ {shown}" + (f"   (in {rel(cwd)})" if cwd != REPO else ""), flush=True)
    lines: list[str] = []
    timeout = None if _context.deadline is None else max(1.0, _context.deadline - time.monotonic())
    quiet = _context.quiet
    with (LOGS / f"{log_name}.log").open("a", encoding="utf-8") as log:
        log.write(f"$ {shown}\n")
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=env or base_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not quiet:
                    sys.stdout.write(line)
                log.write(line)
                lines.append(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            reader.join(timeout=10)
            raise StepTimeout(f"{shown} exceeded the step's time limit") from None
        reader.join()
        sys.stdout.flush()
    return rc, "".join(lines)


def has_python(path: Path) -> bool:
    return path.is_dir() and any(p.name != "__init__.py" for p in path.rglob("*.py"))


def ensure_collection_link() -> None:
    """build/collections/ansible_collections/hyperv/nested -> the working tree (tools/collection_link.py)."""
    spec = importlib.util.spec_from_file_location("collection_link", Path(__file__).resolve().parent / "collection_link.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.link_collection()


# ----------------------------------------------------------------------------------------------
# ansible-test sanity


def tree_files() -> list[str]:
    """The files of the working tree that git would track (committed or not), minus tooling output."""
    names: list[str]
    if (REPO / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            check=True,
            capture_output=True,
        ).stdout
        names = [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]
    else:
        names = [p.relative_to(REPO).as_posix() for p in REPO.rglob("*") if p.is_file() or p.is_symlink()]
    keep = []
    for name in names:
        if any(name == d or name.startswith(d + "/") for d in NOT_COPIED) or "__pycache__" in name.split("/"):
            continue
        path = REPO / name
        if path.is_file() or path.is_symlink():
            keep.append(name)
    return sorted(set(keep))


def sync_sanity_tree() -> int:
    """Mirror the tree into build/ansible_collections/hyperv/nested (ansible-test needs that path)."""
    files = tree_files()
    wanted = set(files)
    SANITY_ROOT.mkdir(parents=True, exist_ok=True)
    for name in files:
        src, dst = REPO / name, SANITY_ROOT / name
        if src.is_symlink():
            if dst.is_symlink() and os.readlink(dst) == os.readlink(src):
                continue
            if dst.exists() or dst.is_symlink():
                dst.unlink()
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(os.readlink(src))
            continue
        st = src.stat()
        if dst.is_file() and not dst.is_symlink():
            dt = dst.stat()
            if dt.st_size == st.st_size and int(dt.st_mtime) == int(st.st_mtime):
                continue
        if dst.is_symlink():
            dst.unlink()
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    for path in sorted(SANITY_ROOT.rglob("*"), reverse=True):
        name = path.relative_to(SANITY_ROOT).as_posix()
        if name in ("tests/output", ".git") or name.startswith(("tests/output/", ".git/")):
            continue
        if path.is_symlink() or path.is_file():
            if name not in wanted:
                path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if not (SANITY_ROOT / ".git").exists():
        # ansible-test lists content with git when it finds a repository above the content root,
        # and the enclosing one ignores build/: give the copy a repository of its own (git
        # reports untracked, non-ignored files, so nothing needs committing).
        subprocess.run(["git", "init", "--quiet", str(SANITY_ROOT)], check=True)
    return len(files)


def link_dependencies() -> None:
    """Make ansible.windows (from the `ansible` package) visible next to the sanity copy."""
    import importlib.util

    spec = importlib.util.find_spec("ansible_collections")
    for location in (spec.submodule_search_locations or []) if spec else []:
        source = Path(location) / "ansible" / "windows"
        if source.is_dir():
            link = BUILD / "ansible_collections" / "ansible" / "windows"
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                if link.exists():
                    shutil.rmtree(link)
                link.symlink_to(source, target_is_directory=True)
            return


def seed_get_pip() -> Path:
    """Put the get-pip stand-in where ansible-test looks before it tries to download one."""
    import ansible_test

    requirements = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"default_packages\s*=\s*dict\(\s*pip='([0-9.]+)'", requirements.read_text())
    if not match:
        raise RuntimeError(f"cannot find the pip version ansible-test bootstraps in {requirements}")
    version = match.group(1)
    target = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{version.replace('.', '_')}.py"
    standin = (REPO / "tools" / "get_pip_standin.py").read_text()
    if target.exists() and "hyperv.nested get-pip stand-in" not in target.read_text(errors="replace"):
        return target  # a real get-pip someone put there: use it
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text() != standin:
        target.write_text(standin)
    return target


def sanity_failures(output: str) -> list[str]:
    """Names of the failed sanity tests, from ansible-test's closing list."""
    match = re.search(r"^FATAL: The \d+ sanity test\(s\) listed below .*? failed\..*?\n((?:[\w-]+\n)+)", output, re.MULTILINE)
    return match.group(1).split() if match else []


def step_sanity() -> Result:
    count = sync_sanity_tree()
    link_dependencies()
    seeded = seed_get_pip()
    message = f"sanity copy: {count} files in {rel(SANITY_ROOT)}; get-pip: {seeded}\n"
    with (LOGS / "sanity.log").open("a", encoding="utf-8") as log:
        log.write(message)
    if not _context.quiet:
        print(message, end="", flush=True)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    env = base_env()
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)  # ansible-test sets its own from the tree's path
    extra = shlex.split(os.environ.get("SANITY_ARGS", ""))  # e.g. SANITY_ARGS="--test pep8"
    rc, out = run(
        [tool("ansible-test"), "sanity", "--venv", "--python", python, "--color", "no", *extra],
        "sanity",
        cwd=SANITY_ROOT,
        env=env,
    )
    failed = sanity_failures(out)
    if rc == 0:
        return Result("passed", f"ansible-test sanity --python {python}")
    return Result("failed", "failing tests: " + ", ".join(failed) if failed else f"exit {rc}")


# ----------------------------------------------------------------------------------------------
# linters


def step_ansible_lint() -> Result:
    rc, out = run([tool("ansible-lint"), "--profile", "production", "--nocolor"], "ansible-lint")
    summary = next((ln.strip() for ln in reversed(out.splitlines()) if "Profile" in ln or "failure(s)" in ln), "")
    return Result("passed" if rc == 0 else "failed", summary)


def step_ruff() -> Result:
    rc, out = run([tool("ruff"), "check", "--no-cache", "."], "ruff")
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return Result("passed" if rc == 0 else "failed", last)


def step_mypy() -> Result:
    if not has_python(REPO / "plugins"):
        return Result("skipped", "no Python in plugins/ yet")
    ensure_collection_link()
    rc, out = run([tool("mypy"), "--strict", "-p", "ansible_collections.hyperv.nested.plugins"], "mypy")
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return Result("passed" if rc == 0 else "failed", last)


def step_changelog() -> Result:
    rc, out = run([tool("antsibull-changelog"), "lint"], "changelog")
    fragments = [p for p in (REPO / "changelogs" / "fragments").glob("*") if p.suffix in (".yml", ".yaml")]
    return Result("passed" if rc == 0 else "failed", f"{len(fragments)} fragment(s)" + ("" if rc == 0 else "; " + out.strip()[-200:]))


# ----------------------------------------------------------------------------------------------
# pytest


def has_tests(directory: Path) -> bool:
    return directory.is_dir() and any(
        p.name.startswith("test_") or p.name.endswith("_test.py") for p in directory.rglob("*.py") if "__pycache__" not in p.parts
    )


def junit_counts(path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) from a pytest junit XML report; errors count as failed."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = failures = errors = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0))
        errors += int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    failed = failures + errors
    return total - failed - skipped, failed, skipped


def pytest_dirs() -> list[str]:
    """The pytest runs: the known directories, then every other directory of tests/ (a
    directory with a `tests` subdirectory, like tests/simulator, runs that subdirectory)."""
    found = list(PYTEST_DIRS)
    tests = REPO / "tests"
    for child in sorted(tests.iterdir()) if tests.is_dir() else []:
        if not child.is_dir() or child.name in NOT_PYTEST or child.name.startswith("."):
            continue
        directory = child / "tests" if (child / "tests").is_dir() else child
        name = directory.relative_to(REPO).as_posix()
        if name not in found:
            found.append(name)
    return found


def pytest_step(directory: str) -> Callable[[], Result]:
    def step() -> Result:
        path = REPO / directory
        if not has_tests(path):
            return Result("skipped", f"no tests in {directory} yet" if path.exists() else f"{directory} does not exist yet")
        ensure_collection_link()
        JUNIT.mkdir(parents=True, exist_ok=True)
        report = JUNIT / (directory.replace("/", "-") + ".xml")
        report.unlink(missing_ok=True)
        env = base_env()
        env["COVERAGE_FILE"] = str(COVERAGE_FILE)
        cmd = [sys.executable, "-m", "pytest", directory, f"--junitxml={report}", "-p", "no:cacheprovider"]
        cmd += shlex.split(os.environ.get("PYTEST_ARGS", ""))  # e.g. PYTEST_ARGS="-x -k nat"
        if has_python(REPO / "plugins"):
            cmd += ["--cov=plugins", "--cov-append", "--cov-report="]
        rc = run(cmd, "pytest-" + directory.replace("/", "-"), env=env)[0]
        passed = failed = skipped = 0
        if report.exists():
            passed, failed, skipped = junit_counts(report)
        detail = f"{passed} passed, {failed} failed, {skipped} skipped"
        if rc == 5:
            return Result("failed", f"pytest collected no tests although {directory} has test files", passed, failed)
        if rc == 0 and passed == 0 and skipped > 0:  # e.g. tests/browser where no chromium can be installed
            return Result("skipped", f"{detail}: see the skip reasons in {rel(LOGS)}/pytest-{directory.replace('/', '-')}.log")
        if rc != 0 and failed == 0:
            failed_detail = f"pytest exit {rc} ({detail})"
            return Result("failed", failed_detail, passed, failed)
        return Result("passed" if rc == 0 else "failed", detail, passed, failed)

    return step


def step_coverage() -> Result:
    if not COVERAGE_FILE.exists():
        return Result("skipped", "no coverage data (no plugin code or no pytest run)")
    env = base_env()
    env["COVERAGE_FILE"] = str(COVERAGE_FILE)
    rc, out = run([sys.executable, "-m", "coverage", "report", "--include=plugins/*"], "coverage", env=env)
    match = re.search(r"^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$", out, re.MULTILINE)
    if rc != 0 or not match:
        return Result("skipped", "no coverage measured for plugins/")
    percent = float(match.group(1))
    note = "meets" if percent >= COVERAGE_TARGET else "below"
    return Result("passed", f"{percent:.1f}% of plugins/ ({note} the {COVERAGE_TARGET:.0f}% target; reported, not enforced)")


# ----------------------------------------------------------------------------------------------
# build, galaxy-importer, ansible-doc


def built_tarball() -> Path | None:
    version = re.search(r"^version:\s*(\S+)", (REPO / "galaxy.yml").read_text(), re.MULTILINE)
    if not version:
        return None
    path = DIST / f"hyperv-nested-{version.group(1)}.tar.gz"
    return path if path.exists() else None


def step_build() -> Result:
    DIST.mkdir(parents=True, exist_ok=True)
    for old in DIST.glob("hyperv-nested-*.tar.gz"):
        old.unlink()
    rc = run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(DIST)], "build")[0]
    tarball = built_tarball()
    if rc != 0 or tarball is None:
        return Result("failed", f"ansible-galaxy collection build exit {rc}")
    import tarfile

    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    leaked = sorted({n.split("/")[0] for n in names if n.split("/")[0] in ("tests", "tools", ".venv", "build", ".ci", "Makefile")})
    if leaked:
        return Result("failed", f"{tarball.name} contains development files: {', '.join(leaked)}")
    return Result("passed", f"{rel(tarball)}: {len(names)} entries, {tarball.stat().st_size // 1024} KiB")


def step_galaxy_importer() -> Result:
    tarball = built_tarball()
    if tarball is None:
        return Result("failed", "no tarball (the build step failed)")
    env = base_env()
    env["GALAXY_IMPORTER_CONFIG"] = str(REPO / "tools" / "galaxy-importer.cfg")
    tmp = BUILD / "galaxy-importer"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env["GALAXY_IMPORTER_TMP_ROOT_DIR"] = str(tmp)
    # It writes importer_result.json into its working directory: keep that under build/.
    rc, out = run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], "galaxy-importer", env=env, cwd=tmp)
    problems = [ln.strip() for ln in out.splitlines() if re.match(r"^\s*(ERROR|WARNING)\b", ln) or "ImporterError" in ln]
    if rc != 0:
        return Result("failed", f"exit {rc}: " + (problems[0] if problems else "see tests/output/logs/galaxy-importer.log"))
    if problems:
        return Result("failed", f"{len(problems)} warning(s)/error(s): {problems[0][:120]}")
    return Result("passed", f"{tarball.name} imports cleanly")


def documented_plugins() -> list[tuple[str, str]]:
    """(type, name) for every module, filter, inventory plugin and role of the collection."""
    items: list[tuple[str, str]] = []
    modules = REPO / "plugins" / "modules"
    if modules.is_dir():
        items += [("module", p.stem) for p in sorted(modules.glob("*.py")) if p.stem != "__init__"]
    filters = REPO / "plugins" / "filter"
    if filters.is_dir():
        names = {p.stem for p in filters.glob("*.y*ml")}
        if any(p.stem != "__init__" for p in filters.glob("*.py")):
            rc, out = run([tool("ansible-doc"), "-t", "filter", "--list", COLLECTION, "--json"], "ansible-doc")
            if rc == 0:
                try:
                    listed = json.loads(out[out.index("{") :])
                except ValueError:
                    listed = {}
                names |= {full.rsplit(".", 1)[-1] for full in listed}
        items += [("filter", name) for name in sorted(names)]
    inventory = REPO / "plugins" / "inventory"
    if inventory.is_dir():
        items += [("inventory", p.stem) for p in sorted(inventory.glob("*.py")) if p.stem != "__init__"]
    roles = REPO / "roles"
    if roles.is_dir():
        items += [("role", p.name) for p in sorted(roles.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    return items


def step_ansible_doc() -> Result:
    ensure_collection_link()
    items = documented_plugins()
    if not items:
        return Result("skipped", "no modules, filters or roles yet")
    bad = []
    for kind, name in items:
        rc, out = run([tool("ansible-doc"), "-t", kind, f"{COLLECTION}.{name}"], "ansible-doc")
        if rc != 0 or "[WARNING]" in out or "ERROR" in out or not out.strip():
            bad.append(f"{kind} {name}")
    counts = ", ".join(f"{sum(1 for item in items if item[0] == kind)} {kind}(s)" for kind in ("module", "filter", "inventory", "role"))
    if bad:
        return Result("failed", "no clean documentation for: " + ", ".join(bad))
    return Result("passed", counts)


def step_acceptance() -> Result:
    """The acceptance targets (tests/integration/targets/) against the simulated hosts, through
    ansible-test windows-integration, as an operator runs them against a real host."""
    rc, _out = run([sys.executable, str(REPO / "tools" / "acceptance.py"), "--simulated"], "acceptance")
    return Result("passed" if rc == 0 else "failed", "ansible-test windows-integration on the simulated hosts")


# ----------------------------------------------------------------------------------------------


def steps() -> list[Step]:
    result = [
        Step("ruff", step_ruff, 300),
        Step("mypy", step_mypy, 600),
        Step("ansible-lint", step_ansible_lint, 900),
        Step("changelog", step_changelog, 300),
        Step("ansible-doc", step_ansible_doc, 900),
        Step("build", step_build, 300),
        Step("galaxy-importer", step_galaxy_importer, 900),
    ]
    result += [Step(f"pytest {d}", pytest_step(d), 1800) for d in pytest_dirs()]
    result += [Step("coverage", step_coverage, 120), Step("sanity", step_sanity, 2400)]
    result += [Step("acceptance", step_acceptance, 1800)]
    return result


def select(all_steps: list[Step], names: Iterable[str]) -> list[Step]:
    wanted = list(names)
    if not wanted:
        return all_steps
    chosen = []
    for name in wanted:
        matches = [s for s in all_steps if s.name == name or s.name.split()[0] == name or s.name.endswith(" " + name)]
        if not matches:
            raise SystemExit(f"unknown step {name!r}; steps: {', '.join(s.name for s in all_steps)}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """One run at a time per working tree: runs share build/, tests/output/ and coverage data."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            print(f"waiting for the run of {holder} in this working tree to finish ...", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        yield


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("steps", nargs="*", help="steps to run (default: all); 'pytest' selects every pytest run")
    parser.add_argument("--list", action="store_true", help="list the steps and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(s.name for s in steps()))
        return 0
    with exclusive(REPO / ".cache" / "run_tests.lock"):
        return run_steps(args.steps)


def execute(step: Step, started: float, budget: float, *, quiet: bool = False) -> tuple[Result, float]:
    """Run one step within its own time limit and what is left of the run's budget."""
    t0 = time.monotonic()
    remaining = budget - (t0 - started)
    if remaining < 10:
        return Result("failed", f"not run: the {budget:.0f}s budget of the whole run is used up (MAKE_TEST_BUDGET)"), 0.0
    _context.deadline = t0 + min(step.timeout, remaining)
    _context.quiet = quiet
    try:
        result = step.run()
    except StepTimeout as exc:
        result = Result("failed", f"timed out after {time.monotonic() - t0:.0f}s: {exc}")
    except Exception as exc:  # a broken step is a failed step, not a crashed run
        result = Result("failed", f"{type(exc).__name__}: {exc}")
    finally:
        _context.deadline = None
        _context.quiet = False
    return result, time.monotonic() - t0


def run_steps(names: Sequence[str]) -> int:
    chosen = select(steps(), names)
    if any(s.name.startswith("pytest") for s in chosen) and COVERAGE_FILE.exists():
        COVERAGE_FILE.unlink()
    COVERAGE_FILE.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    budget = float(os.environ.get("MAKE_TEST_BUDGET", "4800"))  # CI stops a run at 90 minutes
    results: dict[str, tuple[Result, float]] = {}

    # ansible-test sanity mostly computes while the lab tests mostly wait on their
    # simulated hosts: run it alongside the other steps (MAKE_TEST_PARALLEL=0 turns that off).
    background = [s for s in chosen if s.name == "sanity"] if len(chosen) > 1 and os.environ.get("MAKE_TEST_PARALLEL", "1") != "0" else []
    threads = []
    for step in background:
        print(f"==== {step.name}: started in the background, output in {rel(LOGS)}/{step.name}.log (shown at the end) ====", flush=True)

        def work(step: Step = step) -> None:
            results[step.name] = execute(step, started, budget, quiet=True)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        threads.append(thread)

    for step in chosen:
        if step in background:
            continue
        print(f"\n==== {step.name} ====", flush=True)
        result, seconds = execute(step, started, budget)
        results[step.name] = (result, seconds)
        print(f"---- {step.name}: {result.status.upper()} {result.detail}", flush=True)

    for step, thread in zip(background, threads, strict=True):
        thread.join()
        print(f"\n==== {step.name} (ran in the background) ====", flush=True)
        log = LOGS / f"{step.name}.log"
        if log.exists():
            sys.stdout.write(log.read_text(errors="replace"))
        result = results[step.name][0]
        print(f"---- {step.name}: {result.status.upper()} {result.detail}", flush=True)

    rows = [(step.name, *results[step.name]) for step in chosen]
    failed = [row[0] for row in rows if row[1].status == "failed"]
    width = max(len(row[0]) for row in rows)
    print("\n==== summary ====")
    print(f"{'step':<{width}}  {'result':<7}  {'time':>7}  detail")
    for name, r, seconds in rows:
        print(f"{name:<{width}}  {r.status:<7}  {seconds:>6.1f}s  {r.detail}")
    total = time.monotonic() - started
    verdict = "PASSED" if not failed else f"FAILED ({len(failed)} of {len(rows)} steps: {', '.join(failed)})"
    print(f"make test: {verdict} in {total:.0f}s; logs in {rel(LOGS)}/")
    print(f"{sum(row[1].tests_passed for row in rows)} passed, {sum(row[1].tests_failed for row in rows)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
