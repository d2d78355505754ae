"""The wall time of the whole conformance suite for one profile: ``mbconform run URL --profile P --no-html``
in a child process, with its reports in a temporary folder; and pytest's own time, from its JUnit file."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from ..paths import project_root


@dataclass(frozen=True)
class SuiteTime:
    wall_seconds: float
    pytest_seconds: float | None  # the JUnit file's time (collection and the tests), None if it has none
    exit_code: int
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    output_tail: str = ""  # the end of its output, when it did not pass

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


def time_suite(
    url: str,
    profile: Path,
    specs: Path,
    timeout: float,
    pytest_args: tuple[str, ...] = (),
    profile_out: Path | None = None,
) -> SuiteTime:
    """Run the suite as ``mbconform run`` does, against ``url`` (``pytest_args``: a selection); at most
    ``timeout`` seconds. ``profile_out``: run it under ``cProfile`` and write the profile there."""
    return _timed_run([url, f"--profile={profile}", f"--specs={specs}", *pytest_args], timeout, profile_out)


def time_reference_suite(
    faults: tuple[str, ...], specs: Path, timeout: float, run_args: tuple[str, ...] = ()
) -> SuiteTime:
    """Run the suite as ``mbconform run`` with no URL does: against the embedded reference adapter (with
    ``faults``), on every reference profile unless ``run_args`` names one; at most ``timeout`` seconds."""
    return _timed_run([*(f"--fault={fault}" for fault in faults), f"--specs={specs}", *run_args], timeout)


def _timed_run(arguments: list[str], timeout: float, profile_out: Path | None = None) -> SuiteTime:
    profiler = ["-m", "cProfile", "-o", str(profile_out)] if profile_out is not None else []
    with tempfile.TemporaryDirectory(prefix="mbconform-bench-suite-") as folder:
        reports = Path(folder)
        command = [
            sys.executable,
            *profiler,
            "-m",
            "harness",
            "run",
            *arguments,
            f"--reports={reports}",
            "--no-html",
            "-q",
        ]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False, cwd=project_root()
            )
        except subprocess.TimeoutExpired:
            return SuiteTime(time.perf_counter() - started, None, -1, output_tail=f"cut off after {timeout:g}s")
        wall = time.perf_counter() - started
        counts = _junit_counts(reports / "junit.xml")
        tail = "" if done.returncode == 0 else (done.stdout + done.stderr)[-2000:]
        return SuiteTime(wall, counts[0], done.returncode, *counts[1:], output_tail=tail)


def _junit_counts(path: Path) -> tuple[float | None, int, int, int, int]:
    """(time, tests, failures, errors, skipped) summed over the JUnit file's test suites."""
    if not path.is_file():
        return None, 0, 0, 0, 0
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    seconds = sum(float(suite.get("time", 0)) for suite in suites)
    total = [
        sum(int(suite.get(name, 0)) for suite in suites) for name in ("tests", "failures", "errors", "skipped")
    ]
    return seconds, total[0], total[1], total[2], total[3]
