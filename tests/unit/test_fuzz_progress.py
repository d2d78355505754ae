"""The fuzz status line: at a steady interval of the clock (no thread), with examples, steps/s, findings,
commands and states reached and the time left; quiet unless asked or on a terminal outside CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cmdline.parser import PROGRESS_SECONDS
from harness.cmdline.testrun import _fuzz_progress
from harness.fuzz.coverage import Coverage
from harness.fuzz.progress import Progress
from harness.paths import suites_dir
from harness.spec.catalogue import Catalogue


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_per_interval_with_what_was_reached(catalogue: Catalogue) -> None:
    clock, lines = Clock(), []
    progress = Progress.for_catalogue(
        "MB-FUZZ-FLOWS", 10, 60, lines.append, catalogue, ["conversation.hold", "channel.dial"], clock
    )
    progress.start()
    coverage = Coverage()
    for second in range(25):  # a step every second
        clock.now = 100.0 + second
        coverage.steps += 1
        coverage.examples = 1 + second // 5
        if second == 3:
            coverage.commands[("channel.dial", "success")] += 1
            coverage.commands[("session.request.getdirectory", "success")] += 1  # not the profile's
            coverage.state("channel", "ACTIVE")
        progress.tick(coverage, findings=int(second >= 20))
    assert len(lines) == 2  # at 10 s and 20 s, none before the first interval
    assert lines[0] == (
        "MB-FUZZ-FLOWS: 0m10s, 3 examples, 1.1 steps/s, 0 findings, 1/2 commands and 1/"
        f"{sum(len(level.states_in_order) for level in catalogue.levels.values())} states reached, "
        "0m50s left of 1m00s"
    )
    assert ", 1 finding, " in lines[1] and "0m40s left" in lines[1]
    clock.now = 170.0
    progress.tick(coverage, 1)
    assert lines[-1].endswith("budget of 1m00s spent: ending the example under way")
    progress.done(coverage, 1)
    assert lines[-1].endswith(", ended") and len(lines) == 4


def test_a_short_run_writes_nothing(catalogue: Catalogue) -> None:
    clock, lines = Clock(), []
    progress = Progress.for_catalogue("x", 30, 60, lines.append, catalogue, [], clock)
    progress.start()
    clock.now += 29
    progress.tick(Coverage(), 0)
    progress.done(Coverage(), 0)
    assert lines == []


def test_quiet_in_ci_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    nightly, ci = suites_dir() / "fuzz" / "nightly.yaml", suites_dir() / "fuzz" / "ci.yaml"
    monkeypatch.setenv("CI", "true")
    assert _fuzz_progress(None, nightly) == 0
    assert _fuzz_progress(5, nightly) == 5 and _fuzz_progress(0, nightly) == 0
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert _fuzz_progress(None, nightly) == PROGRESS_SECONDS
    assert _fuzz_progress(None, ci) == 0  # a derandomized CI run stays quiet
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert _fuzz_progress(None, Path(nightly)) == 0
