"""The CI outputs of a real run (the CLI against the reference adapter and its faults): JUnit, summary.json,
certificate.md, and the progress lines of --case-progress."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.paths import specs_dir

pytestmark = pytest.mark.selftest

FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
RUN_SECONDS = 600  # a guard against a hang, never a speed target: a busy machine takes longer
# hold fails (the fault drops its state event), retrieve is inconclusive (its set-up hold misbehaves),
# getscripts is not applicable (incontact only), hold-002 passes.
SELECTION = (
    "MB-CONV-HOLD-001 or MB-CONV-HOLD-002 or MB-CONV-RETRIEVE-001 or MB-CHAN-REQUEST-INCONTACT-GETSCRIPTS-001"
)


def run(reports: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", "run", "--reports", str(reports), "--no-html"]
    command += ["--profile", str(FAST_PROFILE), "-k", SELECTION, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)


def junit_cases(reports: Path) -> dict[str, ET.Element]:
    root = ET.parse(reports / "junit.xml").getroot()
    return {case.get("name", "").split(" ")[0]: case for case in root.iter("testcase")}


def summary(reports: Path) -> Any:
    found = json.loads((reports / "summary.json").read_text(encoding="utf-8"))
    schema = json.loads((specs_dir() / "meta" / "summary-v1.schema.json").read_text(encoding="utf-8"))
    assert not [e.message for e in Draft202012Validator(schema).iter_errors(found)]
    return found


def test_a_failing_run_tells_fail_inconclusive_and_not_applicable_apart(tmp_path: Path) -> None:
    done = run(tmp_path, "--fault", "hold-without-state", "--case-progress")
    assert done.returncode == 1, done.stdout + done.stderr
    # the progress lines: each case's id, title and verdict as it ends
    assert "MB-CONV-HOLD-001 conversation.hold succeeds (in CONNECTED) with its events: fail" in done.stdout
    assert "MB-CONV-HOLD-002 conversation.hold fails for a conversation that does not exist: pass" in done.stdout
    assert "MB-CONV-RETRIEVE-001 " in done.stdout and ": inconclusive\n" in done.stdout

    cases = junit_cases(tmp_path)
    hold = cases["MB-CONV-HOLD-001"]
    assert hold.get("name", "").startswith("MB-CONV-HOLD-001 conversation.hold succeeds")
    assert hold.find("failure") is not None and hold.find("error") is None
    for case_id, verdict in (
        ("MB-CONV-RETRIEVE-001", "inconclusive"),
        ("MB-CHAN-REQUEST-INCONTACT-GETSCRIPTS-001", "not applicable"),
    ):
        skipped = cases[case_id].find("skipped")
        assert skipped is not None and skipped.get("type") == verdict
        assert skipped.text is not None and "harness" not in skipped.text and ".py" not in skipped.text
        assert skipped.text.lower().startswith(verdict), skipped.text

    found = summary(tmp_path)
    assert found["exit_code"] == 1
    assert (found["counts"]["fail"], found["counts"]["pass"]) == (1, 1)
    assert (found["counts"]["inconclusive"], found["counts"]["not applicable"]) == (1, 1)
    by_id = {case["id"]: case for case in found["cases"]}
    failed = by_id["MB-CONV-HOLD-001"]
    assert failed["verdict"] == "fail" and "missing event" in failed["categories"]
    assert "state.updated" in failed["reason"] and failed["requirements"]
    assert found["categories"]["missing event"] >= 1

    certificate = (tmp_path / "certificate.md").read_text(encoding="utf-8")
    row = next(line for line in certificate.splitlines() if line.startswith("| `conversation.hold`"))
    assert "`MB-CONV-HOLD-001` (fail: conversation.hold: state.updated" in row  # the reason, not only the id


def test_a_lost_connection_is_an_error_in_junit_and_the_summary(tmp_path: Path) -> None:
    done = run(tmp_path, "-k", "MB-CONV-HOLD-002", "--fault", "close-abrupt")
    assert done.returncode != 0, done.stdout + done.stderr
    before_failures = done.stdout.split("= FAILURES =")[0]
    assert ": error" not in before_failures  # no progress lines unless asked
    case = junit_cases(tmp_path)["MB-CONV-HOLD-002"]
    error = case.find("error")
    assert error is not None and error.get("type") == "connection lost" and case.find("failure") is None
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("errors"), suite.get("failures")) == ("1", "0")
    found = summary(tmp_path)
    assert found["counts"]["error"] == 1 and found["categories"] == {"connection lost": 1}
    assert found["exit_code"] == done.returncode


def test_a_nightly_fuzz_run_shows_its_status_line_when_asked(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "harness", "fuzz", "--fuzz-profile", "nightly", "--budget", "3"]
    command += ["--workers", "1", "--reports", str(tmp_path / "reports"), "--out", str(tmp_path / "found")]
    command += ["--database", str(tmp_path / "db"), "--profile", str(FAST_PROFILE), "-k", "MB-FUZZ-FLOWS"]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "steps/s, 0 findings" not in quiet.stderr  # not a terminal: quiet unless asked
    asked = subprocess.run(
        [*command, "--progress", "0.5"], capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )
    assert asked.returncode == 0, asked.stdout + asked.stderr
    lines = [line for line in asked.stderr.splitlines() if line.startswith("MB-FUZZ-FLOWS: ")]
    assert len(lines) >= 2, asked.stderr
    assert " examples, " in lines[0] and " steps/s, 0 findings, " in lines[0] and " commands and " in lines[0]
    assert "left of 0m03s" in lines[0] or "spent" in lines[0]
    assert lines[-1].endswith(", ended")
