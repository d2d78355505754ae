"""The CI gate, run by the real CLI against the reference adapter: a baseline written from a clean run, then
the same selection against a hold that forgets its state event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.selftest

FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
RUN_SECONDS = 600  # a guard against a hang, never a speed target: a busy machine takes longer
# hold succeeds (broken by the fault), hold fails for a missing target (unaffected), retrieve (set up by a hold).
SELECTION = "MB-CONV-HOLD-001 or MB-CONV-HOLD-002 or MB-CONV-RETRIEVE-001"
FAULT = "hold-without-state"


def run(reports: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", "run", "--reports", str(reports), "--no-html"]
    command += ["--profile", str(FAST_PROFILE), "-k", SELECTION, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def test_a_hold_that_drops_its_state_event_newly_fails_against_a_clean_baseline(tmp_path: Path) -> None:
    baseline = tmp_path / "ci" / "baseline.json"
    clean = run(tmp_path / "clean", "--write-baseline", str(baseline))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    recorded = read(baseline)
    assert recorded["profiles"] == [
        {"name": "reference-generic-fast", "file": "tests/selftest/fast-profile.yaml", "platform": "generic"}
    ]
    assert recorded["tests"] == {
        test: {"verdict": "pass", "categories": []}
        for test in ("MB-CONV-HOLD-001", "MB-CONV-HOLD-002", "MB-CONV-RETRIEVE-001")
    }

    reports = tmp_path / "faulty"
    faulty = run(reports, "--fault", FAULT, "--baseline", str(baseline))
    assert faulty.returncode == 1, faulty.stdout + faulty.stderr
    out = faulty.stdout
    assert "2 still passing, 0 still failing, 1 newly failing, 0 newly passing, 0 new, 0 gone" in out
    assert "  MB-CONV-HOLD-001: pass -> fail [missing event]: conversation.hold: state.updated about" in out
    assert "[still passing] MB-CONV-RETRIEVE-001: pass -> inconclusive: set-up step" in out
    assert "gate: FAILED: 1 test(s) newly fail a MUST" in out
    diff = read(reports / "baseline-diff.json")
    assert diff["gate"] == "failed" and diff["newly_failing_a_must"] == ["MB-CONV-HOLD-001"]
    assert [(t["test"], t["class"], t["run"]["verdict"]) for t in diff["tests"]] == [
        ("MB-CONV-HOLD-001", "newly failing", "fail"),
        ("MB-CONV-HOLD-002", "still passing", "pass"),
        ("MB-CONV-RETRIEVE-001", "still passing", "inconclusive"),
    ]
    assert (
        "| `MB-CONV-HOLD-001` | newly failing | pass | fail [missing event] |"
        in (reports / "baseline-diff.md").read_text()
    )
    certificate = read(reports / "certificate.json")
    commands = {c["name"]: c for c in certificate["profiles"][0]["commands"]}
    assert commands["conversation.hold"]["verdict"] == "fail"
    assert commands["conversation.retrieve"]["verdict"] == "inconclusive"
    assert certificate["certified"] is False


def test_a_baseline_that_accepts_the_failure_keeps_the_exit_status_zero(tmp_path: Path) -> None:
    accepted = tmp_path / "accepted.json"
    first = run(tmp_path / "first", "--fault", FAULT, "--write-baseline", str(accepted))
    assert first.returncode == 1, first.stdout + first.stderr  # without --baseline: any MUST violation fails
    assert read(accepted)["tests"]["MB-CONV-HOLD-001"] == {"verdict": "fail", "categories": ["missing event"]}
    again = run(tmp_path / "again", "--fault", FAULT, "--baseline", str(accepted))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 still passing, 1 still failing, 0 newly failing" in again.stdout
    assert "gate: passed: no test newly fails a MUST (1 accepted failure(s) still fail)" in again.stdout


def test_a_malformed_baseline_stops_the_run_before_any_test_with_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "baseline.json"
    broken.write_text('{"format": "mbconform/baseline/1", "tests": [')
    done = run(tmp_path, "--baseline", str(broken))
    assert done.returncode == 2
    assert f"mbconform run: baseline {broken}:1:" in done.stderr and "not JSON" in done.stderr
    assert "started the reference adapter" not in done.stdout
    missing = run(tmp_path, "--baseline", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 2 and "nowhere.json: no such file" in missing.stderr
