"""``mbconform bench``: every measure has a value, a target and a status, and failing sessions are reported.

Speed targets are never asserted here: the machine may be busy. The bench runs in its short form (``--quick``)
against the embedded reference adapter, with its sessions made to fail by a fault.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.bench.broken import BROKEN_FAULTS
from harness.bench.measure import INFO, MET, MISSED
from harness.bench.sessions import SessionsRun, run_sessions, session_url
from harness.cases import scenario_case
from harness.paths import default_profile, suites_dir
from harness.reference.server import ReferenceAdapter
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile, load_scenario

pytestmark = pytest.mark.selftest
SECONDS = 600  # a hang guard: the quick bench takes about 15 s idle, then three runs of the call flows
MEASURES = {
    "raw_rate",
    "checked_rate",
    "checked_ratio",
    "suite_seconds",
    "suite_pytest_seconds",
    "fuzz_rate_fence_on",
    "fuzz_rate_fence_off",
    "flood_growth_mib",
    "flood_peak_mib",
    "flood_seconds",
    "sessions_not_passed",
    "sessions_foreign_frames",
    "sessions_seconds",
    "reference_suite_correct_seconds",
    "reference_suite_dial_without_preview_seconds",
    "reference_suite_drop_event_channel_dial_interaction_initialized_seconds",
    "reference_suite_broken_ratio",
}
WITH_TARGETS = {
    "checked_ratio",
    "suite_seconds",
    "fuzz_rate_fence_on",
    "fuzz_rate_fence_off",
    "flood_growth_mib",
    "reference_suite_broken_ratio",
}


def test_the_quick_bench_reports_every_measure_and_the_sessions_a_fault_breaks(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "bench",
            "--quick",
            "--sessions=4",
            "--flood=5000",
            "--session-fault=close-abrupt",
            f"--reports={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # it ran; the sessions failed
    report = json.loads((tmp_path / "latest.json").read_text())
    measures = {measure["key"]: measure for measure in report["measures"]}
    assert set(measures) == MEASURES, done.stdout
    for key, measure in measures.items():
        assert measure["value"] is not None, (key, measure["why"])
        assert measure["target"], key
        assert measure["status"] in (MET, MISSED, INFO), (key, measure["status"])
        if measure["status"] == MISSED:
            assert measure["why"], key
    for key in WITH_TARGETS:
        assert measures[key]["status"] in (MET, MISSED), key
    sessions = measures["sessions_not_passed"]
    assert sessions["status"] == MISSED and sessions["value"] == 4
    assert "connection lost" in sessions["why"]
    assert report["details"]["sessions"]["failed"] == 4
    assert report["details"]["flood"]["consumed"] >= 5000
    assert (tmp_path / "profile-fuzz.txt").is_file() and (tmp_path / "profile-checked.txt").is_file()
    assert "checked / raw" in done.stdout and "stateful fuzzing, fence on" in done.stdout
    assert len(list(tmp_path.glob("bench-*.json"))) == 1
    broken = report["details"]["reference_suite_broken"]  # the quick form: one profile's call flows
    assert broken["correct"]["exit_code"] == 0 and broken["correct"]["failures"] == 0
    for fault in BROKEN_FAULTS:  # each fault fails a flow it blocks
        assert broken["faults"][fault]["exit_code"] == 1 and broken["faults"][fault]["failures"] > 0, fault


def _sessions(catalogue: Catalogue, count: int, fault: str | None) -> SessionsRun:
    profile = load_profile(default_profile(), catalogue)
    paths = sorted((suites_dir() / "conformance").glob("*.yaml"))
    cases = [scenario_case(load_scenario(path, catalogue), profile) for path in paths]
    cases = [case for case in cases if case.applicable]

    async def run() -> SessionsRun:
        adapter = ReferenceAdapter(catalogue, test_control=True)
        async with await adapter.serve("127.0.0.1", 0) as server:
            base = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            url = session_url(base, profile, [("fault", fault)] if fault else [])
            return await run_sessions(url, catalogue, profile, cases, count)

    return asyncio.run(run())


def test_sessions_at_once_pass_and_receive_only_their_own_frames(catalogue: Catalogue) -> None:
    run = _sessions(catalogue, 12, None)
    assert run.passed == 12, run.not_passed
    assert run.foreign_frames == 0 and run.shared_ids == 0
    assert run.frames > 12 and len(run.flows) == 12
    assert run.peak_open > 1


def test_a_session_that_fails_is_reported_with_its_flow(catalogue: Catalogue) -> None:
    run = _sessions(catalogue, 3, "close-abrupt")
    assert run.failed == 3 and run.passed == 0
    assert len(run.not_passed) == 3
    assert all("connection lost" in line for line in run.not_passed), run.not_passed
